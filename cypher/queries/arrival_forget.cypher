// arrival_forget: removes every announcement of an account's arrival, told
// or not. Used when an account is unlinked for good, and by the fan-out
// benchmark to start each run from the same graph.
// Parameters: $network ('bluesky'|'mastodon'), $account (DID or acct).
// Rows: one: removed.
// Plan: NodeUniqueIndexSeek on BlueskyAccount(did) or MastodonAccount(acct),
//   then expands TOLD (incoming).
CALL () {
  MATCH (a:BlueskyAccount {did: $account}) WHERE $network = 'bluesky' RETURN a
UNION
  MATCH (a:MastodonAccount {acct: $account}) WHERE $network = 'mastodon' RETURN a
}
MATCH (a)<-[t:TOLD]-(:Member)
DELETE t
RETURN count(t) AS removed
