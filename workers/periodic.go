package workers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hibiken/asynq"
)

// TypeFollowRetry runs again the follow tasks that used up their retries
// (a network down for hours): follows are checked against the network
// before they are made, so a second run makes none twice.
const TypeFollowRetry = "follow:retry"

// FollowRetryEvery is how often archived follow tasks are run again.
const FollowRetryEvery = time.Hour

// NewFollowRetryTask returns the periodic task.
func NewFollowRetryTask() *asynq.Task {
	return asynq.NewTask(TypeFollowRetry, nil, asynq.Queue(QueueLow), asynq.MaxRetry(3),
		asynq.Unique(FollowRetryEvery-time.Minute), asynq.Timeout(10*time.Minute))
}

// HandleFollowRetry returns the follow:retry handler: every archived
// follow task of the default queue goes back to pending. Other archived
// tasks (a bad archive, a malformed payload) stay for people to look at.
func HandleFollowRetry(insp *asynq.Inspector) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		var ids []string
		for page := 1; ; page++ {
			list, err := insp.ListArchivedTasks(QueueDefault, asynq.Page(page), asynq.PageSize(500))
			if err != nil {
				return fmt.Errorf("%s: %w", TypeFollowRetry, err)
			}
			for _, info := range list {
				if strings.HasPrefix(info.Type, "follow:") {
					ids = append(ids, info.ID)
				}
			}
			if len(list) < 500 {
				break
			}
		}
		for _, id := range ids {
			if err := insp.RunTask(QueueDefault, id); err != nil {
				return fmt.Errorf("%s: run %s: %w", TypeFollowRetry, id, err)
			}
		}
		if w := t.ResultWriter(); w != nil {
			fmt.Fprintf(w, `{"retried":%d}`, len(ids))
		}
		return nil
	}
}

// Job is a periodic task and how often it runs.
type Job struct {
	Every time.Duration
	Task  *asynq.Task
}

// Periodic is the work the scheduler of every worker process enqueues.
// Each task is unique per period, so several schedulers enqueue it once,
// and each handler is safe to run twice.
func Periodic() []Job {
	return []Job{
		{StatsEvery, NewStatsRefreshTask()},
		{ArrivalSweepEvery, NewArrivalSweepTask()},
		{NotifySweepEvery, NewNotifySweepTask()},
		{FollowRetryEvery, NewFollowRetryTask()},
		{TokensRefreshEvery, NewTokensRefreshTask()},
	}
}
