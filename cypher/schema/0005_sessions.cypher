// Stored sessions expire (issue 6): tokens:refresh renews those that end
// soon, found by the expiry kept in clear next to the sealed credentials.
CREATE INDEX uses_expires_at IF NOT EXISTS FOR ()-[u:USES]-() ON (u.expires_at);
