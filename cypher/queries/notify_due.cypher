// notify_due: the members with announcements waiting whose digest is due:
// they have not had one within their period (daily or weekly) or never
// had one. Members who withdrew consent come too: their digest drops the
// announcements and sends nothing.
// Parameters: $now (datetime).
// Rows: member, last (datetime of their last digest, or null).
// Plan: RelationshipIndexSeek on TOLD(state), then Member by expansion: no
//   label scan.
MATCH (m:Member)-[t:TOLD {state: 'pending'}]->()
WITH DISTINCT m
WHERE m.digest_at IS NULL
   OR m.digest_at + CASE m.notify_period WHEN 'daily' THEN duration('P1D') ELSE duration('P7D') END <= $now
RETURN m.id AS member, m.digest_at AS last
