package workers_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/passerelle-social/passerelle/internal/testenv"
	"github.com/passerelle-social/passerelle/workers"
)

// startWorker runs a Worker on the test Redis until the test ends.
func startWorker(t *testing.T, register func(w *workers.Worker)) asynq.RedisClientOpt {
	t.Helper()
	opt, _ := startWorkerWithMetrics(t, register)
	return opt
}

func startWorkerWithMetrics(t *testing.T, register func(w *workers.Worker)) (asynq.RedisClientOpt, *prometheus.Registry) {
	t.Helper()
	testenv.MustRedis(t) // empties the queue database
	opt := asynq.RedisClientOpt{Addr: testenv.RedisAddr()}
	reg := prometheus.NewRegistry()
	w := workers.NewWorker(workers.Options{
		Redis: opt, Concurrency: 2, Logger: testenv.Logger(t),
		Registry: reg, ShutdownTimeout: 5 * time.Second,
	})
	register(w)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Shutdown)
	return opt, reg
}

// waitState polls the task until it reaches state, or fails after 20 s.
func waitState(t *testing.T, opt asynq.RedisClientOpt, queue, id string, state asynq.TaskState) *asynq.TaskInfo {
	t.Helper()
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		info, err := insp.GetTaskInfo(queue, id)
		if err == nil && info.State == state {
			return info
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s not %v after 20s: %+v, %v", id, state, info, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSchemaCheckRoundTripThroughRedis(t *testing.T) {
	store := testenv.MustStore(t)
	opt := startWorker(t, func(w *workers.Worker) {
		w.Handle(workers.TypeSchemaCheck, workers.HandleSchemaCheck(store))
	})
	client := asynq.NewClient(opt)
	defer client.Close()
	info, err := client.EnqueueContext(context.Background(), workers.NewSchemaCheckTask())
	if err != nil {
		t.Fatal(err)
	}
	done := waitState(t, opt, info.Queue, info.ID, asynq.TaskStateCompleted)
	if string(done.Result) != `{"schema":"ok"}` {
		t.Errorf("result = %q", done.Result)
	}
}

func TestPanickingHandlerFailsItsTaskNotTheWorker(t *testing.T) {
	opt, reg := startWorkerWithMetrics(t, func(w *workers.Worker) {
		w.Handle("test:panic", func(ctx context.Context, t *asynq.Task) error { panic("boom") })
		w.Handle("test:ok", func(ctx context.Context, t *asynq.Task) error { return nil })
	})
	client := asynq.NewClient(opt)
	defer client.Close()
	bad, err := client.Enqueue(asynq.NewTask("test:panic", nil), asynq.MaxRetry(0), asynq.Retention(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	info := waitState(t, opt, bad.Queue, bad.ID, asynq.TaskStateArchived)
	if info.LastErr != "panic: boom" {
		t.Errorf("last error = %q, want the panic", info.LastErr)
	}
	good, err := client.Enqueue(asynq.NewTask("test:ok", nil), asynq.Retention(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, opt, good.Queue, good.ID, asynq.TaskStateCompleted)
	// The metrics middleware counted both outcomes.
	counts := map[string]float64{}
	families, _ := reg.Gather()
	for _, f := range families {
		if f.GetName() != "passerelle_tasks_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			key := ""
			for _, l := range m.GetLabel() {
				key += l.GetValue() + " "
			}
			counts[strings.TrimSpace(key)] = m.GetCounter().GetValue()
		}
	}
	if counts["error test:panic"] != 1 || counts["ok test:ok"] != 1 {
		t.Errorf("passerelle_tasks_total = %v", counts)
	}
}

func TestStatsRefreshTask(t *testing.T) {
	store := testenv.MustGraph(t)
	opt := startWorker(t, func(w *workers.Worker) {
		w.Handle(workers.TypeStatsRefresh, workers.HandleStatsRefresh(store))
	})
	client := asynq.NewClient(opt)
	defer client.Close()
	info, err := client.Enqueue(workers.NewStatsRefreshTask(), asynq.Retention(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// A second schedule in the same period is refused as a duplicate.
	if _, err := client.Enqueue(workers.NewStatsRefreshTask()); !errors.Is(err, asynq.ErrDuplicateTask) {
		t.Errorf("second enqueue: %v, want ErrDuplicateTask", err)
	}
	waitState(t, opt, info.Queue, info.ID, asynq.TaskStateCompleted)
	st, err := store.Stats(context.Background())
	if err != nil || st.RecreatableAt == "" {
		t.Fatalf("stats after the refresh: %+v, %v", st, err)
	}
}
