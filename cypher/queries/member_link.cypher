// member_link: records that a member uses a Bluesky or Mastodon account,
// proven by OAuth or an app password, or recorded by an admin (via
// 'admin'). Creates the account node when new and updates its handle. A
// token, when given, is stored encrypted (token_enc); never in clear.
// Follow with sync_member_links for the member's X accounts.
// Parameters: $member, $network ('bluesky'|'mastodon'), $account (DID or
//   acct), $handle (string or null), $via, $token_enc (string or null),
//   $expires_at (when the sealed session expires, or null), $now.
// Rows: one: xids (the member's claimed X accounts), created (bool).
// Plan: NodeUniqueIndexSeek on Member(id) and BlueskyAccount(did) or
//   MastodonAccount(acct).
MATCH (m:Member {id: $member})
CALL (m) {
  WITH m WHERE $network = 'bluesky'
  MERGE (a:BlueskyAccount {did: $account})
    ON CREATE SET a.network = 'bluesky'
  RETURN a
UNION
  WITH m WHERE $network = 'mastodon'
  MERGE (a:MastodonAccount {acct: $account})
    ON CREATE SET a.network = 'mastodon'
  RETURN a
}
SET a.handle = coalesce($handle, a.handle)
MERGE (m)-[u:USES]->(a)
  ON CREATE SET u.at = $now, u.via = $via, u.created = true
  ON MATCH SET u.created = false
SET u.token_enc = coalesce($token_enc, u.token_enc),
    u.expires_at = CASE WHEN $token_enc IS NULL THEN u.expires_at ELSE $expires_at END
WITH m, u, u.created AS created
REMOVE u.created
WITH m, created
OPTIONAL MATCH (m)-[:CLAIMS]->(x:XAccount)
RETURN collect(x.xid) AS xids, created
