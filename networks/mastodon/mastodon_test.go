package mastodon_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-social/passerelle/internal/testenv"
	"github.com/passerelle-social/passerelle/networks/mastodon"
)

// These tests run against the real local GoToSocial of scripts/gotosocial.sh.

func TestFollowOnGoToSocial(t *testing.T) {
	ctx := context.Background()
	c := mastodon.New(mastodon.Options{})
	alice := testenv.MustGTSAccount(t, "alice")
	bob := testenv.MustGTSAccount(t, "bob")
	carol := testenv.MustGTSAccount(t, "carol")
	gone := testenv.MustGTSAccount(t, "gone")
	// gone deletes their account.
	req, _ := http.NewRequest(http.MethodPost, testenv.GoToSocialURL()+"/api/v1/accounts/delete",
		strings.NewReader(url.Values{"password": {gone.Password}}.Encode()))
	req.Header.Set("Authorization", "Bearer "+gone.Token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode >= 300 {
		t.Fatalf("delete account: %v %v", res, err)
	}
	// The instance deletes in the background: wait until it shows.
	for deadline := time.Now().Add(20 * time.Second); ; {
		req, _ := http.NewRequest(http.MethodGet, testenv.GoToSocialURL()+"/api/v1/accounts/lookup?acct="+gone.Username, nil)
		req.Header.Set("Authorization", "Bearer "+alice.Token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var a struct{ Suspended bool }
		json.NewDecoder(res.Body).Decode(&a)
		res.Body.Close()
		if a.Suspended || res.StatusCode == http.StatusNotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the deleted account is still active after 20 s")
		}
		time.Sleep(200 * time.Millisecond)
	}

	s, err := c.OpenToken(ctx, testenv.GoToSocialURL(), alice.Token)
	if err != nil {
		t.Fatal(err)
	}
	if s.Account() != alice.Acct {
		t.Fatalf("session account %q, want %q", s.Account(), alice.Acct)
	}
	existing, err := s.Follows(ctx)
	if err != nil || len(existing) != 0 {
		t.Fatalf("follows of a new account: %v, %v", existing, err)
	}
	targets := []string{bob.Acct, "@" + strings.ToUpper(carol.Acct), gone.Acct, "not an acct", alice.Acct}
	res := s.FollowKnown(ctx, targets, existing)
	for i, r := range res {
		ok := i < 2
		if ok && (r.Err != nil || r.URI == "") {
			t.Errorf("%s: %+v, want followed", r.Target, r)
		}
		if !ok && (r.Err == nil || !r.Permanent) {
			t.Errorf("%s: %+v, want a permanent error", r.Target, r)
		}
	}
	if !strings.Contains(res[2].Err.Error(), "deleted") {
		t.Errorf("the deleted account's reason: %v", res[2].Err)
	}
	// The instance itself says alice follows exactly bob and carol, and a
	// second run follows nobody again.
	follows, err := s.Follows(ctx)
	if err != nil || len(follows) != 2 {
		t.Fatalf("follows on the instance: %v, %v", follows, err)
	}
	again := s.FollowKnown(ctx, []string{bob.Acct, carol.Acct}, follows)
	for _, r := range again {
		if !r.Exists {
			t.Errorf("second run: %+v", r)
		}
	}
}

func TestRegisterAppOnGoToSocial(t *testing.T) {
	app, err := mastodon.New(mastodon.Options{}).RegisterApp(context.Background(), testenv.GoToSocialURL(), "urn:ietf:wg:oauth:2.0:oob")
	if err != nil {
		t.Fatal(err)
	}
	if app.ClientID == "" || app.ClientSecret == "" {
		t.Fatalf("app = %+v", app)
	}
}

func TestBadTokenIsAClearError(t *testing.T) {
	_, err := mastodon.New(mastodon.Options{}).OpenToken(context.Background(), testenv.GoToSocialURL(), "nope")
	if err == nil || !strings.Contains(err.Error(), "sign in") {
		t.Fatalf("err = %v", err)
	}
}
