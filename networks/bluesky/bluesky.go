// Package bluesky is Passerelle's adapter over indigo for Bluesky and any
// atproto PDS: sessions, DID resolution, the account's follow records, and
// follows written in batches that one bad target never fails.
package bluesky

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	comatproto "github.com/bluesky-social/indigo/api/atproto"
	appbsky "github.com/bluesky-social/indigo/api/bsky"
	"github.com/bluesky-social/indigo/atproto/atclient"
	"github.com/bluesky-social/indigo/atproto/identity"
	"github.com/bluesky-social/indigo/atproto/syntax"
	lexutil "github.com/bluesky-social/indigo/lex/util"

	"github.com/passerelle-social/passerelle/engine"
)

// FollowCollection is the collection of follow records.
const FollowCollection = "app.bsky.graph.follow"

// MaxWrites is the most writes one applyWrites call may carry.
const MaxWrites = 200

// Options configure a Client.
type Options struct {
	// PLCURL is the PLC directory that resolves did:plc identities
	// (https://plc.directory in production; the local PLC in tests).
	PLCURL     string
	HTTPClient *http.Client
	Now        func() time.Time
	// OAuth opens the sessions of members who signed in with atproto
	// OAuth; nil when only app passwords are used.
	OAuth *OAuth
}

// Client resolves identities and opens sessions. Safe for concurrent use.
type Client struct {
	dir   *identity.BaseDirectory
	http  *http.Client
	now   func() time.Time
	oauth *OAuth
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
	return &Client{
		dir:   &identity.BaseDirectory{PLCURL: strings.TrimRight(opt.PLCURL, "/"), HTTPClient: *hc, UserAgent: "passerelle"},
		http:  hc,
		now:   now,
		oauth: opt.OAuth,
	}
}

// Session is a logged-in account on its PDS.
type Session struct {
	c   *Client
	api *atclient.APIClient
	DID string
}

// LoginAppPassword opens a session with an app password (or the account
// password) on host, the account's PDS. Production accounts sign in with
// OAuth instead; app passwords serve local and self-hosted PDSes.
func (c *Client) LoginAppPassword(ctx context.Context, host, identifier, password string) (*Session, error) {
	api, err := atclient.LoginWithPasswordHost(ctx, strings.TrimRight(host, "/"), identifier, password, "", nil)
	if err != nil {
		return nil, fmt.Errorf("bluesky: sign in to %s as %s: %w", host, identifier, err)
	}
	api.Client = c.http
	return &Session{c: c, api: api, DID: api.AccountDID.String()}, nil
}

// Follows returns the account's follow records: subject DID → record URI.
// A subject followed twice (by another app) keeps its first record.
func (s *Session) Follows(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	cursor := ""
	for {
		page, err := comatproto.RepoListRecords(ctx, s.api, FollowCollection, cursor, 100, s.DID, false)
		if err != nil {
			return nil, fmt.Errorf("bluesky: list follows of %s: %w", s.DID, err)
		}
		for _, r := range page.Records {
			f, ok := r.Value.Val.(*appbsky.GraphFollow)
			if !ok {
				continue
			}
			if _, seen := out[f.Subject]; !seen {
				out[f.Subject] = r.Uri
			}
		}
		if page.Cursor == nil || *page.Cursor == "" || len(page.Records) == 0 {
			return out, nil
		}
		cursor = *page.Cursor
	}
}

// Result is what happened to one target of Follow.
type Result = engine.FollowResult

var _ engine.NetworkClient = (*Client)(nil)

// Open implements engine.NetworkClient: the stored session when it has
// not expired (indigo renews its access token when the PDS says it
// expired), else a new sign-in with the member's app password.
func (c *Client) Open(ctx context.Context, cr engine.Credentials) (engine.NetworkSession, error) {
	if ref, ok := parseRef(cr); ok {
		if c.oauth == nil {
			return nil, errors.New("bluesky: an OAuth session, but OAuth is not configured here")
		}
		api, err := c.oauth.open(ctx, ref)
		if err != nil {
			return nil, err
		}
		api.Client = c.http
		return &Session{c: c, api: api, DID: ref.DID}, nil
	}
	if len(cr.Session) > 0 && cr.Expires.After(c.now().Add(time.Minute)) {
		var data atclient.PasswordSessionData
		if err := json.Unmarshal(cr.Session, &data); err == nil && data.AccessToken != "" {
			api := atclient.ResumePasswordSession(data, nil)
			api.Client = c.http
			return &Session{c: c, api: api, DID: data.AccountDID.String()}, nil
		}
	}
	if cr.Password == "" {
		return nil, errors.New("bluesky: no app password in the credentials (OAuth sessions come with the web sign-in)")
	}
	return c.LoginAppPassword(ctx, cr.Host, cr.Identifier, cr.Password)
}

var _ engine.Refresher = (*Client)(nil)

