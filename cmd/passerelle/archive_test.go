package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/passerelle-social/passerelle/fixtures"
	"github.com/passerelle-social/passerelle/internal/testenv"
)

func TestArchiveInspectEveryVariant(t *testing.T) {
	for _, variant := range fixtures.Variants() {
		t.Run(variant, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "twitter.zip")
			info, err := fixtures.WriteArchive(out, fixtures.ArchiveOptions{Seed: 1, Account: 6, Following: 40, Followers: 30,
				Blocks: 2, Mutes: 1, Duplicates: 3, Variant: variant})
			if err != nil {
				t.Fatal(err)
			}
			paths := []string{info.Path}
			if variant == "loose" {
				paths, _ = filepath.Glob(filepath.Join(info.Path, "*.js"))
			}
			stdout, err := runCmd(t, nil, append([]string{"archive", "inspect", "--json"}, paths...)...)
			if err != nil {
				t.Fatal(err)
			}
			var r struct {
				Account *struct {
					ID, Username string
				} `json:"account"`
				Counts     map[string]int `json:"counts"`
				Duplicates map[string]int `json:"duplicates"`
				Warnings   []string       `json:"warnings"`
			}
			if err := json.Unmarshal([]byte(stdout), &r); err != nil {
				t.Fatalf("%v: %s", err, stdout)
			}
			if r.Account == nil || r.Account.ID != info.AccountID || r.Counts["following"] != 40 || r.Counts["follower"] != 30 ||
				r.Counts["block"] != 2 || r.Duplicates["following"] != 3 || r.Warnings == nil {
				t.Errorf("inspect = %s", stdout)
			}
			if strings.Contains(stdout, info.Email) {
				t.Error("the e-mail address is in the output")
			}
		})
	}
}

func TestArchiveInspectBadInputsExit2WithOneLine(t *testing.T) {
	dir := t.TempDir()
	notZip := filepath.Join(dir, "notes.txt")
	os.WriteFile(notZip, []byte("hello"), 0o600)
	noEquals := filepath.Join(dir, "following.js")
	os.WriteFile(noEquals, []byte(`{"following": []}`), 0o600)
	cut := filepath.Join(dir, "cut", "follower.js")
	os.MkdirAll(filepath.Dir(cut), 0o700)
	os.WriteFile(cut, []byte(`window.YTD.follower.part0 = [ {"follower": {"accountId": "12`), 0o600)
	grail := filepath.Join(dir, "grail.zip")
	if _, err := fixtures.WriteArchive(grail, fixtures.ArchiveOptions{Variant: "grailbird"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, want string }{
		{"not an archive", notZip, "notes.txt"},
		{"no = [", noEquals, "following.js"},
		{"cut json", cut, "at byte"},
		{"grailbird", grail, "no follow"},
		{"missing file", filepath.Join(dir, "nope.zip"), "nope.zip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runCmd(t, nil, "archive", "inspect", tc.path)
			var u usageError
			if !errors.As(err, &u) {
				t.Fatalf("err = %v, want an input error (exit status 2)", err)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Fatalf("error = %q, want one line containing %q", msg, tc.want)
			}
		})
	}
}

func TestImportCommandJSON(t *testing.T) {
	testenv.MustGraph(t)
	out := filepath.Join(t.TempDir(), "twitter.zip")
	info, err := fixtures.WriteArchive(out, fixtures.ArchiveOptions{Seed: 2, Account: 8, Following: 25, Followers: 15})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PASSERELLE_SECRET_KEY": goodKey, "PASSERELLE_NEO4J_URI": testenv.Neo4jURI()}
	stdout, err := runCmd(t, env, "import", "--member", "lena", "--json", out)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Member, XID, Archive string
		Counts               map[string]int
		Seconds              *float64
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if r.Member != "lena" || r.XID != info.AccountID || !strings.HasPrefix(r.Archive, "arc_") || r.Counts["following"] != 25 || r.Seconds == nil {
		t.Errorf("import --json = %s", stdout)
	}
	// Without --member, a new member id is made.
	stdout, err = runCmd(t, env, "import", "--json", out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, `"member":"m_`) {
		t.Errorf("import without --member = %s", stdout)
	}
}
