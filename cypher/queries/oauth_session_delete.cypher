// oauth_session_delete: deletes one atproto OAuth session.
// Parameters: $key.
// Rows: one: deleted (0 or 1).
// Plan: NodeUniqueIndexSeek on OAuthSession(key).
OPTIONAL MATCH (s:OAuthSession {key: $key})
DETACH DELETE s
RETURN count(s) AS deleted
