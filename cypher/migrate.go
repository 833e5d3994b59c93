package cypher

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

//go:embed schema/*.cypher
var schemaFS embed.FS

// Migration is one numbered schema file.
type Migration struct {
	Name       string // file name without extension, e.g. "0001_constraints"
	Checksum   string // sha256 of the file, to catch edits after it was applied
	Statements []string
}

// Migrations returns the embedded schema files in order.
func Migrations() ([]Migration, error) {
	names, err := fs.Glob(schemaFS, "schema/*.cypher")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]Migration, 0, len(names))
	for _, n := range names {
		b, err := schemaFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		out = append(out, Migration{
			Name:       strings.TrimSuffix(path.Base(n), ".cypher"),
			Checksum:   hex.EncodeToString(sum[:]),
			Statements: statements(string(b)),
		})
	}
	return out, nil
}

// Applied returns the migrations recorded in the graph, by name, with their
// checksums.
func (s *Store) Applied(ctx context.Context) (map[string]string, error) {
	res, err := neo4j.ExecuteQuery(ctx, s.driver,
		"MATCH (m:SchemaMigration) RETURN m.name AS name, m.checksum AS checksum", nil,
		neo4j.EagerResultTransformer, s.queryConfig(neo4j.ExecuteQueryWithReadersRouting()))
	if err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	out := make(map[string]string, len(res.Records))
	for _, r := range res.Records {
		name, _ := r.Get("name")
		sum, _ := r.Get("checksum")
		n, _ := name.(string)
		c, _ := sum.(string)
		out[n] = c
	}
	return out, nil
}

// Migrate applies the schema files not yet recorded in the graph, in order,
// and records each one as a (:SchemaMigration {name}) node. It returns the
// names it applied: none on a second run. Every statement is written with IF
// NOT EXISTS, so two processes migrating at once both succeed. A file edited
// after it was applied is an error: schema changes go in a new file.
func (s *Store) Migrate(ctx context.Context) ([]string, error) {
	all, err := Migrations()
	if err != nil {
		return nil, err
	}
	done, err := s.Applied(ctx)
	if err != nil {
		return nil, err
	}
	var applied []string
	for _, m := range all {
		if sum, ok := done[m.Name]; ok {
			if sum != m.Checksum {
				return applied, fmt.Errorf("schema file %s.cypher changed after it was applied: put the change in a new numbered file", m.Name)
			}
			continue
		}
		for _, st := range m.Statements {
			// Schema statements can't share a transaction with data writes:
			// each runs on its own.
			if _, err := neo4j.ExecuteQuery(ctx, s.driver, st, nil,
				neo4j.EagerResultTransformer, s.queryConfig()); err != nil {
				return applied, fmt.Errorf("schema %s: %w", m.Name, err)
			}
		}
		_, err := neo4j.ExecuteQuery(ctx, s.driver,
			"MERGE (m:SchemaMigration {name: $name}) ON CREATE SET m.checksum = $checksum, m.applied_at = $at",
			map[string]any{"name": m.Name, "checksum": m.Checksum, "at": time.Now().UTC()},
			neo4j.EagerResultTransformer, s.queryConfig())
		if err != nil {
			return applied, fmt.Errorf("record schema %s: %w", m.Name, err)
		}
		s.log.Info("schema applied", "migration", m.Name, "statements", len(m.Statements))
		applied = append(applied, m.Name)
	}
	return applied, nil
}

// CheckSchema reports an error naming the first schema file that is not yet
// applied: a process that needs the schema refuses to work without it.
func (s *Store) CheckSchema(ctx context.Context) error {
	all, err := Migrations()
	if err != nil {
		return err
	}
	done, err := s.Applied(ctx)
	if err != nil {
		return err
	}
	for _, m := range all {
		if _, ok := done[m.Name]; !ok {
			return fmt.Errorf("schema %s is not applied: run `passerelle migrate`", m.Name)
		}
	}
	return nil
}
