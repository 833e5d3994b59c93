package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/passerelle-social/passerelle/fixtures"
	"github.com/passerelle-social/passerelle/internal/testenv"
)

const didBob = "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb"

func TestMatchesAndAdminCommands(t *testing.T) {
	testenv.MustGraph(t)
	env := map[string]string{"PASSERELLE_SECRET_KEY": goodKey, "PASSERELLE_NEO4J_URI": testenv.Neo4jURI()}
	dir := t.TempDir()
	alice := filepath.Join(dir, "alice")
	fixtures.WriteArchive(alice, fixtures.ArchiveOptions{Variant: "loose", Account: 1})
	fixtures.WriteFile(filepath.Join(alice, "following.js"), fixtures.DataFile("following", fixtures.XID(2), fixtures.XID(3)))
	bob := filepath.Join(dir, "bob")
	fixtures.WriteArchive(bob, fixtures.ArchiveOptions{Variant: "loose", Account: 2})
	mustRun := func(args ...string) string {
		t.Helper()
		out, err := runCmd(t, env, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out
	}
	mustRun("import", "--member", "alice", alice)
	mustRun("import", "--member", "bob", bob)
	mustRun("members", "link", "--member", "alice", "--network", "mastodon", "--account", "@Alice@GTS.test")
	mustRun("members", "link", "--member", "alice", "--network", "bluesky", "--account", "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa")
	mustRun("members", "link", "--member", "bob", "--network", "bluesky", "--account", didBob, "--handle", "bob.test")

	// A dataset: one bad row refuses the file, with its line number.
	csv := filepath.Join(dir, "links.csv")
	os.WriteFile(csv, []byte("xid,network,account,trust\n"+fixtures.XID(3)+",mastodon,carol@elsewhere.test,verified\n42,bluesky,did:plc:nope,verified\n"), 0o600)
	if _, err := runCmd(t, env, "links", "import", csv); err == nil || !strings.Contains(err.Error(), "1 bad rows; nothing imported") {
		t.Fatalf("bad dataset: %v", err)
	}
	os.WriteFile(csv, []byte("xid,network,account,trust\n"+fixtures.XID(3)+",mastodon,carol@elsewhere.test,verified\n"), 0o600)
	mustRun("links", "import", csv)

	var m struct {
		Member     string                    `json:"member"`
		Followings []map[string]any          `json:"followings"`
		Followers  []map[string]any          `json:"followers"`
		Totals     map[string]map[string]int `json:"totals"`
	}
	if err := json.Unmarshal([]byte(mustRun("matches", "--member", "alice", "--json")), &m); err != nil {
		t.Fatal(err)
	}
	if m.Member != "alice" || len(m.Followings) != 2 || m.Totals["followings"]["bluesky/claimed"] != 1 || m.Totals["followings"]["mastodon/verified"] != 1 {
		t.Fatalf("matches = %+v", m)
	}
	for _, key := range []string{"xid", "network", "account", "handle", "trust", "source", "followed"} {
		if _, ok := m.Followings[0][key]; !ok {
			t.Errorf("row has no %q: %v", key, m.Followings[0])
		}
	}
	if err := json.Unmarshal([]byte(mustRun("matches", "--member", "alice", "--json", "--trust", "verified", "--network", "mastodon")), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Followings) != 1 || m.Followings[0]["account"] != "carol@elsewhere.test" {
		t.Fatalf("verified mastodon only: %+v", m.Followings)
	}
	// Paging: one row shown, totals still count both.
	if err := json.Unmarshal([]byte(mustRun("matches", "--member", "alice", "--json", "--limit", "1", "--offset", "1")), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Followings) != 1 || m.Totals["followings"]["bluesky/claimed"]+m.Totals["followings"]["mastodon/verified"] != 2 {
		t.Fatalf("second page: %+v", m)
	}
	// A forged archive for bob's X account shows up for admins.
	mallory := filepath.Join(dir, "mallory")
	fixtures.WriteArchive(mallory, fixtures.ArchiveOptions{Variant: "loose", Account: 2})
	mustRun("import", "--member", "mallory", mallory)
	var conflicts []map[string]any
	if err := json.Unmarshal([]byte(mustRun("admin", "conflicts", "--json")), &conflicts); err != nil || len(conflicts) != 1 || conflicts[0]["xid"] != fixtures.XID(2) {
		t.Fatalf("conflicts = %v, %v", conflicts, err)
	}
	var st map[string]any
	if err := json.Unmarshal([]byte(mustRun("stats", "--json", "--refresh")), &st); err != nil || st["members"] != float64(3) || st["recreatable"] != float64(2) {
		t.Fatalf("stats = %v, %v", st, err)
	}
	if _, err := runCmd(t, env, "members", "link", "--member", "alice", "--network", "bluesky", "--account", "not-a-did"); err == nil || !strings.Contains(err.Error(), "is not a DID") {
		t.Errorf("bad DID: %v", err)
	}
}
