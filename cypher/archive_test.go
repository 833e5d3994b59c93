package cypher_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-social/passerelle/cypher"
	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/engine/xarchive"
	"github.com/passerelle-social/passerelle/fixtures"
	"github.com/passerelle-social/passerelle/internal/testenv"
)

// writeArchive writes a synthetic archive into the test's temp folder.
func writeArchive(t *testing.T, name string, opt fixtures.ArchiveOptions) *fixtures.ArchiveInfo {
	t.Helper()
	opt.KeepIDs = true
	out := filepath.Join(t.TempDir(), name)
	info, err := fixtures.WriteArchive(out, opt)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func importer(s *cypher.Store) *engine.Importer {
	return &engine.Importer{Graph: s, BatchSize: 100}
}

// rows runs a query and returns its rows.
func rows(t *testing.T, s *cypher.Store, query string, params map[string]any) []map[string]any {
	t.Helper()
	return testenv.Query(t, query, params)
}

// strs collects one string column, sorted.
func strs(t *testing.T, s *cypher.Store, query string, params map[string]any) []string {
	t.Helper()
	var out []string
	for _, r := range rows(t, s, query, params) {
		out = append(out, r["v"].(string))
	}
	slices.Sort(out)
	return out
}

func sorted(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// snapshot is a text form of everything in the graph (every node and
// relationship with all its properties but timestamps), to compare two
// states.
func snapshot(t *testing.T, s *cypher.Store) string {
	t.Helper()
	var b strings.Builder
	for _, r := range rows(t, s, `
		MATCH (n) WHERE NOT n:SchemaMigration
		RETURN labels(n)[0] + ' ' + apoc.convert.toJson(apoc.map.sortedProperties(apoc.map.removeKeys(properties(n), [k IN keys(n) WHERE k = 'at' OR k ENDS WITH '_at']))) AS v ORDER BY v`, nil) {
		b.WriteString(r["v"].(string) + "\n")
	}
	for _, r := range rows(t, s, `
		MATCH (a)-[r]->(b)
		RETURN type(r) + ' ' + coalesce(a.xid, a.id, a.did, a.acct) + '>' + coalesce(b.xid, b.id, b.did, b.acct) + ' ' +
		       apoc.convert.toJson(apoc.map.sortedProperties(apoc.map.removeKeys(properties(r), [k IN keys(r) WHERE k = 'at' OR k ENDS WITH '_at']))) AS v
		ORDER BY v`, nil) {
		b.WriteString(r["v"].(string) + "\n")
	}
	return b.String()
}

func TestImportWritesTheArchiveGraph(t *testing.T) {
	s := testenv.MustGraph(t)
	ctx := context.Background()
	info := writeArchive(t, "twitter.zip", fixtures.ArchiveOptions{
		Seed: 1, Account: 5, Following: 300, Followers: 450, Blocks: 7, Mutes: 4, ListsCreated: 2, Duplicates: 10,
	})
	res, err := importer(s).Import(ctx, "alice", []string{info.Path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Member != "alice" || res.XID != info.AccountID || res.Counts["following"] != 300 || res.Unchanged {
		t.Fatalf("result = %+v", res)
	}
	p := map[string]any{"xid": info.AccountID}
	if got := strs(t, s, "MATCH (:XAccount {xid: $xid})-[f:FOLLOWS {by_following: true}]->(y) RETURN y.xid AS v", p); !slices.Equal(got, sorted(info.Following)) {
		t.Errorf("followings: %d in the graph, %d in the archive", len(got), len(info.Following))
	}
	if got := strs(t, s, "MATCH (:XAccount {xid: $xid})<-[f:FOLLOWS {by_follower: true}]-(y) RETURN y.xid AS v", p); !slices.Equal(got, sorted(info.Followers)) {
		t.Errorf("followers: %d in the graph, %d in the archive", len(got), len(info.Followers))
	}
	if got := strs(t, s, "MATCH (:XAccount {xid: $xid})-[:BLOCKS]->(y) RETURN y.xid AS v", p); !slices.Equal(got, sorted(info.Blocks)) {
		t.Errorf("blocks = %v, want %v", got, sorted(info.Blocks))
	}
	if got := strs(t, s, "MATCH (:XAccount {xid: $xid})-[:MUTES]->(y) RETURN y.xid AS v", p); !slices.Equal(got, sorted(info.Mutes)) {
		t.Errorf("mutes = %v, want %v", got, sorted(info.Mutes))
	}
	r := rows(t, s, `
		MATCH (m:Member {id: 'alice'})-[c:CLAIMS]->(x:XAccount {xid: $xid}), (m)-[:UPLOADED]->(a:Archive)
		RETURN c.via AS via, c.verified AS verified, x.username AS username, x.display_name AS name,
		       a.id AS archive, a.status AS status, a.count_following AS following, a.duplicates_following AS dups,
		       size(a.lists_created) AS lists, m.current_archive AS current, a.sha256 AS sha, a.source AS source`, p)
	if len(r) != 1 {
		t.Fatalf("member, claim and archive: %d rows", len(r))
	}
	want := map[string]any{"via": "archive", "verified": false, "username": info.Username, "name": info.DisplayName,
		"archive": res.Archive, "status": "done", "following": int64(300), "dups": int64(10), "lists": int64(2), "current": res.Archive,
		"source": "zip"}
	for k, v := range want {
		if r[0][k] != v {
			t.Errorf("%s = %v, want %v", k, r[0][k], v)
		}
	}
	if sha, _ := r[0]["sha"].(string); len(sha) != 64 {
		t.Errorf("sha256 = %q", sha)
	}
	// The e-mail of account.js is stored nowhere.
	if n := rows(t, s, `MATCH (n) WHERE any(k IN keys(n) WHERE apoc.convert.toJson(n[k]) CONTAINS $email) RETURN count(n) AS n`,
		map[string]any{"email": info.Email})[0]["n"]; n != int64(0) {
		t.Errorf("%v nodes hold the e-mail address", n)
	}
}

func TestImportTwiceChangesNothing(t *testing.T) {
	s := testenv.MustGraph(t)
	ctx := context.Background()
	opt := fixtures.ArchiveOptions{Seed: 2, Account: 9, Following: 120, Followers: 80, Blocks: 3, Mutes: 2}
	zip := writeArchive(t, "twitter.zip", opt)
	first, err := importer(s).Import(ctx, "bob", []string{zip.Path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, s)
	// The same archive again, then unzipped as a folder: same content, same
	// archive, nothing changes.
	opt.Variant = "folder"
	folder := writeArchive(t, "folder", opt)
	for _, path := range []string{zip.Path, folder.Path} {
		again, err := importer(s).Import(ctx, "bob", []string{path}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !again.Unchanged || again.Archive != first.Archive {
			t.Errorf("%s: result %+v, want unchanged archive %s", filepath.Base(path), again, first.Archive)
		}
	}
	if after := snapshot(t, s); after != before {
		t.Errorf("graph changed by a second import:\nbefore:\n%.2000s\nafter:\n%.2000s", before, after)
	}
}

func TestNewerArchiveReplacesTheOlder(t *testing.T) {
	s := testenv.MustGraph(t)
	ctx := context.Background()
	older := writeArchive(t, "old.zip", fixtures.ArchiveOptions{Seed: 3, Account: 4, Following: 200, Followers: 100, Blocks: 5,
		Universe: 400, Date: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)})
	newer := writeArchive(t, "new.zip", fixtures.ArchiveOptions{Seed: 4, Account: 4, Following: 150, Followers: 120, Blocks: 2,
		Universe: 400, Date: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)})
	// Another member, whose archive says that they follow account 4: that
	// edge's by_follower... no: their following.js attests an edge of theirs.
	// They follow one of the older archive's followings too, so that edge
	// must survive the replacement with its other attestation.
	if _, err := importer(s).Import(ctx, "carol", []string{older.Path}, nil); err != nil {
		t.Fatal(err)
	}
	res, err := importer(s).Import(ctx, "carol", []string{newer.Path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := map[string]any{"xid": newer.AccountID}
	if got := strs(t, s, "MATCH (:XAccount {xid: $xid})-[f:FOLLOWS]->(y) WHERE f.by_following RETURN y.xid AS v", p); !slices.Equal(got, sorted(newer.Following)) {
		t.Errorf("after the newer archive: %d followings, want %d", len(got), len(newer.Following))
	}
	if got := strs(t, s, "MATCH (:XAccount {xid: $xid})<-[f:FOLLOWS]-(y) WHERE f.by_follower RETURN y.xid AS v", p); !slices.Equal(got, sorted(newer.Followers)) {
		t.Errorf("after the newer archive: %d followers, want %d", len(got), len(newer.Followers))
	}
	if got := strs(t, s, "MATCH (:XAccount {xid: $xid})-[:BLOCKS]->(y) RETURN y.xid AS v", p); !slices.Equal(got, sorted(newer.Blocks)) {
		t.Errorf("blocks = %v, want %v", got, sorted(newer.Blocks))
	}
	// No edge is left without a flag, and none still names the old archive.
	if n := rows(t, s, `MATCH ()-[f:FOLLOWS]->() WHERE NOT coalesce(f.by_following, false) AND NOT coalesce(f.by_follower, false)
		RETURN count(f) AS n`, nil)[0]["n"]; n != int64(0) {
		t.Errorf("%v FOLLOWS edges without a flag", n)
	}
	if n := rows(t, s, `MATCH ()-[f]->() WHERE any(a IN coalesce(f.following_from, []) + coalesce(f.follower_from, []) + coalesce(f.from, []) WHERE a <> $arc)
		RETURN count(f) AS n`, map[string]any{"arc": res.Archive})[0]["n"]; n != int64(0) {
		t.Errorf("%v edges still attested by the older archive", n)
	}
	st := rows(t, s, "MATCH (m:Member {id: 'carol'})-[:UPLOADED]->(a) RETURN a.status AS v ORDER BY a.generated_at", nil)
	if len(st) != 2 || st[0]["v"] != "replaced" || st[1]["v"] != "done" {
		t.Errorf("archive statuses = %v, want replaced then done", st)
	}

	// The older archive again is refused, and changes nothing.
	before := snapshot(t, s)
	_, err = importer(s).Import(ctx, "carol", []string{older.Path}, nil)
	if engine.ErrorCode(err) != engine.ECONFLICT || !strings.Contains(err.Error(), "older than the one already imported") {
		t.Fatalf("re-importing the older archive: %v, want a conflict", err)
	}
	if after := snapshot(t, s); after != before {
		t.Error("the refused older archive changed the graph")
	}
}

func TestEdgesAttestedByTwoArchivesKeepTheOtherFlag(t *testing.T) {
	s := testenv.MustGraph(t)
	ctx := context.Background()
	// dave (account 1) follows erin (account 2); erin's archive lists dave
	// as a follower. The one edge dave->erin carries both flags.
	d1 := writeArchive(t, "d1", fixtures.ArchiveOptions{Variant: "loose", Account: 1, Date: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
	fixtures.WriteFile(filepath.Join(d1.Path, "following.js"), fixtures.DataFile("following", fixtures.XID(2), fixtures.XID(3)))
	e := writeArchive(t, "e", fixtures.ArchiveOptions{Variant: "loose", Account: 2})
	fixtures.WriteFile(filepath.Join(e.Path, "follower.js"), fixtures.DataFile("follower", fixtures.XID(1)))
	im := importer(s)
	if _, err := im.Import(ctx, "dave", []string{d1.Path}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := im.Import(ctx, "erin", []string{e.Path}, nil); err != nil {
		t.Fatal(err)
	}
	edge := func() []map[string]any {
		return rows(t, s, `MATCH (:XAccount {xid: $a})-[f:FOLLOWS]->(:XAccount {xid: $b})
			RETURN f.by_following AS following, f.by_follower AS follower`, map[string]any{"a": fixtures.XID(1), "b": fixtures.XID(2)})
	}
	if r := edge(); len(r) != 1 || r[0]["following"] != true || r[0]["follower"] != true {
		t.Fatalf("dave->erin = %v, want one edge with both flags", r)
	}
	// dave's newer archive no longer follows erin: the edge keeps erin's
	// flag; dave->3 loses its only flag and goes.
	d2 := writeArchive(t, "d2", fixtures.ArchiveOptions{Variant: "loose", Account: 1, Date: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
	fixtures.WriteFile(filepath.Join(d2.Path, "following.js"), fixtures.DataFile("following", fixtures.XID(4)))
	if _, err := im.Import(ctx, "dave", []string{d2.Path}, nil); err != nil {
		t.Fatal(err)
	}
	if r := edge(); len(r) != 1 || r[0]["following"] != false || r[0]["follower"] != true {
		t.Fatalf("dave->erin after dave's newer archive = %v, want by_follower only", r)
	}
	if n := rows(t, s, `MATCH (:XAccount {xid: $a})-[f:FOLLOWS]->(:XAccount {xid: $c}) RETURN count(f) AS n`,
		map[string]any{"a": fixtures.XID(1), "c": fixtures.XID(3)})[0]["n"]; n != int64(0) {
		t.Errorf("dave->3 survived: %v", n)
	}
}

func TestImportRefusals(t *testing.T) {
	s := testenv.MustGraph(t)
	ctx := context.Background()
	mine := writeArchive(t, "mine.zip", fixtures.ArchiveOptions{Seed: 5, Account: 11, Following: 20, Followers: 20})
	if _, err := importer(s).Import(ctx, "frank", []string{mine.Path}, nil); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, s)
	noAccount := writeArchive(t, "noaccount.zip", fixtures.ArchiveOptions{Seed: 6, Account: 12, Following: 20, Variant: "noaccount"})
	other := writeArchive(t, "other.zip", fixtures.ArchiveOptions{Seed: 7, Account: 13, Following: 20})
	grail := writeArchive(t, "grail.zip", fixtures.ArchiveOptions{Seed: 8, Variant: "grailbird"})
	for _, tc := range []struct {
		name, member, path string
		code               string
		want               string
	}{
		{"no account.js", "gina", noAccount.Path, engine.EINVALID, "account.js"},
		{"another X account for the same member", "frank", other.Path, engine.ECONFLICT, "member frank is X account " + mine.AccountID},
		{"grailbird archive", "hugo", grail.Path, engine.EINVALID, "no follow"},
		{"bad member id", "../etc", mine.Path, engine.EINVALID, "member id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := importer(s).Import(ctx, tc.member, []string{tc.path}, nil)
			if engine.ErrorCode(err) != tc.code || !strings.Contains(engine.ErrorMessage(err), tc.want) {
				t.Fatalf("err = %v (code %s), want %s containing %q", err, engine.ErrorCode(err), tc.code, tc.want)
			}
		})
	}
	if after := snapshot(t, s); after != before {
		t.Error("a refused import changed the graph")
	}
}

// failingGraph is the real store with a fault injected: LoadIDs fails after
// a number of batches, as a crash half-way would stop the import.
type failingGraph struct {
	*cypher.Store
	batches int
}

var errCrash = errors.New("injected crash")

func (f *failingGraph) LoadIDs(ctx context.Context, kind xarchive.Kind, xid, archive string, ids []string) error {
	if f.batches == 0 {
		return errCrash
	}
	f.batches--
	return f.Store.LoadIDs(ctx, kind, xid, archive, ids)
}

func TestImportCrashHalfWayThenRetryFinishes(t *testing.T) {
	s := testenv.MustGraph(t)
	ctx := context.Background()
	older := writeArchive(t, "old.zip", fixtures.ArchiveOptions{Seed: 9, Account: 21, Following: 500, Followers: 300, Universe: 2000,
		Date: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)})
	newer := writeArchive(t, "new.zip", fixtures.ArchiveOptions{Seed: 10, Account: 21, Following: 400, Followers: 350, Universe: 2000})

	// The reference: a clean import of both, one after the other.
	if _, err := importer(s).Import(ctx, "ivy", []string{older.Path}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := importer(s).Import(ctx, "ivy", []string{newer.Path}, nil); err != nil {
		t.Fatal(err)
	}
	want := snapshot(t, s)

	for _, crashAfter := range []int{0, 3, 6} {
		s := testenv.MustGraph(t)
		if _, err := importer(s).Import(ctx, "ivy", []string{older.Path}, nil); err != nil {
			t.Fatal(err)
		}
		crashing := &engine.Importer{Graph: &failingGraph{Store: s, batches: crashAfter}, BatchSize: 100}
		if _, err := crashing.Import(ctx, "ivy", []string{newer.Path}, nil); !errors.Is(err, errCrash) {
			t.Fatalf("crash after %d batches: err = %v", crashAfter, err)
		}
		if _, err := importer(s).Import(ctx, "ivy", []string{newer.Path}, nil); err != nil {
			t.Fatalf("retry after a crash after %d batches: %v", crashAfter, err)
		}
		if got := snapshot(t, s); got != want {
			t.Errorf("crash after %d batches, then retry: the graph differs from a clean import", crashAfter)
		}
	}
}

// TestImportEveryVariant imports every archive shape X ever produced, each
// for its own member, and checks the edges against what was written.
func TestImportEveryVariant(t *testing.T) {
	s := testenv.MustGraph(t)
	ctx := context.Background()
	for i, variant := range fixtures.Variants() {
		t.Run(variant, func(t *testing.T) {
			info := writeArchive(t, "archive.zip", fixtures.ArchiveOptions{Seed: int64(i), Account: 100 + i,
				Following: 60, Followers: 40, Blocks: 3, Mutes: 2, Duplicates: 5, Variant: variant, PartSize: 25})
			paths := []string{info.Path}
			if variant == "loose" {
				paths, _ = filepath.Glob(filepath.Join(info.Path, "*.js"))
			}
			member := "v_" + strings.ReplaceAll(variant, "+", "_")
			res, err := importer(s).Import(ctx, member, paths, nil)
			if err != nil {
				t.Fatal(err)
			}
			p := map[string]any{"xid": info.AccountID}
			if got := strs(t, s, "MATCH (:XAccount {xid: $xid})-[f:FOLLOWS {by_following: true}]->(y) RETURN y.xid AS v", p); !slices.Equal(got, sorted(info.Following)) {
				t.Errorf("%d followings in the graph, %d in the archive", len(got), len(info.Following))
			}
			if got := strs(t, s, "MATCH (:XAccount {xid: $xid})<-[f:FOLLOWS {by_follower: true}]-(y) RETURN y.xid AS v", p); !slices.Equal(got, sorted(info.Followers)) {
				t.Errorf("%d followers in the graph, %d in the archive", len(got), len(info.Followers))
			}
			if res.Counts["block"] != 3 || res.Counts["mute"] != 2 {
				t.Errorf("counts = %v", res.Counts)
			}
		})
	}
}
