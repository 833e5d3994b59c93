// Arrivals and digests (issue 6).
// arrival:sweep fans out the links that appeared or changed trust since its
// last run: found by changed_at.
CREATE INDEX same_as_changed_at IF NOT EXISTS FOR ()-[s:SAME_AS]-() ON (s.changed_at);
// Announcements waiting for a member's digest: (m)-[:TOLD {state}]->(a).
CREATE INDEX told_state IF NOT EXISTS FOR ()-[t:TOLD]-() ON (t.state);
// Periodic jobs keep their watermark on a (:Job {name}) node.
CREATE CONSTRAINT job_name IF NOT EXISTS FOR (j:Job) REQUIRE j.name IS UNIQUE;
// Links made before this file get their creation time as changed_at.
MATCH ()-[s:SAME_AS]->() WHERE s.changed_at IS NULL SET s.changed_at = s.at;
