// import_block: one batch of block.js: (owner)-[:BLOCKS]->(y), attested by
// the archive (its id in `from`). Idempotent.
// Parameters: $xid, $archive, $ids [string].
// Rows: none.
// Plan: NodeUniqueIndexSeek on XAccount(xid).
MATCH (x:XAccount {xid: $xid})
UNWIND $ids AS id
MERGE (y:XAccount {xid: id})
MERGE (x)-[b:BLOCKS]->(y)
SET b.from = CASE WHEN b.from IS NULL THEN [$archive]
                  WHEN $archive IN b.from THEN b.from ELSE b.from + $archive END
