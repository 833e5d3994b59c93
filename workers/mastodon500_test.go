package workers_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/engine/seal"
	"github.com/passerelle-social/passerelle/fixtures"
	"github.com/passerelle-social/passerelle/internal/testenv"
	"github.com/passerelle-social/passerelle/networks/mastodon"
	"github.com/passerelle-social/passerelle/workers"
)

// TestReconnect500OnGoToSocial: 500 reachable targets on the instance, all
// followed, GoToSocial's own following list shows exactly them, and a
// second reconnection makes none.
func TestReconnect500OnGoToSocial(t *testing.T) {
	ctx := context.Background()
	store := testenv.MustGraph(t)
	box, _ := seal.New(bytes.Repeat([]byte{4}, 32))
	targets := testenv.GTSPool(t, 500)
	dir := filepath.Join(t.TempDir(), "cleo")
	fixtures.WriteArchive(dir, fixtures.ArchiveOptions{Variant: "loose", Account: 0})
	ids := make([]string, len(targets))
	rows := make([]engine.DatasetRow, len(targets))
	for i := range ids {
		ids[i] = fixtures.XID(i + 1)
		rows[i] = engine.DatasetRow{XID: ids[i], Network: engine.Mastodon, Account: targets[i], Trust: engine.TrustVerified}
	}
	fixtures.WriteFile(filepath.Join(dir, "following.js"), fixtures.DataFile("following", ids...))
	if _, err := (&engine.Importer{Graph: store}).Import(ctx, "cleo", []string{dir}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := store.ImportDataset(ctx, "dataset:pool.csv", "v1", rows, false); err != nil {
		t.Fatal(err)
	}
	me := testenv.MustGTSAccount(t, "cleo")
	client := mastodon.New(mastodon.Options{})
	if _, err := engine.Connect(ctx, client, store, box, "cleo", engine.Mastodon,
		engine.Credentials{Host: testenv.GoToSocialURL(), Token: me.Token}, "test"); err != nil {
		t.Fatal(err)
	}
	opt := startWorker(t, func(wk *workers.Worker) {
		q := asynq.NewClient(asynq.RedisClientOpt{Addr: testenv.RedisAddr()})
		t.Cleanup(func() { q.Close() })
		f := &workers.Follower{Name: engine.Mastodon, Client: client, Graph: store, Box: box, Enqueuer: q, Log: testenv.Logger(t)}
		wk.Handle(workers.TaskType(engine.Mastodon), f.Handle)
	})
	q := asynq.NewClient(opt)
	defer q.Close()
	plan, err := workers.Reconnect(ctx, store, q, "cleo", engine.Mastodon, false)
	if err != nil || plan.Networks["mastodon"].Targets != 500 {
		t.Fatalf("plan: %+v, %v", plan, err)
	}
	waitQueues(t, opt, 3*time.Minute)
	s, err := client.OpenToken(ctx, testenv.GoToSocialURL(), me.Token)
	if err != nil {
		t.Fatal(err)
	}
	follows, err := s.Follows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(follows) != 500 {
		t.Fatalf("GoToSocial says cleo follows %d accounts, want 500", len(follows))
	}
	for _, acct := range targets {
		if _, ok := follows[acct]; !ok {
			t.Fatalf("%s not followed", acct)
		}
	}
	again, err := workers.Reconnect(ctx, store, q, "cleo", engine.Mastodon, false)
	if err != nil || again.Networks["mastodon"].Targets != 0 {
		t.Fatalf("second reconnect: %+v, %v", again.Networks["mastodon"], err)
	}
}
