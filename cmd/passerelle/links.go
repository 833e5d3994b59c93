package main

import (
	"context"
	"time"

	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"github.com/hibiken/asynq"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/passerelle-social/passerelle/cypher"
	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/workers"
)

// withStore parses a command's flags, connects to Neo4j and checks the
// schema, then runs fn.
func withStore(ctx context.Context, env *Env, name string, args []string, setup func(fs *flag.FlagSet),
	fn func(ctx context.Context, s *cypher.Store, fs *flag.FlagSet) error) error {
	return withStoreConfig(ctx, env, name, args, setup, func(ctx context.Context, _ *Config, s *cypher.Store, fs *flag.FlagSet) error {
		return fn(ctx, s, fs)
	})
}

// withStoreConfig is withStore for commands that also need the settings.
func withStoreConfig(ctx context.Context, env *Env, name string, args []string, setup func(fs *flag.FlagSet),
	fn func(ctx context.Context, cfg *Config, s *cypher.Store, fs *flag.FlagSet) error) error {
	var cfg Config
	fs := newFlagSet(name, env)
	cfg.Register(fs)
	setup(fs)
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	store, err := cfg.OpenStore(ctx, cfg.Logger().With("process", strings.ReplaceAll(name, " ", "_")))
	if err != nil {
		return err
	}
	defer store.Close(context.Background())
	if err := store.CheckSchema(ctx); err != nil {
		return err
	}
	return clientError(fn(ctx, &cfg, store, fs))
}

// clientError makes invalid-input errors usage errors (exit status 2).
func clientError(err error) error {
	switch engine.ErrorCode(err) {
	case engine.EINVALID, engine.ENOTFOUND, engine.ECONFLICT, engine.ETOOLARGE:
		return usageError{errors.New(engine.ErrorMessage(err))}
	}
	return err
}

func actor() string {
	if u := os.Getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli"
}

