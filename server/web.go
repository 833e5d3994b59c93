package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/engine/seal"
	"github.com/passerelle-social/passerelle/i18n"
	"github.com/passerelle-social/passerelle/networks/x"
	"github.com/passerelle-social/passerelle/workers"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

//go:embed openapi.json
var openAPI []byte

// Store is what the web pages need from the graph; cypher.Store has it.
type Store interface {
	engine.LinkGraph
	MemberInfo(ctx context.Context, member string) (*engine.MemberInfo, error)
	CreateMember(ctx context.Context, member string) error
	MemberByAccount(ctx context.Context, n engine.Network, account string) (string, error)
	Dismiss(ctx context.Context, member string, n engine.Network, account string, dismiss bool) error
	Dismissed(ctx context.Context, member string, n engine.Network) ([]engine.Reconnection, error)
	Credentials(ctx context.Context, member string, n engine.Network, account string) (string, error)
	MemberImportState(ctx context.Context, member string) (*engine.MemberImportState, error)
	App(ctx context.Context, oa engine.InstanceOAuth, box engine.Opener, instance, redirectURI string) (*engine.OAuthApp, error)
}

// Web is the member-facing site and its JSON API: sign-in, upload,
// reconnections, settings and deletion, in every language of i18n.
type Web struct {
	Store     Store
	Queue     *asynq.Client
	Inspector *asynq.Inspector
	Redis     *redis.Client // sign-in and upload rate limits, reconnection runs
	Box       *seal.Box
	Texts     *i18n.Catalog
	Uploads   *workers.Uploads
	MaxUpload int64    // bytes; larger uploads get 413
	PublicURL *url.URL // where members reach the site; https makes cookies Secure
	Bluesky   engine.NetworkClient
	// BlueskyHosts are the PDSes the app-password form offers (the local
	// PDS in development); empty means any https PDS.
	BlueskyHosts []string
	// BlueskyOAuth signs members in with atproto OAuth (nil: app
	// passwords only).
	BlueskyOAuth BlueskyOAuth
	// Mastodon signs members in on their own instance (OAuth, the app
	// registered on first use); MastodonHosts are the plain-http instances
	// it also accepts (the local GoToSocial), on top of any https one.
	Mastodon      engine.NetworkClient
	MastodonOAuth engine.InstanceOAuth
	MastodonHosts []string
	// X proves which X account is a member's (optional: nil hides it).
	X XSignIn
	// SignInPerMinute is how many sign-in requests one address may make
	// in a minute (default 10); uploads are limited to 10 an hour.
	SignInPerMinute int64
	// Admins are the accounts (DID or acct) whose members may see /admin.
	Admins map[string]bool
	Log    *slog.Logger

	pages     map[string]*template.Template
	csp       string
	snaps     sync.Map // member → *snapshot (actions.go)
	snapCount atomic.Int64
}

