// arrival_announce: records that members are to be told, in their next
// digest, that an account they know from X arrived. Each (member, account)
// is announced at most once: a second call for the same pair changes
// nothing, whatever state its announcement is in.
// Parameters: $network ('bluesky'|'mastodon'), $account (DID or acct),
//   $members [member ids], $now.
// Rows: one: created (announcements new with this call).
// Plan: NodeUniqueIndexSeek on BlueskyAccount(did) or MastodonAccount(acct)
//   and Member(id).
CALL () {
  MATCH (a:BlueskyAccount {did: $account}) WHERE $network = 'bluesky' RETURN a
UNION
  MATCH (a:MastodonAccount {acct: $account}) WHERE $network = 'mastodon' RETURN a
}
UNWIND $members AS id
MATCH (m:Member {id: id})
MERGE (m)-[t:TOLD]->(a)
  ON CREATE SET t.state = 'pending', t.at = $now, t.created = true
WITH t, t.created IS NOT NULL AS created
REMOVE t.created
RETURN count(CASE WHEN created THEN 1 END) AS created
