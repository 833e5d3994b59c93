// notify_finish: settles a digest's announcements: 'sent' (the message
// went out, or may have: a resumed digest), 'pending' (it certainly did
// not: they wait for the next try) or 'dropped' (the member withdrew
// consent or has no channel). Sent stamps the member's digest time, from
// which the next digest's period counts.
// Parameters: $member, $digest, $state ('sent'|'pending'|'dropped'), $now.
// Rows: one: settled (announcements changed).
// Plan: NodeUniqueIndexSeek on Member(id), then expands.
MATCH (m:Member {id: $member})
OPTIONAL MATCH (m)-[t:TOLD {digest: $digest}]->()
  WHERE t.state = 'sending' OR ($state = 'dropped' AND t.state = 'pending')
SET t.state = $state, t.settled_at = $now
WITH m, count(t) AS settled
CALL (m) {
  WITH m WHERE $state = 'sent'
  SET m.digest_at = $now
}
RETURN settled
