// import_follower: one batch of follower.js: (y)-[:FOLLOWS]->(owner) for
// each id, flagged by_follower and attested by the archive (its id in
// follower_from). Idempotent.
// Parameters: $xid (the owner), $archive (archive id), $ids [string].
// Rows: none.
// Plan: NodeUniqueIndexSeek on XAccount(xid) for the owner and each id.
MATCH (x:XAccount {xid: $xid})
UNWIND $ids AS id
MERGE (y:XAccount {xid: id})
MERGE (y)-[f:FOLLOWS]->(x)
SET f.by_follower = true,
    f.follower_from = CASE
      WHEN f.follower_from IS NULL THEN [$archive]
      WHEN $archive IN f.follower_from THEN f.follower_from
      ELSE f.follower_from + $archive END
