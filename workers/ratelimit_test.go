package workers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/internal/testenv"
	"github.com/passerelle-social/passerelle/workers"
)

// restartPDS restarts the local PDS (which empties it) with its own rate
// limits on or off.
func restartPDS(t *testing.T, limits bool) {
	t.Helper()
	cmd := exec.Command("bash", "-c", "../scripts/pds.sh stop && ../scripts/pds.sh start")
	on := "false"
	if limits {
		on = "true"
	}
	cmd.Env = append(os.Environ(), "PDS_RATE_LIMITS_ENABLED="+on, "PDS_RATE_LIMIT_BYPASS_KEY="+testenv.PDSBypassKey)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("restart the PDS: %v\n%s", err, out)
	}
}

// TestBudgetKeepsThePDSBelowItsLimits turns the PDS's own rate limits on
// (5,000 write points an hour per account) and reconnects 1,700 follows,
// 5,100 points, with the default budget (the same limits, less 10%): 1,500
// follows are made now, the other 200 wait for the next hour, and the PDS
// never answers 429.
func TestBudgetKeepsThePDSBelowItsLimits(t *testing.T) {
	if testenv.PDSURL() != "http://localhost:2583" {
		t.Skip("restarts the PDS of scripts/pds.sh; PASSERELLE_TEST_PDS_URL points elsewhere")
	}
	restartPDS(t, true)
	t.Cleanup(func() { restartPDS(t, false) })
	ctx := context.Background()
	w := newBlueskyWorld(t, 1700)
	// The limits are on: the PDS announces them on a limited route.
	body := strings.NewReader(`{"identifier":"` + w.member.Handle + `","password":"` + w.member.Password + `"}`)
	res, err := http.Post(testenv.PDSURL()+"/xrpc/com.atproto.server.createSession", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("RateLimit-Limit") == "" {
		t.Fatal("the PDS's rate limits are off: the test would prove nothing")
	}
	rdb := testenv.MustRedis(t)
	budget := workers.NewBudget(rdb, "test:budget", 0.1)
	windows := []workers.Window{{Length: time.Hour, Points: 5000}, {Length: 24 * time.Hour, Points: 35000}}
	opt := startWorker(t, func(wk *workers.Worker) {
		f := w.follower(t, asynq.RedisClientOpt{Addr: testenv.RedisAddr()}, budget, windows)
		wk.Handle(workers.TaskType(engine.Bluesky), f.Handle)
	})
	q := asynq.NewClient(opt)
	defer q.Close()
	if _, err := workers.Reconnect(ctx, w.store, q, "alice", engine.Bluesky, false); err != nil {
		t.Fatal(err)
	}
	// Wait until only scheduled (deferred) tasks are left.
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	var info *asynq.QueueInfo
	for deadline := time.Now().Add(3 * time.Minute); ; {
		var err error
		info, err = insp.GetQueueInfo(workers.QueueDefault)
		if err == nil && info.Pending+info.Active+info.Retry == 0 && info.Scheduled > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue after 3 minutes: %+v", info)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if info.Archived != 0 || info.Failed != 0 {
		t.Errorf("failed tasks: %+v", info)
	}
	s, err := w.client.LoginAppPassword(ctx, testenv.PDSURL(), w.member.Handle, w.member.Password)
	if err != nil {
		t.Fatal(err)
	}
	records, subjects, err := s.CountFollowRecords(ctx)
	if err != nil || records != 1500 || subjects != 1500 {
		t.Fatalf("%d records for %d accounts (%v), want 1,500: the budget's 4,500 points", records, subjects, err)
	}
	// The rest waits for the next hour, in tasks that have not failed.
	scheduled, err := insp.ListScheduledTasks(workers.QueueDefault)
	if err != nil {
		t.Fatal(err)
	}
	waiting := 0
	for _, task := range scheduled {
		var p workers.FollowPayload
		if err := json.Unmarshal(task.Payload, &p); err != nil {
			t.Fatal(err)
		}
		waiting += len(p.Targets)
		if d := time.Until(task.NextProcessAt); d < 0 || d > time.Hour+time.Minute {
			t.Errorf("a deferred task is due in %v", d)
		}
	}
	if waiting != 200 {
		t.Errorf("%d follows wait for the next hour, want 200", waiting)
	}
}
