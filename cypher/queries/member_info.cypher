// member_info: a member's settings and accounts, for reconnection and
// digests.
// Parameters: $member.
// Rows: zero (no such member) or one: auto_reconnect, allow_claimed,
//   notify_arrivals, notify_period, notify_channel, research_consent,
//   show_name, locale,
//   accounts [{network, account}].
// Plan: NodeUniqueIndexSeek on Member(id).
MATCH (m:Member {id: $member})
OPTIONAL MATCH (m)-[:USES]->(a)
RETURN coalesce(m.auto_reconnect, false) AS auto_reconnect, coalesce(m.allow_claimed, false) AS allow_claimed,
       coalesce(m.notify_arrivals, false) AS notify_arrivals, coalesce(m.notify_period, 'weekly') AS notify_period,
       m.notify_channel AS notify_channel, coalesce(m.research_consent, false) AS research_consent,
       coalesce(m.show_name, false) AS show_name, m.locale AS locale,
       collect(CASE WHEN a IS NULL THEN null ELSE {network: a.network, account: coalesce(a.did, a.acct)} END) AS accounts
