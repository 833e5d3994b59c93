package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/passerelle-social/passerelle/i18n"
	"github.com/passerelle-social/passerelle/networks/bluesky"
	"github.com/passerelle-social/passerelle/networks/mastodon"
	"github.com/passerelle-social/passerelle/networks/x"
	"github.com/passerelle-social/passerelle/server"
	"github.com/passerelle-social/passerelle/workers"
)

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

func runServe(ctx context.Context, env *Env, args []string) error {
	var cfg Config
	fs := newFlagSet("serve", env)
	cfg.Register(fs)
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	log := cfg.Logger().With("process", "serve")
	if cfg.SecretKey == "" {
		log.Warn("dev mode: no PASSERELLE_SECRET_KEY, using a throw-away key; encrypted tokens will not survive a restart")
	}

	store, err := cfg.OpenStore(ctx, log)
	if err != nil {
		return err
	}
	defer store.Close(context.Background())
	if _, err := store.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	rdb, err := cfg.OpenRedis(ctx)
	if err != nil {
		return err
	}
	defer rdb.Close()

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("PASSERELLE_HTTP_ADDR: %s", oneLine(err))
	}
	queue := asynq.NewClient(cfg.RedisOpt())
	defer queue.Close()
	insp := asynq.NewInspector(cfg.RedisOpt())
	defer insp.Close()
	public, _ := url.Parse(cfg.PublicURL)
	masto := mastodon.New(mastodon.Options{})
	oa := cfg.blueskyOAuth(store, rdb)
	admins := map[string]bool{}
	for _, a := range list(cfg.Admins) {
		admins[a] = true
	}
	web := &server.Web{Store: store, Queue: queue, Inspector: insp, Redis: rdb, Box: cfg.Box(), Texts: i18n.MustLoad(),
		Uploads: &workers.Uploads{Dir: cfg.UploadDir}, MaxUpload: int64(cfg.MaxUploadMiB) << 20, PublicURL: public,
		Bluesky: bluesky.New(bluesky.Options{PLCURL: cfg.PLCURL, OAuth: oa}), BlueskyOAuth: oa, BlueskyHosts: list(cfg.BlueskyHosts), Admins: admins,
		Mastodon: masto, MastodonOAuth: masto, MastodonHosts: list(cfg.MastodonHosts),
		Log: log.With("component", "web")}
	if cfg.XClientID != "" {
		web.X = &x.Client{ClientID: cfg.XClientID, ClientSecret: cfg.XClientSecret, AuthURL: cfg.XAuthURL, APIURL: cfg.XAPIURL}
	}
	srv, err := server.New(server.Options{
		Addr:     cfg.HTTPAddr,
		Logger:   log,
		Registry: newRegistry(),
		Checks: map[string]server.Check{
			"neo4j": store.Ping,
			"redis": func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		},
		Web: web,
	})
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(env.Stdout, "passerelle: serving on http://%s\n", ln.Addr())

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Shutdown order: HTTP first (requests in flight finish), then the
	// drivers, closed by the defers above.
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
