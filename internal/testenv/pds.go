package testenv

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
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
