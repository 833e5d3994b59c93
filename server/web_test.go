package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
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
	"github.com/passerelle-social/passerelle/networks/x"
	"github.com/passerelle-social/passerelle/server"
	"github.com/passerelle-social/passerelle/workers"
)

var testKey = bytes.Repeat([]byte{7}, 32)

// site is the web UI on an httptest server, over the real test Neo4j,
// Redis and PDS, with a worker that runs imports and follows.
type site struct {
	URL     string
	store   *cypher.Store
	uploads string
	bsky    *bluesky.Client
}

func newSite(t *testing.T, maxUpload int64, admins ...string) *site {
	return newSiteX(t, maxUpload, nil, admins...)
}

func newSiteX(t *testing.T, maxUpload int64, xc server.XSignIn, admins ...string) *site {
	return newSiteWith(t, maxUpload, xc, 1000, admins...)
}

// newSiteWith is newSite with X sign-in and the sign-in rate limit chosen
// (the other tests sign in more than 10 times a minute from 127.0.0.1).
func newSiteWith(t *testing.T, maxUpload int64, xc server.XSignIn, signInPerMinute int64, admins ...string) *site {
	t.Helper()
	store := testenv.MustGraph(t)
	rdb := testenv.MustRedis(t)
	opt := asynq.RedisClientOpt{Addr: testenv.RedisAddr()}
	q := asynq.NewClient(opt)
	t.Cleanup(func() { q.Close() })
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { insp.Close() })
	box, _ := seal.New(testKey)
	log := testenv.Logger(t)
	// The address first: the OAuth clients' callbacks name it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	oa := bluesky.NewOAuth(bluesky.OAuthOptions{PublicURL: base, CallbackPath: "/signin/bluesky/callback", PLCURL: testenv.PLCURL(),
		LocalPDS: []string{testenv.PDSURL()}, Sessions: store, Redis: rdb, Box: box})
	s := &site{store: store, uploads: t.TempDir(), bsky: bluesky.New(bluesky.Options{PLCURL: testenv.PLCURL(), OAuth: oa})}
	adm := map[string]bool{}
	for _, a := range admins {
		adm[a] = true
	}
	masto := mastodon.New(mastodon.Options{})
	web := &server.Web{Store: store, Queue: q, Inspector: insp, Redis: rdb, Box: box, Texts: i18n.MustLoad(),
		Uploads: &workers.Uploads{Dir: s.uploads}, MaxUpload: maxUpload, Bluesky: s.bsky,
		BlueskyHosts: []string{testenv.PDSURL()}, Admins: adm, Log: log,
		Mastodon: masto, MastodonOAuth: masto, MastodonHosts: []string{testenv.GoToSocialURL()}, X: xc, BlueskyOAuth: oa, SignInPerMinute: signInPerMinute}
	web.PublicURL, _ = url.Parse(base)
	srv, err := server.New(server.Options{Logger: log, Registry: prometheus.NewRegistry(), Web: web})
	if err != nil {
		t.Fatal(err)
	}
	hs := &httptest.Server{Listener: ln, Config: &http.Server{Handler: srv.Handler()}}
	hs.Start()
	t.Cleanup(hs.Close)
	s.URL = hs.URL

	wk := workers.NewWorker(workers.Options{Redis: opt, Concurrency: 2, Logger: log, Registry: prometheus.NewRegistry(), ShutdownTimeout: 5 * time.Second})
	wk.Handle(workers.TypeArchiveImport, workers.HandleArchiveImport(&engine.Importer{Graph: store}, web.Uploads, false, q, log))
	wk.Handle(workers.TypeMatchMember, workers.HandleMatchMember(store, q))
	wk.Handle(workers.TypeArrivalFanout, (&workers.Fanout{Graph: store, Enqueuer: q, Log: log}).Handle)
	f := &workers.Follower{Name: engine.Bluesky, Client: s.bsky, Graph: store, Box: box, Enqueuer: q, Log: log}
	wk.Handle(workers.TaskType(engine.Bluesky), f.Handle)
	if err := wk.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(wk.Shutdown)
	return s
}

// browser is a person's HTTP client: cookies, and the CSRF token that
// every page sets.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (s *site) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, base: s.URL, c: &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	b.get("/", nil) // the CSRF cookie
	return b
}

func (b *browser) csrf() string {
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "passerelle_csrf" {
			return c.Value
		}
	}
	return ""
}

// do sends a request and returns status and body; json asks for the API's
// answer.
func (b *browser) do(method, path string, body io.Reader, contentType string, json bool) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest(method, b.base+path, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if json {
		req.Header.Set("Accept", "application/json")
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if loc := res.Header.Get("Location"); loc != "" && res.StatusCode == http.StatusSeeOther {
		return res.StatusCode, loc
	}
	return res.StatusCode, string(out)
}

func (b *browser) get(path string, v any) (int, string) {
	b.t.Helper()
	code, body := b.do(http.MethodGet, path, nil, "", v != nil)
	if v != nil && code == http.StatusOK {
		if err := json.Unmarshal([]byte(body), v); err != nil {
			b.t.Fatalf("GET %s: %v: %s", path, err, body)
		}
	}
	return code, body
}

// post sends a form with the CSRF token (unless the form has "csrf").
func (b *browser) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf())
	}
	return b.do(http.MethodPost, path, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded", strings.HasPrefix(path, "/api/"))
}

// upload posts files as the upload form does: the csrf field first.
func (b *browser) upload(path string, files map[string][]byte) (int, string) {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", b.csrf())
	for name, data := range files {
		fw, _ := mw.CreateFormFile("archive", name)
		fw.Write(data)
	}
	mw.Close()
	return b.do(http.MethodPost, path, &buf, mw.FormDataContentType(), true)
}

