// member_import_state: what an archive import must know about a member
// before it writes: the X accounts they claim and their archives.
// Parameters: $member (string).
// Rows: zero (no such member) or one: claims [{xid, via}],
//   archives [{id, sha256, generated_at, status}], current (archive id or null).
// Plan: NodeUniqueIndexSeek on Member(id).
MATCH (m:Member {id: $member})
OPTIONAL MATCH (m)-[c:CLAIMS]->(x:XAccount)
WITH m, collect(CASE WHEN x IS NULL THEN null ELSE {xid: x.xid, via: c.via} END) AS claims
OPTIONAL MATCH (m)-[:UPLOADED]->(a:Archive)
RETURN claims,
       collect(CASE WHEN a IS NULL THEN null ELSE {id: a.id, sha256: a.sha256, generated_at: a.generated_at, status: a.status} END) AS archives,
       m.current_archive AS current
