package workers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/passerelle-social/passerelle/cypher"
	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/engine/seal"
	"github.com/passerelle-social/passerelle/fixtures"
	"github.com/passerelle-social/passerelle/i18n"
	"github.com/passerelle-social/passerelle/internal/testenv"
	"github.com/passerelle-social/passerelle/networks/bluesky"
	"github.com/passerelle-social/passerelle/networks/mastodon"
	"github.com/passerelle-social/passerelle/workers"
)

// arrivalWorld: 50 members whose X accounts follow two newcomers. Members
// 0-39 use a fresh account of the local PDS, members 30-49 a pooled
// account of the local GoToSocial (10 use both). Their settings vary with
// their number: auto-reconnect off for i%5 == 4, digests (daily) for
// i%3 == 0, claimed links allowed for i%4 == 0. The newcomer signs in with
// X (verified) and links a PDS and a GoToSocial account; the claimer only
// uploaded an archive (claimed) and links a PDS account.
type arrivalWorld struct {
	store    *cypher.Store
	box      *seal.Box
	bsky     *bluesky.Client
	masto    *mastodon.Client
	pds      map[int]testenv.PDSAccount
	gts      map[int]testenv.GTSAccount
	newcomer struct {
		pds testenv.PDSAccount
		gts testenv.GTSAccount
	}
	claimer testenv.PDSAccount
}

const (
	arrivalMembers = 50
	newcomerX      = 7000
	claimerX       = 7001
)

func member(i int) string      { return fmt.Sprintf("m%02d", i) }
func hasBluesky(i int) bool    { return i < 40 }
func hasMastodon(i int) bool   { return i >= 30 }
func autoReconnect(i int) bool { return i%5 != 4 }
func notifies(i int) bool      { return i%3 == 0 }
func allowsClaimed(i int) bool { return i%4 == 0 }
func boolp(b bool) *bool       { return &b }
func strp(s string) *string    { return &s }