// Refresh implements engine.Refresher: the stored session renewed with its
// refresh token (the PDS rotates it), or, when there is none or the PDS
// refuses it (expired, or rotated by another process), a new sign-in with
// the app password. The result carries the session and the expiry of its
// access token.
func (c *Client) Refresh(ctx context.Context, cr engine.Credentials) (engine.Credentials, error) {
	if ref, ok := parseRef(cr); ok {
		if c.oauth == nil {
			return cr, errors.New("bluesky: an OAuth session, but OAuth is not configured here")
		}
		if err := c.oauth.refresh(ctx, ref); err != nil {
			return cr, fmt.Errorf("bluesky: renew the OAuth session of %s: %w", ref.DID, err)
		}
		cr.Expires = c.now().Add(24 * time.Hour).UTC()
		return cr, nil
	}
	var data atclient.PasswordSessionData
	renewed := false
	if len(cr.Session) > 0 && json.Unmarshal(cr.Session, &data) == nil && data.RefreshToken != "" {
		auth := &atclient.PasswordAuth{Session: data}
		if err := auth.Refresh(ctx, c.http, ""); err == nil {
			data, renewed = auth.Session.Clone(), true
		}
	}
	if !renewed {
		if cr.Password == "" {
			return cr, errors.New("bluesky: the session can't be renewed and there is no app password to sign in again")
		}
		s, err := c.LoginAppPassword(ctx, cr.Host, cr.Identifier, cr.Password)
		if err != nil {
			return cr, err
		}
		auth, ok := s.api.Auth.(*atclient.PasswordAuth)
		if !ok {
			return cr, errors.New("bluesky: sign-in gave no password session")
		}
		access, refresh := auth.GetTokens()
		data = atclient.PasswordSessionData{AccessToken: access, RefreshToken: refresh, AccountDID: *s.api.AccountDID, Host: s.api.Host}
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return cr, err
	}
	cr.Session = raw
	cr.Expires = jwtExpiry(data.AccessToken, c.now())
	return cr, nil
}

var _ engine.Revoker = (*Client)(nil)

// Revoke implements engine.Revoker: the stored session is deleted on the
// PDS (com.atproto.server.deleteSession), so its tokens stop working. The
// app password itself is the member's to revoke in their Bluesky settings.
func (c *Client) Revoke(ctx context.Context, cr engine.Credentials) error {
	if ref, ok := parseRef(cr); ok && c.oauth != nil {
		return c.oauth.logout(ctx, ref)
	}
	var data atclient.PasswordSessionData
	if len(cr.Session) == 0 || json.Unmarshal(cr.Session, &data) != nil || data.RefreshToken == "" {
		return nil
	}
	auth := &atclient.PasswordAuth{Session: data}
	if err := auth.Logout(ctx, c.http); err != nil {
		return fmt.Errorf("bluesky: end the session of %s: %w", data.AccountDID, err)
	}
	return nil
}

// jwtExpiry reads the exp claim of a JWT without checking its signature
// (only the PDS can, and it will): when the session should be renewed.
// A token without one is taken to last 15 minutes.
func jwtExpiry(token string, now time.Time) time.Time {
	parts := strings.Split(token, ".")
	if len(parts) == 3 {
		if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
			var claims struct {
				Exp int64 `json:"exp"`
			}
			if json.Unmarshal(b, &claims) == nil && claims.Exp > 0 {
				return time.Unix(claims.Exp, 0).UTC()
			}
		}
	}
	return now.Add(15 * time.Minute).UTC()
}

// FollowCost implements engine.NetworkClient: a created record costs 3 points of
// the PDS's write budget.
func (c *Client) FollowCost() int64 { return 3 }

// Account implements engine.NetworkSession.
func (s *Session) Account() string { return s.DID }

// Resolve checks that a target's DID document exists. The PDS would write a
// follow of any well-formed DID, so an unknown or deleted one must be
// caught here, before it becomes a junk record.
func (c *Client) Resolve(ctx context.Context, target string) (permanent bool, err error) {
	// The engine's check is stricter than the DID syntax: a did:plc is 24
	// base32 characters.
	if _, err := engine.CheckAccount(engine.Bluesky, target); err != nil {
		return true, fmt.Errorf("malformed DID %q", target)
	}
	did, err := syntax.ParseDID(target)
	if err != nil {
		return true, fmt.Errorf("malformed DID %q", target)
	}
	if _, err := c.dir.ResolveDID(ctx, did); err != nil {
		if errors.Is(err, identity.ErrDIDNotFound) || strings.Contains(err.Error(), "status 410") {
			return true, fmt.Errorf("unknown or deleted DID %s", target)
		}
		return false, fmt.Errorf("resolve %s: %w", target, err)
	}
	return false, nil
}

// Follow follows every target not yet followed, in applyWrites batches of
// at most MaxWrites. Existing follow records (from any app) are found first,
// so a follow is never made twice; each target is resolved before it is
// written; a batch the PDS refuses is split and its halves retried, so one
// bad target never fails the others. One Result per target, in order.
func (s *Session) Follow(ctx context.Context, targets []string) ([]Result, error) {
	existing, err := s.Follows(ctx)
	if err != nil {
		return nil, err
	}
	return s.FollowKnown(ctx, targets, existing), nil
}

