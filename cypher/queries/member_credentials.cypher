// member_credentials: the sealed credentials a member gave for one of their
// accounts, for the follow tasks. Never logged.
// Parameters: $member, $network, $account.
// Rows: zero (no such account of the member) or one: token_enc, via, handle.
// Plan: NodeUniqueIndexSeek on Member(id), then expands USES.
MATCH (m:Member {id: $member})-[u:USES]->(a)
WHERE a.network = $network AND coalesce(a.did, a.acct) = $account
RETURN u.token_enc AS token_enc, u.via AS via, a.handle AS handle
