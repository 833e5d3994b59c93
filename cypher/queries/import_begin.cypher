// import_begin: writes the member's X account and its archive claim, and
// the Archive node in status "loading". Runs after member_create, in the
// same transaction. Safe to run again: every write is a MERGE, and
// first-seen values are set ON CREATE.
// A claim made by signing in with X (via x_oauth) is never downgraded.
// Parameters: $member, $now (datetime), $xid, $username, $display_name,
//   $x_created_at, $archive {id, sha256, generated_at, source, counts (map),
//   duplicates (map), lists_created [url], lists_member [url]}.
// Rows: one: archive (id), status.
// Plan: NodeUniqueIndexSeek on Member(id), XAccount(xid), Archive(id).
MATCH (m:Member {id: $member})
MERGE (x:XAccount {xid: $xid})
SET x.username = $username, x.display_name = $display_name, x.created_at = $x_created_at
MERGE (m)-[c:CLAIMS]->(x)
  ON CREATE SET c.via = 'archive', c.verified = false, c.at = $now
MERGE (a:Archive {id: $archive.id})
  ON CREATE SET a.sha256 = $archive.sha256, a.uploaded_at = $now, a.status = 'loading',
                a.generated_at = $archive.generated_at, a.source = $archive.source,
                a.xid = $xid
SET a += $archive.counts,
    a.lists_created = $archive.lists_created, a.lists_member = $archive.lists_member
MERGE (m)-[:UPLOADED]->(a)
RETURN a.id AS archive, a.status AS status
