// import_retract_follower: as import_retract_following, for the owner's
// incoming FOLLOWS attested by follower.js.
// Parameters: $xid, $old [archive id].
// Rows: none.
// Plan: NodeUniqueIndexSeek on XAccount(xid), then Expand(All) of its FOLLOWS.
MATCH (x:XAccount {xid: $xid})<-[f:FOLLOWS]-()
WHERE any(a IN f.follower_from WHERE a IN $old)
CALL (f) {
  SET f.follower_from = [a IN f.follower_from WHERE NOT a IN $old]
  SET f.by_follower = size(f.follower_from) > 0
  WITH f WHERE NOT f.by_follower AND NOT coalesce(f.by_following, false)
  DELETE f
} IN TRANSACTIONS OF 10000 ROWS
