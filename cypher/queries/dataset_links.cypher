// dataset_links: writes one batch of a dataset's links:
// (x)-[:SAME_AS {source: $source}]->(a), creating the X account and the
// account node when new. Each link is stamped with the file's digest, so
// that dataset_prune can remove the links a newer file no longer has, and a
// second import of the same file changes nothing.
// Parameters: $source ('dataset:<file name>'), $stamp (file digest), $now,
//   $rows [{xid, network, account, trust, score}].
// Rows: none.
// Plan: NodeUniqueIndexSeek on XAccount(xid), BlueskyAccount(did),
//   MastodonAccount(acct).
UNWIND $rows AS r
MERGE (x:XAccount {xid: r.xid})
WITH r, x
CALL (r) {
  WITH r WHERE r.network = 'bluesky'
  MERGE (a:BlueskyAccount {did: r.account})
    ON CREATE SET a.network = 'bluesky'
  RETURN a
UNION
  WITH r WHERE r.network = 'mastodon'
  MERGE (a:MastodonAccount {acct: r.account})
    ON CREATE SET a.network = 'mastodon'
  RETURN a
}
MERGE (x)-[s:SAME_AS {source: $source}]->(a)
  ON CREATE SET s.at = $now, s.changed_at = $now
SET s.changed_at = CASE WHEN s.trust = r.trust THEN s.changed_at ELSE $now END
SET s.trust = r.trust, s.score = r.score, s.stamp = $stamp
