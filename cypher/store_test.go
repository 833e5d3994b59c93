package cypher_test

import (
	"context"
	"strings"
	"testing"

	"github.com/passerelle-social/passerelle/cypher"
	"github.com/passerelle-social/passerelle/internal/testenv"
)

func TestCheckURI(t *testing.T) {
	for _, tc := range []struct {
		name, uri, wantErr string
	}{
		{"bolt", "bolt://127.0.0.1:7687", ""},
		{"routing with tls", "neo4j+s://example.databases.neo4j.io", ""},
		{"unknown scheme", "http://127.0.0.1:7474", `unknown scheme "http"`},
		{"no host", "bolt://", "no host"},
		{"not a uri", "bolt://[::1", "not a URI"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := cypher.CheckURI(tc.uri)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckURI(%q) = %v, want nil", tc.uri, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("CheckURI(%q) = %v, want error containing %q", tc.uri, err, tc.wantErr)
			}
		})
	}
}

func TestMigrateRecordsEachFileOnce(t *testing.T) {
	s := testenv.MustStore(t)
	ctx := context.Background()
	// MustStore has migrated already: a second run applies nothing.
	applied, err := s.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 0 {
		t.Fatalf("second Migrate applied %v, want nothing", applied)
	}
	done, err := s.Applied(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, err := cypher.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatal("no embedded schema files")
	}
	for _, m := range all {
		if done[m.Name] != m.Checksum {
			t.Errorf("migration %s recorded with checksum %q, want %q", m.Name, done[m.Name], m.Checksum)
		}
	}
	if err := s.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSchemaConstraintsExist(t *testing.T) {
	s := testenv.MustStore(t)
	names, err := s.ConstraintNames(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"xaccount_xid", "member_id", "bluesky_did", "mastodon_acct", "archive_id"} {
		if !names[want] {
			t.Errorf("constraint %s missing; have %v", want, names)
		}
	}
}

func TestAPOCAnswers(t *testing.T) {
	s := testenv.MustStore(t)
	v, err := s.APOCVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v, "5.26") {
		t.Fatalf("apoc.version() = %q, want 5.26.x", v)
	}
}

// TestGDSRunsAnAlgorithm proves the Graph Data Science plugin assembled from
// Maven Central loads and runs: PageRank on a small chain.
func TestGDSRunsAnAlgorithm(t *testing.T) {
	testenv.MustGraph(t)
	testenv.Query(t, `
		UNWIND range(1, 50) AS i CREATE (:GdsProbe {i: i})
		WITH count(*) AS made
		MATCH (a:GdsProbe), (b:GdsProbe) WHERE b.i = a.i + 1 CREATE (a)-[:NEXT]->(b)`, nil)
	rows := testenv.Query(t, `
		CALL gds.graph.project('gds_probe', 'GdsProbe', 'NEXT') YIELD nodeCount
		CALL gds.pageRank.stream('gds_probe') YIELD nodeId, score
		WITH count(*) AS n, max(score) AS top
		CALL gds.graph.drop('gds_probe') YIELD graphName
		RETURN n, top, gds.version() AS version`, nil)
	if rows[0]["n"] != int64(50) || rows[0]["top"].(float64) <= 0.15 || !strings.HasPrefix(rows[0]["version"].(string), "2.13") {
		t.Fatalf("pageRank = %v", rows[0])
	}
}
