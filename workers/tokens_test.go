package workers_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/engine/seal"
	"github.com/passerelle-social/passerelle/internal/testenv"
	"github.com/passerelle-social/passerelle/networks/bluesky"
	"github.com/passerelle-social/passerelle/workers"
)

// TestTokensRefreshRenewsSessions on the real PDS: a connected account's
// session is stored sealed with its expiry; tokens:refresh renews it with
// the refresh token before it ends, signs in again with the app password
// when the refresh token is refused, and reports an account it can't renew
// without stopping the others.
func TestTokensRefreshRenewsSessions(t *testing.T) {
	ctx := context.Background()
	store := testenv.MustGraph(t)
	box, _ := seal.New(testKey)
	client := bluesky.New(bluesky.Options{PLCURL: testenv.PLCURL()})
	accounts := map[string]testenv.PDSAccount{}
	for _, m := range []string{"ann", "ben", "cat"} {
		if err := store.CreateMember(ctx, m); err != nil {
			t.Fatal(err)
		}
		a := testenv.MustPDSAccount(t, m)
		accounts[m] = a
		if _, err := engine.Connect(ctx, client, store, box, m, engine.Bluesky,
			engine.Credentials{Host: testenv.PDSURL(), Identifier: a.Handle, Password: a.Password}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	creds := func(m string) engine.Credentials {
		t.Helper()
		sealed, err := store.Credentials(ctx, m, engine.Bluesky, accounts[m].DID)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := box.Open(sealed, engine.CredentialsContext(m, accounts[m].DID))
		if err != nil {
			t.Fatal(err)
		}
		var c engine.Credentials
		if err := json.Unmarshal([]byte(plain), &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	save := func(m string, c engine.Credentials) {
		raw, _ := json.Marshal(c)
		if err := store.SaveCredentials(ctx, m, engine.Bluesky, accounts[m].DID, box.Seal(string(raw), engine.CredentialsContext(m, accounts[m].DID)), c.Expires); err != nil {
			t.Fatal(err)
		}
	}
	before := creds("ann")
	if len(before.Session) == 0 || before.Expires.Before(time.Now()) {
		t.Fatalf("connect stored no live session: %+v", before.Expires)
	}
	// ben's refresh token is refused (as after another process rotated
	// it): he signs in again. cat's too, and she has no app password left.
	tamper := func(m string, keepPassword bool) {
		c := creds(m)
		var s map[string]any
		json.Unmarshal(c.Session, &s)
		s["refresh_token"] = "not-a-token"
		c.Session, _ = json.Marshal(s)
		if !keepPassword {
			c.Password = ""
		}
		save(m, c)
	}
	tamper("ben", true)
	tamper("cat", false)

	// An hour before expiry nothing is due; within half an hour all are.
	for _, tc := range []struct {
		at      time.Time
		renewed int
		failed  int
	}{{before.Expires.Add(-2 * time.Hour), 0, 0}, {before.Expires.Add(-10 * time.Minute), 2, 1}} {
		k := &workers.Tokens{Graph: store, Box: box, Log: testenv.Logger(t), Now: func() time.Time { return tc.at },
			Clients: map[engine.Network]engine.Refresher{engine.Bluesky: client}}
		out, err := k.Run(ctx)
		if err != nil || out.Renewed != tc.renewed || out.Failed != tc.failed {
			t.Fatalf("at %v: %+v, %v; want %d renewed, %d failed", tc.at, out, err, tc.renewed, tc.failed)
		}
	}
	after := creds("ann")
	if string(after.Session) == string(before.Session) {
		t.Error("ann's session was not renewed")
	}
	for _, m := range []string{"ann", "ben"} {
		c := creds(m)
		c.Password = "" // the renewed session alone must open
		s, err := client.Open(ctx, c)
		if err != nil {
			t.Fatalf("%s: the renewed session does not open: %v", m, err)
		}
		if _, err := s.Follows(ctx); err != nil {
			t.Fatalf("%s: the renewed session can't list follows: %v", m, err)
		}
	}
}
