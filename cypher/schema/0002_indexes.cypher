// Lookups that do not start from a unique key.
// An archive is found again by its content hash, so a re-upload is a no-op.
CREATE INDEX archive_sha256 IF NOT EXISTS FOR (a:Archive) ON (a.sha256);
// Handles are how people search for Bluesky accounts.
CREATE INDEX bluesky_handle IF NOT EXISTS FOR (a:BlueskyAccount) ON (a.handle);
// Admins look members' X accounts up by username.
CREATE INDEX xaccount_username IF NOT EXISTS FOR (x:XAccount) ON (x.username);
