package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/passerelle-social/passerelle/cypher"
	"github.com/passerelle-social/passerelle/engine/seal"
	"github.com/passerelle-social/passerelle/workers"
)

// Config is every setting of the binary. Each one is a flag whose default
// comes from its environment variable; Validate checks them all before
// anything starts.
type Config struct {
	Dev bool

	Neo4jURI      string
	Neo4jUser     string
	Neo4jPassword string
	Neo4jDatabase string

	RedisAddr     string
	RedisPassword string
	RedisDB       int

	HTTPAddr    string
	MetricsAddr string // where `work` serves /metrics
	SecretKey   string
	key         []byte // SecretKey decoded by Validate: 32 bytes

	LogLevel  string
	LogFormat string

	UploadDir   string
	KeepUploads bool
	Concurrency int

	PLCURL         string  // the PLC directory that resolves did:plc
	BudgetMargin   float64 // share of each rate window kept unused
	BlueskyBudget  string  // "HOUR/DAY" write points of a PDS account
	blueskyWindows []workers.Window

	PublicURL     string // the web UI, named in digests
	MaxUploadMiB  int
	BlueskyHosts  string
	MastodonHosts string
	Admins        string

	XClientID, XClientSecret, XAuthURL, XAPIURL string
	// Digest bots: each network's is optional.
	NotifyMastodonURL, NotifyMastodonToken                        string
	NotifyBlueskyHost, NotifyBlueskyHandle, NotifyBlueskyPassword string
	NotifyChatURL                                                 string

	envErr error // the first environment value that did not parse
}

// setting is one row of the configuration table in the README.
type setting struct {
	flag, env, help string
}

var settings = []setting{
	{"dev", "PASSERELLE_DEV", "development mode: a missing secret key is replaced by a throw-away one"},
	{"neo4j-uri", "PASSERELLE_NEO4J_URI", "Neo4j Bolt URI (bolt://, neo4j://, +s, +ssc)"},
	{"neo4j-user", "PASSERELLE_NEO4J_USER", "Neo4j user; empty when auth is off"},
	{"neo4j-password", "PASSERELLE_NEO4J_PASSWORD", "Neo4j password"},
	{"neo4j-database", "PASSERELLE_NEO4J_DATABASE", "Neo4j database; empty for the server's default"},
	{"redis-addr", "PASSERELLE_REDIS_ADDR", "Redis host:port for the task queue"},
	{"redis-password", "PASSERELLE_REDIS_PASSWORD", "Redis password"},
	{"redis-db", "PASSERELLE_REDIS_DB", "Redis database number"},
	{"http-addr", "PASSERELLE_HTTP_ADDR", "address `serve` listens on"},
	{"metrics-addr", "PASSERELLE_METRICS_ADDR", "address where `work` serves /metrics (empty: none)"},
	{"secret-key", "PASSERELLE_SECRET_KEY", "32 random bytes, base64 or hex: encrypts tokens at rest, signs sessions"},
	{"log-level", "PASSERELLE_LOG_LEVEL", "debug, info, warn or error"},
	{"log-format", "PASSERELLE_LOG_FORMAT", "text or json"},
	{"upload-dir", "PASSERELLE_UPLOAD_DIR", "folder where uploaded archives wait for their import"},
	{"keep-uploads", "PASSERELLE_KEEP_UPLOADS", "keep an upload after its import succeeded"},
	{"concurrency", "PASSERELLE_CONCURRENCY", "tasks a worker runs at once"},
	{"plc-url", "PASSERELLE_PLC_URL", "PLC directory that resolves did:plc identities"},
	{"budget-margin", "PASSERELLE_BUDGET_MARGIN", "share of each account's rate windows left unused, 0 to 0.9"},
	{"bluesky-budget", "PASSERELLE_BLUESKY_BUDGET", "write points a PDS allows one account, per hour/per day (a self-hosted PDS may differ)"},
	{"public-url", "PASSERELLE_PUBLIC_URL", "the web UI's address as members reach it (https makes cookies Secure), named in digests"},
	{"max-upload", "PASSERELLE_MAX_UPLOAD", "largest archive upload, in MiB (larger ones get 413)"},
	{"bluesky-hosts", "PASSERELLE_BLUESKY_HOSTS", "PDS URLs the app-password sign-in accepts, comma-separated (empty: any https PDS)"},
	{"mastodon-hosts", "PASSERELLE_MASTODON_HOSTS", "plain-http instances the Mastodon sign-in accepts besides any https one, comma-separated (the local GoToSocial)"},
	{"x-client-id", "PASSERELLE_X_CLIENT_ID", "X OAuth 2.0 client id: turns on \"Sign in with X\", which verifies members' X accounts (empty: off)"},
	{"x-client-secret", "PASSERELLE_X_CLIENT_SECRET", "X OAuth 2.0 client secret"},
	{"x-auth-url", "PASSERELLE_X_AUTH_URL", "X's authorization page"},
	{"x-api-url", "PASSERELLE_X_API_URL", "X's API (token, users/me)"},
	{"admins", "PASSERELLE_ADMINS", "accounts (DID or user@instance) whose members may use /admin, comma-separated"},
	{"notify-mastodon-url", "PASSERELLE_NOTIFY_MASTODON_URL", "instance of the bot that sends digests as Mastodon direct messages (empty: none)"},
	{"notify-mastodon-token", "PASSERELLE_NOTIFY_MASTODON_TOKEN", "the Mastodon bot's access token (scopes read write)"},
	{"notify-bluesky-host", "PASSERELLE_NOTIFY_BLUESKY_HOST", "PDS of the bot that sends digests as Bluesky chat messages (empty: none)"},
	{"notify-bluesky-handle", "PASSERELLE_NOTIFY_BLUESKY_HANDLE", "the Bluesky bot's handle"},
	{"notify-bluesky-password", "PASSERELLE_NOTIFY_BLUESKY_PASSWORD", "the Bluesky bot's app password (with direct-message access)"},
	{"notify-chat-url", "PASSERELLE_NOTIFY_CHAT_URL", "chat service called directly instead of through the bot's PDS (empty: through the PDS, as in production)"},
}

