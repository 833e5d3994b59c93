package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/hibiken/asynq"

	"github.com/passerelle-social/passerelle/cypher"
	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/networks/bluesky"
	"github.com/passerelle-social/passerelle/networks/mastodon"
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
	wait := fs.Bool("wait", false, "follow the tasks' progress until they are done")
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
	if !*wait || plan.DryRun {
		return nil
	}
	insp := asynq.NewInspector(cfg.RedisOpt())
	defer insp.Close()
	for {
		p := workers.ReconnectProgress(insp, plan)
		fmt.Fprintf(env.Stdout, "tasks: %d done, %d failed, %d waiting of %d\n", p.Done, p.Failed, p.Waiting, p.Tasks)
		if p.Waiting == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// runConnect proves a member's credentials for an account and records the
// account with the credentials sealed: an app password on a Bluesky PDS,
// an OAuth access token on a Mastodon instance. This is how local and
// self-hosted accounts are connected from the command line; people sign in
// on the web.
func runConnect(ctx context.Context, env *Env, args []string) error {
	var network, host, identifier, password, token, member string
	return withStoreConfig(ctx, env, "members connect", args, func(fs *flag.FlagSet) {
		fs.StringVar(&member, "member", "", "member id (required)")
		fs.StringVar(&network, "network", "bluesky", "bluesky or mastodon")
		fs.StringVar(&host, "host", "", "the account's PDS or instance URL, e.g. http://localhost:2583 (required)")
		fs.StringVar(&identifier, "identifier", "", "bluesky: handle or e-mail")
		fs.StringVar(&password, "app-password", os.Getenv("PASSERELLE_APP_PASSWORD"), "bluesky: app password (env PASSERELLE_APP_PASSWORD keeps it out of the process list)")
		fs.StringVar(&token, "token", os.Getenv("PASSERELLE_ACCESS_TOKEN"), "mastodon: OAuth access token (env PASSERELLE_ACCESS_TOKEN)")
	}, func(ctx context.Context, cfg *Config, s *cypher.Store, fs *flag.FlagSet) error {
		n, err := engine.ParseNetwork(network)
		if err != nil {
			return err
		}
		var nc engine.NetworkClient
		creds := engine.Credentials{Host: host}
		switch n {
		case engine.Bluesky:
			if member == "" || host == "" || identifier == "" || password == "" {
				return usageError{errors.New("members connect --network bluesky needs --member, --host, --identifier and an app password")}
			}
			nc, creds.Identifier, creds.Password = bluesky.New(bluesky.Options{PLCURL: cfg.PLCURL}), identifier, password
		case engine.Mastodon:
			if member == "" || host == "" || token == "" {
				return usageError{errors.New("members connect --network mastodon needs --member, --host and an access token")}
			}
			nc, creds.Token = mastodon.New(mastodon.Options{}), token
		}
		account, err := engine.Connect(ctx, nc, s, cfg.Box(), member, n, creds, actor())
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "member %s connected %s account %s\n", member, n, account)
		arrived(ctx, env, cfg, member, map[engine.Network]string{n: account})
		return nil
	})
}
