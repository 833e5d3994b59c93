// import_retract_blocks: the owner's BLOCKS and MUTES lose the attestation
// of the member's other archives ($old); one left with none is deleted.
// Parameters: $xid, $old [archive id].
// Rows: none.
// Plan: NodeUniqueIndexSeek on XAccount(xid), then Expand(All).
MATCH (x:XAccount {xid: $xid})-[b:BLOCKS|MUTES]->()
WHERE any(a IN b.from WHERE a IN $old)
CALL (b) {
  SET b.from = [a IN b.from WHERE NOT a IN $old]
  WITH b WHERE size(b.from) = 0
  DELETE b
} IN TRANSACTIONS OF 10000 ROWS
