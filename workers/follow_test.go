package workers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/passerelle-social/passerelle/cypher"
	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/engine/seal"
	"github.com/passerelle-social/passerelle/fixtures"
	"github.com/passerelle-social/passerelle/internal/testenv"
	"github.com/passerelle-social/passerelle/networks/bluesky"
	"github.com/passerelle-social/passerelle/networks/mastodon"
	"github.com/passerelle-social/passerelle/workers"
)

// testKey seals the test members' credentials; the crash test gives it to
// the worker process too.
var testKey = bytes.Repeat([]byte{1}, 32)

// blueskyWorld: a member whose X archive follows n accounts that a dataset
// links to n fresh accounts of the local PDS (verified), and who connected
// their own PDS account with an app password. Everything is real: Neo4j,
// Redis, the PDS and its PLC directory.
type blueskyWorld struct {
	store   *cypher.Store
	box     *seal.Box
	client  *bluesky.Client
	member  testenv.PDSAccount
	targets []string
}

func newBlueskyWorld(t testing.TB, n int) *blueskyWorld {
	t.Helper()
	ctx := context.Background()
	w := &blueskyWorld{store: testenv.MustGraph(t), client: bluesky.New(bluesky.Options{PLCURL: testenv.PLCURL()})}
	w.box, _ = seal.New(testKey)
	// n PDS accounts, created a few at a time.
	w.targets = make([]string, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range w.targets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			w.targets[i] = testenv.MustPDSAccount(t, fmt.Sprintf("t%d", i)).DID
			<-sem
		}()
	}
	wg.Wait()
	dir := filepath.Join(t.TempDir(), "alice")
	fixtures.WriteArchive(dir, fixtures.ArchiveOptions{Variant: "loose", Account: 0})
	ids := make([]string, n)
	rows := make([]engine.DatasetRow, n)
	for i := range ids {
		ids[i] = fixtures.XID(i + 1)
		rows[i] = engine.DatasetRow{XID: ids[i], Network: engine.Bluesky, Account: w.targets[i], Trust: engine.TrustVerified}
	}
	fixtures.WriteFile(filepath.Join(dir, "following.js"), fixtures.DataFile("following", ids...))
	if _, err := (&engine.Importer{Graph: w.store}).Import(ctx, "alice", []string{dir}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := w.store.ImportDataset(ctx, "dataset:pds.csv", "v1", rows, false); err != nil {
		t.Fatal(err)
	}
	w.member = testenv.MustPDSAccount(t, "alice")
	if _, err := engine.Connect(ctx, w.client, w.store, w.box, "alice", engine.Bluesky,
		engine.Credentials{Host: testenv.PDSURL(), Identifier: w.member.Handle, Password: w.member.Password}, "test"); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *blueskyWorld) follower(t testing.TB, opt asynq.RedisClientOpt, budget *workers.Budget, windows []workers.Window) *workers.Follower {
	client := asynq.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	return &workers.Follower{Name: engine.Bluesky, Client: w.client, Graph: w.store, Box: w.box,
		Budget: budget, Windows: windows, Enqueuer: client, Log: testenv.Logger(t)}
}

