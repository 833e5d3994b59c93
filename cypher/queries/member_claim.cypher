// member_claim: records a member's claim of an X account: via 'x_oauth'
// (signed in with X: proof) or 'archive'. An x_oauth claim replaces an
// archive claim of the same member; never the other way round. Follow with
// sync_member_links for $xid.
// Parameters: $member, $xid, $via, $now, $username (or null).
// Rows: one: via (the claim's via after the write).
// Plan: NodeUniqueIndexSeek on Member(id), XAccount(xid).
MATCH (m:Member {id: $member})
MERGE (x:XAccount {xid: $xid})
SET x.username = coalesce($username, x.username)
MERGE (m)-[c:CLAIMS]->(x)
  ON CREATE SET c.via = $via, c.at = $now
SET c.via = CASE WHEN $via = 'x_oauth' THEN 'x_oauth' ELSE c.via END,
    c.verified = (CASE WHEN $via = 'x_oauth' THEN 'x_oauth' ELSE c.via END) = 'x_oauth'
RETURN c.via AS via
