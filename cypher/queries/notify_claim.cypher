// notify_claim: takes a member's waiting announcements into one digest
// (state 'sending', digest $digest), and returns what the digest says. An
// announcement whose link is gone (unlinked, deleted, refuted) or that the
// member can no longer act on is dropped. Announcements already taken by
// this digest are returned with resumed = true: the message may have gone
// out before a crash, and each arrival is announced at most once, so the
// caller does not send them again.
// Parameters: $member, $digest (string), $now.
// Rows: one per announcement: network, account, handle, xid, username
//   (of the X account, or null), followed (the member follows it there),
//   resumed (bool).
// Plan: NodeUniqueIndexSeek on Member(id), then expands.
MATCH (m:Member {id: $member})-[t:TOLD]->(a)
WHERE t.state = 'pending' OR (t.state = 'sending' AND t.digest = $digest)
OPTIONAL MATCH (m)-[c:CLAIMS]->(me:XAccount)-[:FOLLOWS]->(x:XAccount)-[s:SAME_AS]->(a)
  WHERE c.refuted IS NULL AND NOT EXISTS { (me)-[:BLOCKS|MUTES]->(x) }
    AND (s.trust = 'verified' OR (s.trust = 'claimed' AND m.allow_claimed)) AND s.conflict IS NULL
WITH m, t, a, x
ORDER BY x.xid
WITH m, t, a, head(collect(x)) AS x
WITH m, t, a, x, t.state = 'sending' AS resumed
SET t.state = CASE WHEN x IS NULL OR EXISTS { (m)-[:DISMISSED]->(a) } THEN 'dropped' ELSE 'sending' END,
    t.digest = $digest, t.claimed_at = $now
WITH m, t, a, x, resumed
WHERE t.state = 'sending'
RETURN a.network AS network, coalesce(a.did, a.acct) AS account, a.handle AS handle,
       x.xid AS xid, x.username AS username,
       EXISTS { (m)-[:USES]->(mine)-[:FOLLOWS_ON]->(a) } AS followed, resumed
ORDER BY network, account
