package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/passerelle-social/passerelle/engine"
)

// TypeArchiveImport loads one uploaded archive for one member.
const TypeArchiveImport = "archive:import"

// ArchiveImportPayload names the member and the upload (a file name in the
// upload folder), never the archive's content.
type ArchiveImportPayload struct {
	Member string `json:"member"`
	Upload string `json:"upload"`
}

// NewArchiveImportTask returns the task. Its id is derived from the member
// and the upload, so enqueuing it twice is harmless; its result holds the
// import's progress, then its outcome, for a day.
func NewArchiveImportTask(p ArchiveImportPayload) (*asynq.Task, error) {
	if err := engine.CheckMemberID(p.Member); err != nil {
		return nil, err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeArchiveImport, b,
		asynq.TaskID("import:"+p.Member+":"+p.Upload),
		asynq.Queue(QueueCritical), asynq.MaxRetry(10),
		asynq.Timeout(2*time.Hour), asynq.Retention(24*time.Hour)), nil
}

// ImportStatus is the task's result, rewritten as the import goes on: what a
// web page shows while it waits.
type ImportStatus struct {
	Progress engine.Progress      `json:"progress"`
	Result   *engine.ImportResult `json:"result,omitempty"`
	Error    string               `json:"error,omitempty"` // safe to show
}

// HandleArchiveImport returns the handler. A bad archive fails for good
// (asynq.SkipRetry) with a message for its owner; anything else is retried,
// and a retry finishes the job because every step of the import is
// idempotent. The upload is deleted after a successful import unless keep is
// set, and after a permanent failure.
//
// A successful import ends by enqueuing match:member (next may be nil in
// tests that only import): the member's reconnections, followed at once
// when they turned auto-reconnect on. If that enqueue fails, the task is
// retried: the import itself is then a no-op.
func HandleArchiveImport(im *engine.Importer, uploads *Uploads, keep bool, next *asynq.Client, log *slog.Logger) asynq.HandlerFunc {
	log = log.With("component", "archive_import")
	return func(ctx context.Context, t *asynq.Task) error {
		var p ArchiveImportPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil {
			return fmt.Errorf("archive:import payload: %v: %w", err, asynq.SkipRetry)
		}
		path, err := uploads.Path(p.Upload)
		if err != nil {
			return fmt.Errorf("archive:import: %v: %w", err, asynq.SkipRetry)
		}
		status := &ImportStatus{}
		write := func() {
			if w := t.ResultWriter(); w != nil {
				b, _ := json.Marshal(status)
				if _, err := w.Write(b); err != nil {
					log.Warn("write progress", "err", err)
				}
			}
		}
		var last time.Time
		res, err := im.Import(ctx, p.Member, []string{path}, func(pr engine.Progress) {
			status.Progress = pr
			if time.Since(last) > 250*time.Millisecond || pr.Done == pr.Total {
				last = time.Now()
				write()
			}
		})
		if err != nil {
			switch engine.ErrorCode(err) {
			case engine.EINVALID, engine.ECONFLICT, engine.ETOOLARGE:
				status.Error = engine.ErrorMessage(err)
				write()
				if rmErr := uploads.Remove(p.Upload); rmErr != nil {
					log.Warn("remove upload", "upload", p.Upload, "err", rmErr)
				}
				return fmt.Errorf("archive:import: %s: %w", status.Error, asynq.SkipRetry)
			}
			return fmt.Errorf("archive:import: %w", err)
		}
		status.Result = res
		write()
		if next != nil {
			match, err := NewMatchTask(p.Member, "archive:"+res.Archive)
			if err != nil {
				return err
			}
			if _, err := next.EnqueueContext(ctx, match); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
				return fmt.Errorf("archive:import: enqueue %s: %w", TypeMatchMember, err)
			}
		}
		if !keep {
			if err := uploads.Remove(p.Upload); err != nil {
				log.Warn("remove upload", "upload", p.Upload, "err", err)
			}
		}
		log.Info("archive imported", "member", p.Member, "archive", res.Archive,
			"following", res.Counts["following"], "follower", res.Counts["follower"], "seconds", res.Seconds)
		return nil
	}
}
