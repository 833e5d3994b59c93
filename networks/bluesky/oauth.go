package bluesky

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/bluesky-social/indigo/atproto/atclient"
	"github.com/bluesky-social/indigo/atproto/auth/oauth"
	"github.com/bluesky-social/indigo/atproto/identity"
	"github.com/bluesky-social/indigo/atproto/syntax"
	"github.com/redis/go-redis/v9"

	"github.com/passerelle-social/passerelle/engine"
)

// OAuthScopes are what Passerelle asks a member's PDS for: creating follow
// records, nothing else (listing records needs no grant).
var OAuthScopes = []string{"atproto", "repo:app.bsky.graph.follow?action=create"}

// SessionStore keeps sealed OAuth sessions for good (the graph does).
type SessionStore interface {
	LoadOAuthSession(ctx context.Context, key string) (string, error) // "" when none
	SaveOAuthSession(ctx context.Context, key, sealed string) error
	DeleteOAuthSession(ctx context.Context, key string) error
}

// OAuthOptions configure OAuth.
type OAuthOptions struct {
	// PublicURL is the site's address. An http://127.0.0.1 one makes the
	// development client atproto allows (client id http://localhost);
	// otherwise the client id is PublicURL/oauth/client-metadata.json,
	// which the site serves.
	PublicURL    string
	CallbackPath string // e.g. /signin/bluesky/callback
	PLCURL       string
	// LocalPDS are plain-http PDSes (the local one of tests and make up).
	// indigo only talks to https authorization servers, so for these the
	// server's metadata is read from the PDS itself; every later step is
	// indigo's.
	LocalPDS []string
	Sessions SessionStore
	Redis    *redis.Client // auth requests in flight (ten minutes)
	Box      engine.Opener
}

// OAuth signs members in with atproto OAuth (indigo's client): DPoP-bound
// tokens, PAR, PKCE; sessions sealed in the graph, renewed by indigo as
// they are used.
type OAuth struct {
	app   *oauth.ClientApp
	local []string
	redis *redis.Client
}

// NewOAuth returns the OAuth client of the site.
func NewOAuth(opt OAuthOptions) *OAuth {
	base := strings.TrimRight(opt.PublicURL, "/")
	callback := base + opt.CallbackPath
	var cfg oauth.ClientConfig
	if u, err := url.Parse(base); err == nil && u.Scheme == "http" && (u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost") {
		cfg = oauth.NewLocalhostConfig(strings.Replace(callback, "://localhost", "://127.0.0.1", 1), OAuthScopes)
	} else {
		cfg = oauth.NewPublicConfig(base+"/oauth/client-metadata.json", callback, OAuthScopes)
		cfg.UserAgent = "passerelle"
	}
	app := oauth.NewClientApp(&cfg, &oauthStore{sessions: opt.Sessions, redis: opt.Redis, box: opt.Box})
	dir := &identity.BaseDirectory{PLCURL: strings.TrimRight(opt.PLCURL, "/"), UserAgent: "passerelle"}
	local := make([]string, len(opt.LocalPDS))
	for i, p := range opt.LocalPDS {
		local[i] = strings.TrimRight(p, "/")
	}
	if len(local) > 0 {
		dir.SkipHandleVerification = true
		app.Dir = localDir{base: dir, pds: local}
	} else {
		app.Dir = dir
	}
	return &OAuth{app: app, local: local, redis: opt.Redis}
}

// ClientMetadata is the document a production client id points to.
func (o *OAuth) ClientMetadata() any { return o.app.Config.ClientMetadata() }

// Start begins a sign-in for a handle (or DID) and returns where to send
// the member: their PDS's authorization page.
func (o *OAuth) Start(ctx context.Context, identifier string) (string, error) {
	identifier = strings.TrimPrefix(strings.TrimSpace(identifier), "@")
	atid, err := syntax.ParseAtIdentifier(identifier)
	if err != nil {
		return "", engine.Errorf(engine.EINVALID, "%q is not a Bluesky handle", identifier)
	}
	ident, err := o.app.Dir.Lookup(ctx, atid)
	if err != nil {
		return "", engine.Errorf(engine.EINVALID, "no Bluesky account %s: %v", identifier, err)
	}
	host := strings.TrimRight(ident.PDSEndpoint(), "/")
	if !slices.Contains(o.local, host) {
		return o.app.StartAuthFlow(ctx, identifier)
	}
	var meta oauth.AuthServerMetadata
	if err := getJSON(ctx, host+"/.well-known/oauth-authorization-server", &meta); err != nil {
		return "", fmt.Errorf("bluesky: authorization server of %s: %w", host, err)
	}
	info, err := o.app.SendAuthRequest(ctx, &meta, o.app.Config.Scopes, identifier)
	if err != nil {
		return "", fmt.Errorf("bluesky: authorization request to %s: %w", host, err)
	}
	info.AccountDID = &ident.DID
	if err := o.app.Store.SaveAuthRequestInfo(ctx, *info); err != nil {
		return "", err
	}
	q := url.Values{"client_id": {o.app.Config.ClientID}, "request_uri": {info.RequestURI}}
	return meta.AuthorizationEndpoint + "?" + q.Encode(), nil
}

