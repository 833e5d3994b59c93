// member_dismissed: the accounts a member dismissed on a network (never
// suggested, never followed automatically), to bring them back.
// Parameters: $member, $network ('bluesky'|'mastodon').
// Rows: account (DID or acct), handle; by account.
// Plan: NodeUniqueIndexSeek on Member(id), then expands DISMISSED.
MATCH (m:Member {id: $member})-[:DISMISSED]->(a)
WHERE a.network = $network
RETURN coalesce(a.did, a.acct) AS account, a.handle AS handle
ORDER BY account
