package cypher_test

import (
	"context"
	"os"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/passerelle-social/passerelle/cypher"
	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/fixtures"
)

// benchWorld connects to the bench Neo4j, which `make bench-world` fills
// with the world of `passerelle fixtures world` (default options: 100k
// members, 1M X accounts, over 10M FOLLOWS edges), and regenerates the same
// world in memory for the oracle.
func benchWorld(b *testing.B) (*cypher.Store, *fixtures.World) {
	b.Helper()
	uri := os.Getenv("PASSERELLE_BENCH_NEO4J_URI")
	if uri == "" {
		b.Skip("no bench world: run `make bench` (it runs make bench-world first)")
	}
	ctx := context.Background()
	s, err := cypher.Open(ctx, cypher.Options{URI: uri})
	if err != nil {
		b.Fatalf("bench Neo4j at %s: %v (make bench-world starts it)", uri, err)
	}
	b.Cleanup(func() { s.Close(ctx) })
	return s, fixtures.NewWorld(fixtures.WorldOptions{Seed: 1})
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// BenchmarkWorldReachableFollowings times the reachable followings of the
// 1,000 members who follow about 2,000 accounts each, checks every answer
// against the in-memory join, and times that join on the same members.
func BenchmarkWorldReachableFollowings(b *testing.B) {
	s, w := benchWorld(b)
	ctx := context.Background()
	var members []int
	for m := 0; len(members) < w.Opt.Heavy; m += 3 {
		members = append(members, m)
	}
	// One pass to warm the page cache and the query plan cache.
	for _, m := range members[:100] {
		if _, err := s.Reachable(ctx, engine.MatchQuery{Member: fixtures.MemberID(m)}, false); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var ours, oracle []time.Duration
		rows := 0
		for _, m := range members {
			start := time.Now()
			got, err := s.Reachable(ctx, engine.MatchQuery{Member: fixtures.MemberID(m)}, false)
			ours = append(ours, time.Since(start))
			if err != nil {
				b.Fatal(err)
			}
			start = time.Now()
			want := w.Reachable(m)
			oracle = append(oracle, time.Since(start))
			var text []string
			for _, r := range got {
				text = append(text, r.XID+" "+r.Network+" "+r.Account+" "+r.Trust)
			}
			slices.Sort(text)
			slices.Sort(want)
			if !slices.Equal(text, want) {
				b.Fatalf("member %d: %d rows from Neo4j, %d from the oracle", m, len(text), len(want))
			}
			rows += len(got)
		}
		b.ReportMetric(float64(percentile(ours, 0.5).Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(percentile(ours, 0.99).Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(percentile(oracle, 0.5).Microseconds())/1000, "oracle-p50-ms")
		b.ReportMetric(float64(percentile(ours, 0.5))/float64(max(percentile(oracle, 0.5), 1)), "ratio-p50")
		b.ReportMetric(float64(rows)/float64(len(members)), "rows/member")
	}
}

// BenchmarkWorldArrivalsOfTheHub streams the arrivals of the account that
// every member follows: 99,999 members.
func BenchmarkWorldArrivalsOfTheHub(b *testing.B) {
	s, w := benchWorld(b)
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		n, auto := 0, 0
		err := s.Arrivals(ctx, engine.Bluesky, fixtures.DID(fixtures.Hub), func(a engine.Arrival) error {
			n++
			if a.AutoFollow() {
				auto++
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if n != w.Opt.Members-1 {
			b.Fatalf("%d arrivals, want %d", n, w.Opt.Members-1)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s")
		b.ReportMetric(float64(auto), "auto-follows")
	}
}

// BenchmarkWorldStats times the global statistics as a request reads them,
// and the background refresh of the slow count.
func BenchmarkWorldStats(b *testing.B) {
	s, w := benchWorld(b)
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := s.RefreshStats(ctx); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "refresh-s")
		start = time.Now()
		st, err := s.Stats(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if st.Members != int64(w.Opt.Members) || st.Follows != int64(w.Edges()) {
			b.Fatalf("stats = %+v", st)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s")
		b.ReportMetric(float64(st.Recreatable), "recreatable")
	}
}