// Callback finishes a sign-in with the PDS's answer and returns the
// member's credentials: a reference to the sealed session.
func (o *OAuth) Callback(ctx context.Context, query url.Values) (string, engine.Credentials, error) {
	sd, err := o.app.ProcessCallback(ctx, query)
	if err != nil {
		return "", engine.Credentials{}, err
	}
	ref, _ := json.Marshal(oauthRef{DID: sd.AccountDID.String(), SessionID: sd.SessionID})
	// The session renews itself as it is used; tokens:refresh keeps an
	// idle one alive once a day.
	return sd.AccountDID.String(), engine.Credentials{Host: sd.HostURL, Session: ref, Expires: time.Now().Add(24 * time.Hour).UTC()}, nil
}

// oauthRef is what a member's sealed credentials hold of an OAuth session:
// the key of the session itself, sealed apart (indigo rewrites it).
type oauthRef struct {
	DID       string `json:"oauth_did"`
	SessionID string `json:"oauth_session"`
}

func parseRef(c engine.Credentials) (oauthRef, bool) {
	var r oauthRef
	if len(c.Session) == 0 || json.Unmarshal(c.Session, &r) != nil || r.DID == "" || r.SessionID == "" {
		return r, false
	}
	return r, true
}

func (o *OAuth) resume(ctx context.Context, r oauthRef) (*oauth.ClientSession, error) {
	did, err := syntax.ParseDID(r.DID)
	if err != nil {
		return nil, err
	}
	return o.app.ResumeSession(ctx, did, r.SessionID)
}

// open returns an API client on the member's PDS for an OAuth session.
// Every request it makes holds the account's lock and starts from the
// session as stored: the PDS rotates refresh tokens, and a refresh token
// used twice (two workers renewing at once) ends the whole session.
func (o *OAuth) open(ctx context.Context, r oauthRef) (*atclient.APIClient, error) {
	sess, err := o.resume(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("bluesky: OAuth session of %s: %w (the member must sign in again)", r.DID, err)
	}
	api := sess.APIClient()
	api.Auth = &lockedAuth{o: o, ref: r}
	return api, nil
}

// refresh renews an OAuth session's tokens now, under the account's lock.
func (o *OAuth) refresh(ctx context.Context, r oauthRef) error {
	unlock, err := o.lock(ctx, r.DID)
	if err != nil {
		return err
	}
	defer unlock()
	sess, err := o.resume(ctx, r)
	if err != nil {
		return err
	}
	_, err = sess.RefreshTokens(ctx)
	return err
}

// lockedAuth makes each request of an OAuth session under the account's
// lock, with the session as last stored (another process may have renewed
// it).
type lockedAuth struct {
	o   *OAuth
	ref oauthRef
}