// Mount adds the site's routes to r.
func (w *Web) Mount(r *gin.Engine) error {
	if err := w.parse(); err != nil {
		return err
	}
	// Sign-in forms redirect to the member's server: any https one, and
	// the plain-http ones configured (the local PDS and GoToSocial).
	formAction := []string{"'self'", "https:"}
	for _, h := range append(slices.Clone(w.BlueskyHosts), w.MastodonHosts...) {
		if strings.HasPrefix(h, "http://") {
			formAction = append(formAction, h)
		}
	}
	w.csp = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action " +
		strings.Join(formAction, " ")
	static, _ := fs.Sub(staticFS, "static")
	r.StaticFS("/static", http.FS(static))
	r.Use(w.security, w.identify)

	r.GET("/", w.page("landing", nil))
	r.GET("/privacy", w.page("privacy", nil))
	r.GET("/signin", w.page("signin", nil))
	r.POST("/signin/bluesky", w.limit("signin", w.signInLimit(), time.Minute), w.csrf, w.signInBluesky)
	r.POST("/signout", w.csrf, w.signOut)
	r.POST("/signin/mastodon", w.limit("signin", w.signInLimit(), time.Minute), w.csrf, w.signInMastodon)
	r.POST("/signin/bluesky/oauth", w.limit("signin", w.signInLimit(), time.Minute), w.csrf, w.signInBlueskyOAuth)
	r.GET("/signin/bluesky/callback", w.limit("signin", w.signInLimit(), time.Minute), w.blueskyCallback)
	r.GET("/oauth/client-metadata.json", w.clientMetadata)
	r.GET("/signin/mastodon/callback", w.limit("signin", w.signInLimit(), time.Minute), w.mastodonCallback)

	m := r.Group("/", w.member)
	m.GET("/accounts", w.page("accounts", w.accountsData))
	m.POST("/signin/x", w.limit("signin", w.signInLimit(), time.Minute), w.csrf, w.signInX)
	m.GET("/signin/x/callback", w.limit("signin", w.signInLimit(), time.Minute), w.xCallback)
	m.GET("/upload", w.page("upload", w.uploadData))
	m.POST("/upload", w.limit("upload", 10, time.Hour), w.csrf, w.upload)
	m.GET("/imports/:upload", w.page("import", w.importData))
	m.GET("/reconnections", w.page("reconnections", w.reconnectionsData))
	m.POST("/reconnections/follow", w.csrf, w.follow)
	m.POST("/reconnections/dismiss", w.csrf, w.dismiss)
	m.POST("/reconnections/pause", w.csrf, w.pause)
	m.GET("/settings", w.page("settings", w.settingsData))
	m.POST("/settings", w.csrf, w.saveSettings)
	m.GET("/delete", w.page("delete", nil))
	m.POST("/delete", w.csrf, w.deleteMe)
	m.GET("/admin", w.admin, w.page("admin", w.adminData))

	// The JSON API: the same handlers as the pages' actions, answering
	// JSON; described in /api/openapi.json.
	r.GET("/api/openapi.json", func(c *gin.Context) { c.Data(http.StatusOK, "application/json", openAPI) })
	r.POST("/api/signin/bluesky", w.limit("signin", w.signInLimit(), time.Minute), w.csrf, w.signInBluesky)
	r.POST("/api/signout", w.csrf, w.signOut)
	r.POST("/api/signin/mastodon", w.limit("signin", w.signInLimit(), time.Minute), w.csrf, w.signInMastodon)
	r.POST("/api/signin/bluesky/oauth", w.limit("signin", w.signInLimit(), time.Minute), w.csrf, w.signInBlueskyOAuth)
	api := r.Group("/api", w.member)
	api.GET("/me", w.apiMe)
	api.POST("/signin/x", w.limit("signin", w.signInLimit(), time.Minute), w.csrf, w.signInX)
	api.POST("/imports", w.limit("upload", 10, time.Hour), w.csrf, w.upload)
	api.GET("/imports/:upload", w.apiImport)
	api.GET("/imports/:upload/events", w.importEvents)
	api.GET("/reconnections", w.apiReconnections)
	api.GET("/reconnections/progress", w.apiProgress)
	api.POST("/reconnections/follow", w.csrf, w.follow)
	api.POST("/reconnections/dismiss", w.csrf, w.dismiss)
	api.POST("/reconnections/pause", w.csrf, w.pause)
	api.GET("/settings", w.apiSettings)
	api.POST("/settings", w.csrf, w.saveSettings)
	api.POST("/delete", w.csrf, w.deleteMe)
	api.GET("/admin/conflicts", w.admin, w.apiConflicts)
	return nil
}

// BlueskyOAuth is atproto OAuth sign-in (networks/bluesky has it).
type BlueskyOAuth interface {
	Start(ctx context.Context, identifier string) (string, error)
	Callback(ctx context.Context, query url.Values) (string, engine.Credentials, error)
	ClientMetadata() any
}

// XSignIn is X's OAuth 2.0 sign-in (networks/x has it).
type XSignIn interface {
	AuthorizeURL(redirectURI, state, verifier string) string
	SignedIn(ctx context.Context, code, redirectURI, verifier string) (*x.Account, error)
}

// --- who is asking -------------------------------------------------------

const (
	sessionCookie = "passerelle_session"
	csrfCookie    = "passerelle_csrf"
	langCookie    = "passerelle_lang"
	sessionLife   = 30 * 24 * time.Hour
)

// session is what the session cookie holds, sealed with the secret key:
// nobody can read or forge it without the key.
type session struct {
	Member  string `json:"m"`
	Account string `json:"a"` // the account signed in with (DID or acct)
	Expires int64  `json:"e"`
}

func (w *Web) secure() bool { return w.PublicURL != nil && w.PublicURL.Scheme == "https" }

func (w *Web) setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: w.secure(), SameSite: http.SameSiteLaxMode})
}

func (w *Web) startSession(c *gin.Context, member, account string) {
	b, _ := json.Marshal(session{Member: member, Account: account, Expires: time.Now().Add(sessionLife).Unix()})
	w.setCookie(c, sessionCookie, w.Box.Seal(string(b), "session"), int(sessionLife.Seconds()))
}

