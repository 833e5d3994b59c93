// stats_member: one member's counts: their X follows and followers, their
// accounts, and the follows Passerelle made for them.
// Parameters: $member.
// Rows: zero (no such member) or one: following, followers, accounts
//   [{network, account}], recreated.
// Plan: NodeUniqueIndexSeek on Member(id), then expands (degrees from the
//   relationship groups).
MATCH (m:Member {id: $member})
OPTIONAL MATCH (m)-[c:CLAIMS]->(me:XAccount) WHERE c.refuted IS NULL
WITH m, collect(me) AS mes
CALL (mes) {
  UNWIND mes AS me
  RETURN sum(COUNT { (me)-[:FOLLOWS]->() }) AS following, sum(COUNT { (me)<-[:FOLLOWS]-() }) AS followers
}
CALL (m) {
  OPTIONAL MATCH (m)-[:USES]->(a)
  OPTIONAL MATCH (a)-[f:FOLLOWS_ON]->() WHERE f.by_app = true
  WITH a, count(f) AS made
  RETURN collect(CASE WHEN a IS NULL THEN null ELSE {network: a.network, account: coalesce(a.did, a.acct)} END) AS accounts,
         sum(made) AS recreated
}
RETURN following, followers, accounts, recreated
