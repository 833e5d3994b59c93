package workers

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// TypeStatsRefresh recomputes the slow statistics (recreatable pairs),
// which a request then reads from a snapshot.
const TypeStatsRefresh = "stats:refresh"

// StatsEvery is how often the scheduler asks for a refresh.
const StatsEvery = 15 * time.Minute

// NewStatsRefreshTask returns the task; Unique makes several schedulers (one
// per worker process) enqueue it once per period.
func NewStatsRefreshTask() *asynq.Task {
	return asynq.NewTask(TypeStatsRefresh, nil, asynq.Queue(QueueLow), asynq.MaxRetry(2),
		asynq.Unique(StatsEvery-time.Minute), asynq.Timeout(10*time.Minute))
}

// StatsRefresher is the graph operation behind the task.
type StatsRefresher interface {
	RefreshStats(ctx context.Context) (int64, error)
}

// HandleStatsRefresh returns the handler; running it twice is harmless.
func HandleStatsRefresh(g StatsRefresher) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		if _, err := g.RefreshStats(ctx); err != nil {
			return fmt.Errorf("stats:refresh: %w", err)
		}
		return nil
	}
}
