// Package testenv connects tests to the real local services of the "test"
// instance (scripts/services.sh start test, which `make test` runs):
// Neo4j on 127.0.0.1:7688 and Redis on 127.0.0.1:6380. Nothing is mocked.
//
// Isolation: Neo4j Community has one user database, so the tests own the
// whole test instance. MustGraph empties the graph (schema kept) before the
// test and MustRedis flushes its Redis database; `make test` runs packages one
// at a time (go test -p 1) and tests within a package do not run in parallel
// when they use these helpers. The dev instance of `make up` is another
// server on other ports: tests never touch it.
package testenv

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	"github.com/redis/go-redis/v9"

	"github.com/passerelle-social/passerelle/cypher"
)

const howToStart = "start the test services with `make services-test` (or `scripts/services.sh start test`), or run everything with `make test`"

// Neo4jURI is the Bolt URI of the test Neo4j: PASSERELLE_TEST_NEO4J_URI or
// bolt://127.0.0.1:7688.
func Neo4jURI() string { return env("PASSERELLE_TEST_NEO4J_URI", "bolt://127.0.0.1:7688") }

// RedisAddr is the address of the test Redis: PASSERELLE_TEST_REDIS_ADDR or
// 127.0.0.1:6380.
func RedisAddr() string { return env("PASSERELLE_TEST_REDIS_ADDR", "127.0.0.1:6380") }

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// Logger returns a logger that writes to the test's log when -v is given.
func Logger(tb testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// MustStore connects to the test Neo4j and applies the schema, without
// clearing anything. Most tests want MustGraph.
func MustStore(tb testing.TB) *cypher.Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := cypher.Open(ctx, cypher.Options{
		URI:      Neo4jURI(),
		User:     os.Getenv("PASSERELLE_TEST_NEO4J_USER"),
		Password: os.Getenv("PASSERELLE_TEST_NEO4J_PASSWORD"),
		Logger:   Logger(tb),
	})
	if err != nil {
		tb.Fatalf("no Neo4j at %s: %v\n%s", Neo4jURI(), err, howToStart)
	}
	tb.Cleanup(func() { s.Close(context.Background()) })
	if _, err := s.Migrate(ctx); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return s
}

// MustGraph returns a Store on an empty graph: every node but the schema
// records is deleted first.
func MustGraph(tb testing.TB) *cypher.Store {
	tb.Helper()
	s := MustStore(tb)
	if err := s.Reset(context.Background()); err != nil {
		tb.Fatalf("empty the test graph: %v", err)
	}
	return s
}

// MustRedis returns a client on an emptied test Redis database.
func MustRedis(tb testing.TB) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: RedisAddr()})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		tb.Fatalf("no Redis at %s: %v\n%s", RedisAddr(), err, howToStart)
	}
	if err := c.FlushDB(ctx).Err(); err != nil {
		tb.Fatalf("flush test redis: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// Query runs one statement on the test Neo4j through its own driver and
// returns the rows as maps: for tests that check what the graph holds
// without a product method for it.
func Query(tb testing.TB, query string, params map[string]any) []map[string]any {
	tb.Helper()
	ctx := context.Background()
	d, err := neo4j.NewDriverWithContext(Neo4jURI(), auth())
	if err != nil {
		tb.Fatal(err)
	}
	defer d.Close(ctx)
	res, err := neo4j.ExecuteQuery(ctx, d, query, params, neo4j.EagerResultTransformer)
	if err != nil {
		tb.Fatalf("query: %v\n%s", err, query)
	}
	rows := make([]map[string]any, len(res.Records))
	for i, r := range res.Records {
		rows[i] = r.AsMap()
	}
	return rows
}

func auth() neo4j.AuthToken {
	if u := os.Getenv("PASSERELLE_TEST_NEO4J_USER"); u != "" {
		return neo4j.BasicAuth(u, os.Getenv("PASSERELLE_TEST_NEO4J_PASSWORD"), "")
	}
	return neo4j.NoAuth()
}

// MustRedisKeep connects to the test Redis without emptying it: for a
// second client in a test that already called MustRedis.
func MustRedisKeep(tb testing.TB) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: RedisAddr()})
	if err := c.Ping(context.Background()).Err(); err != nil {
		tb.Fatalf("no Redis at %s: %v", RedisAddr(), err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}
