// atproto OAuth sessions of members who signed in with Bluesky OAuth,
// sealed (DPoP key and tokens); indigo rewrites them as tokens renew.
CREATE CONSTRAINT oauth_session_key IF NOT EXISTS FOR (s:OAuthSession) REQUIRE s.key IS UNIQUE;
