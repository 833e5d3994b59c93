package workers_test

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/internal/testenv"
	"github.com/passerelle-social/passerelle/workers"
)

// TestReconnect500OnGoToSocial: 500 reachable targets on the instance, all
// followed, GoToSocial's own following list shows exactly them, and a
// second reconnection makes none.
func TestReconnect500OnGoToSocial(t *testing.T) {
	ctx := context.Background()
	targets := testenv.GTSPool(t, 500)
	w := newMastodonWorld(t, "cleo", targets)
	opt := w.startFollower(t)
	q := asynq.NewClient(opt)
	defer q.Close()
	plan, err := workers.Reconnect(ctx, w.store, q, "cleo", engine.Mastodon, false)
	if err != nil || plan.Networks["mastodon"].Targets != 500 {
		t.Fatalf("plan: %+v, %v", plan, err)
	}
	waitQueues(t, opt, 3*time.Minute)
	follows := w.follows(t)
	if len(follows) != 500 {
		t.Fatalf("GoToSocial says cleo follows %d accounts, want 500", len(follows))
	}
	for _, acct := range targets {
		if _, ok := follows[acct]; !ok {
			t.Fatalf("%s not followed", acct)
		}
	}
	again, err := workers.Reconnect(ctx, w.store, q, "cleo", engine.Mastodon, false)
	if err != nil || again.Networks["mastodon"].Targets != 0 {
		t.Fatalf("second reconnect: %+v, %v", again.Networks["mastodon"], err)
	}
}
