package server

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/networks/x"
	"github.com/passerelle-social/passerelle/workers"
)

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
	if slices.Contains(w.MastodonHosts, out) {
		return out, true
	}
	// The server calls the instance itself (to register the app, for the
	// token): no address of this machine or its private network.
	if ip := net.ParseIP(u.Hostname()); ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified()) ||
		u.Hostname() == "localhost" {
		return "", false
	}
	return out, u.Scheme == "https"
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
