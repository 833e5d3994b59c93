// import_retract_following: after a newer archive of the same member is
// loaded, the owner's outgoing FOLLOWS lose the attestation of the member's
// other archives ($old); an edge left with no flag is deleted. Runs in an
// auto-commit transaction, in batches, so accounts with a million follows
// fit in memory; a crash half-way is finished by running it again.
// Parameters: $xid, $old [archive id].
// Rows: none.
// Plan: NodeUniqueIndexSeek on XAccount(xid), then Expand(All) of its FOLLOWS.
MATCH (x:XAccount {xid: $xid})-[f:FOLLOWS]->()
WHERE any(a IN f.following_from WHERE a IN $old)
CALL (f) {
  SET f.following_from = [a IN f.following_from WHERE NOT a IN $old]
  SET f.by_following = size(f.following_from) > 0
  WITH f WHERE NOT f.by_following AND NOT coalesce(f.by_follower, false)
  DELETE f
} IN TRANSACTIONS OF 10000 ROWS
