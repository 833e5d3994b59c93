// sync_member_links: recomputes the member-derived links of X accounts
// from their claims and their claimants' accounts, in the same transaction
// as the change that called it. For each X account x:
//   - claimants: members with CLAIMS to x. More than one is a conflict,
//     listed for admins (x.conflict). A claim via x_oauth beats archive
//     claims: those are refuted (c.refuted) and give no link. Otherwise every
//     claimant counts, and when several do their links are marked conflict:
//     shown, never auto-followed.
//   - trust: verified for a lone x_oauth claimant, claimed otherwise.
//   - links: (x)-[:SAME_AS {source: 'member'}]->(a) for every account a that
//     a counting claimant USES; any other member link of x is deleted.
//     changed_at is when a link appeared or its trust or conflict changed.
// Parameters: $xids [string], $now (datetime).
// Rows: one per X account found: xid, links (count), conflict (links
//   marked conflict).
// Plan: NodeUniqueIndexSeek on XAccount(xid), then expands only.
UNWIND $xids AS xid
MATCH (x:XAccount {xid: xid})
OPTIONAL MATCH (m:Member)-[c:CLAIMS]->(x)
WITH x, collect(c) AS claims, collect(m) AS members
WITH x, claims, members, [i IN range(0, size(claims) - 1) WHERE claims[i].via = 'x_oauth'] AS oauth
WITH x, claims, members,
     CASE WHEN size(oauth) > 0 THEN oauth ELSE range(0, size(claims) - 1) END AS counting
WITH x, claims, counting, [i IN counting | members[i]] AS owners,
     CASE WHEN size(counting) = 1 AND claims[counting[0]].via = 'x_oauth' THEN 'verified' ELSE 'claimed' END AS trust,
     size(counting) > 1 AS conflict
SET x.conflict = CASE WHEN size(claims) > 1 THEN true ELSE null END
FOREACH (i IN range(0, size(claims) - 1) |
  FOREACH (c IN [claims[i]] | SET c.refuted = CASE WHEN i IN counting THEN null ELSE true END))
WITH x, owners, trust, conflict
CALL (x, owners) {
  UNWIND (CASE WHEN size(owners) = 0 THEN [null] ELSE owners END) AS m
  OPTIONAL MATCH (m)-[:USES]->(a)
  RETURN collect(DISTINCT a) AS wanted
}
CALL (x, wanted) {
  MATCH (x)-[old:SAME_AS {source: 'member'}]->(b)
  WHERE NOT b IN wanted
  DELETE old
}
CALL (x, wanted, trust, conflict) {
  UNWIND wanted AS a
  MERGE (x)-[s:SAME_AS {source: 'member'}]->(a)
    ON CREATE SET s.at = $now, s.changed_at = $now
  // A link whose trust or conflict mark changes is new news: arrival:sweep
  // fans it out again (a claim that became verified may now auto-follow).
  SET s.changed_at = CASE WHEN s.trust = trust AND coalesce(s.conflict, false) = conflict
                          THEN s.changed_at ELSE $now END
  SET s.trust = trust, s.conflict = CASE WHEN conflict THEN true ELSE null END
  RETURN count(s) AS links
}
RETURN x.xid AS xid, links, conflict