// FollowKnown is Follow when the caller has just listed the account's
// follow records (existing, from Follows).
func (s *Session) FollowKnown(ctx context.Context, targets []string, existing map[string]string) []Result {
	results := make([]Result, len(targets))
	var todo []int
	seen := map[string]int{}
	for i, t := range targets {
		results[i].Target = t
		if j, dup := seen[t]; dup {
			results[i] = results[j] // filled in below through todo
			continue
		}
		seen[t] = i
		if uri, ok := existing[t]; ok {
			results[i].URI, results[i].Exists = uri, true
			continue
		}
		if t == s.DID {
			results[i].Err, results[i].Permanent = errors.New("an account cannot follow itself"), true
			continue
		}
		todo = append(todo, i)
	}
	todo = s.resolveAll(ctx, todo, results)
	for start := 0; start < len(todo); start += MaxWrites {
		s.write(ctx, todo[start:min(start+MaxWrites, len(todo))], results)
	}
	for i, t := range targets {
		if j := seen[t]; j != i {
			results[i] = results[j]
		}
	}
	return results
}

// resolveConcurrency is how many DID documents are fetched at once.
const resolveConcurrency = 8

// resolveAll resolves the targets of idx concurrently and returns those that
// resolved, in order; the others get their error in results.
func (s *Session) resolveAll(ctx context.Context, idx []int, results []Result) []int {
	ok := make([]bool, len(idx))
	var wg sync.WaitGroup
	sem := make(chan struct{}, resolveConcurrency)
	for k, i := range idx {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if perm, err := s.c.Resolve(ctx, results[i].Target); err != nil {
				results[i].Err, results[i].Permanent = err, perm
				return
			}
			ok[k] = true
		}()
	}
	wg.Wait()
	var out []int
	for k, i := range idx {
		if ok[k] {
			out = append(out, i)
		}
	}
	return out
}

// write creates the follow records of idx in one applyWrites call; when the
// PDS refuses the batch, it splits it in halves until the bad target stands
// alone.
func (s *Session) write(ctx context.Context, idx []int, results []Result) {
	if len(idx) == 0 {
		return
	}
	now := s.c.now().UTC().Format(time.RFC3339Nano)
	writes := make([]*comatproto.RepoApplyWrites_Input_Writes_Elem, len(idx))
	for k, i := range idx {
		writes[k] = &comatproto.RepoApplyWrites_Input_Writes_Elem{RepoApplyWrites_Create: &comatproto.RepoApplyWrites_Create{
			Collection: FollowCollection,
			Value:      &lexutil.LexiconTypeDecoder{Val: &appbsky.GraphFollow{Subject: results[i].Target, CreatedAt: now}},
		}}
	}
	out, err := comatproto.RepoApplyWrites(ctx, s.api, &comatproto.RepoApplyWrites_Input{Repo: s.DID, Writes: writes})
	if err == nil && len(out.Results) == len(idx) {
		for k, i := range idx {
			if r := out.Results[k].RepoApplyWrites_CreateResult; r != nil {
				results[i].URI = r.Uri
			} else {
				results[i].Err = errors.New("the PDS gave no create result")
			}
		}
		return
	}
	if err == nil {
		err = fmt.Errorf("the PDS answered %d results for %d writes", len(out.Results), len(idx))
	}
	if len(idx) == 1 || !refusal(err) {
		for _, i := range idx {
			results[i].Err, results[i].Permanent = fmt.Errorf("follow %s: %w", results[i].Target, err), refusal(err)
		}
		return
	}
	half := len(idx) / 2
	s.write(ctx, idx[:half], results)
	s.write(ctx, idx[half:], results)
}

// refusal reports whether the PDS refused the request itself (a 4xx other
// than rate limiting or auth), as opposed to failing for a while.
func refusal(err error) bool {
	var ae *atclient.APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.StatusCode >= 400 && ae.StatusCode < 500 && ae.StatusCode != 429 && ae.StatusCode != 401 && ae.StatusCode != 408
}

// RateLimited reports whether err is the PDS saying "too many requests".
func RateLimited(err error) bool {
	var ae *atclient.APIError
	return errors.As(err, &ae) && ae.StatusCode == 429
}

// CountFollowRecords counts the account's follow records and the distinct
// accounts they follow: equal counts mean no follow was made twice.
func (s *Session) CountFollowRecords(ctx context.Context) (records, subjects int, err error) {
	seen := map[string]bool{}
	cursor := ""
	for {
		page, err := comatproto.RepoListRecords(ctx, s.api, FollowCollection, cursor, 100, s.DID, false)
		if err != nil {
			return 0, 0, fmt.Errorf("bluesky: list follows of %s: %w", s.DID, err)
		}
		for _, r := range page.Records {
			if f, ok := r.Value.Val.(*appbsky.GraphFollow); ok {
				records++
				seen[f.Subject] = true
			}
		}
		if page.Cursor == nil || *page.Cursor == "" || len(page.Records) == 0 {
			return records, len(seen), nil
		}
		cursor = *page.Cursor
	}
}
