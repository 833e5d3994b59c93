// stats_global: counts over the whole graph. Node and relationship counts
// come from Neo4j's count store; links are grouped by scanning SAME_AS.
// recreatable: reachable (member, target) pairs not yet followed, over
// members' unrefuted claims (a traversal: see BENCHMARKS.md for its cost).
// Parameters: none.
// Rows: one: members, x_accounts, follows, links [{network, trust, n}],
//   recreatable, recreated.
// Plan: NodeCountFromCountStore, RelationshipCountFromCountStore, then
//   DirectedRelationshipTypeScan of SAME_AS and FOLLOWS_ON.
CALL () { MATCH (m:Member) RETURN count(m) AS members }
CALL () { MATCH (x:XAccount) RETURN count(x) AS x_accounts }
CALL () { MATCH ()-[f:FOLLOWS]->() RETURN count(f) AS follows }
CALL () {
  MATCH ()-[s:SAME_AS]->(a)
  WITH a.network AS network, s.trust AS trust, count(*) AS n
  ORDER BY network, trust
  RETURN collect({network: network, trust: trust, n: n}) AS links
}
CALL () {
  MATCH ()-[f:FOLLOWS_ON]->() WHERE f.by_app = true
  RETURN count(f) AS recreated
}
CALL () {
  MATCH (x:XAccount)-[:SAME_AS]->(a)
  WITH DISTINCT x, a
  MATCH (me:XAccount)-[:FOLLOWS]->(x)
  MATCH (m:Member)-[c:CLAIMS]->(me) WHERE c.refuted IS NULL
  MATCH (m)-[:USES]->(mine) WHERE mine.network = a.network AND mine <> a
  WITH DISTINCT m, a, mine
  WHERE NOT EXISTS { (mine)-[:FOLLOWS_ON]->(a) }
  RETURN count(*) AS recreatable
}
RETURN members, x_accounts, follows, links, recreatable, recreated
