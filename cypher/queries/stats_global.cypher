// stats_global: counts over the whole graph. Node and relationship counts
// come from Neo4j's count store; links are grouped by scanning SAME_AS.
// recreatable is read from the snapshot stats_recreatable last stored: it is
// a traversal of seconds on a large graph, so it runs in the background.
// Parameters: none.
// Rows: one: members, x_accounts, follows, links [{network, trust, n}],
//   recreatable (or null before the first snapshot), recreatable_at,
//   recreated.
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
OPTIONAL MATCH (snap:StatsSnapshot {name: 'recreatable'})
RETURN members, x_accounts, follows, links, snap.value AS recreatable, toString(snap.at) AS recreatable_at, recreated
