package cypher_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/passerelle-social/passerelle/cypher"
	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/fixtures"
	"github.com/passerelle-social/passerelle/internal/testenv"
)

// world is a seeded random world, known in full to the test: the oracle
// computes every member's reachable sets from it with a plain in-memory join.
type world struct {
	people    []person
	claims    map[int][]claim // X account → claims
	uses      map[string]map[engine.Network]string
	dataset   []engine.DatasetRow
	dismissed map[[2]string]bool // (member, account)
	followsOn map[[2]string]bool // (from account, to account)
}

type claim struct {
	member string
	via    string
}

type sameAs struct {
	account, network, trust, source string
	conflict                        bool
}

func newWorld(seed uint64, members, universe int) *world {
	r := rand.New(rand.NewPCG(seed, 1))
	w := &world{claims: map[int][]claim{}, uses: map[string]map[engine.Network]string{},
		dismissed: map[[2]string]bool{}, followsOn: map[[2]string]bool{}}
	pick := func(n int, not int) []int {
		var out []int
		for _, v := range r.Perm(universe)[:n] {
			if v != not {
				out = append(out, v)
			}
		}
		return out
	}
	for i := 0; i < members; i++ {
		p := person{member: fmt.Sprintf("m%d", i), account: i}
		// Two impostors at the end claim earlier members' X accounts.
		if i >= members-2 {
			p.account = i - members + 4
		}
		p.following = pick(5+r.IntN(35), p.account)
		if len(p.following) > 3 {
			p.blocks = p.following[:r.IntN(2)]
			p.mutes = p.following[len(p.following)-r.IntN(2):]
		}
		p.followers = pick(r.IntN(20), p.account)
		w.people = append(w.people, p)
		w.claims[p.account] = append(w.claims[p.account], claim{p.member, engine.ViaArchive})
		w.uses[p.member] = map[engine.Network]string{}
		if r.IntN(10) < 7 {
			w.uses[p.member][engine.Bluesky] = did(p.member)
		}
		if r.IntN(10) < 5 {
			w.uses[p.member][engine.Mastodon] = p.member + "@gts.test"
		}
	}
	// A third of the members sign in with X (never the impostors).
	for i := 0; i < members-2; i += 3 {
		w.claims[i][0].via = engine.ViaXOAuth
	}
	trusts := []engine.Trust{engine.TrustVerified, engine.TrustClaimed, engine.TrustEvidence}
	for n := 0; n < 40; n++ {
		x := members + r.IntN(universe-members)
		if n < 5 {
			x = r.IntN(members - 2) // some datasets repeat members' accounts
		}
		row := engine.DatasetRow{XID: fixtures.XID(x), Network: engine.Bluesky, Account: did(fmt.Sprintf("x%d", x)), Trust: trusts[r.IntN(3)]}
		if r.IntN(2) == 0 {
			row.Network, row.Account = engine.Mastodon, fmt.Sprintf("x%d@elsewhere.test", x)
		}
		// A dataset names each pair once (ParseDataset keeps a repeated
		// pair's last row).
		w.dataset = slices.DeleteFunc(w.dataset, func(d engine.DatasetRow) bool { return d.XID == row.XID && d.Account == row.Account })
		w.dataset = append(w.dataset, row)
	}
	targets := w.allTargets()
	for _, p := range w.people {
		for _, mine := range w.uses[p.member] {
			for k := 0; k < 2; k++ {
				t := targets[r.IntN(len(targets))]
				w.followsOn[[2]string{mine, t}] = true
			}
		}
		if len(targets) > 0 && r.IntN(3) == 0 {
			w.dismissed[[2]string{p.member, targets[r.IntN(len(targets))]}] = true
		}
	}
	return w
}

