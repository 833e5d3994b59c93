// Identity links and trust (issue 4).
// Admin actions are kept as (:AuditEvent) nodes, newest first by `at`.
CREATE INDEX audit_at IF NOT EXISTS FOR (e:AuditEvent) ON (e.at);
// Dataset imports replace their own links: found by source.
CREATE INDEX same_as_source IF NOT EXISTS FOR ()-[s:SAME_AS]-() ON (s.source);
// Admins list conflicts: X accounts claimed by more than one member.
CREATE INDEX xaccount_conflict IF NOT EXISTS FOR (x:XAccount) ON (x.conflict);
