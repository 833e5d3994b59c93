// Package mastodon is Passerelle's adapter over go-mastodon for Mastodon
// and any server of its API (GoToSocial included): app registration,
// sessions from OAuth tokens, the account's follows, target accounts
// resolved on the member's own instance, and follows read back.
package mastodon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	gomastodon "github.com/mattn/go-mastodon"

	"github.com/passerelle-social/passerelle/engine"
)

// Scopes are the OAuth scopes Passerelle asks for.
const Scopes = "read write follow"

// Options configure a Client.
type Options struct {
	HTTPClient *http.Client
	Now        func() time.Time
}

// Client opens sessions on Mastodon-API instances. Safe for concurrent use.
type Client struct {
	http *http.Client
	now  func() time.Time
}

// New returns a Client.
func New(opt Options) *Client {
	hc := opt.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	return &Client{http: hc, now: now}
}

var _ engine.NetworkClient = (*Client)(nil)

// App is Passerelle's OAuth application on one instance.
type App = engine.OAuthApp

var _ engine.InstanceOAuth = (*Client)(nil)

// RegisterApp registers Passerelle on an instance, the first time one of
// its members signs in from there.
func (c *Client) RegisterApp(ctx context.Context, instance, redirectURI string) (*App, error) {
	instance = strings.TrimRight(instance, "/")
	app, err := gomastodon.RegisterApp(ctx, &gomastodon.AppConfig{
		Client: *c.http, Server: instance, ClientName: "Passerelle", Scopes: Scopes, RedirectURIs: redirectURI,
		Website: "https://github.com/passerelle-social/passerelle",
	})
	if err != nil {
		return nil, fmt.Errorf("mastodon: register the app on %s: %w", instance, err)
	}
	return &App{Instance: instance, ClientID: app.ClientID, ClientSecret: app.ClientSecret, RedirectURI: redirectURI}, nil
}

// AuthorizeURL implements engine.InstanceOAuth: where the member approves
// Passerelle on their instance; state comes back with the code.
func (c *Client) AuthorizeURL(app *App, state string) string {
	q := url.Values{"client_id": {app.ClientID}, "redirect_uri": {app.RedirectURI}, "response_type": {"code"},
		"scope": {Scopes}, "state": {state}}
	return app.Instance + "/oauth/authorize?" + q.Encode()
}

// Exchange implements engine.InstanceOAuth: the authorization code for an
// access token.
func (c *Client) Exchange(ctx context.Context, app *App, code string) (string, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {app.ClientID},
		"client_secret": {app.ClientSecret}, "redirect_uri": {app.RedirectURI}, "scope": {Scopes}}
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := c.postForm(ctx, app.Instance+"/oauth/token", form, &out); err != nil {
		return "", fmt.Errorf("mastodon: token from %s: %w", app.Instance, err)
	}
	if out.AccessToken == "" {
		return "", fmt.Errorf("mastodon: %s gave no token (%s)", app.Instance, out.Error)
	}
	return out.AccessToken, nil
}

// RevokeToken implements engine.InstanceOAuth: the token stops working.
func (c *Client) RevokeToken(ctx context.Context, app *App, token string) error {
	form := url.Values{"client_id": {app.ClientID}, "client_secret": {app.ClientSecret}, "token": {token}}
	if err := c.postForm(ctx, app.Instance+"/oauth/revoke", form, nil); err != nil {
		return fmt.Errorf("mastodon: revoke a token on %s: %w", app.Instance, err)
	}
	return nil
}

func (c *Client) postForm(ctx context.Context, u string, form url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "passerelle")
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", res.Status, strings.TrimSpace(string(b)))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// FollowCost implements engine.NetworkClient: requests, of the instance's
// budget, that one follow takes (a lookup and the follow).
func (c *Client) FollowCost() int64 { return 2 }

// Session is a signed-in account on its instance.
type Session struct {
	api    *gomastodon.Client
	http   *http.Client
	server string
	token  string
	id     gomastodon.ID
	acct   string // user@domain, lower-cased
	domain string
	limits *limits
}

// Open implements engine.NetworkClient: a session from an OAuth token.
func (c *Client) Open(ctx context.Context, cr engine.Credentials) (engine.NetworkSession, error) {
	return c.OpenToken(ctx, cr.Host, cr.Token)
}

