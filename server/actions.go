package server

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/networks/x"
	"github.com/passerelle-social/passerelle/workers"
)

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func constantEqual(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// --- sign-in -------------------------------------------------------------

// signInBluesky proves an app password on the member's PDS; the member
// using that account is signed in, or a new member is made for it.
func (w *Web) signInBluesky(c *gin.Context) {
	host := strings.TrimRight(strings.TrimSpace(c.PostForm("host")), "/")
	ident := strings.TrimPrefix(strings.TrimSpace(c.PostForm("identifier")), "@")
	password := c.PostForm("password")
	if host == "" && len(w.BlueskyHosts) > 0 {
		host = w.BlueskyHosts[0]
	}
	if host == "" || ident == "" || password == "" {
		w.fail(c, http.StatusBadRequest, "error.signin_fields", nil)
		return
	}
	if !w.allowedHost(host) {
		w.fail(c, http.StatusBadRequest, "error.signin_host", map[string]any{"Host": host})
		return
	}
	ctx := c.Request.Context()
	account, creds, err := engine.Prove(ctx, w.Bluesky, engine.Bluesky, engine.Credentials{Host: host, Identifier: ident, Password: password})
	if err != nil {
		w.Log.Info("sign-in refused", "network", "bluesky", "host", host, "err", err)
		w.fail(c, http.StatusUnauthorized, "error.signin_failed", nil)
		return
	}
	current, _ := sessionOf(c)
	w.signedIn(c, current.Member, engine.Bluesky, account, creds, "app_password")
}

// signedIn finishes a sign-in: the account is kept (its credentials
// sealed) for the member signed in already (connecting another account),
// else for the member who uses it, else for a new member; then the
// session starts and the arrival is fanned out.
func (w *Web) signedIn(c *gin.Context, current string, n engine.Network, account string, creds engine.Credentials, via string) {
	ctx := c.Request.Context()
	owner, err := w.Store.MemberByAccount(ctx, n, account)
	if err != nil {
		w.error(c, err)
		return
	}
	member, created := owner, false
	switch {
	case current != "" && owner != "" && owner != current:
		w.fail(c, http.StatusConflict, "error.account_taken", nil)
		return
	case current != "":
		member = current
	case owner == "":
		member, created = engine.NewMemberID(), true
		if err := w.Store.CreateMember(ctx, member); err != nil {
			w.error(c, err)
			return
		}
		if l := textsOf(c).Lang(); l != "en" {
			_ = w.Store.SetSettings(ctx, member, engine.Settings{Locale: &l})
		}
	}
	defer w.forget(member)
	if err := engine.Keep(ctx, w.Store, w.Box, member, n, account, creds, via, "member:"+member); err != nil {
		w.error(c, err)
		return
	}
	if err := workers.Linked(ctx, w.Queue, member, n, account, time.Now()); err != nil {
		w.Log.Warn("enqueue arrival", "err", err) // arrival:sweep catches up
	}
	if current == "" {
		w.startSession(c, member, account)
	}
	to := "/reconnections"
	switch {
	case created:
		to = "/upload"
	case current != "":
		to = "/accounts?notice=notice.connected"
	}
	w.done(c, to, gin.H{"member": member, "account": account, "created": created})
}

// signInBlueskyOAuth sends the member to their PDS to approve Passerelle
// (atproto OAuth).
func (w *Web) signInBlueskyOAuth(c *gin.Context) {
	if w.BlueskyOAuth == nil {
		w.fail(c, http.StatusNotFound, "error.not_found", nil)
		return
	}
	to, err := w.BlueskyOAuth.Start(c.Request.Context(), c.PostForm("handle"))
	if err != nil {
		if engine.ErrorCode(err) == engine.EINVALID {
			w.fail(c, http.StatusBadRequest, "error.handle", nil)
			return
		}
		w.error(c, err)
		return
	}
	if isAPI(c) {
		c.JSON(http.StatusOK, gin.H{"authorize_url": to})
		return
	}
	c.Redirect(http.StatusSeeOther, to)
}

// blueskyCallback takes the PDS's answer: the session is sealed in the
// graph and the member signed in (or, already signed in, the account
// connected to them).
func (w *Web) blueskyCallback(c *gin.Context) {
	if w.BlueskyOAuth == nil {
		w.fail(c, http.StatusNotFound, "error.not_found", nil)
		return
	}
	if c.Query("error") != "" {
		w.fail(c, http.StatusBadRequest, "error.oauth_denied", nil)
		return
	}
	account, creds, err := w.BlueskyOAuth.Callback(c.Request.Context(), c.Request.URL.Query())
	if err != nil {
		w.Log.Info("bluesky OAuth sign-in refused", "err", err)
		w.fail(c, http.StatusBadRequest, "error.oauth_state", nil)
		return
	}
	current, _ := sessionOf(c)
	w.signedIn(c, current.Member, engine.Bluesky, account, creds, "oauth")
}

func (w *Web) clientMetadata(c *gin.Context) {
	if w.BlueskyOAuth == nil {
		w.fail(c, http.StatusNotFound, "error.not_found", nil)
		return
	}
	c.JSON(http.StatusOK, w.BlueskyOAuth.ClientMetadata())
}

// oauthState is what a Mastodon sign-in remembers, in Redis for ten
// minutes, between the redirect to the instance and its callback.
type oauthState struct {
	Instance string `json:"instance"`
	Member   string `json:"member,omitempty"` // connecting an account to a signed-in member
}

func (w *Web) callbackURL() string {
	base := "http://127.0.0.1"
	if w.PublicURL != nil {
		base = strings.TrimRight(w.PublicURL.String(), "/")
	}
	return base + "/signin/mastodon/callback"
}

// instanceURL reads the instance a member typed (example.social,
// https://example.social/ or @me@example.social) as an https URL, or one
// of MastodonHosts.
func (w *Web) instanceURL(in string) (string, bool) {
	in = strings.TrimSpace(in)
	if i := strings.LastIndex(in, "@"); i >= 0 && !strings.Contains(in, "://") {
		in = in[i+1:]
	}
	if !strings.Contains(in, "://") {
		in = "https://" + in
	}
	u, err := url.Parse(strings.TrimRight(in, "/"))
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return "", false
	}
	out := u.Scheme + "://" + strings.ToLower(u.Host)
	return out, u.Scheme == "https" || slices.Contains(w.MastodonHosts, out)
}

