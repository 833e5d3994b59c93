// oauth_session_save: writes one sealed atproto OAuth session (indigo
// rewrites it as its tokens and DPoP nonces change).
// Parameters: $key, $sealed, $now.
// Rows: one: key.
// Plan: NodeUniqueIndexSeek on OAuthSession(key).
MERGE (s:OAuthSession {key: $key})
SET s.sealed = $sealed, s.saved_at = $now
RETURN s.key AS key
