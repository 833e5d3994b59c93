// dataset_count: how many links a dataset has, and how many carry the
// given file digest: a dry run's "what would change".
// Parameters: $source, $stamp.
// Rows: one: links, same (stamped with $stamp).
// Plan: RelationshipIndexSeek on SAME_AS(source).
MATCH ()-[s:SAME_AS]->()
WHERE s.source = $source
RETURN count(s) AS links, count(CASE WHEN s.stamp = $stamp THEN 1 END) AS same