// OpenToken opens a session with an access token on instance (its URL).
func (c *Client) OpenToken(ctx context.Context, instance, token string) (*Session, error) {
	if token == "" {
		return nil, errors.New("mastodon: no access token in the credentials")
	}
	l := &limits{}
	hc := *c.http
	hc.Transport = &headerReader{next: transport(c.http), limits: l}
	api := gomastodon.NewClient(&gomastodon.Config{Server: strings.TrimRight(instance, "/"), AccessToken: token})
	api.Client = hc
	api.UserAgent = "passerelle"
	me, err := api.GetAccountCurrentUser(ctx)
	if err != nil {
		return nil, fmt.Errorf("mastodon: sign in to %s: %w", instance, err)
	}
	domain, err := instanceDomain(ctx, api, instance)
	if err != nil {
		return nil, err
	}
	return &Session{api: api, http: &hc, server: strings.TrimRight(instance, "/"), token: token,
		id: me.ID, acct: strings.ToLower(me.Username + "@" + domain), domain: domain, limits: l}, nil
}

// instanceDomain is the domain in the instance's accounts' names: its
// declared URI, without a scheme, or the host of its URL.
func instanceDomain(ctx context.Context, api *gomastodon.Client, instance string) (string, error) {
	if in, err := api.GetInstance(ctx); err == nil && in.URI != "" {
		uri := in.URI
		if u, err := url.Parse(uri); err == nil && u.Host != "" {
			uri = u.Host
		}
		return strings.ToLower(uri), nil
	}
	u, err := url.Parse(instance)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("mastodon: %q is not an instance URL", instance)
	}
	return strings.ToLower(u.Host), nil
}

// Account implements engine.NetworkSession.
func (s *Session) Account() string { return s.acct }

// canonical writes an account's acct as user@domain, lower-cased.
func (s *Session) canonical(acct string) string {
	acct = strings.ToLower(strings.TrimPrefix(acct, "@"))
	if !strings.Contains(acct, "@") {
		acct += "@" + s.domain
	}
	return acct
}

// Follows implements engine.NetworkSession: acct → account URL, for every
// account the session's account follows or asked to follow.
func (s *Session) Follows(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	pg := &gomastodon.Pagination{Limit: 80}
	for {
		accts, err := s.api.GetAccountFollowing(ctx, s.id, pg)
		if err != nil {
			return nil, fmt.Errorf("mastodon: list follows of %s: %w", s.acct, err)
		}
		for _, a := range accts {
			out[s.canonical(a.Acct)] = a.URL
		}
		if len(accts) == 0 || pg.MaxID == "" {
			return out, nil
		}
		pg.SinceID, pg.MinID = "", ""
	}
}

// FollowKnown implements engine.NetworkSession: each target is resolved on
// the member's own instance (lookup, then a resolving search), followed,
// and its relationship read back: following, or requested for a locked
// account. One result per target, in order.
func (s *Session) FollowKnown(ctx context.Context, targets []string, existing map[string]string) []engine.FollowResult {
	results := make([]engine.FollowResult, len(targets))
	for i, t := range targets {
		r := &results[i]
		r.Target = t
		acct, err := engine.CheckAccount(engine.Mastodon, t)
		if err != nil {
			r.Err, r.Permanent = err, true
			continue
		}
		if uri, ok := existing[acct]; ok {
			r.URI, r.Exists = uri, true
			continue
		}
		if acct == s.acct {
			r.Err, r.Permanent = errors.New("an account cannot follow itself"), true
			continue
		}
		if wait := s.limits.wait(); wait > 0 {
			r.Err, r.RetryAfter = fmt.Errorf("instance rate limit: %d requests left", s.limits.left()), wait
			continue
		}
		target, err := s.resolve(ctx, acct)
		if err != nil {
			r.Err, r.Permanent = err, permanent(err)
			continue
		}
		if target.Suspended {
			// Mastodon and GoToSocial show deleted accounts as suspended.
			r.Err, r.Permanent = fmt.Errorf("%s is deleted or suspended", acct), true
			continue
		}
		rel, err := s.api.AccountFollow(ctx, gomastodon.ID(target.ID))
		if err != nil {
			r.Err, r.Permanent = fmt.Errorf("follow %s: %w", acct, err), permanent(err)
			continue
		}
		if !rel.Following && !rel.Requested {
			r.Err = fmt.Errorf("follow %s: the instance answered neither following nor requested", acct)
			continue
		}
		r.URI = target.URL
	}
	return results
}