func runMembers(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		return usageError{errors.New("usage: passerelle members connect|link|unlink|claim|settings|delete [flags]")}
	}
	if args[0] == "connect" {
		return runConnect(ctx, env, args[1:])
	}
	var member, network, account, handle, xid, via string
	memberFlags := func(fs *flag.FlagSet) { fs.StringVar(&member, "member", "", "member id (required)") }
	accountFlags := func(fs *flag.FlagSet) {
		memberFlags(fs)
		fs.StringVar(&network, "network", "", "bluesky or mastodon (required)")
		fs.StringVar(&account, "account", "", "DID (bluesky) or user@instance (mastodon) (required)")
	}
	need := func() error {
		if member == "" {
			return usageError{errors.New("--member is required")}
		}
		return nil
	}
	switch args[0] {
	case "link", "unlink":
		return withStoreConfig(ctx, env, "members "+args[0], args[1:], func(fs *flag.FlagSet) {
			accountFlags(fs)
			if args[0] == "link" {
				fs.StringVar(&handle, "handle", "", "the account's handle, shown to members")
			}
		}, func(ctx context.Context, cfg *Config, s *cypher.Store, fs *flag.FlagSet) error {
			if err := need(); err != nil {
				return err
			}
			n, err := engine.ParseNetwork(network)
			if err != nil {
				return err
			}
			if args[0] == "unlink" {
				if err := s.UnlinkAccount(ctx, member, n, account, actor()); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "member %s no longer uses %s account %s\n", member, n, account)
				return nil
			}
			if err := s.LinkAccount(ctx, engine.LinkRequest{Member: member, Network: n, Account: account, Handle: handle, Via: "admin", Actor: actor()}); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "member %s uses %s account %s (recorded by an admin)\n", member, n, account)
			account, _ = engine.CheckAccount(n, account)
			arrived(ctx, env, cfg, member, map[engine.Network]string{n: account})
			return nil
		})
	case "claim":
		return withStoreConfig(ctx, env, "members claim", args[1:], func(fs *flag.FlagSet) {
			memberFlags(fs)
			fs.StringVar(&xid, "xid", "", "X account id (required)")
			fs.StringVar(&via, "via", engine.ViaXOAuth, "x_oauth (signed in with X: verified) or archive")
		}, func(ctx context.Context, cfg *Config, s *cypher.Store, fs *flag.FlagSet) error {
			if err := need(); err != nil {
				return err
			}
			if err := s.ClaimX(ctx, member, xid, via, "", actor()); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "member %s claims X account %s via %s\n", member, xid, via)
			// The member's accounts may now be verified: their followers
			// on X hear of them again.
			if info, err := s.MemberInfo(ctx, member); err == nil {
				arrived(ctx, env, cfg, member, info.Accounts)
			}
			return nil
		})
	case "settings":
		var set engine.Settings
		return withStore(ctx, env, "members settings", args[1:], func(fs *flag.FlagSet) {
			memberFlags(fs)
			boolSetting(fs, &set.AutoReconnect, "auto-reconnect", "follow arrivals automatically")
			boolSetting(fs, &set.AllowClaimed, "allow-claimed", "auto-follow may use claimed links")
			boolSetting(fs, &set.NotifyArrivals, "notify-arrivals", "send arrival digests")
			boolSetting(fs, &set.ResearchConsent, "research-consent", "include in research exports")
			boolSetting(fs, &set.ShowName, "show-name", "show the member's name to others")
			strSetting(fs, &set.NotifyPeriod, "notify-period", "how often digests come: daily or weekly")
			strSetting(fs, &set.NotifyChannel, "notify-channel", "where digests go: bluesky or mastodon (empty: Mastodon first)")
			strSetting(fs, &set.Locale, "locale", "language: en, fr, de, es, it, pt or sv")
		}, func(ctx context.Context, s *cypher.Store, fs *flag.FlagSet) error {
			if err := need(); err != nil {
				return err
			}
			if err := s.SetSettings(ctx, member, set); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "member %s: settings saved\n", member)
			return nil
		})
	case "delete":
		return withStore(ctx, env, "members delete", args[1:], memberFlags, func(ctx context.Context, s *cypher.Store, fs *flag.FlagSet) error {
			if err := need(); err != nil {
				return err
			}
			if err := s.DeleteMember(ctx, member, actor()); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "member %s deleted\n", member)
			return nil
		})
	}
	return usageError{fmt.Errorf("members %s: unknown (want link, unlink, claim, settings or delete)", args[0])}
}

// strSetting registers a flag that sets *p only when given.
func strSetting(fs *flag.FlagSet, p **string, name, usage string) {
	fs.Func(name, usage, func(s string) error {
		*p = &s
		return nil
	})
}

// boolSetting registers a flag that sets *p only when given.
func boolSetting(fs *flag.FlagSet, p **bool, name, usage string) {
	fs.Func(name, usage+" (true or false)", func(s string) error {
		var v bool
		switch s {
		case "true", "1", "yes", "on":
			v = true
		case "false", "0", "no", "off":
		default:
			return fmt.Errorf("%q is not true or false", s)
		}
		*p = &v
		return nil
	})
}

func runAdmin(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] != "conflicts" {
		return usageError{errors.New("usage: passerelle admin conflicts [--json]")}
	}
	var asJSON bool
	return withStore(ctx, env, "admin conflicts", args[1:], func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	}, func(ctx context.Context, s *cypher.Store, fs *flag.FlagSet) error {
		conflicts, err := s.Conflicts(ctx)
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(env.Stdout, conflicts)
		}
		if len(conflicts) == 0 {
			fmt.Fprintln(env.Stdout, "no conflicts")
		}
		for _, c := range conflicts {
			fmt.Fprintf(env.Stdout, "X account %s (@%s):\n", c.XID, orDash(c.Username))
			for _, cl := range c.Claims {
				state := ""
				if cl.Refuted {
					state = " (refuted by an X sign-in)"
				}
				fmt.Fprintf(env.Stdout, "  member %s via %s%s\n", cl.Member, cl.Via, state)
			}
		}
		return nil
	})
}

