package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// GoToSocialURL is the local GoToSocial (Mastodon API):
// PASSERELLE_TEST_GTS_URL or http://localhost:8090 (scripts/gotosocial.sh).
func GoToSocialURL() string { return env("PASSERELLE_TEST_GTS_URL", "http://localhost:8090") }

// GoToSocialDomain is the domain in the local instance's account names.
func GoToSocialDomain() string {
	return strings.TrimPrefix(strings.TrimPrefix(GoToSocialURL(), "http://"), "https://")
}

// GTSAccount is an account created on the local GoToSocial for one test.
type GTSAccount struct {
	Username, Acct, Password, Token string
}

// script returns the path of one of the project's scripts.
func script(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "scripts", name)
}

// MustGTSAccount creates a confirmed, unlocked account on the local
// GoToSocial through its admin CLI (scripts/gotosocial.sh), and an access
// token for it through the OAuth authorization-code flow.
func MustGTSAccount(tb testing.TB, name string) GTSAccount {
	tb.Helper()
	suffix := make([]byte, 3)
	rand.Read(suffix)
	a := GTSAccount{Username: strings.ToLower(name) + "_" + hex.EncodeToString(suffix), Password: "Correct-Horse-" + hex.EncodeToString(suffix) + "-Battery-9"}
	a.Acct = a.Username + "@" + GoToSocialDomain()
	if out, err := exec.Command(script("gotosocial.sh"), "create-account", a.Username, a.Username+"@example.test", a.Password).CombinedOutput(); err != nil {
		tb.Fatalf("create GoToSocial account %s: %v\n%s\n%s", a.Username, err, out, howToStartNetworks)
	}
	out, err := exec.Command(script("gotosocial.sh"), "token", a.Username, a.Password).Output()
	if err != nil {
		tb.Fatalf("token for %s: %v", a.Username, err)
	}
	a.Token = strings.TrimSpace(string(out))
	return a
}