// signInMastodon sends the member to their instance to approve Passerelle
// (registered there on first use).
func (w *Web) signInMastodon(c *gin.Context) {
	if w.MastodonOAuth == nil {
		w.fail(c, http.StatusNotFound, "error.not_found", nil)
		return
	}
	instance, ok := w.instanceURL(c.PostForm("instance"))
	if !ok {
		w.fail(c, http.StatusBadRequest, "error.instance", nil)
		return
	}
	ctx := c.Request.Context()
	app, err := w.Store.App(ctx, w.MastodonOAuth, w.Box, instance, w.callbackURL())
	if err != nil {
		w.error(c, err)
		return
	}
	current, _ := sessionOf(c)
	state := randomToken()
	b, _ := json.Marshal(oauthState{Instance: instance, Member: current.Member})
	if err := w.Redis.Set(ctx, "passerelle:oauth:"+state, b, 10*time.Minute).Err(); err != nil {
		w.error(c, err)
		return
	}
	to := w.MastodonOAuth.AuthorizeURL(app, state)
	if isAPI(c) {
		c.JSON(http.StatusOK, gin.H{"authorize_url": to})
		return
	}
	c.Redirect(http.StatusSeeOther, to)
}

// mastodonCallback takes the instance's answer: the code becomes a token,
// the token proves the account, the member is signed in.
func (w *Web) mastodonCallback(c *gin.Context) {
	ctx := c.Request.Context()
	raw, err := w.Redis.GetDel(ctx, "passerelle:oauth:"+c.Query("state")).Bytes()
	var st oauthState
	if err != nil || json.Unmarshal(raw, &st) != nil || c.Query("state") == "" {
		w.fail(c, http.StatusBadRequest, "error.oauth_state", nil)
		return
	}
	if c.Query("code") == "" {
		w.fail(c, http.StatusBadRequest, "error.oauth_denied", nil)
		return
	}
	app, err := w.Store.App(ctx, w.MastodonOAuth, w.Box, st.Instance, w.callbackURL())
	if err != nil {
		w.error(c, err)
		return
	}
	token, err := w.MastodonOAuth.Exchange(ctx, app, c.Query("code"))
	if err != nil {
		w.Log.Info("mastodon sign-in refused", "instance", st.Instance, "err", err)
		w.fail(c, http.StatusUnauthorized, "error.signin_failed", nil)
		return
	}
	account, creds, err := engine.Prove(ctx, w.Mastodon, engine.Mastodon, engine.Credentials{Host: st.Instance, Token: token})
	if err != nil {
		w.fail(c, http.StatusUnauthorized, "error.signin_failed", nil)
		return
	}
	if current, ok := sessionOf(c); ok && current.Member != st.Member {
		st.Member = "" // another person's tab: sign in, don't attach
	}
	w.signedIn(c, st.Member, engine.Mastodon, account, creds, "oauth")
}

func (w *Web) allowedHost(host string) bool {
	if len(w.BlueskyHosts) > 0 {
		return slices.Contains(w.BlueskyHosts, host)
	}
	return strings.HasPrefix(host, "https://")
}

