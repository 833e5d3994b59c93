package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hibiken/asynq"

	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/engine/xarchive"
	"github.com/passerelle-social/passerelle/i18n"
	"github.com/passerelle-social/passerelle/networks/bluesky"
	"github.com/passerelle-social/passerelle/networks/mastodon"
	"github.com/passerelle-social/passerelle/workers"
)

func runWork(ctx context.Context, env *Env, args []string) error {
	var cfg Config
	fs := newFlagSet("work", env)
	cfg.Register(fs)
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	log := cfg.Logger().With("process", "work")

	store, err := cfg.OpenStore(ctx, log)
	if err != nil {
		return err
	}
	defer store.Close(context.Background())
	if _, err := store.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	rdb, err := cfg.OpenRedis(ctx) // fails early, naming the setting
	if err != nil {
		return err
	}
	defer rdb.Close()

	reg := newRegistry()
	w := workers.NewWorker(workers.Options{
		Redis:           cfg.RedisOpt(),
		Concurrency:     cfg.Concurrency,
		Logger:          log,
		Registry:        reg,
		ShutdownTimeout: 30 * time.Second,
	})
	if cfg.MetricsAddr != "" {
		ln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("PASSERELLE_METRICS_ADDR: %s", oneLine(err))
		}
		metrics := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
		go metrics.Serve(ln)
		defer metrics.Close()
		log.Info("metrics", "addr", ln.Addr().String())
	}
	enqueuer := asynq.NewClient(cfg.RedisOpt())
	defer enqueuer.Close()
	w.Handle(workers.TypeSchemaCheck, workers.HandleSchemaCheck(store))
	importer := &engine.Importer{Graph: store, Limits: xarchive.DefaultLimits()}
	w.Handle(workers.TypeArchiveImport, workers.HandleArchiveImport(importer,
		&workers.Uploads{Dir: cfg.UploadDir}, cfg.KeepUploads, enqueuer, log))
	w.Handle(workers.TypeStatsRefresh, workers.HandleStatsRefresh(store))
	bsky := &workers.Follower{
		Name: engine.Bluesky, Client: bluesky.New(bluesky.Options{PLCURL: cfg.PLCURL, OAuth: cfg.blueskyOAuth(store, rdb)}), Graph: store, Box: cfg.Box(),
		Budget: workers.NewBudget(rdb, "passerelle:budget", cfg.BudgetMargin), Windows: cfg.blueskyWindows,
		Enqueuer: enqueuer, Log: log.With("component", "follow"),
	}
	w.Handle(workers.TaskType(engine.Bluesky), bsky.Handle)
	masto := &workers.Follower{
		Name: engine.Mastodon, Client: mastodon.New(mastodon.Options{}), Graph: store, Box: cfg.Box(),
		Budget: bsky.Budget, Windows: workers.MastodonWindows, Enqueuer: enqueuer, Log: bsky.Log,
	}
	w.Handle(workers.TaskType(engine.Mastodon), masto.Handle)
	fan := &workers.Fanout{Graph: store, Enqueuer: enqueuer, Log: log.With("component", "arrivals")}
	w.Handle(workers.TypeArrivalFanout, fan.Handle)
	w.Handle(workers.TypeArrivalSweep, workers.HandleArrivalSweep(store, enqueuer, time.Now))
	w.Handle(workers.TypeMatchMember, workers.HandleMatchMember(store, enqueuer))
	notifier := &workers.Notifier{Graph: store, Texts: i18n.MustLoad(), URL: cfg.PublicURL, Enqueuer: enqueuer,
		Log: log.With("component", "digests"), Now: time.Now,
		Channels: cfg.digestChannels(bsky.Client.(*bluesky.Client), masto.Client.(*mastodon.Client), log)}
	w.Handle(workers.TypeNotifySweep, notifier.Sweep)
	w.Handle(workers.TypeNotifyDigest, notifier.Digest)
	insp := asynq.NewInspector(cfg.RedisOpt())
	defer insp.Close()
	w.Handle(workers.TypeFollowRetry, workers.HandleFollowRetry(insp))
	tokens := &workers.Tokens{Graph: store, Box: cfg.Box(), Log: log.With("component", "tokens"), Now: time.Now,
		Clients: map[engine.Network]engine.Refresher{engine.Bluesky: bsky.Client.(*bluesky.Client)}}
	w.Handle(workers.TypeTokensRefresh, tokens.Handle)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	// Periodic work. Every worker process runs a scheduler; the tasks are
	// unique per period, so several schedulers enqueue each one once.
	sched := asynq.NewScheduler(cfg.RedisOpt(), &asynq.SchedulerOpts{Logger: workers.Logger(log)})
	for _, job := range workers.Periodic() {
		if _, err := sched.Register(fmt.Sprintf("@every %s", job.Every), job.Task); err != nil {
			return fmt.Errorf("schedule %s: %w", job.Task.Type(), err)
		}
	}
	if err := sched.Start(); err != nil {
		return fmt.Errorf("start scheduler: %w", err)
	}
	defer sched.Shutdown()
	if _, err := enqueuer.EnqueueContext(ctx, workers.NewSchemaCheckTask()); err != nil {
		log.Warn("enqueue schema check", "err", err)
	}
	fmt.Fprintf(env.Stdout, "passerelle: worker running (concurrency %d, redis %s)\n", cfg.Concurrency, cfg.RedisAddr)

	<-ctx.Done()
	// Shutdown order: stop taking tasks and wait for running ones (up to
	// the timeout), then the drivers, closed by the defers above.
	log.Info("shutting down")
	w.Shutdown()
	return nil
}
