// member_delete: erases a member: their archives, claims, accounts' USES
// (and tokens, OAuth sessions included), dismissals, announcements,
// settings, and the account nodes that nothing else refers to. The X
// accounts stay (others' archives may name them) but lose the name and
// display name that only this member's archive gave.
// Run after retracting the member's archives from the edges, and follow
// with sync_member_links for the returned xids, in the same transaction.
// Parameters: $member.
// Rows: one: xids (the member's X accounts), found (bool).
// Plan: NodeUniqueIndexSeek on Member(id), then expands.
OPTIONAL MATCH (m:Member {id: $member})
CALL (m) {
  OPTIONAL MATCH (m)-[:CLAIMS]->(x:XAccount)
  RETURN collect(x) AS xs
}
CALL (m) {
  OPTIONAL MATCH (m)-[:UPLOADED]->(arc:Archive)
  DETACH DELETE arc
}
CALL (m) {
  // Their atproto OAuth sessions (sealed; keyed "<did> <session id>").
  OPTIONAL MATCH (m)-[:USES]->(b:BlueskyAccount)
  WITH b WHERE b IS NOT NULL
  MATCH (s:OAuthSession) WHERE s.key STARTS WITH b.did + ' '
  DETACH DELETE s
}
CALL (m) {
  OPTIONAL MATCH (m)-[:USES]->(a)
  WITH a WHERE a IS NOT NULL
    AND COUNT { (other:Member)-[:USES]->(a) } = 1
    AND NOT EXISTS { ()-[s:SAME_AS]->(a) WHERE s.source <> 'member' }
  DETACH DELETE a
}
WITH m, xs
CALL (xs, m) {
  UNWIND xs AS x
  WITH x WHERE COUNT { (:Member)-[:CLAIMS]->(x) } = 1
  REMOVE x.username, x.display_name, x.created_at
}
WITH m, [x IN xs | x.xid] AS xids, m IS NOT NULL AS found
DETACH DELETE m
RETURN xids, found
