// Package workers holds Passerelle's background work on asynq: task types
// and payloads, their handlers, and the worker that runs them with logging,
// metrics and panic recovery around every handler.
package workers

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// Queues and their weights: interactive work (an upload a person is
// watching) goes before background work.
const (
	QueueCritical = "critical"
	QueueDefault  = "default"
	QueueLow      = "low"
)

// Options configure a Worker.
type Options struct {
	Redis       asynq.RedisConnOpt
	Concurrency int
	Logger      *slog.Logger
	Registry    *prometheus.Registry
	// ShutdownTimeout is how long Shutdown waits for running tasks before
	// they are pushed back to the queue, to be run again (handlers are
	// idempotent).
	ShutdownTimeout time.Duration
}

// Worker runs tasks from Redis through a mux of handlers.
type Worker struct {
	srv *asynq.Server
	mux *asynq.ServeMux
	log *slog.Logger

	processed *prometheus.CounterVec
	duration  *prometheus.HistogramVec
}

// NewWorker builds the asynq server and its mux; Handle adds task handlers.
func NewWorker(opt Options) *Worker {
	log := opt.Logger.With("component", "worker")
	w := &Worker{
		log: log,
		mux: asynq.NewServeMux(),
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passerelle_tasks_total",
			Help: "Tasks handled, by type and outcome.",
		}, []string{"type", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "passerelle_task_seconds",
			Help:    "Task handling time, by type.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 16),
		}, []string{"type"}),
	}
	opt.Registry.MustRegister(w.processed, w.duration)
	// observe wraps recover, so that a panic is counted and timed as an error.
	w.mux.Use(w.observe, w.recover)
	w.srv = asynq.NewServer(opt.Redis, asynq.Config{
		Concurrency:     opt.Concurrency,
		Queues:          map[string]int{QueueCritical: 6, QueueDefault: 3, QueueLow: 1},
		ShutdownTimeout: opt.ShutdownTimeout,
		Logger:          asynqLogger{log},
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			id, _ := asynq.GetTaskID(ctx)
			retried, _ := asynq.GetRetryCount(ctx)
			log.Warn("task failed", "type", t.Type(), "task_id", id, "retried", retried, "err", err)
		}),
	})
	return w
}

// Handle registers the handler of one task type.
func (w *Worker) Handle(taskType string, h asynq.HandlerFunc) { w.mux.HandleFunc(taskType, h) }

// Start begins processing in the background.
func (w *Worker) Start() error { return w.srv.Start(w.mux) }

// Shutdown stops taking tasks and waits up to ShutdownTimeout for running
// ones; those still running are returned to their queue.
func (w *Worker) Shutdown() { w.srv.Shutdown() }

func (w *Worker) observe(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		start := time.Now()
		id, _ := asynq.GetTaskID(ctx)
		err := next.ProcessTask(ctx, t)
		elapsed := time.Since(start)
		w.duration.WithLabelValues(t.Type()).Observe(elapsed.Seconds())
		outcome := "ok"
		if err != nil {
			outcome = "error"
		}
		w.processed.WithLabelValues(t.Type(), outcome).Inc()
		w.log.Info("task", "type", t.Type(), "task_id", id, "outcome", outcome, "ms", elapsed.Milliseconds())
		return err
	})
}

// recover turns a handler's panic into a task error, logged with its stack,
// so one bad task never takes the worker down.
func (w *Worker) recover(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) (err error) {
		defer func() {
			if r := recover(); r != nil {
				w.log.Error("panic in task", "type", t.Type(), "panic", r, "stack", string(debug.Stack()))
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next.ProcessTask(ctx, t)
	})
}

// Logger adapts a slog logger to asynq's logger interface.
func Logger(log *slog.Logger) asynq.Logger { return asynqLogger{log} }

// asynqLogger routes asynq's own log lines through slog.
type asynqLogger struct{ log *slog.Logger }

func (l asynqLogger) Debug(args ...any) { l.log.Debug(fmt.Sprint(args...)) }
func (l asynqLogger) Info(args ...any)  { l.log.Info(fmt.Sprint(args...)) }
func (l asynqLogger) Warn(args ...any)  { l.log.Warn(fmt.Sprint(args...)) }
func (l asynqLogger) Error(args ...any) { l.log.Error(fmt.Sprint(args...)) }
func (l asynqLogger) Fatal(args ...any) { l.log.Error(fmt.Sprint(args...)) }