// identify reads the session cookie, if any, and the person's language.
func (w *Web) identify(c *gin.Context) {
	if v, err := c.Cookie(sessionCookie); err == nil {
		if plain, err := w.Box.Open(v, "session"); err == nil {
			var s session
			if json.Unmarshal([]byte(plain), &s) == nil && s.Expires > time.Now().Unix() && engine.CheckMemberID(s.Member) == nil {
				c.Set("session", s)
			}
		}
	}
	if _, err := c.Cookie(csrfCookie); err != nil {
		tok := randomToken()
		w.setCookie(c, csrfCookie, tok, 0)
		c.Set("csrf", tok)
	}
	langs := []string{}
	if l := c.Query("lang"); l != "" && validLocale(l) {
		w.setCookie(c, langCookie, l, 365*24*3600)
		langs = append(langs, l)
	} else if l, err := c.Cookie(langCookie); err == nil && validLocale(l) {
		langs = append(langs, l)
	}
	langs = append(langs, c.GetHeader("Accept-Language"))
	c.Set("texts", w.Texts.For(langs...))
	c.Next()
}

func validLocale(l string) bool {
	for _, x := range engine.Locales {
		if x == l {
			return true
		}
	}
	return false
}

func sessionOf(c *gin.Context) (session, bool) {
	v, ok := c.Get("session")
	if !ok {
		return session{}, false
	}
	s, ok := v.(session)
	return s, ok
}

func textsOf(c *gin.Context) i18n.Texts { return c.MustGet("texts").(i18n.Texts) }

// member lets only signed-in members through: pages send others to the
// sign-in page, the API answers 401.
func (w *Web) member(c *gin.Context) {
	if _, ok := sessionOf(c); ok {
		c.Next()
		return
	}
	if isAPI(c) {
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "sign in first"})
		return
	}
	c.Redirect(http.StatusSeeOther, "/signin")
	c.Abort()
}

// admin lets only the configured admins through (403 for other members).
func (w *Web) admin(c *gin.Context) {
	s, _ := sessionOf(c)
	if !w.Admins[s.Account] {
		w.fail(c, http.StatusForbidden, "error.forbidden", nil)
		return
	}
	c.Next()
}

func isAPI(c *gin.Context) bool {
	return strings.HasPrefix(c.Request.URL.Path, "/api/") || strings.Contains(c.GetHeader("Accept"), "application/json") &&
		!strings.Contains(c.GetHeader("Accept"), "text/html")
}

// csrf checks that a state-changing request comes from our own pages: the
// form field (or X-CSRF-Token header) must equal the csrf cookie, which
// another site can neither read nor set; and a browser's Origin, when
// sent, must be ours.
func (w *Web) csrf(c *gin.Context) {
	if o := c.GetHeader("Origin"); o != "" && w.PublicURL != nil {
		if u, err := url.Parse(o); err != nil || u.Host != c.Request.Host && u.Host != w.PublicURL.Host {
			w.fail(c, http.StatusForbidden, "error.csrf", nil)
			return
		}
	}
	cookie, err := c.Cookie(csrfCookie)
	sent := c.GetHeader("X-CSRF-Token")
	if sent == "" && strings.HasPrefix(c.ContentType(), "multipart/form-data") {
		// An upload streams: its handler checks the form's first field
		// rather than reading the whole body here.
		c.Set("csrf_in_body", true)
		c.Next()
		return
	}
	if sent == "" {
		sent = c.PostForm("csrf")
	}
	if err != nil || cookie == "" || !constantEqual(cookie, sent) {
		w.fail(c, http.StatusForbidden, "error.csrf", nil)
		return
	}
	c.Next()
}

// security sets the headers every answer carries.
func (w *Web) security(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", w.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	c.Next()
}

func (w *Web) signInLimit() int64 {
	if w.SignInPerMinute > 0 {
		return w.SignInPerMinute
	}
	return 10
}

// limit allows n requests per window per client address and answers 429
// beyond, counted in Redis so every serve process shares the count.
func (w *Web) limit(name string, n int64, window time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		// The window opens at an address's first request and closes window
		// later (INCR and its expiry in one round trip): n requests per
		// window, whatever the clock's minute.
		ctx := c.Request.Context()
		key := "passerelle:limit:" + name + ":" + c.ClientIP()
		pipe := w.Redis.TxPipeline()
		incr := pipe.Incr(ctx, key)
		pipe.ExpireNX(ctx, key, window)
		ttl := pipe.TTL(ctx, key)
		if _, err := pipe.Exec(ctx); err == nil && incr.Val() > n {
			c.Header("Retry-After", fmt.Sprint(max(1, int64(ttl.Val().Seconds()))))
			w.fail(c, http.StatusTooManyRequests, "error.too_many", nil)
			return
		}
		c.Next()
	}
}

// --- rendering -----------------------------------------------------------

