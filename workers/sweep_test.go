package workers_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/passerelle-social/passerelle/cypher"
	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/fixtures"
	"github.com/passerelle-social/passerelle/i18n"
	"github.com/passerelle-social/passerelle/internal/testenv"
	"github.com/passerelle-social/passerelle/networks/bluesky"
	"github.com/passerelle-social/passerelle/workers"
)

// TestArrivalSweepFansOutDatasetLinks: links that come from a dataset
// (no member linked anything) reach the members who follow those X
// accounts through arrival:sweep, once per change, and a trust change is
// news again. No follow is made here: the fan-outs run and their follow
// tasks are read back from Redis.
func TestArrivalSweepFansOutDatasetLinks(t *testing.T) {
	ctx := context.Background()
	store := testenv.MustGraph(t)
	testenv.MustRedis(t)
	opt := asynq.RedisClientOpt{Addr: testenv.RedisAddr()}
	q := asynq.NewClient(opt)
	defer q.Close()
	insp := asynq.NewInspector(opt)
	defer insp.Close()

	// alice follows X accounts 1-3 on X and uses a Bluesky account.
	importFollowing(t, store, "alice", fixtures.XID(1), fixtures.XID(2), fixtures.XID(3))
	if err := store.LinkAccount(ctx, engine.LinkRequest{Member: "alice", Network: engine.Bluesky, Account: fixtures.DID(900), Via: "admin", Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	sweep := workers.HandleArrivalSweep(store, q, func() time.Time { return clock })
	run := func() {
		t.Helper()
		if err := sweep(ctx, asynq.NewTask(workers.TypeArrivalSweep, nil)); err != nil {
			t.Fatal(err)
		}
	}
	fanouts := func() map[string]bool {
		t.Helper()
		out := map[string]bool{}
		list, err := insp.ListPendingTasks(workers.QueueDefault, asynq.PageSize(1000))
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range list {
			if info.Type == workers.TypeArrivalFanout {
				out[info.ID] = true
			}
		}
		return out
	}
	run() // first sweep: alice's own link, made within the hour
	if got := len(fanouts()); got != 1 {
		t.Fatalf("first sweep: %d fan-outs, want 1 (alice's own account)", got)
	}
	rows := []engine.DatasetRow{
		{XID: fixtures.XID(1), Network: engine.Bluesky, Account: fixtures.DID(1), Trust: engine.TrustVerified},
		{XID: fixtures.XID(2), Network: engine.Bluesky, Account: fixtures.DID(2), Trust: engine.TrustClaimed},
	}
	if _, err := store.ImportDataset(ctx, "dataset:sweep.csv", "v1", rows, false); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Minute)
	run()
	run() // twice: nothing more
	if got := fanouts(); len(got) != 3 {
		t.Fatalf("after the dataset: %d fan-outs, want 3: %v", len(got), got)
	}
	// The same file again changes nothing; a trust change is news.
	if _, err := store.ImportDataset(ctx, "dataset:sweep.csv", "v1", rows, false); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Minute)
	run()
	if got := len(fanouts()); got != 3 {
		t.Fatalf("same dataset again: %d fan-outs, want 3", got)
	}
	rows[1].Trust = engine.TrustVerified
	if _, err := store.ImportDataset(ctx, "dataset:sweep.csv", "v2", rows, false); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Minute)
	run()
	if got := len(fanouts()); got != 4 {
		t.Fatalf("after the trust change: %d fan-outs, want 4", got)
	}
	// The fan-out of X account 1's link queues alice's follow.
	fan := &workers.Fanout{Graph: store, Enqueuer: q, Log: testenv.Logger(t)}
	res, err := fan.Run(ctx, engine.Bluesky, fixtures.DID(1))
	if err != nil || res.Follows != 1 {
		t.Fatalf("fan-out: %+v, %v: want alice's one follow task", res, err)
	}
}

