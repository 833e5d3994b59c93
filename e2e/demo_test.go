package e2e_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/passerelle-social/passerelle/e2e"
	"github.com/passerelle-social/passerelle/internal/testenv"
	"github.com/passerelle-social/passerelle/networks/bluesky"
)

// TestBrowserWalksTheDemo seeds the demo of `make up` (scripts/demo.sh,
// here on the test services and with 8 members instead of 24), reads the
// instructions it prints, and walks them in the browser exactly: sign in
// with the printed handle (atproto OAuth: the password goes to the local
// PDS's own page), upload the printed archive,
// reconnect all; then the demo members' accounts on the PDS are followed.
func TestBrowserWalksTheDemo(t *testing.T) {
	e2e.RequireBrowser(t)
	testenv.MustGraph(t)
	testenv.MustRedis(t)
	root, err := e2e.Root()
	if err != nil {
		t.Fatal(err)
	}
	demoDir := t.TempDir()
	cmd := exec.Command(filepath.Join(root, "scripts", "demo.sh"), "seed")
	cmd.Env = append(os.Environ(), "PASSERELLE_BIN="+e2e.Binary(t), "DEMO_DIR="+demoDir, "DEMO_MEMBERS=8",
		"PASSERELLE_NEO4J_URI="+testenv.Neo4jURI(), "PASSERELLE_REDIS_ADDR="+testenv.RedisAddr(),
		"PDS_URL="+testenv.PDSURL(), "GTS_URL="+testenv.GoToSocialURL())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/demo.sh seed: %v\n%s\n%s", err, out, stderr.String())
	}
	t.Logf("demo instructions:\n%s", out)
	who := regexp.MustCompile(`sign in with Bluesky as (\S+), password (\S+)`).FindStringSubmatch(string(out))
	srv := regexp.MustCompile(`server (\S+)\)`).FindStringSubmatch(string(out))
	var m []string
	if who != nil && srv != nil {
		m = []string{"", srv[1], who[1], who[2]}
	}
	a := regexp.MustCompile(`Upload this archive .*: (\S+\.zip)`).FindStringSubmatch(string(out))
	if m == nil || a == nil {
		t.Fatalf("the demo printed no sign-in or archive:\n%s", out)
	}
	url := e2e.StartStack(t, "PASSERELLE_BLUESKY_HOSTS="+m[1], "PASSERELLE_PLC_URL="+testenv.PLCURL())
	e2e.RunScenario(t, url, "web.mjs", "PDS_URL="+m[1], "PDS_HANDLE="+m[2], "PDS_PASSWORD="+m[3], "ARCHIVE="+a[1], "TARGETS=8", "OAUTH=1")

	ctx := context.Background()
	s, err := bluesky.New(bluesky.Options{PLCURL: testenv.PLCURL()}).LoginAppPassword(ctx, m[1], m[2], m[3])
	if err != nil {
		t.Fatal(err)
	}
	follows, err := s.Follows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := os.ReadFile(filepath.Join(demoDir, "accounts.csv"))
	if err != nil {
		t.Fatal(err)
	}
	demo := 0
	for _, line := range strings.Split(strings.TrimSpace(string(accounts)), "\n") {
		if f := strings.Split(line, ","); len(f) == 4 {
			if _, ok := follows[f[1]]; ok {
				demo++
			}
		}
	}
	if demo < 8 {
		t.Errorf("the visitor follows %d demo members on the PDS, want 8 (%d follow records)", demo, len(follows))
	}
}
