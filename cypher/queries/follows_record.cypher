// follows_record: records follows on a network, made by Passerelle (by_app)
// or found there (an existing record): (a)-[:FOLLOWS_ON {uri}]->(b). A
// target the member could not be followed for good gets a FOLLOW_FAILED
// from the member, for that member and target only.
// Parameters: $network, $from (the member's account), $member, $now,
//   $made [{target, uri, by_app}], $failed [{target, reason}].
// Rows: one: made, failed (counts written).
// Plan: NodeUniqueIndexSeek on BlueskyAccount(did) or MastodonAccount(acct).
CALL () {
  MATCH (a:BlueskyAccount {did: $from}) WHERE $network = 'bluesky' RETURN a
UNION
  MATCH (a:MastodonAccount {acct: $from}) WHERE $network = 'mastodon' RETURN a
}
CALL (a) {
  UNWIND $made AS r
  CALL (r) {
    MATCH (b:BlueskyAccount {did: r.target}) WHERE $network = 'bluesky' RETURN b
  UNION
    MATCH (b:MastodonAccount {acct: r.target}) WHERE $network = 'mastodon' RETURN b
  }
  MERGE (a)-[f:FOLLOWS_ON]->(b)
    ON CREATE SET f.at = $now, f.by_app = r.by_app
  SET f.uri = coalesce(r.uri, f.uri)
  WITH b
  OPTIONAL MATCH (:Member {id: $member})-[x:FOLLOW_FAILED]->(b)
  DELETE x
  RETURN count(*) AS made
}
CALL () {
  OPTIONAL MATCH (m:Member {id: $member})
  UNWIND (CASE WHEN m IS NULL THEN [] ELSE $failed END) AS r
  CALL (r) {
    MATCH (b:BlueskyAccount {did: r.target}) WHERE $network = 'bluesky' RETURN b
  UNION
    MATCH (b:MastodonAccount {acct: r.target}) WHERE $network = 'mastodon' RETURN b
  }
  MERGE (m)-[x:FOLLOW_FAILED]->(b)
  SET x.reason = r.reason, x.at = $now
  RETURN count(*) AS failed
}
RETURN made, failed
