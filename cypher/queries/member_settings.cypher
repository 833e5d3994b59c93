// member_settings: changes a member's settings; a null parameter leaves its
// setting as it is.
// Parameters: $member, $auto_reconnect, $allow_claimed, $notify_arrivals,
//   $research_consent, $show_name, $locale, $notify_period, $notify_channel
//   ('' clears the channel: the default).
// Rows: zero (no such member) or one: member.
// Plan: NodeUniqueIndexSeek on Member(id).
MATCH (m:Member {id: $member})
SET m.auto_reconnect = coalesce($auto_reconnect, m.auto_reconnect),
    m.allow_claimed = coalesce($allow_claimed, m.allow_claimed),
    m.notify_arrivals = coalesce($notify_arrivals, m.notify_arrivals),
    m.research_consent = coalesce($research_consent, m.research_consent),
    m.show_name = coalesce($show_name, m.show_name),
    m.locale = coalesce($locale, m.locale),
    m.notify_period = coalesce($notify_period, m.notify_period),
    m.notify_channel = CASE WHEN $notify_channel IS NULL THEN m.notify_channel
                            WHEN $notify_channel = '' THEN null ELSE $notify_channel END
RETURN m.id AS member
