// admin_conflicts: X accounts claimed by more than one member, with their
// claimants, for admins to resolve.
// Parameters: none.
// Rows: xid, username, claims [{member, via, refuted, at}].
// Plan: NodeIndexSeek on XAccount(conflict).
MATCH (x:XAccount) WHERE x.conflict = true
MATCH (m:Member)-[c:CLAIMS]->(x)
WITH x, collect({member: m.id, via: c.via, refuted: coalesce(c.refuted, false), at: toString(c.at)}) AS claims
RETURN x.xid AS xid, x.username AS username, claims
ORDER BY xid
