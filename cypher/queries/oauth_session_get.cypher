// oauth_session_get: one sealed atproto OAuth session by its key
// ("<did> <session id>").
// Parameters: $key.
// Rows: zero or one: sealed.
// Plan: NodeUniqueIndexSeek on OAuthSession(key).
MATCH (s:OAuthSession {key: $key})
RETURN s.sealed AS sealed
