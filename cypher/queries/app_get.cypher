// app_get: Passerelle's OAuth application on an instance, if registered
// for this redirect URI.
// Parameters: $instance (URL), $redirect_uri.
// Rows: zero or one: client_id, secret_enc.
// Plan: NodeUniqueIndexSeek on MastodonApp(instance).
MATCH (a:MastodonApp {instance: $instance})
WHERE a.redirect_uri = $redirect_uri
RETURN a.client_id AS client_id, a.secret_enc AS secret_enc
