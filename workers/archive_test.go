package workers_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/fixtures"
	"github.com/passerelle-social/passerelle/internal/testenv"
	"github.com/passerelle-social/passerelle/workers"
)

func TestArchiveImportTaskThroughRedis(t *testing.T) {
	store := testenv.MustGraph(t)
	uploads := &workers.Uploads{Dir: t.TempDir()}
	opt := startWorker(t, func(w *workers.Worker) {
		im := &engine.Importer{Graph: store, BatchSize: 50}
		w.Handle(workers.TypeArchiveImport, workers.HandleArchiveImport(im, uploads, false, nil, testenv.Logger(t)))
	})
	src := filepath.Join(t.TempDir(), "twitter.zip")
	info, err := fixtures.WriteArchive(src, fixtures.ArchiveOptions{Seed: 1, Account: 3, Following: 220, Followers: 130})
	if err != nil {
		t.Fatal(err)
	}
	name, err := uploads.Store(src)
	if err != nil {
		t.Fatal(err)
	}
	task, err := workers.NewArchiveImportTask(workers.ArchiveImportPayload{Member: "jules", Upload: name})
	if err != nil {
		t.Fatal(err)
	}
	client := asynq.NewClient(opt)
	defer client.Close()
	queued, err := client.EnqueueContext(context.Background(), task)
	if err != nil {
		t.Fatal(err)
	}
	// The same task again is refused by its id: a double enqueue is harmless.
	if _, err := client.EnqueueContext(context.Background(), task); !errors.Is(err, asynq.ErrTaskIDConflict) {
		t.Errorf("second enqueue: %v, want ErrTaskIDConflict", err)
	}
	done := waitState(t, opt, queued.Queue, queued.ID, asynq.TaskStateCompleted)
	var status workers.ImportStatus
	if err := json.Unmarshal(done.Result, &status); err != nil {
		t.Fatalf("result %q: %v", done.Result, err)
	}
	if status.Result == nil || status.Result.XID != info.AccountID || status.Result.Counts["following"] != 220 || status.Progress.Phase != "done" {
		t.Errorf("status = %s", done.Result)
	}
	rows := testenv.Query(t, "MATCH (:Member {id: 'jules'})-[:CLAIMS]->(x)-[f:FOLLOWS]->() RETURN count(f) AS n", nil)
	if rows[0]["n"] != int64(220) {
		t.Errorf("follows in the graph: %v", rows)
	}
	if _, err := os.Stat(filepath.Join(uploads.Dir, name)); !os.IsNotExist(err) {
		t.Errorf("upload still there after a successful import: %v", err)
	}
}

func TestArchiveImportTaskRefusesABadArchiveForGood(t *testing.T) {
	store := testenv.MustGraph(t)
	uploads := &workers.Uploads{Dir: t.TempDir()}
	opt := startWorker(t, func(w *workers.Worker) {
		w.Handle(workers.TypeArchiveImport, workers.HandleArchiveImport(&engine.Importer{Graph: store}, uploads, false, nil, testenv.Logger(t)))
	})
	src := filepath.Join(t.TempDir(), "noaccount.zip")
	if _, err := fixtures.WriteArchive(src, fixtures.ArchiveOptions{Seed: 1, Following: 10, Variant: "noaccount"}); err != nil {
		t.Fatal(err)
	}
	name, err := uploads.Store(src)
	if err != nil {
		t.Fatal(err)
	}
	task, _ := workers.NewArchiveImportTask(workers.ArchiveImportPayload{Member: "kim", Upload: name})
	client := asynq.NewClient(opt)
	defer client.Close()
	queued, err := client.Enqueue(task)
	if err != nil {
		t.Fatal(err)
	}
	// SkipRetry sends it straight to the archived set, with no retry.
	info := waitState(t, opt, queued.Queue, queued.ID, asynq.TaskStateArchived)
	if info.Retried != 0 {
		t.Errorf("retried %d times, want none", info.Retried)
	}
	var status workers.ImportStatus
	_ = json.Unmarshal(info.Result, &status)
	if status.Error == "" {
		t.Errorf("no error for the owner in the result: %s", info.Result)
	}
}

func TestUploadNamesCannotEscapeTheFolder(t *testing.T) {
	u := &workers.Uploads{Dir: t.TempDir()}
	for _, name := range []string{"../etc/passwd", "up_0123456789abcdef01234567.zip/../../x", "/etc/passwd", "", "up_x.zip"} {
		if _, err := u.Path(name); engine.ErrorCode(err) != engine.EINVALID {
			t.Errorf("Path(%q) = %v, want EINVALID", name, err)
		}
	}
}
