package cypher_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/fixtures"
	"github.com/passerelle-social/passerelle/internal/testenv"
)

// BenchmarkImportMillionEdges loads one archive with 500k followings and
// 500k followers (1M FOLLOWS edges) into an empty graph, then imports it
// again (the idempotent path). Reported: edges/s of the first load and the
// seconds of the repeat.
func BenchmarkImportMillionEdges(b *testing.B) {
	path := filepath.Join(b.TempDir(), "twitter.zip")
	if _, err := fixtures.WriteArchive(path, fixtures.ArchiveOptions{
		Seed: 42, Account: 1, Following: 500_000, Followers: 500_000, Universe: 5_000_000,
	}); err != nil {
		b.Fatal(err)
	}
	warm := filepath.Join(b.TempDir(), "warm.zip")
	if _, err := fixtures.WriteArchive(warm, fixtures.ArchiveOptions{Seed: 1, Account: 2, Following: 20_000, Followers: 20_000}); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	// A first, smaller import warms the server's JIT and query caches, as a
	// running service has them.
	if _, err := (&engine.Importer{Graph: testenv.MustGraph(b)}).Import(ctx, "warm", []string{warm}, nil); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := testenv.MustGraph(b)
		im := &engine.Importer{Graph: s}
		start := time.Now()
		res, err := im.Import(ctx, "bench", []string{path}, nil)
		if err != nil {
			b.Fatal(err)
		}
		load := time.Since(start)
		start = time.Now()
		again, err := im.Import(ctx, "bench", []string{path}, nil)
		if err != nil || !again.Unchanged {
			b.Fatalf("repeat: %+v, %v", again, err)
		}
		edges := res.Counts["following"] + res.Counts["follower"]
		b.ReportMetric(float64(edges)/load.Seconds(), "edges/s")
		b.ReportMetric(load.Seconds(), "load-s")
		b.ReportMetric(time.Since(start).Seconds(), "repeat-s")
	}
}
