// Command passerelle is Passerelle's one binary: the web server, the worker,
// and the operators' tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"

	"github.com/redis/go-redis/v9"
)

// version is set at build time with -ldflags "-X main.version=..."; without
// it, the module version or VCS revision from the build info is used.
var version = ""

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

// Env is what a command gets from main: its outputs.
type Env struct {
	Stdout, Stderr io.Writer
}

func commands() map[string]command {
	return map[string]command{
		"serve":       {"run the web server", runServe},
		"work":        {"run the task worker", runWork},
		"migrate":     {"apply the graph schema files not yet applied", runMigrate},
		"import":      {"load an X archive into the graph for a member", runImport},
		"archive":     {"archive inspect: read an X archive without touching any database", runArchive},
		"fixtures":    {"fixtures archive: write a synthetic X archive", runFixtures},
		"demo":        {"demo seed|archive: the demo world of make up, and a visitor's archive that follows it", runDemo},
		"members":     {"members connect|link|unlink|claim|settings|delete: a member's accounts and settings (audited)", runMembers},
		"admin":       {"admin conflicts: X accounts claimed by more than one member", runAdmin},
		"links":       {"links import: load a CSV dataset of X to Bluesky/Mastodon links", runLinks},
		"matches":     {"a member's reconnections: followings and followers reachable now", runMatches},
		"reconnect":   {"queue the follows of a member's pending reconnections", runReconnect},
		"stats":       {"graph statistics, global or per member", runStats},
		"ready":       {"wait until Neo4j (with APOC) and Redis answer", runReady},
		"version":     {"print the version", runVersion},
		"healthcheck": {"GET a URL, fail unless 200 (for containers)", runHealthcheck},
	}
}

type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// usageError is a mistake in how the command was called or configured: exit
// status 2, as for flag errors.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func main() {
	// go-redis logs its own dial retries; the error it returns says enough.
	redis.SetLogger(quietRedis{})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, &Env{Stdout: os.Stdout, Stderr: os.Stderr}, os.Args[1:])
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "passerelle: "+strings.TrimSpace(err.Error()))
		}
		var u usageError
		if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, env *Env, args []string) error {
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(env.Stdout, cmds)
		return nil
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		return usageError{fmt.Errorf("unknown command %q (see `passerelle help`)", args[0])}
	}
	return cmd.run(ctx, env, args[1:])
}

func printUsage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: passerelle COMMAND [flags]\n\ncommands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\n`passerelle COMMAND -h` lists a command's flags; every flag has an environment fallback.")
}

// parse parses a command's flags, with the shared settings, and validates
// them. Any error is a usage error.
func parse(fs *flag.FlagSet, cfg *Config, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if cfg == nil {
		return nil
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	return nil
}

func newFlagSet(name string, env *Env) *flag.FlagSet {
	fs := flag.NewFlagSet("passerelle "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

func runVersion(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet("version", env)
	if err := parse(fs, nil, args); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, "passerelle "+buildVersion())
	return nil
}

func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return info.Main.Version + " " + info.GoVersion
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev + " " + info.GoVersion
}
