// reachable_followings: the X accounts a member followed that are now on a
// network where the member has an account: one row per (X account, target
// account). Left out: targets the member dismissed or that failed for good
// for them (FOLLOW_FAILED: deleted, suspended, unknown), X accounts the
// member blocks or mutes on X, the member's own accounts, and (unless
// $include_followed) targets the member already follows there. When several
// links join the same pair, the row carries the best one (verified over
// claimed over evidence; the member's own link over a dataset's).
// A member's refuted claim (beaten by another member's X sign-in) gives no
// rows.
// Parameters: $member, $network ('bluesky'|'mastodon'|null for both),
//   $trusts [allowed trust values], $include_followed (bool).
// Rows: xid, network, account (DID or acct), handle, trust, source,
//   conflict (bool), followed (bool); ordered by trust, network, xid.
// Plan: NodeUniqueIndexSeek on Member(id), then expands from the member's X
//   account along FOLLOWS and SAME_AS: no label scan.
MATCH (m:Member {id: $member})-[c:CLAIMS]->(me:XAccount)
WHERE c.refuted IS NULL
MATCH (m)-[:USES]->(mine)
WHERE $network IS NULL OR mine.network = $network
WITH m, me, collect(mine) AS mines
MATCH (me)-[:FOLLOWS]->(x:XAccount)
WHERE x <> me AND NOT EXISTS { (me)-[:BLOCKS|MUTES]->(x) }
MATCH (x)-[s:SAME_AS]->(a)
WHERE s.trust IN $trusts AND NOT a IN mines
WITH m, mines, x, a, [n IN mines WHERE n.network = a.network] AS own, s
WHERE size(own) > 0 AND NOT EXISTS { (m)-[:DISMISSED|FOLLOW_FAILED]->(a) }
WITH m, x, a, own[0] AS mine, s
ORDER BY CASE s.trust WHEN 'verified' THEN 0 WHEN 'claimed' THEN 1 ELSE 2 END,
         CASE s.source WHEN 'member' THEN 0 ELSE 1 END
WITH m, x, a, mine, collect(s)[0] AS best
WITH x, a, best, EXISTS { (mine)-[:FOLLOWS_ON]->(a) } AS followed
WHERE $include_followed OR NOT followed
RETURN x.xid AS xid, a.network AS network, coalesce(a.did, a.acct) AS account, a.handle AS handle,
       best.trust AS trust, best.source AS source, coalesce(best.conflict, false) AS conflict, followed
ORDER BY CASE trust WHEN 'verified' THEN 0 WHEN 'claimed' THEN 1 ELSE 2 END, network, xid
