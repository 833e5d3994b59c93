// credentials_save: replaces the sealed credentials of a member's account
// (a renewed session) and their expiry.
// Parameters: $member, $network, $account, $token_enc, $expires_at.
// Rows: zero (the member no longer uses the account) or one: member.
// Plan: NodeUniqueIndexSeek on Member(id), then expands USES.
MATCH (m:Member {id: $member})-[u:USES]->(a)
WHERE a.network = $network AND coalesce(a.did, a.acct) = $account
SET u.token_enc = $token_enc, u.expires_at = $expires_at
RETURN m.id AS member
