package cypher

import (
	"context"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/passerelle-social/passerelle/engine"
)

// appContext binds a sealed app secret to its instance.
func appContext(instance string) string { return "app:" + instance }

// App returns Passerelle's app on instance for redirectURI, registering it
// with oa the first time (its secret sealed with box).
func (s *Store) App(ctx context.Context, oa engine.InstanceOAuth, box engine.Opener, instance, redirectURI string) (*engine.OAuthApp, error) {
	recs, err := s.read(ctx, "app_get", map[string]any{"instance": instance, "redirect_uri": redirectURI})
	if err != nil {
		return nil, err
	}
	if len(recs) == 1 {
		m := recs[0].AsMap()
		secret, err := box.Open(str(m["secret_enc"]), appContext(instance))
		if err == nil {
			return &engine.OAuthApp{Instance: instance, ClientID: str(m["client_id"]), ClientSecret: secret, RedirectURI: redirectURI}, nil
		}
	}
	app, err := oa.RegisterApp(ctx, instance, redirectURI)
	if err != nil {
		return nil, engine.Errorf(engine.EINVALID, "%s does not answer as a Mastodon server: %v", instance, err)
	}
	err = s.write(ctx, func(tx neo4j.ManagedTransaction) error {
		_, err := run(ctx, tx, "app_save", map[string]any{"instance": instance, "client_id": app.ClientID,
			"secret_enc": box.Seal(app.ClientSecret, appContext(instance)), "redirect_uri": redirectURI, "now": nowUTC()})
		return err
	})
	return app, err
}

// LoadOAuthSession returns a sealed atproto OAuth session, or "".
func (s *Store) LoadOAuthSession(ctx context.Context, key string) (string, error) {
	recs, err := s.read(ctx, "oauth_session_get", map[string]any{"key": key})
	if err != nil || len(recs) == 0 {
		return "", err
	}
	v, _ := recs[0].Get("sealed")
	return str(v), nil
}

// SaveOAuthSession writes a sealed atproto OAuth session.
func (s *Store) SaveOAuthSession(ctx context.Context, key, sealed string) error {
	return s.write(ctx, func(tx neo4j.ManagedTransaction) error {
		_, err := run(ctx, tx, "oauth_session_save", map[string]any{"key": key, "sealed": sealed, "now": nowUTC()})
		return err
	})
}

// DeleteOAuthSession deletes a sealed atproto OAuth session.
func (s *Store) DeleteOAuthSession(ctx context.Context, key string) error {
	return s.write(ctx, func(tx neo4j.ManagedTransaction) error {
		_, err := run(ctx, tx, "oauth_session_delete", map[string]any{"key": key})
		return err
	})
}
