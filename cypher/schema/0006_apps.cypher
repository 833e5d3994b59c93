// Passerelle's OAuth application on each Mastodon-API instance, registered
// the first time a member signs in from there (issue 5); its secret is
// sealed.
CREATE CONSTRAINT mastodon_app_instance IF NOT EXISTS FOR (a:MastodonApp) REQUIRE a.instance IS UNIQUE;