func runLinks(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		return usageError{errors.New("usage: passerelle links import [--dry-run] [--json] FILE.csv")}
	}
	var dryRun, asJSON bool
	return withStoreConfig(ctx, env, "links import", args[1:], func(fs *flag.FlagSet) {
		fs.BoolVar(&dryRun, "dry-run", false, "check the file and say what would change; write nothing")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	}, func(ctx context.Context, cfg *Config, s *cypher.Store, fs *flag.FlagSet) error {
		if fs.NArg() != 1 {
			return usageError{errors.New("links import: give one CSV file")}
		}
		path := fs.Arg(0)
		f, err := os.Open(path)
		if err != nil {
			return usageError{err}
		}
		defer f.Close()
		h := sha256.New()
		rows, bad, err := engine.ParseDataset(io.TeeReader(io.LimitReader(f, 2<<30), h))
		if err != nil {
			return err
		}
		if len(bad) > 0 {
			// The whole file is refused: a dataset goes in whole or not at all.
			for i, b := range bad {
				if i == 50 {
					fmt.Fprintf(env.Stderr, "... and %d more\n", len(bad)-50)
					break
				}
				fmt.Fprintf(env.Stderr, "%s:%d: %s\n", filepath.Base(path), b.Line, b.Msg)
			}
			return usageError{fmt.Errorf("%s: %d bad rows; nothing imported (fix them and run again)", filepath.Base(path), len(bad))}
		}
		source := "dataset:" + filepath.Base(path)
		res, err := s.ImportDataset(ctx, source, hex.EncodeToString(h.Sum(nil)), rows, dryRun)
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(env.Stdout, res)
		}
		verb := "imported"
		if dryRun {
			verb = "would import (dry run, nothing written)"
		}
		fmt.Fprintf(env.Stdout, "%s: %s %d links (%d before; %d removed)\n", source, verb, res.Rows, res.Before, res.Removed)
		if !dryRun {
			// The new links' arrivals are fanned out by the sweep: now,
			// rather than at its next run.
			enqueue(ctx, env, cfg, workers.NewArrivalSweepTask())
		}
		return nil
	})
}

func runMatches(ctx context.Context, env *Env, args []string) error {
	var member, network, trust string
	var asJSON, includeFollowed bool
	var offset, limit int
	return withStore(ctx, env, "matches", args, func(fs *flag.FlagSet) {
		fs.IntVar(&offset, "offset", 0, "skip this many rows of each list")
		fs.IntVar(&limit, "limit", 0, "at most this many rows of each list (0: all); totals count them all")
		fs.StringVar(&member, "member", "", "member id (required)")
		fs.StringVar(&network, "network", "", "bluesky or mastodon (default both)")
		fs.StringVar(&trust, "trust", "", "lowest trust shown: verified, claimed or evidence (default all)")
		fs.BoolVar(&includeFollowed, "include-followed", false, "include targets already followed, marked")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	}, func(ctx context.Context, s *cypher.Store, fs *flag.FlagSet) error {
		if member == "" {
			return usageError{errors.New("--member is required")}
		}
		mq := engine.MatchQuery{Member: member, IncludeFollowed: includeFollowed}
		if network != "" {
			n, err := engine.ParseNetwork(network)
			if err != nil {
				return err
			}
			mq.Network = n
		}
		if trust != "" {
			t, err := engine.ParseTrust(trust)
			if err != nil {
				return err
			}
			mq.Trusts = engine.TrustsFrom(t)
		}
		followings, err := s.Reachable(ctx, mq, false)
		if err != nil {
			return err
		}
		followers, err := s.Reachable(ctx, mq, true)
		if err != nil {
			return err
		}
		out := struct {
			Member     string                `json:"member"`
			Followings []engine.Reconnection `json:"followings"`
			Followers  []engine.Reconnection `json:"followers"`
			Totals     map[string]any        `json:"totals"`
		}{member, engine.Page(followings, offset, limit), engine.Page(followers, offset, limit),
			map[string]any{"followings": engine.Totals(followings), "followers": engine.Totals(followers)}}
		if asJSON {
			return writeJSON(env.Stdout, out)
		}
		for _, part := range []struct {
			name string
			rows []engine.Reconnection
		}{{"followings", out.Followings}, {"followers", out.Followers}} {
			fmt.Fprintf(env.Stdout, "%s: %d shown\n", part.name, len(part.rows))
			for _, r := range part.rows {
				mark := ""
				if r.Trust != string(engine.TrustVerified) {
					mark = " [" + r.Trust + "]"
				}
				if r.Conflict {
					mark += " [conflict]"
				}
				if r.Followed {
					mark += " (followed)"
				}
				fmt.Fprintf(env.Stdout, "  %-20s %-8s %s %s%s\n", r.XID, r.Network, r.Account, r.Handle, mark)
			}
		}
		return nil
	})
}

