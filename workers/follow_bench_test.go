package workers_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/engine/seal"
	"github.com/passerelle-social/passerelle/internal/testenv"
	"github.com/passerelle-social/passerelle/networks/bluesky"
	"github.com/passerelle-social/passerelle/networks/mastodon"
	"github.com/passerelle-social/passerelle/workers"
)

// timed adds up the wall time during which at least one HTTP request to
// the servers is in flight (concurrent requests count once).
type timed struct {
	next     http.RoundTripper
	ns       atomic.Int64
	mu       sync.Mutex
	inFlight int
	since    time.Time
}

func (t *timed) RoundTrip(r *http.Request) (*http.Response, error) {
	t.mu.Lock()
	if t.inFlight == 0 {
		t.since = time.Now()
	}
	t.inFlight++
	t.mu.Unlock()
	res, err := t.next.RoundTrip(r)
	t.mu.Lock()
	t.inFlight--
	if t.inFlight == 0 {
		t.ns.Add(int64(time.Since(t.since)))
	}
	t.mu.Unlock()
	return res, err
}

// timedGraph adds up the time spent writing to Neo4j.
type timedGraph struct {
	engine.FollowGraph
	ns atomic.Int64
}

func (g *timedGraph) RecordFollows(ctx context.Context, member string, n engine.Network, from string, made []engine.FollowMade, failed []engine.FollowFailed) error {
	start := time.Now()
	err := g.FollowGraph.RecordFollows(ctx, member, n, from, made, failed)
	g.ns.Add(int64(time.Since(start)))
	return err
}

// benchFollows runs the follow tasks of a member's reconnection one after
// the other, through the handler (budgets off), and reports follows/s and
// where the wall time went.
func benchFollows(b *testing.B, n engine.Network, nc func(*http.Client) engine.NetworkClient, setup func() (member string, targets int)) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		member, targets := setup()
		rt := &timed{next: http.DefaultTransport}
		store := testenv.MustStore(b)
		g := &timedGraph{FollowGraph: store}
		box, _ := seal.New(testKey)
		f := &workers.Follower{Name: n, Client: nc(&http.Client{Transport: rt, Timeout: 30 * time.Second}), Graph: g, Box: box, Log: testenv.Logger(b)}
		info, err := store.MemberInfo(ctx, member)
		if err != nil {
			b.Fatal(err)
		}
		rows, err := store.Reachable(ctx, engine.MatchQuery{Member: member, Network: n}, false)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		for k := 0; k < len(rows); k += workers.FollowBatch {
			var ts []string
			for _, r := range rows[k:min(k+workers.FollowBatch, len(rows))] {
				ts = append(ts, r.Account)
			}
			task, _ := workers.NewFollowTask(n, workers.FollowPayload{Member: member, Account: info.Accounts[n], Targets: ts})
			if err := f.Handle(ctx, task); err != nil {
				b.Fatal(err)
			}
		}
		wall := time.Since(start)
		b.StopTimer()
		if len(rows) != targets {
			b.Fatalf("%d reachable, want %d", len(rows), targets)
		}
		server, neo := time.Duration(rt.ns.Load()), time.Duration(g.ns.Load())
		b.ReportMetric(float64(targets)/wall.Seconds(), "follows/s")
		b.ReportMetric(100*server.Seconds()/wall.Seconds(), "%server")
		b.ReportMetric(100*neo.Seconds()/wall.Seconds(), "%neo4j")
		b.ReportMetric(100*(wall-server-neo).Seconds()/wall.Seconds(), "%ours")
	}
}

// BenchmarkFollowBluesky: 500 follows on the local PDS.
func BenchmarkFollowBluesky(b *testing.B) {
	benchFollows(b, engine.Bluesky, func(hc *http.Client) engine.NetworkClient {
		return bluesky.New(bluesky.Options{PLCURL: testenv.PLCURL(), HTTPClient: hc})
	}, func() (string, int) {
		w := newBlueskyWorld(b, 500)
		return "alice", len(w.targets)
	})
}

// BenchmarkFollowMastodon: 40 follows on the local GoToSocial.
func BenchmarkFollowMastodon(b *testing.B) {
	benchFollows(b, engine.Mastodon, func(hc *http.Client) engine.NetworkClient {
		return mastodon.New(mastodon.Options{HTTPClient: hc})
	}, func() (string, int) {
		const n = 40
		targets := make([]string, n)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 4)
		for i := range targets {
			wg.Add(1)
			sem <- struct{}{}
			go func() { defer wg.Done(); targets[i] = testenv.MustGTSAccount(b, fmt.Sprintf("b%d", i)).Acct; <-sem }()
		}
		wg.Wait()
		newMastodonWorld(b, "bea", targets)
		return "bea", n
	})
}