func (w *Web) signOut(c *gin.Context) {
	w.setCookie(c, sessionCookie, "", -1)
	w.done(c, "/", gin.H{"signed_out": true})
}

func (w *Web) apiMe(c *gin.Context) {
	s, _ := sessionOf(c)
	info, err := w.Store.MemberInfo(c.Request.Context(), s.Member)
	if err != nil {
		w.error(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"member": s.Member, "account": s.Account, "admin": w.Admins[s.Account],
		"accounts": info.Accounts, "settings": settingsOf(info)})
}

// --- upload --------------------------------------------------------------

// uploadData lists the member's archives for the upload page.
func (w *Web) uploadData(c *gin.Context) (any, error) {
	s, _ := sessionOf(c)
	return w.Store.MemberImportState(c.Request.Context(), s.Member)
}

// zipMagic and jsPrefix are how an upload says what it is: the archive's
// ZIP, or the files of its data/ folder (window.YTD.<name>.part0 = [...]).
var (
	zipMagic = []byte("PK\x03\x04")
	jsPrefix = []byte("window.YTD.")
)

// upload takes the archive as one ZIP, or as the .js files of its data/
// folder (packed into a ZIP here, as they stream in), bounded by
// MaxUpload, and queues its import. Nothing is read into memory whole.
func (w *Web) upload(c *gin.Context) {
	s, _ := sessionOf(c)
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, w.MaxUpload+1<<20)
	mr, err := c.Request.MultipartReader()
	if err != nil {
		w.fail(c, http.StatusBadRequest, "error.upload_type", nil)
		return
	}
	pr, pw := io.Pipe()
	saved := make(chan struct {
		name string
		err  error
	}, 1)
	go func() {
		name, err := w.Uploads.Save(pr)
		pr.CloseWithError(err)
		saved <- struct {
			name string
			err  error
		}{name, err}
	}()
	var check func(string) bool
	if c.GetBool("csrf_in_body") {
		cookie, _ := c.Cookie(csrfCookie)
		check = func(sent string) bool { return cookie != "" && constantEqual(cookie, sent) }
	}
	files, err := packUpload(mr, pw, w.MaxUpload, check)
	pw.CloseWithError(err)
	res := <-saved
	if err == nil {
		err = res.err
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig) || errors.Is(err, errTooLarge):
		if res.name != "" {
			_ = w.Uploads.Remove(res.name)
		}
		w.fail(c, http.StatusRequestEntityTooLarge, "error.too_large", map[string]any{"MB": w.MaxUpload >> 20})
		return
	case errors.Is(err, errCSRF):
		w.fail(c, http.StatusForbidden, "error.csrf", nil)
		return
	case errors.Is(err, errNotArchive) || files == 0:
		if res.name != "" {
			_ = w.Uploads.Remove(res.name)
		}
		w.fail(c, http.StatusUnsupportedMediaType, "error.upload_type", nil)
		return
	case err != nil:
		w.error(c, err)
		return
	}
	task, err := workers.NewArchiveImportTask(workers.ArchiveImportPayload{Member: s.Member, Upload: res.name})
	if err != nil {
		w.error(c, err)
		return
	}
	if _, err := w.Queue.EnqueueContext(c.Request.Context(), task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		_ = w.Uploads.Remove(res.name)
		w.error(c, err)
		return
	}
	w.done(c, "/imports/"+res.name, gin.H{"upload": res.name, "events": "/api/imports/" + res.name + "/events"})
}

var (
	errTooLarge   = errors.New("upload too large")
	errNotArchive = errors.New("not an X archive")
)

// packUpload writes the upload to out as one ZIP: a ZIP part is copied as
// it is (it must be the only file); the .js files of a data/ folder become
// entries of a new ZIP; other files of the folder (media) are skipped. The
// csrf field must come first unless the request carried the header. It
// returns the number of files taken.
func packUpload(mr *multipart.Reader, out io.Writer, max int64, csrf func(string) bool) (int, error) {
	cw := &capWriter{w: out, left: max}
	var zw *zip.Writer
	files, single := 0, false
	checked := csrf == nil
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return files, err
		}
		switch part.FormName() {
		case "csrf":
			b, _ := io.ReadAll(io.LimitReader(part, 256))
			checked = checked || csrf(string(b))
			continue
		case "archive":
		default:
			continue
		}
		if !checked {
			return files, errCSRF
		}
		br := bufio.NewReader(part)
		head, _ := br.Peek(16)
		head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
		name := path.Base(strings.ReplaceAll(part.FileName(), "\\", "/"))
		switch {
		case bytes.HasPrefix(head, zipMagic):
			if files > 0 {
				return files, errNotArchive // a ZIP must come alone
			}
			if _, err := io.Copy(cw, br); err != nil {
				return files, err
			}
			files, single = 1, true
		case strings.HasSuffix(name, ".js") && !single:
			if zw == nil {
				zw = zip.NewWriter(cw)
			}
			f, err := zw.Create("data/" + name)
			if err != nil {
				return files, err
			}
			if _, err := io.Copy(f, br); err != nil {
				return files, err
			}
			files++
		case len(head) == 0:
			// an empty file input
		default:
			if files == 0 && !strings.Contains(part.FileName(), "/") && part.FileName() != "" {
				return files, errNotArchive // one file, neither ZIP nor .js
			}
			// media and other files of a data/ folder: not needed
		}
	}
	if !checked {
		return files, errCSRF
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return files, err
		}
	}
	return files, nil
}

