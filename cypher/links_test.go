package cypher_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/passerelle-social/passerelle/cypher"
	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/fixtures"
	"github.com/passerelle-social/passerelle/internal/testenv"
)

// person is a member of a small named world: their X account number (X id
// fixtures.XID(n)) and whom they follow, block and mute on X.
type person struct {
	member    string
	account   int
	following []int
	followers []int
	blocks    []int
	mutes     []int
}

// importPerson uploads a loose-file archive for p.
func importPerson(t *testing.T, s *cypher.Store, p person) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), p.member)
	if _, err := fixtures.WriteArchive(dir, fixtures.ArchiveOptions{Variant: "loose", Account: p.account}); err != nil {
		t.Fatal(err)
	}
	for name, ns := range map[string][]int{"following": p.following, "follower": p.followers, "block": p.blocks, "mute": p.mutes} {
		ids := make([]string, len(ns))
		for i, n := range ns {
			ids[i] = fixtures.XID(n)
		}
		if err := fixtures.WriteFile(filepath.Join(dir, name+".js"), fixtures.DataFile(name, ids...)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := (&engine.Importer{Graph: s}).Import(context.Background(), p.member, []string{dir}, nil); err != nil {
		t.Fatalf("import %s: %v", p.member, err)
	}
}

// did makes a well-formed synthetic DID for a name.
func did(name string) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	b := []byte(strings.Repeat("a", 24))
	for i, c := range []byte(name) {
		b[i%24] = alphabet[(int(b[i%24])+int(c)+i)%32]
	}
	return "did:plc:" + string(b)
}

func link(t *testing.T, s *cypher.Store, member string, n engine.Network, account string) {
	t.Helper()
	if err := s.LinkAccount(context.Background(), engine.LinkRequest{Member: member, Network: n, Account: account,
		Handle: member + ".test", Via: "admin", Actor: "test"}); err != nil {
		t.Fatalf("link %s: %v", member, err)
	}
}

func reachable(t *testing.T, s *cypher.Store, member string, trusts ...engine.Trust) []engine.Reconnection {
	t.Helper()
	rows, err := s.Reachable(context.Background(), engine.MatchQuery{Member: member, Trusts: trusts}, false)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func accounts(rows []engine.Reconnection) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, r.Network+":"+r.Account+":"+r.Trust)
	}
	slices.Sort(out)
	return out
}