func (b *browser) signIn(a testenv.PDSAccount) {
	b.t.Helper()
	code, body := b.post("/signin/bluesky", url.Values{"host": {testenv.PDSURL()}, "identifier": {a.Handle}, "password": {a.Password}})
	if code != http.StatusSeeOther {
		b.t.Fatalf("sign-in: %d %s", code, body)
	}
}

// archiveZip returns member n's archive (a ZIP), following the X
// accounts given.
func archiveZip(t *testing.T, n int, follows ...string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "archive.zip")
	if err := fixtures.WriteArchiveFollowing(out, fixtures.ArchiveOptions{Account: n, Username: fmt.Sprintf("member%d", n)}, follows); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSignInUploadReconnect walks the member's way through the JSON API on
// the real services: sign in with an app password on the local PDS, upload
// an archive, follow its import to 100%, see the matches, reconnect all,
// and find the follow records on the PDS.
func TestSignInUploadReconnect(t *testing.T) {
	s := newSite(t, 64<<20)
	ctx := context.Background()
	// Three people alice followed on X are on the PDS (a dataset says so).
	var targets []testenv.PDSAccount
	var rows []engine.DatasetRow
	var xids []string
	for i := 1; i <= 3; i++ {
		a := testenv.MustPDSAccount(t, fmt.Sprintf("friend%d", i))
		targets = append(targets, a)
		xids = append(xids, fixtures.XID(500+i))
		rows = append(rows, engine.DatasetRow{XID: fixtures.XID(500 + i), Network: engine.Bluesky, Account: a.DID, Trust: engine.TrustVerified})
	}
	if _, err := s.store.ImportDataset(ctx, "dataset:web.csv", "v1", rows, false); err != nil {
		t.Fatal(err)
	}
	alice := testenv.MustPDSAccount(t, "alice")
	b := s.browser(t)
	b.signIn(alice)

	// Auto-reconnect off, so that "reconnect all" is what follows them.
	if code, body := b.post("/api/settings", url.Values{"locale": {"fr"}, "notify_period": {"weekly"}}); code != http.StatusOK {
		t.Fatalf("settings: %d %s", code, body)
	}
	code, body := b.upload("/api/imports", map[string][]byte{"archive.zip": archiveZip(t, 100, xids...)})
	if code != http.StatusOK {
		t.Fatalf("upload: %d %s", code, body)
	}
	var up struct{ Upload string }
	json.Unmarshal([]byte(body), &up)
	deadline := time.Now().Add(time.Minute)
	for {
		var st struct {
			State   string
			Percent int
			Error   string
		}
		if code, body := b.get("/api/imports/"+up.Upload, &st); code != http.StatusOK {
			t.Fatalf("import status: %d %s", code, body)
		}
		if st.State == "done" && st.Percent == 100 {
			break
		}
		if st.State == "failed" || time.Now().After(deadline) {
			t.Fatalf("import: %+v", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var rec struct {
		Pending int
		Rows    []engine.Reconnection
	}
	b.get("/api/reconnections?network=bluesky", &rec)
	if rec.Pending != 3 || len(rec.Rows) != 3 {
		t.Log(testenv.Query(t, "MATCH (m:Member)-[r]->(x) RETURN m.id AS m, type(r) AS t, labels(x) AS l, coalesce(x.xid, x.did) AS k", nil))
		t.Log(testenv.Query(t, "MATCH (x:XAccount {xid: $x})-[r]->(y) RETURN type(r) AS t, count(*) AS n", map[string]any{"x": fixtures.XID(100)}))
		t.Fatalf("reconnections: %+v", rec)
	}
	// Dismiss one with the row's button (the page's field), then bring it
	// back through the API.
	if code, to := b.post("/reconnections/dismiss", url.Values{"network": {"bluesky"}, "dismiss": {targets[0].DID}}); code != http.StatusSeeOther {
		t.Fatalf("dismiss: %d %s", code, to)
	}
	var dis struct {
		Pending   int
		Dismissed []engine.Reconnection
	}
	b.get("/api/reconnections?network=bluesky", &dis)
	if dis.Pending != 2 || len(dis.Dismissed) != 1 || dis.Dismissed[0].Account != targets[0].DID {
		t.Fatalf("after a dismissal: %+v, want 2 pending and the dismissed one listed", dis)
	}
	if _, page := b.get("/reconnections?network=bluesky", nil); !strings.Contains(page, `name="dismiss" value="`+targets[0].DID+`"`) {
		t.Error("the page offers no way to bring the dismissed account back")
	}
	if code, body := b.post("/api/reconnections/dismiss", url.Values{"network": {"bluesky"}, "account": {targets[0].DID}, "undo": {"1"}}); code != http.StatusOK {
		t.Fatalf("undo: %d %s", code, body)
	}
	b.get("/api/reconnections?network=bluesky", &dis)
	if dis.Pending != 3 || len(dis.Dismissed) != 0 {
		t.Fatalf("after the undo: %+v, want 3 pending and none dismissed", dis)
	}
	if code, body := b.post("/api/reconnections/follow", url.Values{"network": {"bluesky"}, "all": {"1"}}); code != http.StatusOK {
		t.Fatalf("reconnect all: %d %s", code, body)
	}
	deadline = time.Now().Add(time.Minute)
	for {
		var p workers.Progress
		b.get("/api/reconnections/progress", &p)
		if p.Tasks > 0 && p.Done == p.Tasks {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("progress: %+v", p)
		}
		time.Sleep(200 * time.Millisecond)
	}
	sess, err := s.bsky.LoginAppPassword(ctx, testenv.PDSURL(), alice.Handle, alice.Password)
	if err != nil {
		t.Fatal(err)
	}
	follows, err := sess.Follows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range targets {
		if _, ok := follows[a.DID]; !ok {
			t.Errorf("%s not followed on the PDS: %v", a.Handle, follows)
		}
	}
	// The page is in the member's language now.
	if _, page := b.get("/reconnections", nil); !strings.Contains(page, `lang="fr"`) {
		t.Error("the reconnections page is not in French after the member chose it")
	}
}

// TestWhoGetsWhat walks every route as anonymous, as member A, as member B
// and as an admin. Members act only on themselves (no route takes another
// member's id), so B can't see or change A's import, reconnections or
// settings; the admin page is the admin's alone.
func TestWhoGetsWhat(t *testing.T) {
	adminAccount := testenv.MustPDSAccount(t, "admin")
	s := newSite(t, 8<<20, adminAccount.DID)
	aAccount, bAccount := testenv.MustPDSAccount(t, "a"), testenv.MustPDSAccount(t, "b")
	anon, a, b, admin := s.browser(t), s.browser(t), s.browser(t), s.browser(t)
	a.signIn(aAccount)
	b.signIn(bAccount)
	admin.signIn(adminAccount)
	code, body := a.upload("/api/imports", map[string][]byte{"archive.zip": archiveZip(t, 7)})
	if code != http.StatusOK {
		t.Fatalf("A's upload: %d %s", code, body)
	}
	var up struct{ Upload string }
	json.Unmarshal([]byte(body), &up)

	type want struct{ anon, a, b, admin int }
	see, redirect := http.StatusOK, http.StatusSeeOther
	for _, r := range []struct {
		method, path string
		want         want
	}{
		{"GET", "/", want{see, see, see, see}},
		{"GET", "/privacy", want{see, see, see, see}},
		{"GET", "/signin", want{see, see, see, see}},
		{"GET", "/api/openapi.json", want{see, see, see, see}},
		{"GET", "/healthz", want{see, see, see, see}},
		{"GET", "/metrics", want{see, see, see, see}}, // from this machine (the test's client is local)
		{"GET", "/upload", want{redirect, see, see, see}},
		{"GET", "/reconnections", want{redirect, see, see, see}},
		{"GET", "/settings", want{redirect, see, see, see}},
		{"GET", "/delete", want{redirect, see, see, see}},
		{"GET", "/accounts", want{redirect, see, see, see}},
		{"GET", "/oauth/client-metadata.json", want{see, see, see, see}},
		{"GET", "/signin/bluesky/callback?state=x&code=y&iss=z", want{400, 400, 400, 400}},
		{"GET", "/signin/mastodon/callback?state=x&code=y", want{400, 400, 400, 400}},
		{"GET", "/signin/x/callback?state=x&code=y", want{redirect, 404, 404, 404}}, // X sign-in off here
		{"POST", "/api/signin/x", want{401, 404, 404, 404}},
		{"GET", "/admin", want{redirect, 403, 403, see}},
		{"GET", "/imports/" + up.Upload, want{redirect, see, 404, 404}},
		{"GET", "/api/imports/" + up.Upload, want{401, see, 404, 404}},
		{"GET", "/api/me", want{401, see, see, see}},
		{"GET", "/api/reconnections", want{401, see, see, see}},
		{"GET", "/api/reconnections/progress", want{401, see, see, see}},
		{"GET", "/api/settings", want{401, see, see, see}},
		{"GET", "/api/admin/conflicts", want{401, 403, 403, see}},
		{"POST", "/api/reconnections/pause", want{401, see, see, see}},
		{"POST", "/api/reconnections/follow", want{401, 400, 400, 400}}, // no network given
		{"POST", "/api/delete", want{401, 400, 400, 400}},               // not confirmed
		{"POST", "/settings", want{redirect, redirect, redirect, redirect}},
	} {
		for i, who := range []*browser{anon, a, b, admin} {
			w := []int{r.want.anon, r.want.a, r.want.b, r.want.admin}[i]
			name := []string{"anonymous", "A", "B", "admin"}[i]
			var code int
			var body string
			if r.method == "GET" {
				code, body = who.get(r.path, nil)
			} else {
				code, body = who.post(r.path, nil)
			}
			if code != w {
				t.Errorf("%s %s as %s: %d, want %d (%.200s)", r.method, r.path, name, code, w, body)
			}
		}
	}
	// A state-changing request without the CSRF token, or from another
	// origin, is refused.
	if code, _ := a.post("/api/settings", url.Values{"csrf": {"forged"}}); code != http.StatusForbidden {
		t.Errorf("POST without the right CSRF token: %d, want 403", code)
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/settings", strings.NewReader("csrf="+a.csrf()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	res, err := a.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("POST from another origin: %d, want 403", res.StatusCode)
	}
	// Through a proxy, /metrics is refused: it answers this machine only.
	req, _ = http.NewRequest(http.MethodGet, s.URL+"/metrics", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	if res, err := anon.c.Do(req); err != nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("/metrics through a proxy: %v %v, want 403", res.Status, err)
	}
	// A forged session cookie is nobody.
	u, _ := url.Parse(s.URL)
	anon.c.Jar.SetCookies(u, []*http.Cookie{{Name: "passerelle_session", Value: "v1.forged"}})
	if code, _ := anon.get("/api/me", nil); code != http.StatusUnauthorized {
		t.Errorf("forged session: %d, want 401", code)
	}
}

// TestScriptInANameIsInert: a handle holding markup shows as text on every
// page that names it.
func TestScriptInANameIsInert(t *testing.T) {
	s := newSite(t, 8<<20)
	ctx := context.Background()
	evil := `<script>alert("x")</script><img src=x onerror=alert(1)>`
	target := testenv.MustPDSAccount(t, "evil")
	if _, err := s.store.ImportDataset(ctx, "dataset:evil.csv", "v1", []engine.DatasetRow{
		{XID: fixtures.XID(900), Network: engine.Bluesky, Account: target.DID, Trust: engine.TrustVerified}}, false); err != nil {
		t.Fatal(err)
	}
	if err := s.store.CreateMember(ctx, "evil"); err != nil {
		t.Fatal(err)
	}
	if err := s.store.LinkAccount(ctx, engine.LinkRequest{Member: "evil", Network: engine.Bluesky, Account: target.DID, Handle: evil, Via: "admin", Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	me := testenv.MustPDSAccount(t, "me")
	b := s.browser(t)
	b.signIn(me)
	b.post("/api/settings", nil) // auto-reconnect off: the row stays a proposal
	code, body := b.upload("/api/imports", map[string][]byte{"archive.zip": archiveZip(t, 8, fixtures.XID(900))})
	if code != http.StatusOK {
		t.Fatalf("upload: %d %s", code, body)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		_, page := b.get("/reconnections", nil)
		if strings.Contains(page, "&lt;script&gt;") {
			if strings.Contains(page, "<script>alert") || strings.Contains(page, "<img src=x") {
				t.Fatalf("the handle's markup is live in the page:\n%s", page)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the handle never showed:\n%s", page)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// TestUploadLimits: an over-size upload gets 413 and a page that says the
// limit; a wrong file type a clear message; neither changes what the
// member already had.
func TestUploadLimits(t *testing.T) {
	s := newSite(t, 1<<20) // 1 MiB
	me := testenv.MustPDSAccount(t, "me")
	b := s.browser(t)
	b.signIn(me)
	code, body := b.upload("/api/imports", map[string][]byte{"archive.zip": archiveZip(t, 9)})
	if code != http.StatusOK {
		t.Fatalf("upload: %d %s", code, body)
	}
	waitFiles := func() []string {
		entries, _ := os.ReadDir(s.uploads)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	// The page's form (not the API): 413 and the limit in words.
	big := bytes.Repeat([]byte("PK\x03\x04"), 1<<19) // 2 MiB
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", b.csrf())
	fw, _ := mw.CreateFormFile("archive", "big.zip")
	fw.Write(big)
	mw.Close()
	code, page := b.do(http.MethodPost, "/upload", &buf, mw.FormDataContentType(), false)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(page, "1 MB") {
		t.Errorf("over-size upload: %d, want 413 with the limit:\n%.400s", code, page)
	}
	code, body = b.upload("/api/imports", map[string][]byte{"photo.png": []byte("\x89PNG\r\n\x1a\n not an archive")})
	if code != http.StatusUnsupportedMediaType || !strings.Contains(body, "not an X archive") {
		t.Errorf("wrong type: %d %s", code, body)
	}
	for _, n := range waitFiles() {
		if !strings.HasPrefix(n, "up_") {
			t.Errorf("a refused upload left %s behind", n)
		}
	}
	// The first archive is still there and imports.
	st, err := s.store.MemberImportState(context.Background(), memberOf(t, b))
	deadline := time.Now().Add(time.Minute)
	for err == nil && len(st.Archives) == 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		st, err = s.store.MemberImportState(context.Background(), memberOf(t, b))
	}
	if err != nil || len(st.Archives) != 1 {
		t.Errorf("after the refused uploads: %+v, %v; want the first archive", st, err)
	}
}

func memberOf(t *testing.T, b *browser) string {
	var me struct{ Member string }
	b.get("/api/me", &me)
	return me.Member
}

// TestDeleteMyData: a confirmed deletion erases the member and ends the
// session Passerelle held on their PDS; an unconfirmed one changes nothing.
func TestDeleteMyData(t *testing.T) {
	s := newSite(t, 8<<20)
	ctx := context.Background()
	me := testenv.MustPDSAccount(t, "leaver")
	b := s.browser(t)
	b.signIn(me)
	member := memberOf(t, b)
	sealed, err := s.store.Credentials(ctx, member, engine.Bluesky, me.DID)
	if err != nil {
		t.Fatal(err)
	}
	box, _ := seal.New(testKey)
	plain, err := box.Open(sealed, engine.CredentialsContext(member, me.DID))
	if err != nil {
		t.Fatal(err)
	}
	var creds engine.Credentials
	json.Unmarshal([]byte(plain), &creds)

	if code, _ := b.post("/delete", url.Values{"confirm": {"nope"}}); code != http.StatusBadRequest {
		t.Errorf("unconfirmed delete: %d, want 400", code)
	}
	if m, _ := s.store.MemberByAccount(ctx, engine.Bluesky, me.DID); m != member {
		t.Fatal("an unconfirmed delete removed the member")
	}
	if code, to := b.post("/delete", url.Values{"confirm": {"delete"}}); code != http.StatusSeeOther || !strings.Contains(to, "notice.deleted") {
		t.Fatalf("delete: %d %s", code, to)
	}
	if m, _ := s.store.MemberByAccount(ctx, engine.Bluesky, me.DID); m != "" {
		t.Error("the member is still there")
	}
	if rows := testenv.Query(t, "MATCH (m:Member {id: $m}) RETURN m", map[string]any{"m": member}); len(rows) != 0 {
		t.Error("the Member node is still there")
	}
	if code, _ := b.get("/api/me", nil); code != http.StatusUnauthorized {
		t.Errorf("after delete /api/me = %d, want 401 (signed out)", code)
	}
	creds.Password = "" // only the session Passerelle held
	if _, err := s.bsky.Refresh(ctx, creds); err == nil {
		t.Error("the session Passerelle held still renews on the PDS: not revoked")
	}
}

// keyLeak finds a catalog key shown as is: a text missing in a language.
var keyLeak = regexp.MustCompile(`\b(nav|landing|privacy|signin|upload|import|rec|trust|settings|delete|admin|notice|error|network)\.[a-z_0-9]+\b`)

// TestEveryPageInEveryLanguage renders every page in each of the seven
// languages and fails on any text left untranslated (shown as its key).
func TestEveryPageInEveryLanguage(t *testing.T) {
	me := testenv.MustPDSAccount(t, "polyglot")
	s := newSite(t, 8<<20, me.DID)
	b := s.browser(t)
	b.signIn(me)
	for _, lang := range engine.Locales {
		for _, p := range []string{"/", "/privacy", "/signin", "/upload", "/reconnections", "/settings", "/delete", "/admin", "/imports/up_000000000000000000000000.zip"} {
			_, page := b.get(p+"?lang="+lang, nil)
			if !strings.Contains(page, `<html lang="`+lang+`">`) {
				t.Errorf("%s in %s: the page is not in %s", p, lang, lang)
			}
			if m := keyLeak.FindString(page); m != "" {
				t.Errorf("%s in %s: %q shows as a key", p, lang, m)
			}
		}
	}
}

// approveOnGoToSocial signs in on the local GoToSocial as a person would
// in their browser and approves Passerelle: it follows the authorize URL,
// posts the sign-in form, posts the approval, and returns where GoToSocial
// sends the browser back (our callback, with the code and state).
func approveOnGoToSocial(t *testing.T, authorize string, a testenv.GTSAccount) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(authorize)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	res, err = c.PostForm(testenv.GoToSocialURL()+"/auth/sign_in", url.Values{"username": {a.Username + "@example.test"}, "password": {a.Password}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode/100 != 3 {
		t.Fatalf("GoToSocial sign-in: %s", res.Status)
	}
	res, err = c.PostForm(testenv.GoToSocialURL()+"/oauth/authorize", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back := res.Header.Get("Location")
	if !strings.Contains(back, "/signin/mastodon/callback?") {
		t.Fatalf("GoToSocial sent the browser to %q (%s)", back, res.Status)
	}
	return back
}

// TestSignInWithMastodon: the OAuth flow on the real GoToSocial, with
// Passerelle's app registered there on first use (its secret sealed),
// reused on the next sign-in; deleting the member revokes the token.
func TestSignInWithMastodon(t *testing.T) {
	s := newSite(t, 8<<20)
	ctx := context.Background()
	sam := testenv.MustGTSAccount(t, "sam")
	signIn := func(b *browser) {
		t.Helper()
		code, to := b.post("/signin/mastodon", url.Values{"instance": {testenv.GoToSocialURL()}})
		if code != http.StatusSeeOther || !strings.HasPrefix(to, testenv.GoToSocialURL()+"/oauth/authorize?") {
			t.Fatalf("start: %d %s", code, to)
		}
		back := approveOnGoToSocial(t, to, sam)
		u, _ := url.Parse(back)
		if code, to := b.get(u.RequestURI(), nil); code != http.StatusSeeOther || (to != "/upload" && to != "/reconnections") {
			t.Fatalf("callback: %d %s", code, to)
		}
	}
	b := s.browser(t)
	signIn(b)
	var me struct {
		Member   string
		Accounts map[string]string
	}
	b.get("/api/me", &me)
	if me.Accounts["mastodon"] != sam.Acct {
		t.Fatalf("/api/me after the Mastodon sign-in: %+v, want %s", me, sam.Acct)
	}
	again := s.browser(t)
	signIn(again)
	if m := memberOf(t, again); m != me.Member {
		t.Errorf("the second sign-in made member %s, want %s", m, me.Member)
	}
	rows := testenv.Query(t, "MATCH (a:MastodonApp) RETURN a.instance AS i, a.secret_enc AS s", nil)
	if len(rows) != 1 || !strings.HasPrefix(rows[0]["s"].(string), "v1.") {
		t.Fatalf("apps registered: %v; want one, its secret sealed", rows)
	}
	// Instances on this machine or its private network are refused (the
	// server would call them), but for the ones configured.
	for _, in := range []string{"https://127.0.0.1", "https://10.1.2.3:8443", "localhost", "https://[::1]", "http://example.social"} {
		if code, _ := b.post("/api/signin/mastodon", url.Values{"instance": {in}}); code != http.StatusBadRequest {
			t.Errorf("instance %s: %d, want 400", in, code)
		}
	}
	// A replayed or forged state is refused.
	if code, _ := b.get("/signin/mastodon/callback?state=forged&code=x", nil); code != http.StatusBadRequest {
		t.Errorf("forged state: %d, want 400", code)
	}
	// Leaving revokes the token on the instance.
	sealed, err := s.store.Credentials(ctx, me.Member, engine.Mastodon, sam.Acct)
	if err != nil {
		t.Fatal(err)
	}
	box, _ := seal.New(testKey)
	plain, _ := box.Open(sealed, engine.CredentialsContext(me.Member, sam.Acct))
	var creds engine.Credentials
	json.Unmarshal([]byte(plain), &creds)
	if code, to := b.post("/delete", url.Values{"confirm": {"delete"}}); code != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", code, to)
	}
	// GoToSocial v0.18.3 has no /oauth/revoke (it answers 404; the
	// endpoint came in a later release, gotosocial#1081), so the revocation
	// Passerelle sends is refused there and the token is only erased here;
	// on Mastodon the same call revokes it.
	if _, err := s.store.Credentials(ctx, me.Member, engine.Mastodon, sam.Acct); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("the sealed token is still stored after the member deleted their data: %v", err)
	}
	if err := mastodon.New(mastodon.Options{}).RevokeToken(ctx, &engine.OAuthApp{Instance: testenv.GoToSocialURL(), ClientID: "x", ClientSecret: "y"}, creds.Token); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("GoToSocial answered the revocation: %v (if it revokes now, assert the token is dead)", err)
	}
}

// TestOpenAPIMatchesTheRoutes: every /api route is in the OpenAPI document
// with its method, and the document names no route that does not exist.
func TestOpenAPIMatchesTheRoutes(t *testing.T) {
	srv, err := server.New(server.Options{Logger: testenv.Logger(t), Registry: prometheus.NewRegistry(),
		Web: &server.Web{Texts: i18n.MustLoad()}})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	code, body := get(t, srv.Handler(), "/api/openapi.json")
	if code != http.StatusOK || json.Unmarshal([]byte(body), &doc) != nil {
		t.Fatalf("/api/openapi.json: %d", code)
	}
	seen := map[string]bool{}
	for _, r := range srv.Routes() {
		if !strings.HasPrefix(r.Path, "/api/") || r.Path == "/api/openapi.json" {
			continue
		}
		p := regexp.MustCompile(`:(\w+)`).ReplaceAllString(r.Path, "{$1}")
		key := strings.ToLower(r.Method) + " " + p
		seen[key] = true
		if _, ok := doc.Paths[p][strings.ToLower(r.Method)]; !ok {
			t.Errorf("%s %s is not in openapi.json", r.Method, p)
		}
	}
	for p, ops := range doc.Paths {
		for m := range ops {
			if !seen[m+" "+p] {
				t.Errorf("openapi.json names %s %s, which is no route", strings.ToUpper(m), p)
			}
		}
	}
}

// fakeX stands in for X's OAuth 2.0 endpoints, which are not reachable
// from here: the consent page approves at once, the token endpoint checks
// the client's secret, the code and the PKCE verifier (S256), users/me
// answers the account set in who, and revocation is accepted.
type fakeX struct {
	*httptest.Server
	mu        sync.Mutex
	who       x.Account
	challenge map[string]string // code → code_challenge
	revoked   int
}

func newFakeX(t *testing.T) *fakeX {
	f := &fakeX{challenge: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /i/oauth2/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != "passerelle-test" || q.Get("code_challenge_method") != "S256" || q.Get("scope") != x.Scopes {
			http.Error(w, "bad authorize request", http.StatusBadRequest)
			return
		}
		code := fmt.Sprintf("code-%d", time.Now().UnixNano())
		f.mu.Lock()
		f.challenge[code] = q.Get("code_challenge")
		f.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?state="+url.QueryEscape(q.Get("state"))+"&code="+code, http.StatusFound)
	})
	mux.HandleFunc("POST /2/oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, _ := r.BasicAuth()
		f.mu.Lock()
		want, ok := f.challenge[r.PostFormValue("code")]
		delete(f.challenge, r.PostFormValue("code"))
		f.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
		if id != "passerelle-test" || secret != "s3cret" || !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != want {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, `{"access_token":"x-token","token_type":"bearer"}`)
	})
	mux.HandleFunc("GET /2/users/me", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer x-token" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"data": f.who})
	})
	mux.HandleFunc("POST /2/oauth2/revoke", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.revoked++
		f.mu.Unlock()
		fmt.Fprint(w, `{"revoked":true}`)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

// TestSignInWithXVerifiesTheClaim: X is not reachable from here, so its
// OAuth endpoints are a fake (fakeX). A member whose archive made a
// claimed link proves their X account: the link becomes verified, and a
// follower who only auto-follows verified links is now queued to follow.
func TestSignInWithXVerifiesTheClaim(t *testing.T) {
	fx := newFakeX(t)
	s := newSiteX(t, 8<<20, &x.Client{ClientID: "passerelle-test", ClientSecret: "s3cret", AuthURL: fx.URL + "/i/oauth2/authorize", APIURL: fx.URL})
	ctx := context.Background()
	alice := testenv.MustPDSAccount(t, "alice")
	b := s.browser(t)
	b.signIn(alice)
	member := memberOf(t, b)
	code, body := b.upload("/api/imports", map[string][]byte{"archive.zip": archiveZip(t, 31)})
	if code != http.StatusOK {
		t.Fatalf("upload: %d %s", code, body)
	}
	trust := func() string {
		rows := testenv.Query(t, "MATCH (:XAccount {xid: $x})-[s:SAME_AS {source: 'member'}]->(:BlueskyAccount {did: $d}) RETURN s.trust AS trust",
			map[string]any{"x": fixtures.XID(31), "d": alice.DID})
		if len(rows) == 0 {
			return ""
		}
		return rows[0]["trust"].(string)
	}
	deadline := time.Now().Add(time.Minute)
	for trust() != "claimed" {
		if time.Now().After(deadline) {
			t.Fatalf("after the import the link is %q, want claimed", trust())
		}
		time.Sleep(200 * time.Millisecond)
	}
	fx.mu.Lock()
	fx.who = x.Account{ID: fixtures.XID(31), Username: "member31"}
	fx.mu.Unlock()
	code, to := b.post("/signin/x", nil)
	if code != http.StatusSeeOther || !strings.HasPrefix(to, fx.URL) {
		t.Fatalf("start: %d %s", code, to)
	}
	// X's consent page approves at once and sends the browser back.
	back := fx.lastRedirect(t, to)
	if code, to := b.get(back, nil); code != http.StatusSeeOther || !strings.Contains(to, "notice.x_verified") {
		t.Fatalf("callback: %d %s", code, to)
	}
	if got := trust(); got != "verified" {
		t.Errorf("after signing in with X the link is %q, want verified", got)
	}
	if fx.revoked != 1 {
		t.Errorf("X's token was revoked %d times, want 1 (Passerelle keeps nothing of X)", fx.revoked)
	}
	// The same callback again is refused: states are used once.
	if code, _ := b.get(back, nil); code != http.StatusBadRequest {
		t.Errorf("replayed callback: %d, want 400", code)
	}
	st, err := s.store.MemberImportState(ctx, member)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range st.Claims {
		found = found || c.XID == fixtures.XID(31) && c.Via == engine.ViaXOAuth
	}
	if !found {
		t.Errorf("claims: %+v, want an x_oauth claim of %s", st.Claims, fixtures.XID(31))
	}
}

// lastRedirect runs X's consent page without following its redirect and
// returns the path and query it sends the browser to.
func (f *fakeX) lastRedirect(t *testing.T, authorize string) string {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(authorize)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	u, err := url.Parse(res.Header.Get("Location"))
	if err != nil || u.Path != "/signin/x/callback" {
		t.Fatalf("X sent the browser to %q", res.Header.Get("Location"))
	}
	return u.RequestURI()
}

// TestSignInWithBlueskyOAuth: atproto OAuth on the real local PDS (DPoP,
// PAR, PKCE, through indigo's client), the PDS's authorization page driven
// over HTTP as a browser would; the session is sealed in the graph and a
// follow task made with it writes a real follow record.
func TestSignInWithBlueskyOAuth(t *testing.T) {
	s := newSite(t, 8<<20)
	ctx := context.Background()
	me, friend := testenv.MustPDSAccount(t, "oauth"), testenv.MustPDSAccount(t, "friend")
	b := s.browser(t)
	code, to := b.post("/signin/bluesky/oauth", url.Values{"handle": {me.Handle}})
	if code != http.StatusSeeOther || !strings.HasPrefix(to, testenv.PDSURL()+"/oauth/authorize?") {
		t.Fatalf("start: %d %s", code, to)
	}
	back := testenv.ApproveOnPDS(t, to, me.Handle, me.Password)
	u, err := url.Parse(back)
	if err != nil || u.Path != "/signin/bluesky/callback" {
		t.Fatalf("the PDS sent the browser to %q", back)
	}
	if code, to := b.get(u.RequestURI(), nil); code != http.StatusSeeOther || to != "/upload" {
		t.Fatalf("callback: %d %s", code, to)
	}
	member := memberOf(t, b)
	if m, _ := s.store.MemberByAccount(ctx, engine.Bluesky, me.DID); m != member {
		t.Fatalf("the account %s belongs to %q, want %s", me.DID, m, member)
	}
	rows := testenv.Query(t, "MATCH (s:OAuthSession) RETURN s.sealed AS sealed", nil)
	if len(rows) != 1 || !strings.HasPrefix(rows[0]["sealed"].(string), "v1.") {
		t.Fatalf("OAuth sessions in the graph: %v; want one, sealed", rows)
	}
	// A follow through the OAuth session: a real record on the PDS.
	if _, err := s.store.ImportDataset(ctx, "dataset:oauth.csv", "v1", []engine.DatasetRow{
		{XID: fixtures.XID(700), Network: engine.Bluesky, Account: friend.DID, Trust: engine.TrustVerified}}, false); err != nil {
		t.Fatal(err)
	}
	if code, body := b.upload("/api/imports", map[string][]byte{"archive.zip": archiveZip(t, 70, fixtures.XID(700))}); code != http.StatusOK {
		t.Fatalf("upload: %d %s", code, body)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		sess, err := s.bsky.LoginAppPassword(ctx, testenv.PDSURL(), me.Handle, me.Password)
		if err != nil {
			t.Fatal(err)
		}
		follows, err := sess.Follows(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := follows[friend.DID]; ok {
			break // auto-reconnect (on by default) followed through OAuth
		}
		if time.Now().After(deadline) {
			t.Fatalf("no follow of %s after a minute: %v", friend.DID, follows)
		}
		time.Sleep(300 * time.Millisecond)
	}
	// Leaving revokes the session on the PDS and deletes it here.
	if code, _ := b.post("/delete", url.Values{"confirm": {"delete"}}); code != http.StatusSeeOther {
		t.Fatalf("delete: %d", code)
	}
	if rows := testenv.Query(t, "MATCH (s:OAuthSession) RETURN s", nil); len(rows) != 0 {
		t.Errorf("%d OAuth sessions left after the member left", len(rows))
	}
}

// TestSettingsRoundTrip: what the settings form saves is what it shows
// next time, every field of it.
func TestSettingsRoundTrip(t *testing.T) {
	s := newSite(t, 8<<20)
	b := s.browser(t)
	b.signIn(testenv.MustPDSAccount(t, "settler"))
	type settings struct {
		AutoReconnect   bool   `json:"auto_reconnect"`
		AllowClaimed    bool   `json:"allow_claimed"`
		NotifyArrivals  bool   `json:"notify_arrivals"`
		NotifyPeriod    string `json:"notify_period"`
		NotifyChannel   string `json:"notify_channel"`
		ResearchConsent bool   `json:"research_consent"`
		ShowName        bool   `json:"show_name"`
		Locale          string `json:"locale"`
	}
	for _, want := range []settings{
		{AutoReconnect: true, AllowClaimed: true, NotifyArrivals: true, NotifyPeriod: "daily", NotifyChannel: "bluesky", ResearchConsent: true, ShowName: true, Locale: "de"},
		{NotifyPeriod: "weekly", Locale: "sv"},
	} {
		form := url.Values{"notify_period": {want.NotifyPeriod}, "notify_channel": {want.NotifyChannel}, "locale": {want.Locale}}
		for k, on := range map[string]bool{"auto_reconnect": want.AutoReconnect, "allow_claimed": want.AllowClaimed,
			"notify_arrivals": want.NotifyArrivals, "research_consent": want.ResearchConsent, "show_name": want.ShowName} {
			if on {
				form.Set(k, "1")
			}
		}
		if code, body := b.post("/api/settings", form); code != http.StatusOK {
			t.Fatalf("save: %d %s", code, body)
		}
		var got settings
		b.get("/api/settings", &got)
		if got != want {
			t.Errorf("settings read back %+v, want %+v", got, want)
		}
		_, page := b.get("/settings", nil)
		if strings.Contains(page, `name="research_consent" value="1" checked`) != want.ResearchConsent {
			t.Errorf("the form shows research consent wrong (want %v)", want.ResearchConsent)
		}
	}
	if code, _ := b.post("/api/settings", url.Values{"notify_period": {"hourly"}}); code != http.StatusBadRequest {
		t.Errorf("an unknown period: %d, want 400", code)
	}
}

// TestSignInIsRateLimited: the 11th sign-in attempt in a minute from one
// address gets 429 and says when to come back.
func TestSignInIsRateLimited(t *testing.T) {
	s := newSiteWith(t, 8<<20, nil, 10)
	b := s.browser(t)
	for i := 1; i <= 11; i++ {
		code, _ := b.post("/api/signin/bluesky", url.Values{"host": {testenv.PDSURL()}, "identifier": {"nobody.test"}, "password": {"wrong"}})
		switch {
		case i <= 10 && code != http.StatusUnauthorized:
			t.Fatalf("attempt %d: %d, want 401", i, code)
		case i == 11 && code != http.StatusTooManyRequests:
			t.Fatalf("attempt 11: %d, want 429", code)
		}
	}
}

// TestOAuthSessionSurvivesConcurrentRenewals: the PDS rotates refresh
// tokens and ends the whole session when one is used twice. Two processes
// (two OAuth clients sharing the graph and Redis, as serve and work do)
// renewing the same session at once, four times each, must leave it alive:
// the account's lock in Redis serializes them and each starts from the
// session as last stored.
func TestOAuthSessionSurvivesConcurrentRenewals(t *testing.T) {
	s := newSite(t, 8<<20)
	ctx := context.Background()
	me := testenv.MustPDSAccount(t, "busy")
	b := s.browser(t)
	_, to := b.post("/signin/bluesky/oauth", url.Values{"handle": {me.Handle}})
	u, _ := url.Parse(testenv.ApproveOnPDS(t, to, me.Handle, me.Password))
	if code, to := b.get(u.RequestURI(), nil); code != http.StatusSeeOther {
		t.Fatalf("callback: %d %s", code, to)
	}
	member := memberOf(t, b)
	box, _ := seal.New(testKey)
	sealed, err := s.store.Credentials(ctx, member, engine.Bluesky, me.DID)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := box.Open(sealed, engine.CredentialsContext(member, me.DID))
	var creds engine.Credentials
	json.Unmarshal([]byte(plain), &creds)

	rdb := testenv.MustRedisKeep(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 2 {
		oa := bluesky.NewOAuth(bluesky.OAuthOptions{PublicURL: s.URL, CallbackPath: "/signin/bluesky/callback", PLCURL: testenv.PLCURL(),
			LocalPDS: []string{testenv.PDSURL()}, Sessions: s.store, Redis: rdb, Box: box})
		client := bluesky.New(bluesky.Options{PLCURL: testenv.PLCURL(), OAuth: oa})
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := client.Refresh(ctx, creds); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a renewal failed: %v", err)
	}
	sess, err := s.bsky.Open(ctx, creds)
	if err != nil {
		t.Fatalf("after the renewals the session does not open: %v", err)
	}
	if _, err := sess.Follows(ctx); err != nil {
		t.Fatalf("after the renewals the session is dead: %v", err)
	}
}

// TestCookiesAreLockedDown: the cookies are HttpOnly and SameSite=Lax
// always, and Secure when the site is served over https.
func TestCookiesAreLockedDown(t *testing.T) {
	for _, public := range []string{"http://127.0.0.1:8080/", "https://passerelle.example/"} {
		u, _ := url.Parse(public)
		box, _ := seal.New(testKey)
		srv, err := server.New(server.Options{Logger: testenv.Logger(t), Registry: prometheus.NewRegistry(),
			Web: &server.Web{Texts: i18n.MustLoad(), Box: box, PublicURL: u}})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/privacy", nil))
		cookies := rec.Result().Cookies()
		if len(cookies) == 0 {
			t.Fatalf("%s: no cookie set", public)
		}
		for _, c := range cookies {
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != (u.Scheme == "https") {
				t.Errorf("%s: cookie %s: HttpOnly %v, SameSite %v, Secure %v", public, c.Name, c.HttpOnly, c.SameSite, c.Secure)
			}
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: CSP %q", public, csp)
		}
	}
}
