package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"

	"github.com/hibiken/asynq"

	"github.com/passerelle-social/passerelle/cypher"
	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/networks/bluesky"
	"github.com/passerelle-social/passerelle/workers"
)

// runReconnect enqueues a member's pending reconnections as follow tasks.
func runReconnect(ctx context.Context, env *Env, args []string) error {
	var cfg Config
	fs := newFlagSet("reconnect", env)
	cfg.Register(fs)
	member := fs.String("member", "", "member id (required)")
	network := fs.String("network", "", "bluesky or mastodon (default: every network the member uses)")
	dryRun := fs.Bool("dry-run", false, "say what would be followed; enqueue nothing")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	if *member == "" {
		return usageError{errors.New("--member is required")}
	}
	var n engine.Network
	if *network != "" {
		var err error
		if n, err = engine.ParseNetwork(*network); err != nil {
			return usageError{err}
		}
	}
	store, err := cfg.OpenStore(ctx, cfg.Logger())
	if err != nil {
		return err
	}
	defer store.Close(context.Background())
	q := asynq.NewClient(cfg.RedisOpt())
	defer q.Close()
	plan, err := workers.Reconnect(ctx, store, q, *member, n, *dryRun)
	if err != nil {
		return clientError(err)
	}
	if *asJSON {
		return writeJSON(env.Stdout, plan)
	}
	names := make([]string, 0, len(plan.Networks))
	for k := range plan.Networks {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		np := plan.Networks[k]
		verb := "queued"
		if plan.DryRun {
			verb = "would queue (dry run)"
		}
		fmt.Fprintf(env.Stdout, "%s: %s %d follows from %s in %d tasks; %d left for the member to choose (claimed or in conflict)\n",
			k, verb, np.Targets, np.Account, len(np.Tasks), np.Skipped)
	}
	if len(names) == 0 {
		fmt.Fprintf(env.Stdout, "member %s has no account on a network yet: nothing to reconnect\n", *member)
	}
	return nil
}

// runConnect proves a member's app password on their PDS and records the
// account with the credentials sealed: the way a local or self-hosted PDS
// account is connected (production accounts sign in with OAuth on the web).
func runConnect(ctx context.Context, env *Env, args []string) error {
	var host, identifier, password, member string
	return withStoreConfig(ctx, env, "members connect", args, func(fs *flag.FlagSet) {
		fs.StringVar(&member, "member", "", "member id (required)")
		fs.StringVar(&host, "host", "", "the account's PDS, e.g. http://localhost:2583 (required)")
		fs.StringVar(&identifier, "identifier", "", "handle or e-mail (required)")
		fs.StringVar(&password, "app-password", os.Getenv("PASSERELLE_APP_PASSWORD"), "app password (env PASSERELLE_APP_PASSWORD keeps it out of the process list)")
	}, func(ctx context.Context, cfg *Config, s *cypher.Store, fs *flag.FlagSet) error {
		if member == "" || host == "" || identifier == "" || password == "" {
			return usageError{errors.New("members connect needs --member, --host, --identifier and an app password")}
		}
		account, err := engine.Connect(ctx, bluesky.New(bluesky.Options{PLCURL: cfg.PLCURL}), s, cfg.Box(), member, engine.Bluesky,
			engine.Credentials{Host: host, Identifier: identifier, Password: password}, actor())
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "member %s connected Bluesky account %s (%s)\n", member, account, identifier)
		return nil
	})
}