var errCSRF = errors.New("missing csrf token")

// capWriter fails with errTooLarge once more than left bytes are written.
type capWriter struct {
	w    io.Writer
	left int64
}

func (c *capWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > c.left {
		return 0, errTooLarge
	}
	c.left -= int64(len(p))
	return c.w.Write(p)
}

// --- import progress -----------------------------------------------------

// importStatus reads an import task's state and progress; a task of
// another member is not found.
func (w *Web) importStatus(c *gin.Context) (gin.H, error) {
	s, _ := sessionOf(c)
	upload := c.Param("upload")
	if _, err := w.Uploads.Path(upload); err != nil {
		return nil, engine.Errorf(engine.ENOTFOUND, "no such import")
	}
	info, err := w.Inspector.GetTaskInfo(workers.QueueCritical, "import:"+s.Member+":"+upload)
	if err != nil {
		return nil, engine.Errorf(engine.ENOTFOUND, "no such import")
	}
	var st workers.ImportStatus
	_ = json.Unmarshal(info.Result, &st)
	state := "running"
	switch {
	case info.State == asynq.TaskStateCompleted:
		state = "done"
	case info.State == asynq.TaskStateArchived || st.Error != "":
		state = "failed"
	case info.State == asynq.TaskStatePending || info.State == asynq.TaskStateScheduled:
		state = "queued"
	case info.State == asynq.TaskStateRetry:
		state = "retrying"
	}
	percent := 0
	if st.Progress.Total > 0 {
		percent = min(100, st.Progress.Done*100/st.Progress.Total)
	}
	if state == "done" {
		percent = 100
	}
	return gin.H{"upload": upload, "state": state, "phase": st.Progress.Phase, "done": st.Progress.Done,
		"total": st.Progress.Total, "percent": percent, "error": st.Error, "result": st.Result}, nil
}

func (w *Web) importData(c *gin.Context) (any, error) { return w.importStatus(c) }

