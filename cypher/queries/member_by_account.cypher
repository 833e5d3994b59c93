// member_by_account: the member who uses an account, for signing in.
// Parameters: $network ('bluesky'|'mastodon'), $account (DID or acct).
// Rows: zero or one: member.
// Plan: NodeUniqueIndexSeek on BlueskyAccount(did) or MastodonAccount(acct).
CALL () {
  MATCH (a:BlueskyAccount {did: $account}) WHERE $network = 'bluesky' RETURN a
UNION
  MATCH (a:MastodonAccount {acct: $account}) WHERE $network = 'mastodon' RETURN a
}
MATCH (m:Member)-[:USES]->(a)
RETURN m.id AS member
ORDER BY m.created_at
LIMIT 1
