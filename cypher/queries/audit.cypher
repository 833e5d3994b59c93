// audit: appends one admin action to the audit trail.
// Parameters: $event {at, actor, action, member, network, account, detail}.
// Rows: none.
// Plan: CreateNode.
CREATE (e:AuditEvent)
SET e = $event