func TestAliceFollowsBob(t *testing.T) {
	s := testenv.MustGraph(t)
	ctx := context.Background()
	importPerson(t, s, person{member: "alice", account: 1, following: []int{2, 3}})
	importPerson(t, s, person{member: "bob", account: 2})
	link(t, s, "alice", engine.Bluesky, did("alice"))
	link(t, s, "bob", engine.Bluesky, did("bob"))
	link(t, s, "bob", engine.Mastodon, "bob@gts.test")

	// Alice is only on Bluesky: bob's Bluesky account, claimed (bob's claim
	// comes from an archive).
	if got, want := accounts(reachable(t, s, "alice")), []string{"bluesky:" + did("bob") + ":claimed"}; !slices.Equal(got, want) {
		t.Fatalf("alice's reachable = %v, want %v", got, want)
	}
	if got := reachable(t, s, "alice", engine.TrustVerified); len(got) != 0 {
		t.Fatalf("verified only: %v, want none", got)
	}
	// Bob signs in with X: his links become verified.
	if err := s.ClaimX(ctx, "bob", fixtures.XID(2), engine.ViaXOAuth, "", "test"); err != nil {
		t.Fatal(err)
	}
	rows := reachable(t, s, "alice", engine.TrustVerified)
	if len(rows) != 1 || rows[0].XID != fixtures.XID(2) || rows[0].Handle != "bob.test" || rows[0].Source != "member" || rows[0].Followed {
		t.Fatalf("after bob's X sign-in: %+v", rows)
	}
	// Alice links Mastodon too: bob's Mastodon account joins.
	link(t, s, "alice", engine.Mastodon, "alice@gts.test")
	if got := accounts(reachable(t, s, "alice")); len(got) != 2 {
		t.Fatalf("alice on both networks: %v", got)
	}
	// Bob sees alice among his followers.
	followers, err := s.Reachable(ctx, engine.MatchQuery{Member: "bob"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := accounts(followers); len(got) != 2 || !strings.Contains(got[0], did("alice")) && !strings.Contains(got[1], did("alice")) {
		t.Fatalf("bob's reachable followers = %v", got)
	}
	// Unlinking bob's Mastodon removes that link in the same step.
	if err := s.UnlinkAccount(ctx, "bob", engine.Mastodon, "bob@gts.test", "test"); err != nil {
		t.Fatal(err)
	}
	if got := accounts(reachable(t, s, "alice")); len(got) != 1 {
		t.Fatalf("after bob unlinked Mastodon: %v", got)
	}
	if err := s.UnlinkAccount(ctx, "bob", engine.Mastodon, "bob@gts.test", "test"); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("second unlink: %v, want not found", err)
	}
}

func TestBlocksMutesDismissalsAndFollowed(t *testing.T) {
	s := testenv.MustGraph(t)
	ctx := context.Background()
	importPerson(t, s, person{member: "carol", account: 10, following: []int{11, 12, 13, 14}, blocks: []int{12}, mutes: []int{13}})
	for _, n := range []int{11, 12, 13, 14} {
		m := fmt.Sprintf("p%d", n)
		importPerson(t, s, person{member: m, account: n})
		link(t, s, m, engine.Bluesky, did(m))
	}
	link(t, s, "carol", engine.Bluesky, did("carol"))
	if got := accounts(reachable(t, s, "carol")); len(got) != 2 {
		t.Fatalf("carol: %v, want p11 and p14 (p12 blocked, p13 muted)", got)
	}
	if err := s.Dismiss(ctx, "carol", engine.Bluesky, did("p14"), true); err != nil {
		t.Fatal(err)
	}
	if got := accounts(reachable(t, s, "carol")); len(got) != 1 || !strings.Contains(got[0], did("p11")) {
		t.Fatalf("after dismissing p14: %v", got)
	}
	if err := s.Dismiss(ctx, "carol", engine.Bluesky, did("p14"), false); err != nil {
		t.Fatal(err)
	}
	// Carol already follows p11 there: left out, or marked when asked.
	testenv.Query(t, `MATCH (a:BlueskyAccount {did: $from}), (b:BlueskyAccount {did: $to}) CREATE (a)-[:FOLLOWS_ON {by_app: true}]->(b)`,
		map[string]any{"from": did("carol"), "to": did("p11")})
	if got := accounts(reachable(t, s, "carol")); len(got) != 1 || !strings.Contains(got[0], did("p14")) {
		t.Fatalf("after following p11: %v", got)
	}
	rows, err := s.Reachable(ctx, engine.MatchQuery{Member: "carol", IncludeFollowed: true}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Followed == rows[1].Followed {
		t.Fatalf("with followed included: %+v", rows)
	}
}

// TestForgedArchive: mallory uploads an archive that claims bob's X account
// and links her own Bluesky account.
func TestForgedArchive(t *testing.T) {
	for _, bobSignedInWithX := range []bool{false, true} {
		t.Run(fmt.Sprintf("bob signed in with X: %v", bobSignedInWithX), func(t *testing.T) {
			s := testenv.MustGraph(t)
			ctx := context.Background()
			importPerson(t, s, person{member: "alice", account: 1, following: []int{2}})
			importPerson(t, s, person{member: "bob", account: 2})
			link(t, s, "alice", engine.Bluesky, did("alice"))
			link(t, s, "bob", engine.Bluesky, did("bob"))
			if err := s.SetSettings(ctx, "alice", engine.Settings{AllowClaimed: ptr(true)}); err != nil {
				t.Fatal(err)
			}
			if bobSignedInWithX {
				if err := s.ClaimX(ctx, "bob", fixtures.XID(2), engine.ViaXOAuth, "", "test"); err != nil {
					t.Fatal(err)
				}
			}
			importPerson(t, s, person{member: "mallory", account: 2}) // bob's X account
			if c, err := s.Conflicts(ctx); err != nil || len(c) != 1 {
				t.Fatalf("conflicts right after mallory's upload: %+v, %v", c, err)
			}
			link(t, s, "mallory", engine.Bluesky, did("mallory"))

			// Nobody's auto-follow targets the impostor.
			var impostor []engine.Arrival
			if err := s.Arrivals(ctx, engine.Bluesky, did("mallory"), func(a engine.Arrival) error {
				impostor = append(impostor, a)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			for _, a := range impostor {
				if a.AutoFollow() {
					t.Errorf("%s would follow the impostor automatically: %+v", a.Member, a)
				}
			}
			rows := reachable(t, s, "alice")
			for _, r := range rows {
				if r.Account == did("mallory") && (r.Trust == "verified" || !r.Conflict) {
					t.Errorf("the impostor's link is offered as %+v", r)
				}
			}
			if bobSignedInWithX {
				// Bob's X sign-in refutes mallory's claim: her link is gone,
				// bob's stays verified.
				if got := accounts(rows); !slices.Equal(got, []string{"bluesky:" + did("bob") + ":verified"}) {
					t.Errorf("alice's reachable = %v, want bob verified only", got)
				}
			}
			// Admins see the conflict.
			conflicts, err := s.Conflicts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(conflicts) != 1 || conflicts[0].XID != fixtures.XID(2) || len(conflicts[0].Claims) != 2 {
				t.Fatalf("conflicts = %+v", conflicts)
			}
			for _, c := range conflicts[0].Claims {
				if c.Member == "mallory" && c.Refuted != bobSignedInWithX {
					t.Errorf("mallory's claim refuted = %v, want %v", c.Refuted, bobSignedInWithX)
				}
			}
			// Mallory deleted: the conflict and her link are gone.
			if err := s.DeleteMember(ctx, "mallory", "test"); err != nil {
				t.Fatal(err)
			}
			if c, _ := s.Conflicts(ctx); len(c) != 0 {
				t.Errorf("conflicts after mallory left: %+v", c)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestDeleteMemberLeavesNothingOfTheirs(t *testing.T) {
	s := testenv.MustGraph(t)
	ctx := context.Background()
	importPerson(t, s, person{member: "dora", account: 30, following: []int{31, 32}, blocks: []int{33}})
	importPerson(t, s, person{member: "eve", account: 31, following: []int{30}})
	link(t, s, "dora", engine.Bluesky, did("dora"))
	link(t, s, "dora", engine.Mastodon, "dora@gts.test")
	link(t, s, "eve", engine.Bluesky, did("eve"))
	// Dora signed in with Bluesky OAuth twice; eve once.
	for _, key := range []string{did("dora") + " s1", did("dora") + " s2", did("eve") + " s1"} {
		if err := s.SaveOAuthSession(ctx, key, "v1.sealed"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteMember(ctx, "dora", "test"); err != nil {
		t.Fatal(err)
	}
	if sealed, _ := s.LoadOAuthSession(ctx, did("eve")+" s1"); sealed == "" {
		t.Error("eve's OAuth session went with dora")
	}
	checks := map[string]string{
		"oauth sessions":  "MATCH (o:OAuthSession) WHERE o.key STARTS WITH $did RETURN count(o) AS n",
		"member":          "MATCH (m:Member {id: 'dora'}) RETURN count(m) AS n",
		"archives":        "MATCH (a:Archive) WHERE a.xid = $xid RETURN count(a) AS n",
		"links":           "MATCH (:XAccount {xid: $xid})-[s:SAME_AS]->() RETURN count(s) AS n",
		"accounts":        "MATCH (a) WHERE a.did = $did OR a.acct = 'dora@gts.test' RETURN count(a) AS n",
		"her follows":     "MATCH (:XAccount {xid: $xid})-[f:FOLLOWS]->() RETURN count(f) AS n",
		"her blocks":      "MATCH (:XAccount {xid: $xid})-[b:BLOCKS]->() RETURN count(b) AS n",
		"her name":        "MATCH (x:XAccount {xid: $xid}) WHERE x.username IS NOT NULL RETURN count(x) AS n",
		"her attestation": "MATCH ()-[f]->() WHERE any(a IN coalesce(f.following_from, []) + coalesce(f.follower_from, []) WHERE a STARTS WITH 'arc_' AND NOT EXISTS { (:Archive {id: a}) }) RETURN count(f) AS n",
	}
	for name, q := range checks {
		if n := testenv.Query(t, q, map[string]any{"xid": fixtures.XID(30), "did": did("dora")})[0]["n"]; n != int64(0) {
			t.Errorf("%s: %v left", name, n)
		}
	}
	// Eve's archive says eve follows dora: that edge is eve's, and stays.
	if n := testenv.Query(t, "MATCH (:XAccount {xid: $a})-[f:FOLLOWS]->(:XAccount {xid: $b}) RETURN count(f) AS n",
		map[string]any{"a": fixtures.XID(31), "b": fixtures.XID(30)})[0]["n"]; n != int64(1) {
		t.Errorf("eve's follow of dora: %v, want 1", n)
	}
	if err := s.DeleteMember(ctx, "dora", "test"); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("deleting again: %v, want not found", err)
	}
}
