package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

func runMigrate(ctx context.Context, env *Env, args []string) error {
	var cfg Config
	fs := newFlagSet("migrate", env)
	cfg.Register(fs)
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	log := cfg.Logger().With("process", "migrate")
	store, err := cfg.OpenStore(ctx, log)
	if err != nil {
		return err
	}
	defer store.Close(context.Background())
	applied, err := store.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(env.Stdout, "schema up to date")
		return nil
	}
	fmt.Fprintf(env.Stdout, "applied %s\n", strings.Join(applied, ", "))
	return nil
}

// runReady waits until the services answer: Neo4j runs RETURN 1 and an APOC
// function, Redis answers PING. `make services` uses it as its readiness
// check.
func runReady(ctx context.Context, env *Env, args []string) error {
	var cfg Config
	fs := newFlagSet("ready", env)
	cfg.Register(fs)
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long")
	cfg.Dev = true // no secret is needed to wait for services
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	log := cfg.Logger().With("process", "ready")
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	var last error
	for {
		last = checkServices(ctx, &cfg)
		if last == nil {
			fmt.Fprintf(env.Stdout, "ready: neo4j %s (apoc), redis %s\n", cfg.Neo4jURI, cfg.RedisAddr)
			return nil
		}
		log.Debug("not ready yet", "err", last)
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s: %w", *timeout, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func checkServices(ctx context.Context, cfg *Config) error {
	store, err := cfg.OpenStore(ctx, cfg.Logger())
	if err != nil {
		return err
	}
	defer store.Close(context.Background())
	if _, err := store.APOCVersion(ctx); err != nil {
		return fmt.Errorf("neo4j at %s has no APOC: %s", cfg.Neo4jURI, oneLine(err))
	}
	rdb, err := cfg.OpenRedis(ctx)
	if err != nil {
		return err
	}
	return rdb.Close()
}
