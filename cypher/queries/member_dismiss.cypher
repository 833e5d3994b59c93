// member_dismiss: a member dismisses a target account (never suggest it,
// never follow it automatically), or restores it.
// Parameters: $member, $network, $account, $dismiss (bool), $now.
// Rows: zero (no such member or account) or one: dismissed (bool).
// Plan: NodeUniqueIndexSeek on Member(id) and BlueskyAccount(did) or
//   MastodonAccount(acct).
MATCH (m:Member {id: $member})
CALL () {
  MATCH (a:BlueskyAccount {did: $account}) WHERE $network = 'bluesky' RETURN a
UNION
  MATCH (a:MastodonAccount {acct: $account}) WHERE $network = 'mastodon' RETURN a
}
CALL (m, a) {
  WITH m, a WHERE $dismiss
  MERGE (m)-[d:DISMISSED]->(a) ON CREATE SET d.at = $now
}
CALL (m, a) {
  WITH m, a WHERE NOT $dismiss
  OPTIONAL MATCH (m)-[d:DISMISSED]->(a)
  DELETE d
}
RETURN $dismiss AS dismissed