// envOr returns the environment variable key, or def when it is unset or
// empty.
func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// Register binds the settings to fs, with their environment fallbacks.
func (c *Config) Register(fs *flag.FlagSet) {
	help := map[string]string{}
	envs := map[string]string{}
	for _, s := range settings {
		help[s.flag] = s.help + " (env " + s.env + ")"
		envs[s.flag] = s.env
	}
	str := func(p *string, name, def string) { fs.StringVar(p, name, envOr(envs[name], def), help[name]) }
	str(&c.Neo4jURI, "neo4j-uri", "bolt://127.0.0.1:7687")
	str(&c.Neo4jUser, "neo4j-user", "")
	str(&c.Neo4jPassword, "neo4j-password", "")
	str(&c.Neo4jDatabase, "neo4j-database", "")
	str(&c.RedisAddr, "redis-addr", "127.0.0.1:6379")
	str(&c.RedisPassword, "redis-password", "")
	str(&c.HTTPAddr, "http-addr", "127.0.0.1:8080")
	str(&c.MetricsAddr, "metrics-addr", "127.0.0.1:9091")
	str(&c.SecretKey, "secret-key", "")
	str(&c.LogLevel, "log-level", "info")
	str(&c.LogFormat, "log-format", "text")
	str(&c.UploadDir, "upload-dir", ".local/uploads")
	str(&c.PLCURL, "plc-url", "https://plc.directory")
	str(&c.BlueskyBudget, "bluesky-budget", "5000/35000")
	str(&c.PublicURL, "public-url", "http://127.0.0.1:8080/")
	str(&c.BlueskyHosts, "bluesky-hosts", "")
	str(&c.MastodonHosts, "mastodon-hosts", "")
	str(&c.XClientID, "x-client-id", "")
	str(&c.XClientSecret, "x-client-secret", "")
	str(&c.XAuthURL, "x-auth-url", "https://x.com/i/oauth2/authorize")
	str(&c.XAPIURL, "x-api-url", "https://api.x.com")
	str(&c.Admins, "admins", "")
	str(&c.NotifyMastodonURL, "notify-mastodon-url", "")
	str(&c.NotifyMastodonToken, "notify-mastodon-token", "")
	str(&c.NotifyBlueskyHost, "notify-bluesky-host", "")
	str(&c.NotifyBlueskyHandle, "notify-bluesky-handle", "")
	str(&c.NotifyBlueskyPassword, "notify-bluesky-password", "")
	str(&c.NotifyChatURL, "notify-chat-url", "")
	c.BudgetMargin = 0.1
	c.Concurrency = 8
	c.MaxUploadMiB = 2048
	for name, v := range map[string]flag.Value{
		"redis-db":      (*intValue)(&c.RedisDB),
		"concurrency":   (*intValue)(&c.Concurrency),
		"max-upload":    (*intValue)(&c.MaxUploadMiB),
		"dev":           (*boolValue)(&c.Dev),
		"keep-uploads":  (*boolValue)(&c.KeepUploads),
		"budget-margin": (*floatValue)(&c.BudgetMargin),
	} {
		if s := os.Getenv(envs[name]); s != "" {
			if err := v.Set(s); err != nil && c.envErr == nil {
				c.envErr = fmt.Errorf("%s: %v", envs[name], err)
			}
		}
		fs.Var(v, name, help[name])
	}
}