// view is what every page template gets.
type view struct {
	Page    string
	T       i18n.Texts
	Lang    string
	Langs   []string
	CSRF    string
	Member  string
	Account string
	Admin   bool
	// BlueskyOAuth: the Bluesky sign-in is OAuth (an app password below).
	BlueskyOAuth bool
	Path         string
	Data         any
	Error        string
	Notice       string
	MaxBytes     int64
}

func (w *Web) parse() error {
	w.pages = map[string]*template.Template{}
	funcs := template.FuncMap{
		"t":   func(t i18n.Texts, key string, kv ...any) string { return t.T(key, pairs(kv)) },
		"n":   func(t i18n.Texts, key string, count int, kv ...any) string { return t.N(key, count, pairs(kv)) },
		"mb":  func(b int64) int64 { return b >> 20 },
		"inc": func(i int) int { return i + 1 },
		"add": func(a, b int) int { return a + b },
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	for _, n := range names {
		page := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if page == "layout" || page == "forms" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/forms.html", n)
		if err != nil {
			return fmt.Errorf("template %s: %w", page, err)
		}
		w.pages[page] = t
	}
	return nil
}

func pairs(kv []any) map[string]any {
	if len(kv) == 0 {
		return nil // a text without data: rendered once per language
	}
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			m[k] = kv[i+1]
		}
	}
	return m
}

func (w *Web) view(c *gin.Context, page string) *view {
	t := textsOf(c)
	v := &view{Page: page, T: t, Lang: t.Lang(), Langs: engine.Locales, Path: c.Request.URL.Path, MaxBytes: w.MaxUpload,
		BlueskyOAuth: w.BlueskyOAuth != nil}
	if tok, ok := c.Get("csrf"); ok {
		v.CSRF = tok.(string)
	} else {
		v.CSRF, _ = c.Cookie(csrfCookie)
	}
	if s, ok := sessionOf(c); ok {
		v.Member, v.Account, v.Admin = s.Member, s.Account, w.Admins[s.Account]
	}
	v.Notice = c.Query("notice")
	if !strings.HasPrefix(v.Notice, "notice.") {
		v.Notice = ""
	}
	return v
}

func (w *Web) render(c *gin.Context, status int, v *view) {
	t, ok := w.pages[v.Page]
	if !ok {
		c.String(http.StatusInternalServerError, "no page %s", v.Page)
		return
	}
	c.Status(status)
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	if err := t.Execute(c.Writer, v); err != nil {
		w.Log.Error("render", "page", v.Page, "err", err)
	}
}

// page renders a template with the data load returns (nil: none).
func (w *Web) page(name string, load func(c *gin.Context) (any, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		v := w.view(c, name)
		if load != nil {
			data, err := load(c)
			if err != nil {
				w.error(c, err)
				return
			}
			v.Data = data
		}
		w.render(c, http.StatusOK, v)
	}
}

// fail answers an error: JSON for the API, the error page otherwise, with
// the message in the person's language.
func (w *Web) fail(c *gin.Context, status int, key string, data map[string]any) {
	msg := textsOf(c).T(key, data)
	if isAPI(c) {
		c.AbortWithStatusJSON(status, gin.H{"error": msg})
		return
	}
	v := w.view(c, "error")
	v.Error = msg
	w.render(c, status, v)
	c.Abort()
}

// error maps an engine error to an answer; anything else is logged and
// shown as an internal error, without its detail.
func (w *Web) error(c *gin.Context, err error) {
	switch engine.ErrorCode(err) {
	case engine.EINVALID:
		w.fail(c, http.StatusBadRequest, "error.invalid", map[string]any{"Detail": engine.ErrorMessage(err)})
	case engine.ENOTFOUND:
		w.fail(c, http.StatusNotFound, "error.not_found", nil)
	case engine.ECONFLICT:
		w.fail(c, http.StatusConflict, "error.invalid", map[string]any{"Detail": engine.ErrorMessage(err)})
	case engine.ETOOLARGE:
		w.fail(c, http.StatusRequestEntityTooLarge, "error.too_large", map[string]any{"MB": w.MaxUpload >> 20})
	default:
		w.Log.Error("request failed", "path", c.Request.URL.Path, "err", err)
		w.fail(c, http.StatusInternalServerError, "error.internal", nil)
	}
}

// done answers a successful action: JSON for the API, else a redirect to
// the page that shows its result (POST, redirect, GET).
func (w *Web) done(c *gin.Context, to string, body any) {
	if isAPI(c) {
		c.JSON(http.StatusOK, body)
		return
	}
	c.Redirect(http.StatusSeeOther, to)
}

// randomToken is 128 random bits in hex: CSRF tokens, OAuth states.
func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func constantEqual(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
