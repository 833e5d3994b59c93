// stats_recreatable: counts the reachable (member, target) pairs not yet
// followed, over members' unrefuted claims, and stores the count in a
// snapshot node that stats_global reads. Seconds on a 10M-edge graph: run by
// `passerelle stats --refresh` and the stats:refresh task, not per request.
// Parameters: $now.
// Rows: one: recreatable.
// Plan: DirectedRelationshipTypeScan of SAME_AS, then expands.
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
MERGE (snap:StatsSnapshot {name: 'recreatable'})
SET snap.value = recreatable, snap.at = $now
RETURN recreatable