func runStats(ctx context.Context, env *Env, args []string) error {
	var member string
	var asJSON, refresh bool
	return withStore(ctx, env, "stats", args, func(fs *flag.FlagSet) {
		fs.StringVar(&member, "member", "", "one member's statistics (default: the whole graph)")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		fs.BoolVar(&refresh, "refresh", false, "recompute the slow counts (recreatable pairs) first")
	}, func(ctx context.Context, s *cypher.Store, fs *flag.FlagSet) error {
		var v any
		var err error
		if refresh {
			if _, err := s.RefreshStats(ctx); err != nil {
				return err
			}
		}
		if member != "" {
			v, err = s.MemberStats(ctx, member)
		} else {
			v, err = s.Stats(ctx)
		}
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(env.Stdout, v)
		}
		if st, ok := v.(*cypher.Stats); ok {
			fmt.Fprintf(env.Stdout, "members      %d\nX accounts   %d\nfollows      %d\nrecreatable  %d (as of %s; stats --refresh)\nrecreated    %d\n",
				st.Members, st.XAccounts, st.Follows, st.Recreatable, orDash(st.RecreatableAt), st.Recreated)
			for k, n := range st.Links {
				fmt.Fprintf(env.Stdout, "links %-20s %d\n", k, n)
			}
			return nil
		}
		return writeJSON(env.Stdout, v)
	})
}

// arrived enqueues what follows a member's accounts becoming reachable:
// the fan-out to those who know them from X, and the member's own
// matching. The link is already stored: if Redis can't take the tasks,
// arrival:sweep fans the link out within minutes, so this only warns.
func arrived(ctx context.Context, env *Env, cfg *Config, member string, accounts map[engine.Network]string) {
	q := asynq.NewClient(cfg.RedisOpt())
	defer q.Close()
	now := time.Now()
	for n, account := range accounts {
		if err := workers.Linked(ctx, q, member, n, account, now); err != nil {
			fmt.Fprintf(env.Stderr, "warning: %v (arrival:sweep fans the link out within %v)\n", err, workers.ArrivalSweepEvery)
			return
		}
	}
}

// enqueue enqueues a task that the scheduler would enqueue later anyway:
// a failure only warns.
func enqueue(ctx context.Context, env *Env, cfg *Config, t *asynq.Task) {
	q := asynq.NewClient(cfg.RedisOpt())
	defer q.Close()
	if _, err := q.EnqueueContext(ctx, t); err != nil && !errors.Is(err, asynq.ErrDuplicateTask) && !errors.Is(err, asynq.ErrTaskIDConflict) {
		fmt.Fprintf(env.Stderr, "warning: enqueue %s: %v (the scheduler runs it later)\n", t.Type(), err)
	}
}
