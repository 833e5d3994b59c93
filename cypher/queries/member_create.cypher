// member_create: creates a member with default settings, or finds them.
// Parameters: $member, $now.
// Rows: one: member.
// Plan: NodeUniqueIndexSeek on Member(id).
MERGE (m:Member {id: $member})
  ON CREATE SET m.created_at = $now, m.locale = 'en', m.auto_reconnect = true,
                m.allow_claimed = false, m.notify_arrivals = false, m.notify_period = 'weekly',
                m.research_consent = false, m.show_name = false
RETURN m.id AS member
