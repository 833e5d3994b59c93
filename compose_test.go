package passerelle_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// TestComposeFile parses compose.yaml with the Compose specification's own
// loader (no Docker engine runs here) and checks the stack it describes.
func TestComposeFile(t *testing.T) {
	t.Setenv("PASSERELLE_SECRET_KEY", "test-key")
	opts, err := cli.NewProjectOptions([]string{"compose.yaml"},
		cli.WithWorkingDirectory("."), cli.WithOsEnv, cli.WithName("passerelle"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("compose.yaml does not load: %v", err)
	}

	want := map[string]struct {
		image   string
		port    string // published on 127.0.0.1, "" for none
		health  bool
		volumes []string
	}{
		"neo4j": {"neo4j:5.26-community", "7687", true, []string{"neo4j-data"}},
		"redis": {"redis:7", "6379", true, []string{"redis-data"}},
		"serve": {"", "8080", true, []string{"uploads"}},
		"work":  {"", "", false, []string{"uploads"}},
	}
	if len(p.Services) != len(want) {
		t.Errorf("services = %v, want %d", p.ServiceNames(), len(want))
	}
	for name, w := range want {
		s, ok := p.Services[name]
		if !ok {
			t.Errorf("service %s missing", name)
			continue
		}
		if w.image != "" && s.Image != w.image {
			t.Errorf("%s: image %q, want %q", name, s.Image, w.image)
		}
		if w.image == "" && (s.Build == nil || s.Build.Dockerfile != "Dockerfile") {
			t.Errorf("%s: want a build from the Dockerfile, got %+v", name, s.Build)
		}
		if w.port != "" && !publishes(s, w.port) {
			t.Errorf("%s: does not publish 127.0.0.1:%s: %+v", name, w.port, s.Ports)
		}
		if w.health && (s.HealthCheck == nil || len(s.HealthCheck.Test) == 0) {
			t.Errorf("%s: no health check", name)
		}
		for _, v := range w.volumes {
			if !slices.ContainsFunc(s.Volumes, func(m types.ServiceVolumeConfig) bool { return m.Source == v }) {
				t.Errorf("%s: volume %s not mounted", name, v)
			}
			if _, ok := p.Volumes[v]; !ok {
				t.Errorf("named volume %s not declared", v)
			}
		}
	}
	if cmd := p.Services["redis"].Command; !slices.Contains(cmd, "--appendonly") {
		t.Errorf("redis runs %v: want append-only persistence", cmd)
	}
	for _, name := range []string{"serve", "work"} {
		s := p.Services[name]
		for _, dep := range []string{"neo4j", "redis"} {
			if d, ok := s.DependsOn[dep]; !ok || d.Condition != types.ServiceConditionHealthy {
				t.Errorf("%s: must wait for %s to be healthy", name, dep)
			}
		}
		for _, key := range []string{"PASSERELLE_NEO4J_URI", "PASSERELLE_REDIS_ADDR", "PASSERELLE_SECRET_KEY"} {
			if v := s.Environment[key]; v == nil || *v == "" {
				t.Errorf("%s: %s not set", name, key)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(".", "Dockerfile")); err != nil {
		t.Errorf("Dockerfile: %v", err)
	}
}

func publishes(s types.ServiceConfig, port string) bool {
	for _, p := range s.Ports {
		if p.Published == port && p.HostIP == "127.0.0.1" {
			return true
		}
	}
	return false
}
