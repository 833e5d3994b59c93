package workers_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/passerelle-social/passerelle/cypher"
	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/fixtures"
	"github.com/passerelle-social/passerelle/internal/testenv"
	"github.com/passerelle-social/passerelle/workers"
)

// fanoutTasks returns n follow tasks of one arrival, one per member, as a
// fan-out makes them.
func fanoutTasks(b *testing.B, n int) []*asynq.Task {
	tasks := make([]*asynq.Task, n)
	for i := range tasks {
		t, err := workers.NewFollowTask(engine.Bluesky, workers.FollowPayload{Member: fmt.Sprintf("m%06d", i),
			Account: fixtures.DID(i + 1), Targets: []string{fixtures.DID(0)}})
		if err != nil {
			b.Fatal(err)
		}
		tasks[i] = t
	}
	return tasks
}

// BenchmarkEnqueue100kFollowTasks: 100k follow tasks into the test Redis,
// through the fan-out's pipeline and, as the baseline, one at a time; the
// ratio is the pipeline's gain on the same tasks in the same run.
func BenchmarkEnqueue100kFollowTasks(b *testing.B) {
	const n = 100_000
	tasks := fanoutTasks(b, n)
	opt := asynq.RedisClientOpt{Addr: testenv.RedisAddr()}
	q := asynq.NewClient(opt)
	defer q.Close()
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		testenv.MustRedis(b)
		start := time.Now()
		p := workers.NewPipeline(ctx, q, 0)
		for _, t := range tasks {
			if err := p.Add(t); err != nil {
				b.Fatal(err)
			}
		}
		done, _, err := p.Close()
		if err != nil || done != n {
			b.Fatalf("enqueued %d of %d: %v", done, n, err)
		}
		ours := time.Since(start)

		testenv.MustRedis(b)
		start = time.Now()
		for _, t := range tasks {
			if _, err := q.EnqueueContext(ctx, t); err != nil {
				b.Fatal(err)
			}
		}
		base := time.Since(start)
		b.ReportMetric(ours.Seconds(), "s")
		b.ReportMetric(n/ours.Seconds(), "tasks/s")
		b.ReportMetric(base.Seconds(), "sequential-s")
		b.ReportMetric(base.Seconds()/ours.Seconds(), "speedup")
	}
	testenv.MustRedis(b)
}

// BenchmarkFanoutOfTheHub fans out the arrival on Bluesky of the bench
// world's hub, followed on X by its 99,999 other members: the arrivals
// stream from the bench Neo4j, their follow tasks go to Redis, the
// announcements of consenting members to the graph (removed afterwards,
// so each run does the same work).
func BenchmarkFanoutOfTheHub(b *testing.B) {
	uri := os.Getenv("PASSERELLE_BENCH_NEO4J_URI")
	if uri == "" {
		b.Skip("no bench world: run `make bench` (it runs make bench-world first)")
	}
	ctx := context.Background()
	s, err := cypher.Open(ctx, cypher.Options{URI: uri})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close(ctx)
	if _, err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	opt := asynq.RedisClientOpt{Addr: testenv.RedisAddr()}
	q := asynq.NewClient(opt)
	defer q.Close()
	fan := &workers.Fanout{Graph: s, Enqueuer: q, Log: testenv.Logger(b)}
	for i := 0; i < b.N; i++ {
		testenv.MustRedis(b)
		start := time.Now()
		res, err := fan.Run(ctx, engine.Bluesky, fixtures.DID(fixtures.Hub))
		if err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		if err := s.ForgetAnnouncements(ctx, engine.Bluesky, fixtures.DID(fixtures.Hub)); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(elapsed.Seconds(), "s")
		b.ReportMetric(float64(res.Members), "members")
		b.ReportMetric(float64(res.Follows), "follow-tasks")
		b.ReportMetric(float64(res.Announced), "announced")
		b.ReportMetric(float64(res.Members)/elapsed.Seconds(), "members/s")
	}
	testenv.MustRedis(b)
}
