// Package x signs members in with X (OAuth 2.0 with PKCE), only to prove
// which X account is theirs: a claim made that way is verified. Passerelle
// reads nothing else from X.
package x

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Scopes are the least X grants for reading who signed in.
const Scopes = "users.read tweet.read"

// Client is Passerelle's X app. Safe for concurrent use.
type Client struct {
	ClientID, ClientSecret string
	AuthURL                string // https://x.com/i/oauth2/authorize
	APIURL                 string // https://api.x.com
	HTTP                   *http.Client
}

// Verifier returns a fresh PKCE code verifier.
func Verifier() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// AuthorizeURL is where the member approves Passerelle on X.
func (c *Client) AuthorizeURL(redirectURI, state, verifier string) string {
	q := url.Values{"response_type": {"code"}, "client_id": {c.ClientID}, "redirect_uri": {redirectURI},
		"scope": {Scopes}, "state": {state}, "code_challenge": {challenge(verifier)}, "code_challenge_method": {"S256"}}
	return c.AuthURL + "?" + q.Encode()
}

// Account is the X account that signed in.
type Account struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
}

// SignedIn trades the code for a token, reads who it belongs to, and
// revokes the token: Passerelle keeps nothing of X but the account's id.
func (c *Client) SignedIn(ctx context.Context, code, redirectURI, verifier string) (*Account, error) {
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"code_verifier": {verifier}, "client_id": {c.ClientID}}
	if err := c.post(ctx, "/2/oauth2/token", form, &tok); err != nil {
		return nil, fmt.Errorf("x: token: %w", err)
	}
	if tok.AccessToken == "" {
		return nil, errors.New("x: no access token")
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.APIURL+"/2/users/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	var me struct {
		Data Account `json:"data"`
	}
	if err := c.do(req, &me); err != nil {
		return nil, fmt.Errorf("x: who signed in: %w", err)
	}
	if me.Data.ID == "" {
		return nil, errors.New("x: no account id")
	}
	_ = c.post(ctx, "/2/oauth2/revoke", url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"},
		"client_id": {c.ClientID}}, nil)
	return &me.Data, nil
}

func (c *Client) post(ctx context.Context, path string, form url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.APIURL+path, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	return c.do(req, out)
}

func (c *Client) do(req *http.Request, out any) error {
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 20 * time.Second}
	}
	req.Header.Set("User-Agent", "passerelle")
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", res.Status, strings.TrimSpace(string(b)))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}
