package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
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

// GTSPool returns the accts of n pooled accounts on the local GoToSocial
// (pool_0000, pool_0001, ...), creating those that are missing. Making an
// account there takes about a second (its admin CLI starts the whole
// server), and GoToSocial keeps its data across restarts, so tests that need
// hundreds of targets share this pool: only the first run on a machine pays.
// Tests only follow pool accounts, from fresh accounts of their own.
func GTSPool(tb testing.TB, n int) []string {
	tb.Helper()
	name, pass := poolName, poolPassword
	// Any token can look accounts up; a fresh account gives one.
	probe := MustGTSAccount(tb, "probe")
	exists := func(user string) bool {
		req, _ := http.NewRequest(http.MethodGet, GoToSocialURL()+"/api/v1/accounts/lookup?acct="+user, nil)
		req.Header.Set("Authorization", "Bearer "+probe.Token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			tb.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}
	out := make([]string, n)
	var missing []int
	for i := range out {
		out[i] = name(i) + "@" + GoToSocialDomain()
		if !exists(name(i)) {
			missing = append(missing, i)
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 6)
	errs := make(chan error, len(missing))
	for _, i := range missing {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if out, err := exec.Command(script("gotosocial.sh"), "create-account", name(i), name(i)+"@example.test", pass(i)).CombinedOutput(); err != nil {
				errs <- fmt.Errorf("create %s: %v\n%s", name(i), err, out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
	return out
}

func poolName(i int) string     { return fmt.Sprintf("pool_%04d", i) }
func poolPassword(i int) string { return fmt.Sprintf("Pool-Horse-%04d-Battery-9", i) }

// GTSPoolAccount returns pooled account i (made by GTSPool) with a fresh
// access token, for tests that act as pool accounts: they follow fresh
// accounts only, so the pool's state never leaks from one test to another.
func GTSPoolAccount(tb testing.TB, i int) GTSAccount {
	tb.Helper()
	a := GTSAccount{Username: poolName(i), Password: poolPassword(i)}
	a.Acct = a.Username + "@" + GoToSocialDomain()
	out, err := exec.Command(script("gotosocial.sh"), "token", a.Username, a.Password).Output()
	if err != nil {
		tb.Fatalf("token for %s (made by GTSPool?): %v", a.Username, err)
	}
	a.Token = strings.TrimSpace(string(out))
	return a
}
