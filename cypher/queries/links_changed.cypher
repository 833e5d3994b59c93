// links_changed: the accounts whose links (SAME_AS) appeared, or changed
// trust or conflict mark, in a time window: arrival:sweep fans them out,
// which catches dataset imports, verified claims, and any fan-out lost.
// Parameters: $since, $until (datetimes; the window is (since, until]).
// Rows: network, account (DID or acct), changed (latest change in the
//   window).
// Plan: RelationshipIndexSeekByRange on SAME_AS(changed_at).
MATCH ()-[s:SAME_AS]->(a)
WHERE s.changed_at > $since AND s.changed_at <= $until
RETURN a.network AS network, coalesce(a.did, a.acct) AS account, max(s.changed_at) AS changed