// TestDigestRules walks one member's announcements through consent,
// periods, a resumed digest and a refusing recipient. The bot signs in on
// the real PDS; the chat service is a fake, because Bluesky's chat service
// has no local build.
func TestDigestRules(t *testing.T) {
	ctx := context.Background()
	store := testenv.MustGraph(t)
	testenv.MustRedis(t)
	opt := asynq.RedisClientOpt{Addr: testenv.RedisAddr()}
	q := asynq.NewClient(opt)
	defer q.Close()
	fake := testenv.ChatFake(t)
	botAccount := testenv.MustPDSAccount(t, "bot")
	chat, err := bluesky.New(bluesky.Options{PLCURL: testenv.PLCURL()}).OpenChat(ctx, testenv.PDSURL(), botAccount.Handle, botAccount.Password, fake.URL)
	if err != nil {
		t.Fatal(err)
	}
	// bob follows X accounts 1-4, which a dataset links to four DIDs; his
	// own Bluesky account receives the digests.
	importFollowing(t, store, "bob", fixtures.XID(1), fixtures.XID(2), fixtures.XID(3), fixtures.XID(4))
	bob := fixtures.DID(900)
	if err := store.LinkAccount(ctx, engine.LinkRequest{Member: "bob", Network: engine.Bluesky, Account: bob, Via: "admin", Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	var rows []engine.DatasetRow
	for i := 1; i <= 4; i++ {
		rows = append(rows, engine.DatasetRow{XID: fixtures.XID(i), Network: engine.Bluesky, Account: fixtures.DID(i), Trust: engine.TrustVerified})
	}
	if _, err := store.ImportDataset(ctx, "dataset:digest.csv", "v1", rows, false); err != nil {
		t.Fatal(err)
	}
	off, on := false, true
	if err := store.SetSettings(ctx, "bob", engine.Settings{AutoReconnect: &off, Locale: strp("fr")}); err != nil {
		t.Fatal(err)
	}
	fan := &workers.Fanout{Graph: store, Enqueuer: q, Log: testenv.Logger(t)}
	arrive := func(i, want int) {
		t.Helper()
		res, err := fan.Run(ctx, engine.Bluesky, fixtures.DID(i))
		if err != nil || res.Announced != want || res.Follows != 0 {
			t.Fatalf("fan-out of %d: %+v, %v: want %d announcement(s), no follow", i, res, err, want)
		}
	}
	now := time.Now()
	n := &workers.Notifier{Graph: store, Texts: i18n.MustLoad(), URL: "http://127.0.0.1:8080/", Enqueuer: q, Log: testenv.Logger(t),
		Now: func() time.Time { return now },
		Channels: map[engine.Network]workers.Channel{engine.Bluesky: {Permanent: bluesky.PermanentChat,
			Send: func(ctx context.Context, to, text string) error { _, err := chat.SendDirect(ctx, to, text); return err }}}}
	digest := func(id string) {
		t.Helper()
		task := asynq.NewTask(workers.TypeNotifyDigest, []byte(`{"member":"bob","digest":"`+id+`"}`))
		if err := n.Digest(ctx, task); err != nil {
			t.Fatal(err)
		}
	}
	due := func() int {
		t.Helper()
		d, err := store.DigestsDue(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		return len(d)
	}

	arrive(1, 0) // no consent: nothing to tell
	if err := store.SetSettings(ctx, "bob", engine.Settings{NotifyArrivals: &on, NotifyPeriod: strp(engine.PeriodDaily)}); err != nil {
		t.Fatal(err)
	}
	arrive(1, 1)
	arrive(1, 0) // a replay: at most once
	arrive(2, 1)
	if due() != 1 {
		t.Fatal("bob's first digest is not due")
	}
	digest("d1")
	msgs := fake.Messages(bob)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "2 personnes") {
		t.Fatalf("first digest: %q, want one message in French naming 2 arrivals", msgs)
	}
	digest("d1") // the same task again: nothing more
	if len(fake.Messages(bob)) != 1 {
		t.Fatal("a digest ran twice sent twice")
	}

	// A new arrival waits for the period: due after a day, not before.
	arrive(3, 1)
	if due() != 0 {
		t.Error("a digest is due within the period")
	}
	now = now.Add(25 * time.Hour)
	if due() != 1 {
		t.Fatal("the next digest is not due after a day")
	}
	// A crash after the announcements were taken, before the end: the
	// retry does not send them again (at most once).
	if _, err := store.ClaimDigest(ctx, "bob", "d2"); err != nil {
		t.Fatal(err)
	}
	digest("d2")
	if len(fake.Messages(bob)) != 1 || due() != 0 {
		t.Fatalf("a resumed digest sent again: %d messages", len(fake.Messages(bob)))
	}

	// Consent withdrawn: the waiting announcement goes, nothing is sent.
	now = now.Add(25 * time.Hour)
	arrive(4, 1)
	if err := store.SetSettings(ctx, "bob", engine.Settings{NotifyArrivals: &off}); err != nil {
		t.Fatal(err)
	}
	digest("d3")
	if len(fake.Messages(bob)) != 1 || due() != 0 {
		t.Fatal("a digest went to a member who withdrew consent")
	}

	// A recipient who refuses the bot's messages: dropped, not retried.
	if err := store.SetSettings(ctx, "bob", engine.Settings{NotifyArrivals: &on}); err != nil {
		t.Fatal(err)
	}
	if err := store.ForgetAnnouncements(ctx, engine.Bluesky, fixtures.DID(4)); err != nil {
		t.Fatal(err)
	}
	arrive(4, 1)
	fake.Refuse(bob)
	digest("d4")
	if len(fake.Messages(bob)) != 1 || due() != 0 {
		t.Fatal("a refused digest is still waiting or was sent")
	}
}

// TestFollowRetryRunsArchivedFollows: follow tasks that used up their
// retries go back to the queue; other archived tasks stay for people.
func TestFollowRetryRunsArchivedFollows(t *testing.T) {
	testenv.MustRedis(t)
	opt := asynq.RedisClientOpt{Addr: testenv.RedisAddr()}
	q := asynq.NewClient(opt)
	defer q.Close()
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	follow, _ := workers.NewFollowTask(engine.Bluesky, workers.FollowPayload{Member: "m", Account: fixtures.DID(1), Targets: []string{fixtures.DID(2)}})
	other := asynq.NewTask(workers.TypeArchiveImport, []byte(`{}`), asynq.TaskID("bad-import"))
	var ids []string
	for _, task := range []*asynq.Task{follow, other} {
		info, err := q.Enqueue(task)
		if err != nil {
			t.Fatal(err)
		}
		if err := insp.ArchiveTask(info.Queue, info.ID); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, info.ID)
	}
	h := workers.HandleFollowRetry(insp)
	for range 2 { // twice: the second finds nothing to do
		if err := h(context.Background(), asynq.NewTask(workers.TypeFollowRetry, nil)); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range []asynq.TaskState{asynq.TaskStatePending, asynq.TaskStateArchived} {
		info, err := insp.GetTaskInfo(workers.QueueDefault, ids[i])
		if err != nil || info.State != want {
			t.Errorf("task %s: %v, %v; want %v", ids[i], info.State, err, want)
		}
	}
}

// importFollowing imports, for member, the archive of X account 0 whose
// following.js lists xids.
func importFollowing(t *testing.T, store *cypher.Store, member string, xids ...string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), member)
	fixtures.WriteArchive(dir, fixtures.ArchiveOptions{Variant: "loose", Account: 0})
	fixtures.WriteFile(filepath.Join(dir, "following.js"), fixtures.DataFile("following", xids...))
	if _, err := (&engine.Importer{Graph: store}).Import(context.Background(), member, []string{dir}, nil); err != nil {
		t.Fatal(err)
	}
}