func (w *Web) apiImport(c *gin.Context) {
	st, err := w.importStatus(c)
	if err != nil {
		w.error(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

// importEvents streams an import's progress as server-sent events until it
// ends (or the client goes away): what the upload page shows live.
func (w *Web) importEvents(c *gin.Context) {
	st, err := w.importStatus(c)
	if err != nil {
		w.error(c, err)
		return
	}
	c.Header("Content-Type", "text/event-stream")
	c.Header("Cache-Control", "no-store")
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	last := ""
	for {
		b, _ := json.Marshal(st)
		if string(b) != last {
			fmt.Fprintf(c.Writer, "event: progress\ndata: %s\n\n", b)
			c.Writer.Flush()
			last = string(b)
		}
		if st["state"] == "done" || st["state"] == "failed" {
			return
		}
		select {
		case <-c.Request.Context().Done():
			return
		case <-tick.C:
		}
		if st, err = w.importStatus(c); err != nil {
			return
		}
	}
}

// --- reconnections -------------------------------------------------------

// reconnections is the reconnections page's content for one network.
type reconnections struct {
	Network   string                `json:"network"`
	Networks  []string              `json:"networks"` // the member's networks, for the tabs
	Rows      []engine.Reconnection `json:"rows"`
	Pending   int                   `json:"pending"` // not followed yet, allowed for auto-follow
	Allowed   []engine.Trust        `json:"allowed"`
	Progress  *workers.Progress     `json:"progress,omitempty"`
	Total     int                   `json:"total"`  // rows in all pages
	Offset    int                   `json:"offset"` // of this page
	Limit     int                   `json:"limit"`
	Prev      int                   `json:"-"` // offsets of the pages around, -1 when none
	Next      int                   `json:"-"`
	Dismissed []engine.Reconnection `json:"dismissed"` // to bring back
	// Labels are the row's words, translated once per page rather than
	// once per row: trust levels, conflict, followed, waiting, dismiss.
	Labels map[string]string `json:"-"`
}

// RowsPerPage is how many reconnections a page shows (the API's default
// limit; it allows up to 1,000).
const RowsPerPage = 100

// SnapshotTTL is how long a member's reconnections, once read, serve
// their next pages and reloads. The member's own actions drop it at once;
// follows made meanwhile by the workers show within this delay.
const SnapshotTTL = 2 * time.Second

// snapshot is what one member's reconnections page read from the graph.
type snapshot struct {
	at   time.Time
	info *engine.MemberInfo
	rows map[string][]engine.Reconnection // by network
	mu   sync.Mutex
}

// snapshotOf returns the member's fresh snapshot, or a new empty one.
func (w *Web) snapshotOf(member string) *snapshot {
	if v, ok := w.snaps.Load(member); ok {
		if sn := v.(*snapshot); time.Since(sn.at) < SnapshotTTL {
			return sn
		}
	}
	if w.snapCount.Add(1)%4096 == 0 {
		// Now and then, drop the stale ones: memory stays bounded by the
		// members active in the last seconds.
		w.snaps.Range(func(k, v any) bool {
			if time.Since(v.(*snapshot).at) >= SnapshotTTL {
				w.snaps.Delete(k)
			}
			return true
		})
	}
	sn := &snapshot{at: time.Now(), rows: map[string][]engine.Reconnection{}}
	w.snaps.Store(member, sn)
	return sn
}

// forget drops a member's snapshot: they changed something.
func (w *Web) forget(member string) { w.snaps.Delete(member) }

func (w *Web) reconnectionsOf(c *gin.Context) (*reconnections, error) {
	s, _ := sessionOf(c)
	ctx := c.Request.Context()
	sn := w.snapshotOf(s.Member)
	sn.mu.Lock()
	defer sn.mu.Unlock()
	if sn.info == nil {
		info, err := w.Store.MemberInfo(ctx, s.Member)
		if err != nil {
			return nil, err
		}
		sn.info = info
	}
	info := sn.info
	tx := textsOf(c)
	out := &reconnections{Allowed: info.AllowedTrusts(), Rows: []engine.Reconnection{}, Labels: map[string]string{
		"verified": tx.T("trust.verified", nil), "claimed": tx.T("trust.claimed", nil), "evidence": tx.T("trust.evidence", nil),
		"conflict": tx.T("trust.conflict", nil), "followed": tx.T("rec.followed", nil), "waiting": tx.T("rec.waiting", nil),
		"dismiss": tx.T("rec.dismiss_short", nil)}}
	for _, n := range []engine.Network{engine.Bluesky, engine.Mastodon} {
		if info.Accounts[n] != "" {
			out.Networks = append(out.Networks, string(n))
		}
	}
	out.Network = c.Query("network")
	if !slices.Contains(out.Networks, out.Network) {
		out.Network = ""
		if len(out.Networks) > 0 {
			out.Network = out.Networks[0]
		}
	}
	if out.Network == "" {
		return out, nil
	}
	if d, ok := sn.rows["dismissed:"+out.Network]; ok {
		out.Dismissed = d
	} else {
		d, err := w.Store.Dismissed(ctx, s.Member, engine.Network(out.Network))
		if err != nil {
			return nil, err
		}
		sn.rows["dismissed:"+out.Network], out.Dismissed = d, d
	}
	rows, ok := sn.rows[out.Network]
	if !ok {
		var err error
		rows, err = w.Store.Reachable(ctx, engine.MatchQuery{Member: s.Member, Network: engine.Network(out.Network), IncludeFollowed: true}, false)
		if err != nil {
			return nil, err
		}
		sn.rows[out.Network] = rows
	}
	for _, r := range rows {
		if !r.Followed && !r.Conflict && slices.Contains(out.Allowed, engine.Trust(r.Trust)) {
			out.Pending++
		}
	}
	out.Total, out.Limit = len(rows), RowsPerPage
	out.Offset, _ = strconv.Atoi(c.Query("offset"))
	if l, err := strconv.Atoi(c.Query("limit")); err == nil && l > 0 {
		out.Limit = min(l, 1000)
	}
	out.Offset = max(0, min(out.Offset, len(rows)))
	out.Rows = engine.Page(rows, out.Offset, out.Limit)
	out.Prev, out.Next = -1, -1
	if out.Offset > 0 {
		out.Prev = max(0, out.Offset-out.Limit)
	}
	if out.Offset+out.Limit < len(rows) {
		out.Next = out.Offset + out.Limit
	}
	if p, err := w.progress(ctx, s.Member); err == nil && p != nil {
		out.Progress = p
	}
	return out, nil
}

func (w *Web) reconnectionsData(c *gin.Context) (any, error) { return w.reconnectionsOf(c) }

func (w *Web) apiReconnections(c *gin.Context) {
	r, err := w.reconnectionsOf(c)
	if err != nil {
		w.error(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

func planKey(member string) string { return "passerelle:plan:" + member }

// progress reads the state of the member's last reconnection run.
func (w *Web) progress(ctx context.Context, member string) (*workers.Progress, error) {
	b, err := w.Redis.Get(ctx, planKey(member)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var plan workers.ReconnectPlan
	if err := json.Unmarshal(b, &plan); err != nil {
		return nil, err
	}
	p := workers.ReconnectProgress(w.Inspector, &plan)
	return &p, nil
}

func (w *Web) apiProgress(c *gin.Context) {
	s, _ := sessionOf(c)
	p, err := w.progress(c.Request.Context(), s.Member)
	if err != nil {
		w.error(c, err)
		return
	}
	if p == nil {
		p = &workers.Progress{}
	}
	if p.Tasks > 0 && p.Waiting == 0 {
		w.forget(s.Member) // the run is over: the next page shows its follows
	}
	c.JSON(http.StatusOK, p)
}

// follow queues follows: "all" takes every pending reconnection of the
// network that the member's trust settings allow; otherwise the accounts
// ticked, which must be among the member's reconnections (a ticked
// claimed or conflicting link is the member's own click, so it is
// allowed).
func (w *Web) follow(c *gin.Context) {
	s, _ := sessionOf(c)
	defer w.forget(s.Member)
	ctx := c.Request.Context()
	n, err := engine.ParseNetwork(c.PostForm("network"))
	if err != nil {
		w.error(c, err)
		return
	}
	info, err := w.Store.MemberInfo(ctx, s.Member)
	if err != nil {
		w.error(c, err)
		return
	}
	from := info.Accounts[n]
	if from == "" {
		w.error(c, engine.Errorf(engine.EINVALID, "you have no %s account here yet", n))
		return
	}
	rows, err := w.Store.Reachable(ctx, engine.MatchQuery{Member: s.Member, Network: n}, false)
	if err != nil {
		w.error(c, err)
		return
	}
	var targets []string
	if c.PostForm("all") != "" {
		allowed := info.AllowedTrusts()
		for _, r := range rows {
			if !r.Conflict && slices.Contains(allowed, engine.Trust(r.Trust)) {
				targets = append(targets, r.Account)
			}
		}
	} else {
		picked := c.PostFormArray("account")
		for _, r := range rows {
			if slices.Contains(picked, r.Account) {
				targets = append(targets, r.Account)
			}
		}
	}
	plan := &workers.ReconnectPlan{Member: s.Member, Networks: map[string]*workers.NetworkPlan{}}
	np := &workers.NetworkPlan{Account: from, Targets: len(targets), Tasks: []string{}}
	plan.Networks[string(n)] = np
	for start := 0; start < len(targets); start += workers.FollowBatch {
		task, err := workers.NewFollowTask(n, workers.FollowPayload{Member: s.Member, Account: from,
			Targets: targets[start:min(start+workers.FollowBatch, len(targets))]})
		if err != nil {
			w.error(c, err)
			return
		}
		ti, err := w.Queue.EnqueueContext(ctx, task)
		if errors.Is(err, asynq.ErrTaskIDConflict) {
			continue
		}
		if err != nil {
			w.error(c, err)
			return
		}
		np.Tasks = append(np.Tasks, ti.ID)
	}
	b, _ := json.Marshal(plan)
	if err := w.Redis.Set(ctx, planKey(s.Member), b, 7*24*time.Hour).Err(); err != nil {
		w.error(c, err)
		return
	}
	w.done(c, "/reconnections?network="+string(n)+"&notice=notice.queued", gin.H{"targets": len(targets), "tasks": np.Tasks})
}

// pause takes the member's queued follow tasks out of the queue; follows
// already made stay, and "reconnect all" picks up the rest later.
func (w *Web) pause(c *gin.Context) {
	s, _ := sessionOf(c)
	defer w.forget(s.Member)
	ctx := c.Request.Context()
	b, err := w.Redis.Get(ctx, planKey(s.Member)).Bytes()
	removed := 0
	if err == nil {
		var plan workers.ReconnectPlan
		if json.Unmarshal(b, &plan) == nil {
			for _, np := range plan.Networks {
				for _, id := range np.Tasks {
					if w.Inspector.DeleteTask(workers.QueueDefault, id) == nil {
						removed++
					}
				}
			}
		}
		w.Redis.Del(ctx, planKey(s.Member))
	}
	w.done(c, "/reconnections?notice=notice.paused", gin.H{"removed": removed})
}

// dismiss hides a reconnection for good (or brings it back with undo).
func (w *Web) dismiss(c *gin.Context) {
	s, _ := sessionOf(c)
	defer w.forget(s.Member)
	n, err := engine.ParseNetwork(c.PostForm("network"))
	if err != nil {
		w.error(c, err)
		return
	}
	undo := c.PostForm("undo") != ""
	account := c.PostForm("dismiss") // the row's button on the page
	if account == "" {
		account = c.PostForm("account")
	}
	if err := w.Store.Dismiss(c.Request.Context(), s.Member, n, account, !undo); err != nil {
		w.error(c, err)
		return
	}
	w.done(c, "/reconnections?network="+string(n), gin.H{"dismissed": !undo})
}

// --- settings ------------------------------------------------------------

type settingsView struct {
	AutoReconnect   bool                      `json:"auto_reconnect"`
	AllowClaimed    bool                      `json:"allow_claimed"`
	NotifyArrivals  bool                      `json:"notify_arrivals"`
	NotifyPeriod    string                    `json:"notify_period"`
	NotifyChannel   string                    `json:"notify_channel"`
	ResearchConsent bool                      `json:"research_consent"`
	ShowName        bool                      `json:"show_name"`
	Locale          string                    `json:"locale"`
	Accounts        map[engine.Network]string `json:"accounts"`
}

func settingsOf(info *engine.MemberInfo) settingsView {
	return settingsView{AutoReconnect: info.AutoReconnect, AllowClaimed: info.AllowClaimed, NotifyArrivals: info.NotifyArrivals,
		NotifyPeriod: info.NotifyPeriod, NotifyChannel: string(info.NotifyChannel), ResearchConsent: info.ResearchConsent,
		ShowName: info.ShowName, Locale: info.Locale, Accounts: info.Accounts}
}

func (w *Web) settingsData(c *gin.Context) (any, error) {
	s, _ := sessionOf(c)
	info, err := w.Store.MemberInfo(c.Request.Context(), s.Member)
	if err != nil {
		return nil, err
	}
	return settingsOf(info), nil
}

// saveSettings writes the settings form: a checkbox absent is off.
func (w *Web) saveSettings(c *gin.Context) {
	s, _ := sessionOf(c)
	defer w.forget(s.Member)
	on := func(k string) *bool { v := c.PostForm(k) != ""; return &v }
	str := func(k string) *string {
		v, ok := c.GetPostForm(k)
		if !ok {
			return nil
		}
		return &v
	}
	set := engine.Settings{AutoReconnect: on("auto_reconnect"), AllowClaimed: on("allow_claimed"),
		NotifyArrivals: on("notify_arrivals"), ResearchConsent: on("research_consent"), ShowName: on("show_name"),
		NotifyPeriod: str("notify_period"), NotifyChannel: str("notify_channel"), Locale: str("locale")}
	if err := w.Store.SetSettings(c.Request.Context(), s.Member, set); err != nil {
		w.error(c, err)
		return
	}
	if set.Locale != nil {
		w.setCookie(c, langCookie, *set.Locale, 365*24*3600)
	}
	w.done(c, "/settings?notice=notice.saved", gin.H{"saved": true})
}

// --- leaving -------------------------------------------------------------

// deleteMe erases everything of the member, as DESIGN.md says: their
// archives' facts, claims, accounts and sealed tokens, settings; then
// signs them out. The confirmation field must say the word.
func (w *Web) deleteMe(c *gin.Context) {
	s, _ := sessionOf(c)
	defer w.forget(s.Member)
	if c.PostForm("confirm") != "delete" {
		w.fail(c, http.StatusBadRequest, "error.delete_confirm", nil)
		return
	}
	ctx := c.Request.Context()
	if b, err := w.Redis.Get(ctx, planKey(s.Member)).Bytes(); err == nil {
		var plan workers.ReconnectPlan
		if json.Unmarshal(b, &plan) == nil {
			for _, np := range plan.Networks {
				for _, id := range np.Tasks {
					_ = w.Inspector.DeleteTask(workers.QueueDefault, id)
				}
			}
		}
	}
	w.revokeAll(ctx, s.Member)
	if err := w.Store.DeleteMember(ctx, s.Member, "member:"+s.Member); err != nil && engine.ErrorCode(err) != engine.ENOTFOUND {
		w.error(c, err)
		return
	}
	w.Redis.Del(ctx, planKey(s.Member))
	w.setCookie(c, sessionCookie, "", -1)
	w.done(c, "/?notice=notice.deleted", gin.H{"deleted": true})
}

// revokeAll ends the sessions Passerelle holds for the member's accounts.
// A network that can't be reached is logged: the sealed tokens are erased
// with the member anyway, and nothing can open them again.
func (w *Web) revokeAll(ctx context.Context, member string) {
	info, err := w.Store.MemberInfo(ctx, member)
	if err != nil {
		return
	}
	for n, account := range info.Accounts {
		sealed, err := w.Store.Credentials(ctx, member, n, account)
		if err != nil {
			continue
		}
		plain, err := w.Box.Open(sealed, engine.CredentialsContext(member, account))
		if err != nil {
			continue
		}
		var c engine.Credentials
		if json.Unmarshal([]byte(plain), &c) != nil {
			continue
		}
		switch r, ok := w.Bluesky.(engine.Revoker); {
		case n == engine.Bluesky && ok:
			err = r.Revoke(ctx, c)
		case n == engine.Mastodon && w.MastodonOAuth != nil && c.Token != "":
			var app *engine.OAuthApp
			if app, err = w.Store.App(ctx, w.MastodonOAuth, w.Box, strings.TrimRight(c.Host, "/"), w.callbackURL()); err == nil {
				err = w.MastodonOAuth.RevokeToken(ctx, app, c.Token)
			}
		}
		if err != nil {
			w.Log.Warn("revoke", "member", member, "network", n, "err", err)
		}
	}
}

// --- admin ---------------------------------------------------------------

func (w *Web) adminData(c *gin.Context) (any, error) {
	return w.Store.Conflicts(c.Request.Context())
}

func (w *Web) apiSettings(c *gin.Context) {
	v, err := w.settingsData(c)
	if err != nil {
		w.error(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (w *Web) apiConflicts(c *gin.Context) {
	v, err := w.adminData(c)
	if err != nil {
		w.error(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// --- X ---------------------------------------------------------------------

// accountsData is the accounts page: the member's accounts, their X
// accounts and whether X sign-in is on.
func (w *Web) accountsData(c *gin.Context) (any, error) {
	s, _ := sessionOf(c)
	ctx := c.Request.Context()
	info, err := w.Store.MemberInfo(ctx, s.Member)
	if err != nil {
		return nil, err
	}
	st, err := w.Store.MemberImportState(ctx, s.Member)
	if err != nil {
		return nil, err
	}
	return gin.H{"Accounts": info.Accounts, "Claims": st.Claims, "X": w.X != nil}, nil
}

type xState struct {
	Member   string `json:"member"`
	Verifier string `json:"verifier"`
}

func (w *Web) xCallbackURL() string {
	return strings.TrimSuffix(w.callbackURL(), "/mastodon/callback") + "/x/callback"
}

// signInX sends a signed-in member to X to prove which X account is
// theirs.
func (w *Web) signInX(c *gin.Context) {
	if w.X == nil {
		w.fail(c, http.StatusNotFound, "error.not_found", nil)
		return
	}
	s, _ := sessionOf(c)
	state, verifier := randomToken(), x.Verifier()
	b, _ := json.Marshal(xState{Member: s.Member, Verifier: verifier})
	if err := w.Redis.Set(c.Request.Context(), "passerelle:xauth:"+state, w.Box.Seal(string(b), "xauth"), 10*time.Minute).Err(); err != nil {
		w.error(c, err)
		return
	}
	to := w.X.AuthorizeURL(w.xCallbackURL(), state, verifier)
	if isAPI(c) {
		c.JSON(http.StatusOK, gin.H{"authorize_url": to})
		return
	}
	c.Redirect(http.StatusSeeOther, to)
}

// xCallback records the X account the member proved (a verified claim:
// it beats any archive-only claim of that account), and fans out the
// member's accounts, whose links are now verified.
func (w *Web) xCallback(c *gin.Context) {
	if w.X == nil {
		w.fail(c, http.StatusNotFound, "error.not_found", nil)
		return
	}
	s, _ := sessionOf(c)
	ctx := c.Request.Context()
	sealed, err := w.Redis.GetDel(ctx, "passerelle:xauth:"+c.Query("state")).Result()
	var st xState
	plain, oerr := w.Box.Open(sealed, "xauth")
	if err != nil || oerr != nil || json.Unmarshal([]byte(plain), &st) != nil || st.Member != s.Member {
		w.fail(c, http.StatusBadRequest, "error.oauth_state", nil)
		return
	}
	if c.Query("code") == "" {
		w.fail(c, http.StatusBadRequest, "error.oauth_denied", nil)
		return
	}
	acct, err := w.X.SignedIn(ctx, c.Query("code"), w.xCallbackURL(), st.Verifier)
	if err != nil {
		w.Log.Info("x sign-in refused", "err", err)
		w.fail(c, http.StatusUnauthorized, "error.signin_failed", nil)
		return
	}
	if err := w.Store.ClaimX(ctx, s.Member, acct.ID, engine.ViaXOAuth, acct.Username, "member:"+s.Member); err != nil {
		w.error(c, err)
		return
	}
	if info, err := w.Store.MemberInfo(ctx, s.Member); err == nil {
		for n, a := range info.Accounts {
			if err := workers.Linked(ctx, w.Queue, s.Member, n, a, time.Now()); err != nil {
				w.Log.Warn("enqueue arrival", "err", err)
			}
		}
	}
	w.done(c, "/accounts?notice=notice.x_verified", gin.H{"xid": acct.ID, "username": acct.Username})
}
