package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/passerelle-social/passerelle/internal/testenv"
	"github.com/passerelle-social/passerelle/server"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = "127.0.0.1:1234"
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

func TestProbesOnRealServices(t *testing.T) {
	store := testenv.MustStore(t)
	rdb := testenv.MustRedis(t)
	srv, _ := server.New(server.Options{
		Addr:     "127.0.0.1:0",
		Logger:   testenv.Logger(t),
		Registry: prometheus.NewRegistry(),
		Checks: map[string]server.Check{
			"neo4j": store.Ping,
			"redis": func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		},
	})
	h := srv.Handler()

	if code, _ := get(t, h, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d, want 200", code)
	}
	code, body := get(t, h, "/readyz")
	if code != http.StatusOK {
		t.Fatalf("/readyz = %d %s, want 200", code, body)
	}
	var ready struct {
		Ready  bool              `json:"ready"`
		Checks map[string]string `json:"checks"`
	}
	if err := json.Unmarshal([]byte(body), &ready); err != nil {
		t.Fatal(err)
	}
	if !ready.Ready || ready.Checks["neo4j"] != "ok" || ready.Checks["redis"] != "ok" {
		t.Errorf("/readyz body = %s", body)
	}
	code, body = get(t, h, "/metrics")
	if code != http.StatusOK || !strings.Contains(body, `passerelle_http_requests_total{method="GET",route="/readyz",status="200"} 1`) {
		t.Errorf("/metrics = %d, missing the /readyz request count:\n%s", code, body)
	}
}

func TestReadyzFailsWhenADependencyIsDown(t *testing.T) {
	srv, _ := server.New(server.Options{
		Logger:   testenv.Logger(t),
		Registry: prometheus.NewRegistry(),
		Checks: map[string]server.Check{
			"redis": func(ctx context.Context) error { return errors.New("connection refused: secret detail") },
		},
	})
	code, body := get(t, srv.Handler(), "/readyz")
	if code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz = %d, want 503", code)
	}
	if !strings.Contains(body, `"redis":"unavailable"`) || strings.Contains(body, "secret detail") {
		t.Errorf("/readyz body = %s: want the check named, without internal detail", body)
	}
	if code, _ := get(t, srv.Handler(), "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d while a dependency is down, want 200", code)
	}
}
