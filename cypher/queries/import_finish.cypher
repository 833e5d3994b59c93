// import_finish: marks the archive loaded and current for its member; the
// member's other archives are marked replaced. Run after the retractions.
// Parameters: $member, $archive, $now.
// Rows: one: archive.
// Plan: NodeUniqueIndexSeek on Member(id), Archive(id).
MATCH (m:Member {id: $member})-[:UPLOADED]->(a:Archive {id: $archive})
SET a.status = 'done', a.loaded_at = $now, m.current_archive = a.id
WITH m, a
OPTIONAL MATCH (m)-[:UPLOADED]->(other:Archive) WHERE other.id <> a.id
SET other.status = 'replaced'
RETURN DISTINCT a.id AS archive
