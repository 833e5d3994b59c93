package testenv_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/passerelle-social/passerelle/internal/testenv"
)

// script runs one of the project's service scripts on the test instance.
func script(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(filepath.Join("..", "..", "scripts", name), args...)
	cmd.Env = append(os.Environ(), "NEO4J_INSTANCE=test", "REDIS_INSTANCE=test")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// TestServicesSurviveRestart stops and starts the test Neo4j and Redis with
// the project's scripts: a node written before and a task queued before are
// both there after.
func TestServicesSurviveRestart(t *testing.T) {
	if testenv.Neo4jURI() != "bolt://127.0.0.1:7688" || testenv.RedisAddr() != "127.0.0.1:6380" {
		t.Skip("the test services are not the ones scripts/services.sh runs; this test restarts those")
	}
	ctx := context.Background()
	testenv.MustGraph(t)
	testenv.MustRedis(t)

	driver, err := neo4j.NewDriverWithContext(testenv.Neo4jURI(), neo4j.NoAuth())
	if err != nil {
		t.Fatal(err)
	}
	defer driver.Close(ctx)
	stamp := time.Now().UTC().Format(time.RFC3339Nano)
	if _, err := neo4j.ExecuteQuery(ctx, driver, "CREATE (:RestartProbe {at: $at})",
		map[string]any{"at": stamp}, neo4j.EagerResultTransformer); err != nil {
		t.Fatal(err)
	}
	opt := asynq.RedisClientOpt{Addr: testenv.RedisAddr()}
	client := asynq.NewClient(opt)
	info, err := client.Enqueue(asynq.NewTask("test:restart", []byte(stamp)), asynq.ProcessIn(time.Hour))
	client.Close()
	if err != nil {
		t.Fatal(err)
	}

	script(t, "neo4j.sh", "stop")
	script(t, "redis.sh", "stop")
	script(t, "redis.sh", "start")
	script(t, "neo4j.sh", "start")

	res, err := neo4j.ExecuteQuery(ctx, driver, "MATCH (p:RestartProbe {at: $at}) RETURN count(p) AS n",
		map[string]any{"at": stamp}, neo4j.EagerResultTransformer)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.Records[0].Get("n"); n != int64(1) {
		t.Errorf("probe nodes after restart = %v, want 1", n)
	}
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	got, err := insp.GetTaskInfo(info.Queue, info.ID)
	if err != nil {
		t.Fatalf("queued task lost in the restart: %v", err)
	}
	if string(got.Payload) != stamp || got.State != asynq.TaskStateScheduled {
		t.Errorf("task after restart = %s %v, want scheduled with its payload", got.Payload, got.State)
	}
}
