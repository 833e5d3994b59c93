// app_save: records Passerelle's OAuth application on an instance (the
// secret sealed), replacing one registered for another redirect URI.
// Two servers registering at once both succeed; the last one is kept, and
// either app works.
// Parameters: $instance, $client_id, $secret_enc, $redirect_uri, $now.
// Rows: one: instance.
// Plan: NodeUniqueIndexSeek on MastodonApp(instance).
MERGE (a:MastodonApp {instance: $instance})
SET a.client_id = $client_id, a.secret_enc = $secret_enc, a.redirect_uri = $redirect_uri, a.registered_at = $now
RETURN a.instance AS instance