func newArrivalWorld(t *testing.T) *arrivalWorld {
	t.Helper()
	ctx := context.Background()
	w := &arrivalWorld{store: testenv.MustGraph(t), bsky: bluesky.New(bluesky.Options{PLCURL: testenv.PLCURL()}),
		masto: mastodon.New(mastodon.Options{}), pds: map[int]testenv.PDSAccount{}, gts: map[int]testenv.GTSAccount{}}
	w.box, _ = seal.New(testKey)
	testenv.GTSPool(t, arrivalMembers-30)

	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 6)
	for i := range arrivalMembers {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			dir := filepath.Join(t.TempDir(), member(i))
			fixtures.WriteArchive(dir, fixtures.ArchiveOptions{Variant: "loose", Account: 100 + i})
			fixtures.WriteFile(filepath.Join(dir, "following.js"), fixtures.DataFile("following", fixtures.XID(newcomerX), fixtures.XID(claimerX)))
			if _, err := (&engine.Importer{Graph: w.store}).Import(ctx, member(i), []string{dir}, nil); err != nil {
				t.Error(err)
				return
			}
			if err := w.store.SetSettings(ctx, member(i), engine.Settings{AutoReconnect: boolp(autoReconnect(i)),
				NotifyArrivals: boolp(notifies(i)), AllowClaimed: boolp(allowsClaimed(i)), NotifyPeriod: strp(engine.PeriodDaily),
				Locale: strp(engine.Locales[i%len(engine.Locales)])}); err != nil {
				t.Error(err)
			}
			if hasBluesky(i) {
				a := testenv.MustPDSAccount(t, member(i))
				if _, err := engine.Connect(ctx, w.bsky, w.store, w.box, member(i), engine.Bluesky,
					engine.Credentials{Host: testenv.PDSURL(), Identifier: a.Handle, Password: a.Password}, "test"); err != nil {
					t.Error(err)
				}
				mu.Lock()
				w.pds[i] = a
				mu.Unlock()
			}
			if hasMastodon(i) {
				a := testenv.GTSPoolAccount(t, i-30)
				if _, err := engine.Connect(ctx, w.masto, w.store, w.box, member(i), engine.Mastodon,
					engine.Credentials{Host: testenv.GoToSocialURL(), Token: a.Token}, "test"); err != nil {
					t.Error(err)
				}
				mu.Lock()
				w.gts[i] = a
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	// The newcomers upload their archives; the newcomer also signs in with X.
	for _, n := range []struct {
		id string
		x  int
	}{{"newcomer", newcomerX}, {"claimer", claimerX}} {
		dir := filepath.Join(t.TempDir(), n.id)
		fixtures.WriteArchive(dir, fixtures.ArchiveOptions{Variant: "loose", Account: n.x, Username: n.id + "_on_x"})
		if _, err := (&engine.Importer{Graph: w.store}).Import(ctx, n.id, []string{dir}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.store.ClaimX(ctx, "newcomer", fixtures.XID(newcomerX), engine.ViaXOAuth, "", "test"); err != nil {
		t.Fatal(err)
	}
	w.newcomer.pds = testenv.MustPDSAccount(t, "newcomer")
	w.newcomer.gts = testenv.MustGTSAccount(t, "newcomer")
	w.claimer = testenv.MustPDSAccount(t, "claimer")
	return w
}

// link connects the newcomers' accounts, as the web sign-in does, and
// enqueues what follows a link.
func (w *arrivalWorld) link(t *testing.T, q *asynq.Client) {
	t.Helper()
	ctx := context.Background()
	for _, l := range []struct {
		member string
		n      engine.Network
		c      engine.Credentials
	}{
		{"newcomer", engine.Bluesky, engine.Credentials{Host: testenv.PDSURL(), Identifier: w.newcomer.pds.Handle, Password: w.newcomer.pds.Password}},
		{"newcomer", engine.Mastodon, engine.Credentials{Host: testenv.GoToSocialURL(), Token: w.newcomer.gts.Token}},
		{"claimer", engine.Bluesky, engine.Credentials{Host: testenv.PDSURL(), Identifier: w.claimer.Handle, Password: w.claimer.Password}},
	} {
		nc := engine.NetworkClient(w.bsky)
		if l.n == engine.Mastodon {
			nc = w.masto
		}
		account, err := engine.Connect(ctx, nc, w.store, w.box, l.member, l.n, l.c, "test")
		if err != nil {
			t.Fatal(err)
		}
		if err := workers.Linked(ctx, q, l.member, l.n, account, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
}

// bot accounts send the digests: a real GoToSocial account, and a real PDS
// account whose chat calls go to a fake of Bluesky's chat service (it has
// no local build; the PDS sign-in is real).
type bots struct {
	gts  testenv.GTSAccount
	pds  testenv.PDSAccount
	chat *testenv.FakeChat
}

func (w *arrivalWorld) start(t *testing.T, b *bots) (asynq.RedisClientOpt, *workers.Fanout) {
	t.Helper()
	testenv.MustRedis(t)
	opt := asynq.RedisClientOpt{Addr: testenv.RedisAddr()}
	q := asynq.NewClient(opt)
	t.Cleanup(func() { q.Close() })
	log := testenv.Logger(t)
	ctx := context.Background()
	mbot, err := w.masto.OpenToken(ctx, testenv.GoToSocialURL(), b.gts.Token)
	if err != nil {
		t.Fatal(err)
	}
	chat, err := w.bsky.OpenChat(ctx, testenv.PDSURL(), b.pds.Handle, b.pds.Password, b.chat.URL)
	if err != nil {
		t.Fatal(err)
	}
	fan := &workers.Fanout{Graph: w.store, Enqueuer: q, Log: log}
	n := &workers.Notifier{Graph: w.store, Texts: i18n.MustLoad(), URL: "http://127.0.0.1:8080/", Enqueuer: q, Log: log, Now: time.Now,
		Channels: map[engine.Network]workers.Channel{
			engine.Mastodon: {Send: func(ctx context.Context, to, text string) error { _, err := mbot.SendDirect(ctx, to, text); return err }},
			engine.Bluesky:  {Send: func(ctx context.Context, to, text string) error { _, err := chat.SendDirect(ctx, to, text); return err }, Permanent: bluesky.PermanentChat},
		}}
	wk := workers.NewWorker(workers.Options{Redis: opt, Concurrency: 4, Logger: log,
		Registry: prometheus.NewRegistry(), ShutdownTimeout: 5 * time.Second})
	for _, f := range []*workers.Follower{
		{Name: engine.Bluesky, Client: w.bsky, Graph: w.store, Box: w.box, Enqueuer: q, Log: log},
		{Name: engine.Mastodon, Client: w.masto, Graph: w.store, Box: w.box, Enqueuer: q, Log: log},
	} {
		wk.Handle(workers.TaskType(f.Name), f.Handle)
	}
	wk.Handle(workers.TypeArrivalFanout, fan.Handle)
	wk.Handle(workers.TypeMatchMember, workers.HandleMatchMember(w.store, q))
	wk.Handle(workers.TypeNotifySweep, n.Sweep)
	wk.Handle(workers.TypeNotifyDigest, n.Digest)
	if err := wk.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(wk.Shutdown)
	return opt, fan
}

// blueskyFollows lists member i's follow records on the PDS itself.
func (w *arrivalWorld) blueskyFollows(t *testing.T, i int) map[string]string {
	t.Helper()
	s, err := w.bsky.LoginAppPassword(context.Background(), testenv.PDSURL(), w.pds[i].Handle, w.pds[i].Password)
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.Follows(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// mastodonFollows lists member i's follows on GoToSocial itself.
func (w *arrivalWorld) mastodonFollows(t *testing.T, i int) map[string]string {
	t.Helper()
	s, err := w.masto.OpenToken(context.Background(), testenv.GoToSocialURL(), w.gts[i].Token)
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.Follows(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// directsFrom returns the texts of the direct statuses that mention the
// account of token and come from the account named from (its username).
func directsFrom(t *testing.T, token, from string) []string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, testenv.GoToSocialURL()+"/api/v1/notifications?limit=80&types[]=mention", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var ns []struct {
		Status struct {
			Content    string `json:"content"`
			Visibility string `json:"visibility"`
			Account    struct {
				Username string `json:"username"`
			} `json:"account"`
			Mentions []struct {
				Acct string `json:"acct"`
			} `json:"mentions"`
		} `json:"status"`
	}
	if err := json.NewDecoder(res.Body).Decode(&ns); err != nil {
		t.Fatalf("notifications: %s: %v", res.Status, err)
	}
	var out []string
	for _, n := range ns {
		if n.Status.Account.Username != from {
			continue
		}
		if n.Status.Visibility != "direct" || len(n.Status.Mentions) != 1 {
			t.Errorf("digest status: visibility %s, mentions %v: want direct, to its recipient only", n.Status.Visibility, n.Status.Mentions)
		}
		out = append(out, n.Status.Content)
	}
	return out
}

// TestArrivalsFollowAndTell is issue 6's scenario on the real Neo4j,
// Redis, PDS and GoToSocial.
func TestArrivalsFollowAndTell(t *testing.T) {
	ctx := context.Background()
	w := newArrivalWorld(t)
	b := &bots{gts: testenv.MustGTSAccount(t, "bot"), pds: testenv.MustPDSAccount(t, "bot"), chat: testenv.ChatFake(t)}
	opt, fan := w.start(t, b)
	q := asynq.NewClient(opt)
	defer q.Close()
	w.link(t, q)
	waitQueues(t, opt, 3*time.Minute)

	newcomerDID, claimerDID, newcomerAcct := w.newcomer.pds.DID, w.claimer.DID, w.newcomer.gts.Acct
	check := func(when string) {
		t.Helper()
		for i := range arrivalMembers {
			if hasBluesky(i) {
				f := w.blueskyFollows(t, i)
				if _, ok := f[newcomerDID]; ok != autoReconnect(i) {
					t.Errorf("%s: %s follows the newcomer on the PDS: %v, want %v (auto-reconnect)", when, member(i), ok, autoReconnect(i))
				}
				if _, ok := f[claimerDID]; ok != (autoReconnect(i) && allowsClaimed(i)) {
					t.Errorf("%s: %s follows the claimer on the PDS: %v, want %v (auto-reconnect and claimed links allowed)", when, member(i), ok, autoReconnect(i) && allowsClaimed(i))
				}
			}
			if hasMastodon(i) {
				if _, ok := w.mastodonFollows(t, i)[newcomerAcct]; ok != autoReconnect(i) {
					t.Errorf("%s: %s follows the newcomer on GoToSocial: %v, want %v", when, member(i), ok, autoReconnect(i))
				}
			}
		}
	}
	check("after the links")

	// Those with auto-reconnect off see the newcomer as a proposal.
	for i := range arrivalMembers {
		if autoReconnect(i) || !hasBluesky(i) {
			continue
		}
		rows, err := w.store.Reachable(ctx, engine.MatchQuery{Member: member(i), Network: engine.Bluesky}, false)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range rows {
			found = found || r.Account == newcomerDID && !r.Followed
		}
		if !found {
			t.Errorf("%s (auto-reconnect off): the newcomer is not proposed: %+v", member(i), rows)
		}
	}

	// Digests: the daily sweep, twice, and every digest it enqueues.
	digests := func() {
		for range 2 {
			if _, err := q.Enqueue(asynq.NewTask(workers.TypeNotifySweep, nil)); err != nil {
				t.Fatal(err)
			}
			waitQueues(t, opt, time.Minute)
		}
	}
	digests()
	told := func(when string) {
		t.Helper()
		for i := range arrivalMembers {
			var got []string
			if hasMastodon(i) {
				got = directsFrom(t, w.gts[i].Token, b.gts.Username)
			} else if hasBluesky(i) {
				for _, m := range b.chat.Messages(w.pds[i].DID) {
					got = append(got, m.Text)
				}
			}
			if !notifies(i) {
				if len(got) != 0 {
					t.Errorf("%s: %s did not consent and got %q", when, member(i), got)
				}
				continue
			}
			if len(got) != 1 {
				t.Errorf("%s: %s got %d digests, want 1: %q", when, member(i), len(got), got)
				continue
			}
			if !strings.Contains(got[0], w.newcomer.pds.Handle) || !strings.Contains(got[0], "newcomer_on_x") {
				t.Errorf("%s: %s's digest does not name the newcomer: %q", when, member(i), got[0])
			}
			if strings.Contains(got[0], w.claimer.Handle) != allowsClaimed(i) {
				t.Errorf("%s: %s's digest names the claimer: %v, want %v: %q", when, member(i), !allowsClaimed(i), allowsClaimed(i), got[0])
			}
		}
	}
	told("first digests")

	// Replays: the newcomer's fan-out twice at once (two workers) and once
	// more, then the sweeps again: nothing changes on the servers.
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := fan.Run(ctx, engine.Bluesky, newcomerDID); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	res, err := fan.Run(ctx, engine.Mastodon, newcomerAcct)
	if err != nil || res.Follows != 0 || res.Announced != 0 {
		t.Errorf("replayed fan-out: %+v, %v: want no new follow task and no new announcement", res, err)
	}
	w.link(t, q) // the same links again, with new stamps
	waitQueues(t, opt, 2*time.Minute)
	digests()
	check("after the replays")
	told("after the replays")
	for i, a := range w.pds {
		s, err := w.bsky.LoginAppPassword(ctx, testenv.PDSURL(), a.Handle, a.Password)
		if err != nil {
			t.Fatal(err)
		}
		if records, subjects, err := s.CountFollowRecords(ctx); err != nil || records != subjects {
			t.Errorf("%s: %d follow records for %d accounts (%v): duplicates", member(i), records, subjects, err)
		}
	}
}