func (w *world) allTargets() []string {
	var out []string
	for _, u := range w.uses {
		for _, a := range u {
			out = append(out, a)
		}
	}
	for _, d := range w.dataset {
		out = append(out, d.Account)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// load writes the world through the product's own operations.
func (w *world) load(t *testing.T, s *cypher.Store) {
	ctx := context.Background()
	for _, p := range w.people {
		importPerson(t, s, p)
	}
	for x, cs := range w.claims {
		for _, c := range cs {
			if c.via == engine.ViaXOAuth {
				if err := s.ClaimX(ctx, c.member, fixtures.XID(x), c.via, "", "test"); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for m, u := range w.uses {
		for n, a := range u {
			link(t, s, m, n, a)
		}
	}
	if _, err := s.ImportDataset(ctx, "dataset:oracle.csv", "stamp", w.dataset, false); err != nil {
		t.Fatal(err)
	}
	for k := range w.followsOn {
		testenv.Query(t, `MATCH (a {network: $na}), (b {network: $nb}) WHERE coalesce(a.did, a.acct) = $from AND coalesce(b.did, b.acct) = $to
			CREATE (a)-[:FOLLOWS_ON {by_app: true}]->(b)`, map[string]any{"from": k[0], "to": k[1], "na": network(k[0]), "nb": network(k[1])})
	}
	for k := range w.dismissed {
		if err := s.Dismiss(ctx, k[0], engine.Network(network(k[1])), k[1], true); err != nil {
			t.Fatal(err)
		}
	}
}

func network(account string) string {
	if strings.HasPrefix(account, "did:") {
		return "bluesky"
	}
	return "mastodon"
}

// links computes every SAME_AS of the world by DESIGN.md's trust rules.
func (w *world) links() map[int][]sameAs {
	out := map[int][]sameAs{}
	for x, cs := range w.claims {
		var oauth, counting []claim
		for _, c := range cs {
			if c.via == engine.ViaXOAuth {
				oauth = append(oauth, c)
			}
		}
		counting = cs
		if len(oauth) > 0 {
			counting = oauth
		}
		trust := "claimed"
		if len(counting) == 1 && counting[0].via == engine.ViaXOAuth {
			trust = "verified"
		}
		for _, c := range counting {
			for n, a := range w.uses[c.member] {
				out[x] = append(out[x], sameAs{a, string(n), trust, "member", len(counting) > 1})
			}
		}
	}
	for _, d := range w.dataset {
		out[xnum(d.XID)] = append(out[xnum(d.XID)], sameAs{d.Account, string(d.Network), string(d.Trust), "dataset:oracle.csv", false})
	}
	return out
}

var xnums = map[string]int{}

func xnum(xid string) int {
	if len(xnums) == 0 {
		for i := 0; i < 10000; i++ {
			xnums[fixtures.XID(i)] = i
		}
	}
	return xnums[xid]
}

func rank(l sameAs) int {
	r := map[string]int{"verified": 0, "claimed": 2, "evidence": 4}[l.trust]
	if l.source != "member" {
		r++
	}
	return r
}

// oracle returns a member's reachable rows as text, for followings or
// followers, all trusts, followed targets included.
func (w *world) oracle(member string, followers bool) []string {
	var me int
	var refuted bool
	for _, p := range w.people {
		if p.member == member {
			me = p.account
		}
	}
	hasOAuth := false
	for _, c := range w.claims[me] {
		hasOAuth = hasOAuth || c.via == engine.ViaXOAuth
	}
	for _, c := range w.claims[me] {
		if c.member == member && hasOAuth && c.via != engine.ViaXOAuth {
			refuted = true
		}
	}
	if refuted || len(w.uses[member]) == 0 {
		return nil
	}
	// X follow edges: a follows b when a's archive lists b as following or
	// b's archive lists a as a follower.
	follows := map[[2]int]bool{}
	blocked := map[[2]int]bool{}
	for _, p := range w.people {
		for _, f := range p.following {
			follows[[2]int{p.account, f}] = true
		}
		for _, f := range p.followers {
			follows[[2]int{f, p.account}] = true
		}
		for _, b := range append(slices.Clone(p.blocks), p.mutes...) {
			blocked[[2]int{p.account, b}] = true
		}
	}
	links := w.links()
	mine := map[string]bool{}
	for _, a := range w.uses[member] {
		mine[a] = true
	}
	best := map[[2]string]sameAs{}
	xs := map[[2]string]int{}
	for e := range follows {
		x := e[1]
		if followers {
			x = e[0]
			if e[1] != me {
				continue
			}
		} else if e[0] != me {
			continue
		}
		if x == me || blocked[[2]int{me, x}] {
			continue
		}
		for _, l := range links[x] {
			if mine[l.account] || w.uses[member][engine.Network(l.network)] == "" || w.dismissed[[2]string{member, l.account}] {
				continue
			}
			k := [2]string{fixtures.XID(x), l.account}
			if b, ok := best[k]; !ok || rank(l) < rank(b) {
				best[k] = l
				xs[k] = x
			}
		}
	}
	var out []string
	for k, l := range best {
		followed := w.followsOn[[2]string{w.uses[member][engine.Network(l.network)], l.account}]
		out = append(out, fmt.Sprintf("%s %s %s %s %s %v %v", k[0], l.network, l.account, l.trust, l.source, l.conflict, followed))
	}
	slices.Sort(out)
	return out
}

func rowsText(rows []engine.Reconnection) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s %s %s %s %s %v %v", r.XID, r.Network, r.Account, r.Trust, r.Source, r.Conflict, r.Followed))
	}
	slices.Sort(out)
	return out
}

// TestReachableEqualsTheOracle checks every member of seeded random worlds:
// the Cypher reachable sets equal the in-memory join's.
func TestReachableEqualsTheOracle(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			s := testenv.MustGraph(t)
			w := newWorld(seed, 24, 90)
			w.load(t, s)
			checked := 0
			for _, p := range w.people {
				for _, followers := range []bool{false, true} {
					rows, err := s.Reachable(context.Background(), engine.MatchQuery{Member: p.member, IncludeFollowed: true}, followers)
					if err != nil {
						t.Fatal(err)
					}
					got, want := rowsText(rows), w.oracle(p.member, followers)
					if want == nil {
						want = []string{}
					}
					if !slices.Equal(got, want) {
						t.Errorf("%s (followers %v):\n got  %q\n want %q", p.member, followers, got, want)
					}
					checked += len(want)
				}
			}
			if checked < 50 {
				t.Errorf("only %d reachable rows in the whole world: the world is too sparse to test anything", checked)
			}
		})
	}
}