// Validate checks every setting and returns one error naming the first bad
// one, as the environment variable a person would set.
func (c *Config) Validate() error {
	if c.envErr != nil {
		return c.envErr
	}
	if err := cypher.CheckURI(c.Neo4jURI); err != nil {
		return fmt.Errorf("PASSERELLE_NEO4J_URI: %v", err)
	}
	if _, _, err := net.SplitHostPort(c.RedisAddr); err != nil {
		return fmt.Errorf("PASSERELLE_REDIS_ADDR: %q is not host:port", c.RedisAddr)
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		return fmt.Errorf("PASSERELLE_HTTP_ADDR: %q is not host:port", c.HTTPAddr)
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return fmt.Errorf("PASSERELLE_METRICS_ADDR: %q is not host:port", c.MetricsAddr)
		}
	}
	if c.RedisDB < 0 || c.RedisDB > 15 {
		return fmt.Errorf("PASSERELLE_REDIS_DB: %d is not between 0 and 15", c.RedisDB)
	}
	if c.Concurrency < 1 || c.Concurrency > 1000 {
		return fmt.Errorf("PASSERELLE_CONCURRENCY: %d is not between 1 and 1000", c.Concurrency)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("PASSERELLE_LOG_LEVEL: %q is not debug, info, warn or error", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("PASSERELLE_LOG_FORMAT: %q is not text or json", c.LogFormat)
	}
	if c.BudgetMargin < 0 || c.BudgetMargin > 0.9 {
		return fmt.Errorf("PASSERELLE_BUDGET_MARGIN: %v is not between 0 and 0.9", c.BudgetMargin)
	}
	var hour, day int64
	if _, err := fmt.Sscanf(c.BlueskyBudget, "%d/%d", &hour, &day); err != nil || hour < 10 || day < hour {
		return fmt.Errorf("PASSERELLE_BLUESKY_BUDGET: %q is not HOUR/DAY points, e.g. 5000/35000", c.BlueskyBudget)
	}
	c.blueskyWindows = []workers.Window{{Length: time.Hour, Points: hour}, {Length: 24 * time.Hour, Points: day}}
	if u, err := url.Parse(c.PLCURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("PASSERELLE_PLC_URL: %q is not an http(s) URL", c.PLCURL)
	}
	if c.UploadDir == "" {
		return errors.New("PASSERELLE_UPLOAD_DIR: empty")
	}
	for _, u := range []struct {
		env, v   string
		optional bool
	}{
		{"PASSERELLE_PUBLIC_URL", c.PublicURL, false}, {"PASSERELLE_NOTIFY_MASTODON_URL", c.NotifyMastodonURL, true},
		{"PASSERELLE_NOTIFY_BLUESKY_HOST", c.NotifyBlueskyHost, true}, {"PASSERELLE_NOTIFY_CHAT_URL", c.NotifyChatURL, true},
		{"PASSERELLE_X_AUTH_URL", c.XAuthURL, false}, {"PASSERELLE_X_API_URL", c.XAPIURL, false},
	} {
		if u.optional && u.v == "" {
			continue
		}
		if p, err := url.Parse(u.v); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("%s: %q is not an http(s) URL", u.env, u.v)
		}
	}
	if c.MaxUploadMiB < 1 || c.MaxUploadMiB > 64<<10 {
		return fmt.Errorf("PASSERELLE_MAX_UPLOAD: %d MiB is not between 1 and 65536", c.MaxUploadMiB)
	}
	for env, v := range map[string]string{"PASSERELLE_BLUESKY_HOSTS": c.BlueskyHosts, "PASSERELLE_MASTODON_HOSTS": c.MastodonHosts} {
		for _, h := range list(v) {
			if p, err := url.Parse(h); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.Path != "" {
				return fmt.Errorf("%s: %q is not a server URL like https://server.example", env, h)
			}
		}
	}
	if (c.XClientID == "") != (c.XClientSecret == "") {
		return errors.New("PASSERELLE_X_CLIENT_ID and PASSERELLE_X_CLIENT_SECRET: set both or neither")
	}
	if (c.NotifyMastodonURL == "") != (c.NotifyMastodonToken == "") {
		return errors.New("PASSERELLE_NOTIFY_MASTODON_URL and PASSERELLE_NOTIFY_MASTODON_TOKEN: set both or neither")
	}
	if c.NotifyBlueskyHost != "" && (c.NotifyBlueskyHandle == "" || c.NotifyBlueskyPassword == "") {
		return errors.New("PASSERELLE_NOTIFY_BLUESKY_HOST is set: PASSERELLE_NOTIFY_BLUESKY_HANDLE and PASSERELLE_NOTIFY_BLUESKY_PASSWORD are needed too")
	}
	key, err := decodeKey(c.SecretKey)
	switch {
	case c.SecretKey == "" && c.Dev:
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	case c.SecretKey == "":
		return errors.New("PASSERELLE_SECRET_KEY: not set (32 random bytes in base64 or hex, e.g. `openssl rand -base64 32`; or --dev for local work)")
	case err != nil:
		return fmt.Errorf("PASSERELLE_SECRET_KEY: %v", err)
	}
	c.key = key
	return nil
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, dec := range []func(string) ([]byte, error){
		hex.DecodeString, base64.StdEncoding.DecodeString,
		base64.URLEncoding.DecodeString, base64.RawStdEncoding.DecodeString, base64.RawURLEncoding.DecodeString,
	} {
		if b, err := dec(s); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("decodes to %d bytes, want 32", len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("neither base64 nor hex")
}

// Logger builds the process's one slog logger.
func (c *Config) Logger() *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// OpenStore connects to Neo4j; the error names the setting to look at.
func (c *Config) OpenStore(ctx context.Context, log *slog.Logger) (*cypher.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	s, err := cypher.Open(ctx, cypher.Options{
		URI: c.Neo4jURI, User: c.Neo4jUser, Password: c.Neo4jPassword,
		Database: c.Neo4jDatabase, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("PASSERELLE_NEO4J_URI: cannot reach Neo4j at %s: %s", c.Neo4jURI, oneLine(err))
	}
	return s, nil
}

// RedisOpt is the asynq connection to the configured Redis.
func (c *Config) RedisOpt() asynq.RedisClientOpt {
	return asynq.RedisClientOpt{Addr: c.RedisAddr, Password: c.RedisPassword, DB: c.RedisDB}
}

// OpenRedis connects to Redis and pings it; the error names the setting.
func (c *Config) OpenRedis(ctx context.Context) (*redis.Client, error) {
	r := redis.NewClient(&redis.Options{Addr: c.RedisAddr, Password: c.RedisPassword, DB: c.RedisDB})
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := r.Ping(ctx).Err(); err != nil {
		r.Close()
		return nil, fmt.Errorf("PASSERELLE_REDIS_ADDR: cannot reach Redis at %s: %s", c.RedisAddr, oneLine(err))
	}
	return r, nil
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

type intValue int

func (v *intValue) String() string { return strconv.Itoa(int(*v)) }
func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%q is not an integer", s)
	}
	*v = intValue(n)
	return nil
}

type floatValue float64

func (v *floatValue) String() string { return strconv.FormatFloat(float64(*v), 'g', -1, 64) }
func (v *floatValue) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("%q is not a number", s)
	}
	*v = floatValue(f)
	return nil
}

// Box returns the sealer of secrets at rest, under the validated key.
func (c *Config) Box() *seal.Box {
	b, err := seal.New(c.key)
	if err != nil {
		panic(err) // Validate checked the key's length
	}
	return b
}

type boolValue bool

func (v *boolValue) String() string   { return strconv.FormatBool(bool(*v)) }
func (v *boolValue) IsBoolFlag() bool { return true }
func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("%q is not true or false", s)
	}
	*v = boolValue(b)
	return nil
}

// list splits a comma-separated setting, dropping blanks.
func list(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimRight(strings.TrimSpace(x), "/"); x != "" {
			out = append(out, x)
		}
	}
	return out
}
