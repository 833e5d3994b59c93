// credentials_expiring: the stored sessions whose access ends before
// $before, soonest first: tokens:refresh renews them.
// Parameters: $before (datetime), $limit.
// Rows: member, network, account (DID or acct), expires_at.
// Plan: RelationshipIndexSeekByRange on USES(expires_at).
MATCH (m:Member)-[u:USES]->(a)
WHERE u.expires_at < $before
RETURN m.id AS member, a.network AS network, coalesce(a.did, a.acct) AS account, u.expires_at AS expires_at
ORDER BY u.expires_at
LIMIT $limit
