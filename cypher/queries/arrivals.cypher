// arrivals: for an account that just became reachable (a member linked it,
// or a dataset did), the members whose X account follows an X account
// linked to it, with what decides their follow: auto_reconnect, the trust
// they allow, the link's trust and conflict mark, their own account on that
// network, and whether they already follow it there. Blocks, mutes and
// dismissals leave a member out.
// Parameters: $network ('bluesky'|'mastodon'), $account (DID or acct).
// Rows: member, xid (of the arrival), from_account (the member's account on
//   that network, or null), auto_reconnect, notify_arrivals, allow_claimed,
//   locale, trust, conflict, followed. A member who follows two X accounts
//   linked to the same account comes twice: consumers must be idempotent.
// Plan: NodeUniqueIndexSeek on BlueskyAccount(did) or MastodonAccount(acct),
//   then expands SAME_AS, FOLLOWS (incoming) and CLAIMS: no label scan.
CALL () {
  MATCH (a:BlueskyAccount {did: $account}) WHERE $network = 'bluesky' RETURN a
UNION
  MATCH (a:MastodonAccount {acct: $account}) WHERE $network = 'mastodon' RETURN a
}
// The best link per X account first (a handful of rows), so that the
// expansion to 100k followers streams with no sort or grouping after it.
MATCH (x:XAccount)-[s:SAME_AS]->(a)
WITH a, x, s
ORDER BY CASE s.trust WHEN 'verified' THEN 0 WHEN 'claimed' THEN 1 ELSE 2 END,
         CASE s.source WHEN 'member' THEN 0 ELSE 1 END
WITH a, x, collect(s)[0] AS best
MATCH (fx:XAccount)-[:FOLLOWS]->(x)
WHERE fx <> x AND NOT EXISTS { (fx)-[:BLOCKS|MUTES]->(x) }
MATCH (m:Member)-[c:CLAIMS]->(fx)
WHERE c.refuted IS NULL AND NOT EXISTS { (m)-[:USES]->(a) } AND NOT EXISTS { (m)-[:DISMISSED]->(a) }
WITH a, x, best, m, head(COLLECT { MATCH (m)-[:USES]->(mine) WHERE mine.network = a.network RETURN mine }) AS mine
RETURN m.id AS member, x.xid AS xid, coalesce(mine.did, mine.acct) AS from_account,
       coalesce(m.auto_reconnect, false) AS auto_reconnect, coalesce(m.notify_arrivals, false) AS notify_arrivals,
       coalesce(m.allow_claimed, false) AS allow_claimed, m.locale AS locale,
       best.trust AS trust, coalesce(best.conflict, false) AS conflict,
       mine IS NOT NULL AND EXISTS { (mine)-[:FOLLOWS_ON]->(a) } AS followed
