// import_following: one batch of following.js: (owner)-[:FOLLOWS]->(y) for
// each id, flagged by_following and attested by the archive (its id in
// following_from). Idempotent: a second run changes nothing.
// Parameters: $xid (the owner), $archive (archive id), $ids [string].
// Rows: none.
// Plan: NodeUniqueIndexSeek on XAccount(xid) for the owner and each id.
MATCH (x:XAccount {xid: $xid})
UNWIND $ids AS id
MERGE (y:XAccount {xid: id})
MERGE (x)-[f:FOLLOWS]->(y)
SET f.by_following = true,
    f.following_from = CASE
      WHEN f.following_from IS NULL THEN [$archive]
      WHEN $archive IN f.following_from THEN f.following_from
      ELSE f.following_from + $archive END
