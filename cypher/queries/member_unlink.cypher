// member_unlink: the member no longer uses the account: the USES
// relationship and its token go. Follow with sync_member_links.
// Parameters: $member, $network, $account.
// Rows: one: xids (the member's claimed X accounts), removed (count).
// Plan: NodeUniqueIndexSeek on Member(id), then expand.
MATCH (m:Member {id: $member})
OPTIONAL MATCH (m)-[u:USES]->(a)
WHERE a.network = $network AND coalesce(a.did, a.acct) = $account
DELETE u
WITH m, count(u) AS removed
OPTIONAL MATCH (m)-[:CLAIMS]->(x:XAccount)
RETURN collect(x.xid) AS xids, removed
