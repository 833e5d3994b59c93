package workers

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/passerelle-social/passerelle/engine"
)

// TypeSchemaCheck checks that every schema file is applied to the graph. It
// runs at worker start and proves the round trip through Redis.
const TypeSchemaCheck = "schema:check"

// NewSchemaCheckTask returns a schema check task. Completed checks are kept
// for an hour so that operators (and tests) can read their outcome.
func NewSchemaCheckTask() *asynq.Task {
	return asynq.NewTask(TypeSchemaCheck, nil, asynq.Queue(QueueLow), asynq.MaxRetry(3),
		asynq.Retention(time.Hour))
}

// HandleSchemaCheck returns a handler that fails while the schema is not
// applied, naming the missing file.
func HandleSchemaCheck(g engine.Graph) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		if err := g.CheckSchema(ctx); err != nil {
			return fmt.Errorf("schema check: %w", err)
		}
		if w := t.ResultWriter(); w != nil {
			if _, err := w.Write([]byte(`{"schema":"ok"}`)); err != nil {
				return fmt.Errorf("schema check: write result: %w", err)
			}
		}
		return nil
	}
}
