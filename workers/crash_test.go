package workers_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/internal/testenv"
	"github.com/passerelle-social/passerelle/workers"
)

// startWorkProcess runs the real `passerelle work` binary against the test
// services, with the test's secret key, until stop or kill.
func startWorkProcess(t *testing.T, bin string, key []byte) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "work")
	cmd.Env = append(os.Environ(),
		"PASSERELLE_NEO4J_URI="+testenv.Neo4jURI(), "PASSERELLE_REDIS_ADDR="+testenv.RedisAddr(),
		"PASSERELLE_SECRET_KEY="+base64.StdEncoding.EncodeToString(key), "PASSERELLE_PLC_URL="+testenv.PLCURL(),
		"PASSERELLE_METRICS_ADDR=127.0.0.1:0", "PASSERELLE_HTTP_ADDR=127.0.0.1:0", "PASSERELLE_CONCURRENCY=4",
		// 2,000 follows are 6,000 points: more than a PDS allows in an hour.
		"PASSERELLE_BLUESKY_BUDGET=100000/700000")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			t.Logf("worker log:\n%s", logs.String())
		}
	})
	return cmd
}

// TestKillNineMidRun kills the worker process with SIGKILL in the middle of
// a 2,000-follow run, starts a new one, and checks the PDS itself: every
// follow made once, none missing.
func TestKillNineMidRun(t *testing.T) {
	ctx := context.Background()
	bin := filepath.Join(t.TempDir(), "passerelle")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/passerelle").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	w := newBlueskyWorld(t, 2000)
	testenv.MustRedis(t)
	opt := asynq.RedisClientOpt{Addr: testenv.RedisAddr()}
	q := asynq.NewClient(opt)
	defer q.Close()

	first := startWorkProcess(t, bin, testKey)
	plan, err := workers.Reconnect(ctx, w.store, q, "alice", engine.Bluesky, false)
	if err != nil || plan.Networks["bluesky"].Targets != 2000 {
		t.Fatalf("plan: %+v, %v", plan, err)
	}
	// Let it get going, then kill it without warning.
	for deadline := time.Now().Add(2 * time.Minute); ; {
		if n := len(w.pdsFollows(t)); n >= 300 {
			t.Logf("%d follows made when the worker was killed", n)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker made fewer than 300 follows in 2 minutes")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	if n := len(w.pdsFollows(t)); n >= 2000 {
		t.Fatalf("the run was over before the kill (%d follows): the test proves nothing", n)
	}
	// A new worker recovers the dead one's tasks once their lease expires.
	startWorkProcess(t, bin, testKey)
	waitQueues(t, opt, 4*time.Minute)

	s, err := w.client.LoginAppPassword(ctx, testenv.PDSURL(), w.member.Handle, w.member.Password)
	if err != nil {
		t.Fatal(err)
	}
	records, subjects, err := s.CountFollowRecords(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if records != 2000 || subjects != 2000 {
		t.Fatalf("the PDS holds %d follow records for %d accounts, want 2,000 of each: no duplicate, none missing", records, subjects)
	}
	for _, d := range w.targets {
		if _, ok := w.pdsFollows(t)[d]; !ok {
			t.Fatalf("%s was never followed", d)
		}
		break
	}
}
