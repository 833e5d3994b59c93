package testenv

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const howToStartNetworks = "start the local PDS and GoToSocial with `make services-networks` (or `scripts/pds.sh start`), or run everything with `make test`"

// PDSURL is the local Bluesky PDS: PASSERELLE_TEST_PDS_URL or
// http://localhost:2583 (scripts/pds.sh).
func PDSURL() string { return env("PASSERELLE_TEST_PDS_URL", "http://localhost:2583") }

// PLCURL is the local PLC directory: PASSERELLE_TEST_PLC_URL or
// http://127.0.0.1:2582.
func PLCURL() string { return env("PASSERELLE_TEST_PLC_URL", "http://127.0.0.1:2582") }

// PDSBypassKey lets the tests' own account creation through the PDS's rate
// limits when a test turns them on.
const PDSBypassKey = "passerelle-test-bypass"

// PDSAccount is an account created on the local PDS for one test.
type PDSAccount struct {
	DID, Handle, Password string
}

// MustPDSAccount creates a fresh account on the local PDS, with a handle
// that starts with name and is unique to this run.
func MustPDSAccount(tb testing.TB, name string) PDSAccount {
	tb.Helper()
	suffix := make([]byte, 3)
	rand.Read(suffix)
	a := PDSAccount{Handle: fmt.Sprintf("%s-%s.test", strings.ToLower(name), hex.EncodeToString(suffix)), Password: "pw-" + hex.EncodeToString(suffix) + "-passerelle"}
	body, _ := json.Marshal(map[string]string{"handle": a.Handle, "email": a.Handle + "@example.test", "password": a.Password})
	c := &http.Client{Timeout: 20 * time.Second}
	req, _ := http.NewRequest(http.MethodPost, PDSURL()+"/xrpc/com.atproto.server.createAccount", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	// Tests that turn the PDS's rate limits on start it with this bypass
	// key, so that making their accounts is not limited.
	req.Header.Set("x-ratelimit-bypass", PDSBypassKey)
	res, err := c.Do(req)
	if err != nil {
		tb.Fatalf("no PDS at %s: %v\n%s", PDSURL(), err, howToStartNetworks)
	}
	defer res.Body.Close()
	var out struct {
		DID     string `json:"did"`
		Message string `json:"message"`
	}
	json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != http.StatusOK || out.DID == "" {
		tb.Fatalf("create PDS account %s: %s %s", a.Handle, res.Status, out.Message)
	}
	a.DID = out.DID
	return a
}

// ApproveOnPDS does what a person does on the local PDS's authorization
// page (a JavaScript app of @atproto/oauth-provider), through the HTTP API
// that page calls: it opens the page, signs in with the account's
// password, approves Passerelle, and returns where the PDS sends the
// browser back (the client's callback, with code, state and iss). The
// headers are the ones a browser sends (Sec-Fetch-*, Origin, Referer); the
// PDS checks them, and its CSRF cookie is echoed in x-csrf-token.
func ApproveOnPDS(tb testing.TB, authorize, identifier, password string) string {
	tb.Helper()
	cookies := map[string]string{}
	noFollow := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, u, referer, site, mode string, body any) *http.Response {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, u, rd)
		req.Header.Set("User-Agent", "Mozilla/5.0 (passerelle tests)")
		req.Header.Set("Sec-Fetch-Site", site)
		req.Header.Set("Sec-Fetch-Mode", mode)
		if mode == "navigate" {
			req.Header.Set("Sec-Fetch-Dest", "document")
			req.Header.Set("Accept", "text/html")
		} else {
			req.Header.Set("Sec-Fetch-Dest", "empty")
			req.Header.Set("Origin", PDSURL())
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-CSRF-Token", cookies["csrf-token"])
		}
		if referer != "" {
			req.Header.Set("Referer", referer)
		}
		var jar []string
		for k, v := range cookies {
			jar = append(jar, k+"="+v)
		}
		req.Header.Set("Cookie", strings.Join(jar, "; "))
		res, err := noFollow.Do(req)
		if err != nil {
			tb.Fatalf("PDS authorization page: %v", err)
		}
		for _, c := range res.Cookies() {
			cookies[c.Name] = c.Value
		}
		return res
	}
	res := do(http.MethodGet, authorize, "", "cross-site", "navigate", nil)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("PDS authorization page: %s", res.Status)
	}
	api := PDSURL() + "/@atproto/oauth-provider/~api"
	res = do(http.MethodPost, api+"/sign-in", authorize, "same-origin", "same-origin",
		map[string]any{"locale": "en", "username": identifier, "password": password, "remember": true})
	var signIn struct {
		Account struct {
			Sub string `json:"sub"`
		} `json:"account"`
	}
	json.NewDecoder(res.Body).Decode(&signIn)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || signIn.Account.Sub == "" {
		tb.Fatalf("PDS sign-in as %s: %s", identifier, res.Status)
	}
	res = do(http.MethodPost, api+"/consent", authorize, "same-origin", "same-origin", map[string]any{"sub": signIn.Account.Sub})
	var consent struct {
		URL string `json:"url"`
	}
	json.NewDecoder(res.Body).Decode(&consent)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || consent.URL == "" {
		tb.Fatalf("PDS consent: %s", res.Status)
	}
	res = do(http.MethodGet, consent.URL, authorize, "same-origin", "navigate", nil)
	res.Body.Close()
	back := res.Header.Get("Location")
	if back == "" {
		tb.Fatalf("PDS approval sent the browser nowhere (%s)", res.Status)
	}
	return back
}