func (a *lockedAuth) DoWithAuth(c *http.Client, req *http.Request, endpoint syntax.NSID) (*http.Response, error) {
	unlock, err := a.o.lock(req.Context(), a.ref.DID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	sess, err := a.o.resume(req.Context(), a.ref)
	if err != nil {
		return nil, fmt.Errorf("bluesky: OAuth session of %s: %w", a.ref.DID, err)
	}
	return sess.DoWithAuth(c, req, endpoint)
}

// unlockScript deletes the lock only if it is still ours.
var unlockScript = redis.NewScript(`if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end return 0`)

// lock takes the account's OAuth lock in Redis, shared by every serve and
// work process; it expires by itself after 30 s if its holder dies.
func (o *OAuth) lock(ctx context.Context, did string) (func(), error) {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	key, token := "passerelle:oauth-lock:"+did, hex.EncodeToString(b)
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		ok, err := o.redis.SetNX(ctx, key, token, 30*time.Second).Result()
		if err != nil {
			return nil, fmt.Errorf("bluesky: OAuth lock of %s: %w", did, err)
		}
		if ok {
			return func() { unlockScript.Run(context.WithoutCancel(ctx), o.redis, []string{key}, token) }, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("bluesky: OAuth lock of %s: %w", did, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// logout revokes the session on the PDS and deletes it here, even when
// the PDS can't be reached: nothing can open it again.
func (o *OAuth) logout(ctx context.Context, r oauthRef) error {
	did, err := syntax.ParseDID(r.DID)
	if err != nil {
		return err
	}
	if err := o.app.Logout(ctx, did, r.SessionID); err != nil {
		_ = o.app.Store.DeleteSession(ctx, did, r.SessionID)
		return err
	}
	return nil
}

// localDir resolves handles on the local PDSes (a .test handle has no DNS)
// and DIDs through the configured PLC directory.
type localDir struct {
	base *identity.BaseDirectory
	pds  []string
}

func (d localDir) LookupDID(ctx context.Context, did syntax.DID) (*identity.Identity, error) {
	return d.base.LookupDID(ctx, did)
}

func (d localDir) LookupHandle(ctx context.Context, h syntax.Handle) (*identity.Identity, error) {
	for _, p := range d.pds {
		var out struct {
			DID string `json:"did"`
		}
		if getJSON(ctx, p+"/xrpc/com.atproto.identity.resolveHandle?handle="+url.QueryEscape(h.String()), &out) == nil && out.DID != "" {
			id, err := d.base.LookupDID(ctx, syntax.DID(out.DID))
			if err == nil {
				id.Handle = h
			}
			return id, err
		}
	}
	return d.base.LookupHandle(ctx, h)
}

func (d localDir) Lookup(ctx context.Context, a syntax.AtIdentifier) (*identity.Identity, error) {
	if h, err := a.AsHandle(); err == nil {
		return d.LookupHandle(ctx, h)
	}
	did, err := a.AsDID()
	if err != nil {
		return nil, err
	}
	return d.LookupDID(ctx, did)
}

func (d localDir) Purge(context.Context, syntax.AtIdentifier) error { return nil }

func getJSON(ctx context.Context, u string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	res, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, res.Status)
	}
	return json.NewDecoder(res.Body).Decode(out)
}

// oauthStore is indigo's ClientAuthStore: sessions sealed in the graph for
// good, auth requests sealed in Redis for ten minutes.
type oauthStore struct {
	sessions SessionStore
	redis    *redis.Client
	box      engine.Opener
}

func sessionKey(did syntax.DID, sid string) string { return did.String() + " " + sid }

func (s *oauthStore) GetSession(ctx context.Context, did syntax.DID, sid string) (*oauth.ClientSessionData, error) {
	key := sessionKey(did, sid)
	sealed, err := s.sessions.LoadOAuthSession(ctx, key)
	if err != nil {
		return nil, err
	}
	if sealed == "" {
		return nil, errors.New("no such OAuth session")
	}
	plain, err := s.box.Open(sealed, "oauth-session:"+key)
	if err != nil {
		return nil, err
	}
	var sd oauth.ClientSessionData
	return &sd, json.Unmarshal([]byte(plain), &sd)
}

func (s *oauthStore) SaveSession(ctx context.Context, sd oauth.ClientSessionData) error {
	key := sessionKey(sd.AccountDID, sd.SessionID)
	b, err := json.Marshal(sd)
	if err != nil {
		return err
	}
	return s.sessions.SaveOAuthSession(ctx, key, s.box.Seal(string(b), "oauth-session:"+key))
}

func (s *oauthStore) DeleteSession(ctx context.Context, did syntax.DID, sid string) error {
	return s.sessions.DeleteOAuthSession(ctx, sessionKey(did, sid))
}

func (s *oauthStore) GetAuthRequestInfo(ctx context.Context, state string) (*oauth.AuthRequestData, error) {
	sealed, err := s.redis.Get(ctx, "passerelle:atproto-oauth:"+state).Result()
	if err != nil {
		return nil, fmt.Errorf("no such sign-in in flight: %w", err)
	}
	plain, err := s.box.Open(sealed, "oauth-request:"+state)
	if err != nil {
		return nil, err
	}
	var info oauth.AuthRequestData
	return &info, json.Unmarshal([]byte(plain), &info)
}

func (s *oauthStore) SaveAuthRequestInfo(ctx context.Context, info oauth.AuthRequestData) error {
	b, err := json.Marshal(info)
	if err != nil {
		return err
	}
	return s.redis.Set(ctx, "passerelle:atproto-oauth:"+info.State, s.box.Seal(string(b), "oauth-request:"+info.State), 10*time.Minute).Err()
}

func (s *oauthStore) DeleteAuthRequestInfo(ctx context.Context, state string) error {
	return s.redis.Del(ctx, "passerelle:atproto-oauth:"+state).Err()
}
