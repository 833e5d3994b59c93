// dataset_prune: removes the links of a dataset that its newest file no
// longer holds (stamped with another digest).
// Parameters: $source, $stamp.
// Rows: one: removed.
// Plan: RelationshipIndexSeek on SAME_AS(source).
MATCH ()-[s:SAME_AS]->()
WHERE s.source = $source AND s.stamp <> $stamp
DELETE s
RETURN count(s) AS removed
