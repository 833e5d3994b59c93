// Package cypher is Passerelle's Neo4j adapter: the schema (schema/*.cypher),
// the queries (queries/*.cypher), both embedded, and Store, which runs them
// through neo4j-go-driver with parameters only.
package cypher

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j/config"
)

// Schemes the driver accepts; anything else is a configuration error.
var schemes = map[string]bool{
	"bolt": true, "bolt+s": true, "bolt+ssc": true,
	"neo4j": true, "neo4j+s": true, "neo4j+ssc": true,
}

// CheckURI reports whether uri is a Neo4j URI the driver can use.
func CheckURI(uri string) error {
	u, err := url.Parse(uri)
	if err != nil {
		return fmt.Errorf("not a URI: %v", err)
	}
	if !schemes[u.Scheme] {
		return fmt.Errorf("unknown scheme %q (want bolt://, neo4j:// or their +s/+ssc forms)", u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("no host in %q", uri)
	}
	return nil
}

// Options configure a Store.
type Options struct {
	URI      string
	User     string // empty with auth off
	Password string
	Database string // empty: the server's default database
	Logger   *slog.Logger
}

// Store is Passerelle's graph: it implements the engine's graph operations
// over one Neo4j driver, safe for concurrent use.
type Store struct {
	driver neo4j.DriverWithContext
	db     string
	log    *slog.Logger
}

// Open creates the driver and checks that the server answers.
func Open(ctx context.Context, opt Options) (*Store, error) {
	if err := CheckURI(opt.URI); err != nil {
		return nil, err
	}
	auth := neo4j.NoAuth()
	if opt.User != "" {
		auth = neo4j.BasicAuth(opt.User, opt.Password, "")
	}
	driver, err := neo4j.NewDriverWithContext(opt.URI, auth, func(c *config.Config) {
		c.MaxConnectionPoolSize = 64
		c.ConnectionAcquisitionTimeout = 30 * time.Second
		c.SocketConnectTimeout = 5 * time.Second
	})
	if err != nil {
		return nil, err
	}
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Store{driver: driver, db: opt.Database, log: log.With("component", "cypher")}
	// VerifyConnectivity fails at once on a refused connection, where a
	// query would be retried until ctx ends.
	if err := driver.VerifyConnectivity(ctx); err != nil {
		driver.Close(ctx)
		return nil, err
	}
	if err := s.Ping(ctx); err != nil {
		driver.Close(ctx)
		return nil, err
	}
	return s, nil
}

// Ping runs RETURN 1 on the server.
func (s *Store) Ping(ctx context.Context) error {
	res, err := neo4j.ExecuteQuery(ctx, s.driver, "RETURN 1 AS one", nil,
		neo4j.EagerResultTransformer, s.queryConfig(neo4j.ExecuteQueryWithReadersRouting()))
	if err != nil {
		return fmt.Errorf("neo4j: %w", err)
	}
	if len(res.Records) != 1 {
		return fmt.Errorf("neo4j: RETURN 1 gave %d rows", len(res.Records))
	}
	return nil
}

// Close releases the driver's connections.
func (s *Store) Close(ctx context.Context) error { return s.driver.Close(ctx) }

func (s *Store) queryConfig(more ...neo4j.ExecuteQueryConfigurationOption) neo4j.ExecuteQueryConfigurationOption {
	return func(c *neo4j.ExecuteQueryConfiguration) {
		if s.db != "" {
			c.Database = s.db
		}
		for _, o := range more {
			o(c)
		}
	}
}

func (s *Store) session(ctx context.Context, mode neo4j.AccessMode) neo4j.SessionWithContext {
	return s.driver.NewSession(ctx, neo4j.SessionConfig{DatabaseName: s.db, AccessMode: mode})
}

// statements splits a .cypher file into its statements: comments dropped,
// split on semicolons that end a line.
func statements(src string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(src, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "//") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	return out
}

// Reset deletes every node and relationship except the schema records. It
// exists for tests and demo worlds; nothing in the product calls it.
func (s *Store) Reset(ctx context.Context) error {
	// Relationships first, then nodes, 20,000 at a time: a node with a
	// million relationships can't be deleted in one transaction.
	for _, query := range []string{
		"MATCH ()-[r]->() WITH r LIMIT 20000 DELETE r RETURN count(*) AS n",
		"MATCH (n) WHERE NOT n:SchemaMigration WITH n LIMIT 20000 DETACH DELETE n RETURN count(*) AS n",
	} {
		for {
			res, err := neo4j.ExecuteQuery(ctx, s.driver, query, nil, neo4j.EagerResultTransformer, s.queryConfig())
			if err != nil {
				return err
			}
			if n, _ := res.Records[0].Get("n"); n == int64(0) {
				break
			}
		}
	}
	return nil
}

// runAutoCommit runs one statement in an auto-commit transaction, the only
// kind in which CALL { ... } IN TRANSACTIONS may run.
func (s *Store) runAutoCommit(ctx context.Context, query string, params map[string]any) (neo4j.ResultSummary, error) {
	sess := s.session(ctx, neo4j.AccessModeWrite)
	defer sess.Close(ctx)
	res, err := sess.Run(ctx, query, params)
	if err != nil {
		return nil, err
	}
	return res.Consume(ctx)
}

// APOCVersion returns apoc.version(): proof that the APOC plugin is loaded.
func (s *Store) APOCVersion(ctx context.Context) (string, error) {
	res, err := neo4j.ExecuteQuery(ctx, s.driver, "RETURN apoc.version() AS v", nil,
		neo4j.EagerResultTransformer, s.queryConfig(neo4j.ExecuteQueryWithReadersRouting()))
	if err != nil {
		return "", fmt.Errorf("apoc: %w", err)
	}
	v, _ := res.Records[0].Get("v")
	str, _ := v.(string)
	return str, nil
}

// ConstraintNames returns the names of the database's constraints.
func (s *Store) ConstraintNames(ctx context.Context) (map[string]bool, error) {
	res, err := neo4j.ExecuteQuery(ctx, s.driver, "SHOW CONSTRAINTS YIELD name", nil,
		neo4j.EagerResultTransformer, s.queryConfig(neo4j.ExecuteQueryWithReadersRouting()))
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, r := range res.Records {
		n, _ := r.Get("name")
		if str, ok := n.(string); ok {
			out[str] = true
		}
	}
	return out, nil
}

func nowUTC() time.Time { return time.Now().UTC() }

// write runs fn in one managed write transaction, retried by the driver on
// transient errors: fn must be safe to run again.
func (s *Store) write(ctx context.Context, fn func(tx neo4j.ManagedTransaction) error) error {
	sess := s.session(ctx, neo4j.AccessModeWrite)
	defer sess.Close(ctx)
	_, err := sess.ExecuteWrite(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		return nil, fn(tx)
	})
	return err
}

// run runs the named query in tx and returns all its records.
func run(ctx context.Context, tx neo4j.ManagedTransaction, name string, params map[string]any) ([]*neo4j.Record, error) {
	res, err := tx.Run(ctx, q(name), params)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	recs, err := res.Collect(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return recs, nil
}

// read runs the named query with readers' routing and returns its records.
func (s *Store) read(ctx context.Context, name string, params map[string]any) ([]*neo4j.Record, error) {
	res, err := neo4j.ExecuteQuery(ctx, s.driver, q(name), params,
		neo4j.EagerResultTransformer, s.queryConfig(neo4j.ExecuteQueryWithReadersRouting()))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return res.Records, nil
}