// pdsFollows lists the member's follow records on the PDS itself.
func (w *blueskyWorld) pdsFollows(t *testing.T) map[string]string {
	t.Helper()
	s, err := w.client.LoginAppPassword(context.Background(), testenv.PDSURL(), w.member.Handle, w.member.Password)
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.Follows(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// waitQueues waits until no task is pending, scheduled, active or retrying.
func waitQueues(t *testing.T, opt asynq.RedisClientOpt, within time.Duration) {
	t.Helper()
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	deadline := time.Now().Add(within)
	for {
		busy := 0
		for _, q := range []string{workers.QueueCritical, workers.QueueDefault, workers.QueueLow} {
			if info, err := insp.GetQueueInfo(q); err == nil {
				busy += info.Pending + info.Active + info.Scheduled + info.Retry
			}
		}
		if busy == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d tasks still queued after %v", busy, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestReconnect500OnThePDS(t *testing.T) {
	ctx := context.Background()
	w := newBlueskyWorld(t, 500)
	var f *workers.Follower
	opt := startWorker(t, func(wk *workers.Worker) {
		f = w.follower(t, asynq.RedisClientOpt{Addr: testenv.RedisAddr()}, nil, nil)
		wk.Handle(workers.TaskType(engine.Bluesky), f.Handle)
	})
	q := asynq.NewClient(opt)
	defer q.Close()

	plan, err := workers.Reconnect(ctx, w.store, q, "alice", engine.Bluesky, false)
	if err != nil {
		t.Fatal(err)
	}
	if np := plan.Networks["bluesky"]; np == nil || np.Targets != 500 || len(np.Tasks) != 5 {
		t.Fatalf("plan = %+v", plan.Networks["bluesky"])
	}
	waitQueues(t, opt, 3*time.Minute)
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	if p := workers.ReconnectProgress(insp, plan); p.Tasks != 5 || p.Done != 5 || p.Waiting != 0 {
		t.Errorf("progress = %+v", p)
	}

	follows := w.pdsFollows(t)
	if len(follows) != 500 {
		t.Fatalf("the PDS holds %d follow records, want 500", len(follows))
	}
	for _, d := range w.targets {
		if _, ok := follows[d]; !ok {
			t.Fatalf("%s not followed on the PDS", d)
		}
	}
	// The graph knows them all, with their record URIs, and nothing is left
	// to reconnect.
	rows := testenv.Query(t, "MATCH (:BlueskyAccount {did: $did})-[f:FOLLOWS_ON {by_app: true}]->() WHERE f.uri STARTS WITH 'at://' RETURN count(f) AS n",
		map[string]any{"did": w.member.DID})
	if rows[0]["n"] != int64(500) {
		t.Errorf("FOLLOWS_ON in the graph: %v", rows[0]["n"])
	}
	again, err := workers.Reconnect(ctx, w.store, q, "alice", engine.Bluesky, false)
	if err != nil || again.Networks["bluesky"].Targets != 0 {
		t.Fatalf("second reconnect: %+v, %v", again.Networks["bluesky"], err)
	}
	// Even run again by force, a follow task makes no second record.
	task, _ := workers.NewFollowTask(engine.Bluesky, workers.FollowPayload{Member: "alice", Account: w.member.DID, Targets: w.targets[:100]},
		asynq.TaskID("forced-rerun"))
	if _, err := q.Enqueue(task); err != nil {
		t.Fatal(err)
	}
	waitQueues(t, opt, time.Minute)
	if n := len(w.pdsFollows(t)); n != 500 {
		t.Errorf("after a forced rerun the PDS holds %d follow records, want 500", n)
	}
}

func TestOneBadTargetNeverFailsTheBatch(t *testing.T) {
	ctx := context.Background()
	w := newBlueskyWorld(t, 6)
	opt := startWorker(t, func(wk *workers.Worker) {
		f := w.follower(t, asynq.RedisClientOpt{Addr: testenv.RedisAddr()}, nil, nil)
		wk.Handle(workers.TaskType(engine.Bluesky), f.Handle)
	})
	q := asynq.NewClient(opt)
	defer q.Close()
	// A dataset also links an X account the member follows to a DID that
	// resolves to nothing.
	const unknown = "did:plc:zzzzzzzzzzzzzzzzzzzzzzzz"
	targets := append([]string{"did:plc:notreal", unknown}, w.targets...)
	task, _ := workers.NewFollowTask(engine.Bluesky, workers.FollowPayload{Member: "alice", Account: w.member.DID, Targets: targets})
	info, err := q.Enqueue(task)
	if err != nil {
		t.Fatal(err)
	}
	_ = ctx
	done := waitState(t, opt, info.Queue, info.ID, asynq.TaskStateCompleted)
	var out workers.FollowOutcome
	if err := json.Unmarshal(done.Result, &out); err != nil {
		t.Fatal(err)
	}
	if out.Made != 6 || len(out.Failed) != 2 {
		t.Fatalf("outcome = %s", done.Result)
	}
	for _, f := range out.Failed {
		if f.Reason == "" || (f.Target != unknown && f.Target != "did:plc:notreal") {
			t.Errorf("failure %+v", f)
		}
	}
	follows := w.pdsFollows(t)
	if len(follows) != 6 {
		t.Fatalf("the PDS holds %d follows, want the 6 good ones", len(follows))
	}
	if _, ok := follows[unknown]; ok {
		t.Error("a junk record was written for the unknown DID")
	}
}

// TestBudgetPacesFollows sets a small budget, 30 points per 4-second window
// (10 follows), and follows 30 accounts: three windows, however the tasks
// fall on the workers.
func TestBudgetPacesFollows(t *testing.T) {
	ctx := context.Background()
	w := newBlueskyWorld(t, 30)
	rdb := testenv.MustRedis(t)
	budget := workers.NewBudget(rdb, "test:budget", 0)
	windows := []workers.Window{{Length: 4 * time.Second, Points: 30}}
	opt := startWorker(t, func(wk *workers.Worker) {
		f := w.follower(t, asynq.RedisClientOpt{Addr: testenv.RedisAddr()}, budget, windows)
		wk.Handle(workers.TaskType(engine.Bluesky), f.Handle)
	})
	q := asynq.NewClient(opt)
	defer q.Close()
	// Start at the beginning of a window so that the count is exact.
	time.Sleep(time.Until(time.Now().Truncate(4 * time.Second).Add(4 * time.Second)))
	start := time.Now()
	if _, err := workers.Reconnect(ctx, w.store, q, "alice", engine.Bluesky, false); err != nil {
		t.Fatal(err)
	}
	// Sample the number of records each second.
	perWindow := map[int64]int{}
	prev := 0
	deadline := time.Now().Add(40 * time.Second)
	for prev < 30 && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		n := len(w.pdsFollows(t))
		perWindow[time.Now().Truncate(4*time.Second).Unix()] += n - prev
		prev = n
	}
	elapsed := time.Since(start)
	if prev != 30 {
		t.Fatalf("%d of 30 follows after %v", prev, elapsed)
	}
	for win, n := range perWindow {
		if n > 10+1 { // one follow may land just after its window's edge
			t.Errorf("window %d saw %d follows, budget is 10", win, n)
		}
	}
	if elapsed < 8*time.Second || elapsed > 30*time.Second {
		t.Errorf("30 follows at 10 per 4 s took %v, want about 8 to 12 s", elapsed)
	}
	t.Logf("30 follows in %v (budget: 10 per 4 s)", elapsed.Round(100*time.Millisecond))
}

// mastodonWorld: a member whose X archive follows accounts that a dataset
// links to the given accts, and who connected their own GoToSocial account
// with an OAuth token.
type mastodonWorld struct {
	store  *cypher.Store
	box    *seal.Box
	client *mastodon.Client
	me     testenv.GTSAccount
}

func newMastodonWorld(t testing.TB, member string, accts []string) *mastodonWorld {
	t.Helper()
	ctx := context.Background()
	w := &mastodonWorld{store: testenv.MustGraph(t), client: mastodon.New(mastodon.Options{})}
	w.box, _ = seal.New(testKey)
	dir := filepath.Join(t.TempDir(), member)
	fixtures.WriteArchive(dir, fixtures.ArchiveOptions{Variant: "loose", Account: 0})
	ids := make([]string, len(accts))
	rows := make([]engine.DatasetRow, len(accts))
	for i := range ids {
		ids[i] = fixtures.XID(i + 1)
		rows[i] = engine.DatasetRow{XID: ids[i], Network: engine.Mastodon, Account: accts[i], Trust: engine.TrustVerified}
	}
	fixtures.WriteFile(filepath.Join(dir, "following.js"), fixtures.DataFile("following", ids...))
	if _, err := (&engine.Importer{Graph: w.store}).Import(ctx, member, []string{dir}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := w.store.ImportDataset(ctx, "dataset:gts.csv", "v1", rows, false); err != nil {
		t.Fatal(err)
	}
	w.me = testenv.MustGTSAccount(t, member)
	if _, err := engine.Connect(ctx, w.client, w.store, w.box, member, engine.Mastodon,
		engine.Credentials{Host: testenv.GoToSocialURL(), Token: w.me.Token}, "test"); err != nil {
		t.Fatal(err)
	}
	return w
}

// startFollower runs a worker whose follow:mastodon handler acts for w.
func (w *mastodonWorld) startFollower(t testing.TB) asynq.RedisClientOpt {
	t.Helper()
	testenv.MustRedis(t)
	opt := asynq.RedisClientOpt{Addr: testenv.RedisAddr()}
	q := asynq.NewClient(opt)
	t.Cleanup(func() { q.Close() })
	f := &workers.Follower{Name: engine.Mastodon, Client: w.client, Graph: w.store, Box: w.box, Enqueuer: q, Log: testenv.Logger(t)}
	wk := workers.NewWorker(workers.Options{Redis: opt, Concurrency: 2, Logger: testenv.Logger(t),
		Registry: prometheus.NewRegistry(), ShutdownTimeout: 5 * time.Second})
	wk.Handle(workers.TaskType(engine.Mastodon), f.Handle)
	if err := wk.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(wk.Shutdown)
	return opt
}

// follows lists the member's follows on the instance itself.
func (w *mastodonWorld) follows(t testing.TB) map[string]string {
	t.Helper()
	s, err := w.client.OpenToken(context.Background(), testenv.GoToSocialURL(), w.me.Token)
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.Follows(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestReconnectOnGoToSocial: eight targets on the instance and one that
// never existed there.
func TestReconnectOnGoToSocial(t *testing.T) {
	ctx := context.Background()
	const n = 8
	targets := make([]string, n)
	var wg sync.WaitGroup
	for i := range targets {
		wg.Add(1)
		go func() { defer wg.Done(); targets[i] = testenv.MustGTSAccount(t, fmt.Sprintf("m%d", i)).Acct }()
	}
	wg.Wait()
	ghost := "ghost_1@" + testenv.GoToSocialDomain() // never existed
	w := newMastodonWorld(t, "bea", append(targets, ghost))
	opt := w.startFollower(t)
	q := asynq.NewClient(opt)
	defer q.Close()
	plan, err := workers.Reconnect(ctx, w.store, q, "bea", engine.Mastodon, false)
	if err != nil || plan.Networks["mastodon"].Targets != n+1 {
		t.Fatalf("plan: %+v, %v", plan, err)
	}
	waitQueues(t, opt, time.Minute)
	follows := w.follows(t)
	if len(follows) != n {
		t.Fatalf("GoToSocial says bea follows %d accounts, want %d", len(follows), n)
	}
	for _, acct := range targets {
		if _, ok := follows[acct]; !ok {
			t.Errorf("%s not followed", acct)
		}
	}
	// The account that never existed is recorded as failed for bea only.
	failed := testenv.Query(t, "MATCH (:Member {id: 'bea'})-[x:FOLLOW_FAILED]->(a) RETURN a.acct AS acct, x.reason AS reason", nil)
	if len(failed) != 1 || failed[0]["acct"] != ghost || failed[0]["reason"] == "" {
		t.Errorf("failures recorded: %v", failed)
	}
	// Nothing is left to reconnect: the ghost failed for good.
	if again, _ := workers.Reconnect(ctx, w.store, q, "bea", engine.Mastodon, false); again.Networks["mastodon"].Targets != 0 {
		t.Errorf("second reconnect: %+v", again.Networks["mastodon"])
	}
}

// TestRedisRestartMidRun restarts the test Redis (append-only on) while a
// paced run is in progress: every follow still happens, once.
func TestRedisRestartMidRun(t *testing.T) {
	if testenv.RedisAddr() != "127.0.0.1:6380" {
		t.Skip("restarts the Redis of scripts/redis.sh (test instance); PASSERELLE_TEST_REDIS_ADDR points elsewhere")
	}
	ctx := context.Background()
	w := newBlueskyWorld(t, 200)
	rdb := testenv.MustRedis(t)
	budget := workers.NewBudget(rdb, "test:budget", 0)
	// 60 follows per 2 s: the 200 take some 7 s, long enough to restart Redis
	// in the middle.
	windows := []workers.Window{{Length: 2 * time.Second, Points: 180}}
	opt := startWorker(t, func(wk *workers.Worker) {
		f := w.follower(t, asynq.RedisClientOpt{Addr: testenv.RedisAddr()}, budget, windows)
		wk.Handle(workers.TaskType(engine.Bluesky), f.Handle)
	})
	q := asynq.NewClient(opt)
	defer q.Close()
	if _, err := workers.Reconnect(ctx, w.store, q, "alice", engine.Bluesky, false); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); len(w.pdsFollows(t)) < 40; {
		if time.Now().After(deadline) {
			t.Fatal("the run did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
	restart := exec.Command("bash", "-c", "../scripts/redis.sh stop && ../scripts/redis.sh start")
	restart.Env = append(os.Environ(), "REDIS_INSTANCE=test")
	if out, err := restart.CombinedOutput(); err != nil {
		t.Fatalf("restart redis: %v\n%s", err, out)
	}
	made := len(w.pdsFollows(t))
	if made >= 200 {
		t.Fatalf("the run was over before the restart: the test proves nothing")
	}
	t.Logf("Redis restarted after %d follows", made)
	waitQueues(t, opt, 2*time.Minute)
	s, err := w.client.LoginAppPassword(ctx, testenv.PDSURL(), w.member.Handle, w.member.Password)
	if err != nil {
		t.Fatal(err)
	}
	records, subjects, err := s.CountFollowRecords(ctx)
	if err != nil || records != 200 || subjects != 200 {
		t.Fatalf("after the restart: %d records for %d accounts (%v), want 200 and 200", records, subjects, err)
	}
}