// account is what Passerelle reads of a target account. go-mastodon's
// Account lacks `suspended`, so these two reads are plain requests.
type account struct {
	ID        string `json:"id"`
	Acct      string `json:"acct"`
	URL       string `json:"url"`
	Suspended bool   `json:"suspended"`
}

// get reads one account from the instance's API.
func (s *Session) get(ctx context.Context, path string, q url.Values) (*account, error) {
	u := s.server + path
	if q != nil {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("User-Agent", "passerelle")
	res, err := s.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, &gomastodon.APIError{StatusCode: res.StatusCode, Message: res.Status}
	}
	var a account
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&a); err != nil {
		return nil, fmt.Errorf("read account: %w", err)
	}
	return &a, nil
}

// resolve finds a target account on the session's own instance: lookup,
// then a resolving search for an account it has not seen yet.
func (s *Session) resolve(ctx context.Context, acct string) (*account, error) {
	local := acct
	if strings.HasSuffix(acct, "@"+s.domain) {
		local = strings.TrimSuffix(acct, "@"+s.domain)
	}
	a, err := s.get(ctx, "/api/v1/accounts/lookup", url.Values{"acct": {local}})
	if err == nil {
		return a, nil
	}
	if !notFound(err) {
		return nil, fmt.Errorf("look up %s: %w", acct, err)
	}
	res, err := s.api.Search(ctx, "@"+acct, true)
	if err != nil {
		if notFound(err) {
			return nil, fmt.Errorf("no account %s: deleted, suspended or unknown: %w", acct, errGone)
		}
		return nil, fmt.Errorf("search %s: %w", acct, err)
	}
	for _, found := range res.Accounts {
		if s.canonical(found.Acct) == acct {
			return s.get(ctx, "/api/v1/accounts/"+url.PathEscape(string(found.ID)), nil)
		}
	}
	return nil, fmt.Errorf("no account %s: deleted, suspended or unknown: %w", acct, errGone)
}

var errGone = errors.New("gone")

func notFound(err error) bool {
	var ae *gomastodon.APIError
	return errors.As(err, &ae) && (ae.StatusCode == http.StatusNotFound || ae.StatusCode == http.StatusGone)
}

// permanent reports errors that a retry will not change: the target is gone
// or the instance refuses the request itself.
func permanent(err error) bool {
	if errors.Is(err, errGone) {
		return true
	}
	var ae *gomastodon.APIError
	return errors.As(err, &ae) && ae.StatusCode >= 400 && ae.StatusCode < 500 &&
		ae.StatusCode != http.StatusTooManyRequests && ae.StatusCode != http.StatusUnauthorized && ae.StatusCode != http.StatusRequestTimeout
}

// limits is what the instance's X-RateLimit-* headers last said.
type limits struct {
	mu        sync.Mutex
	remaining int
	reset     time.Time
	known     bool
}

// floor is the requests kept in hand: below it, follows wait for the reset.
const floor = 5

func (l *limits) wait() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.known || l.remaining > floor {
		return 0
	}
	if d := time.Until(l.reset); d > 0 {
		return d
	}
	return 0
}

func (l *limits) left() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.remaining
}

// headerReader records the rate-limit headers of every response.
type headerReader struct {
	next   http.RoundTripper
	limits *limits
}

func (h *headerReader) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := h.next.RoundTrip(req)
	if err != nil {
		return res, err
	}
	rem, err1 := strconv.Atoi(res.Header.Get("X-RateLimit-Remaining"))
	reset, err2 := time.Parse(time.RFC3339, res.Header.Get("X-RateLimit-Reset"))
	if err1 == nil && err2 == nil {
		h.limits.mu.Lock()
		h.limits.remaining, h.limits.reset, h.limits.known = rem, reset, true
		h.limits.mu.Unlock()
	}
	return res, nil
}

func transport(c *http.Client) http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}
