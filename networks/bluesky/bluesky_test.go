package bluesky_test

import (
	"context"
	"strings"
	"testing"

	"github.com/passerelle-social/passerelle/internal/testenv"
	"github.com/passerelle-social/passerelle/networks/bluesky"
)

// These tests run against the real local PDS and PLC of scripts/pds.sh.

func TestFollowOnTheRealPDS(t *testing.T) {
	ctx := context.Background()
	c := bluesky.New(bluesky.Options{PLCURL: testenv.PLCURL()})
	alice := testenv.MustPDSAccount(t, "alice")
	var targets []string
	for _, name := range []string{"bob", "carol", "dave", "erin"} {
		targets = append(targets, testenv.MustPDSAccount(t, name).DID)
	}
	s, err := c.LoginAppPassword(ctx, testenv.PDSURL(), alice.Handle, alice.Password)
	if err != nil {
		t.Fatal(err)
	}
	if s.DID != alice.DID {
		t.Fatalf("session DID %s, want %s", s.DID, alice.DID)
	}
	// Alice already follows erin, made by another app.
	first, err := s.Follow(ctx, targets[3:])
	if err != nil || first[0].Err != nil || first[0].URI == "" {
		t.Fatalf("follow erin: %+v, %v", first, err)
	}

	const unknown = "did:plc:zzzzzzzzzzzzzzzzzzzzzzzz"
	batch := append(append([]string{}, targets...), "did:plc:notreal", unknown, alice.DID, targets[0])
	res, err := s.Follow(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		switch {
		case i < 3 || i == 7: // bob, carol, dave (bob twice)
			if r.Err != nil || !strings.HasPrefix(r.URI, "at://"+alice.DID+"/app.bsky.graph.follow/") || r.Exists {
				t.Errorf("%s: %+v, want a new record", r.Target, r)
			}
		case i == 3: // erin
			if !r.Exists || r.URI != first[0].URI {
				t.Errorf("erin: %+v, want the existing record", r)
			}
		default: // malformed, unknown, self
			if r.Err == nil || !r.Permanent || r.URI != "" {
				t.Errorf("%s: %+v, want a permanent error and no record", r.Target, r)
			}
		}
	}
	if !strings.Contains(res[4].Err.Error(), "malformed") || !strings.Contains(res[5].Err.Error(), "unknown") {
		t.Errorf("reasons: %v / %v", res[4].Err, res[5].Err)
	}
	// The repository holds exactly the four follows, and running again
	// writes nothing.
	follows, err := s.Follows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(follows) != 4 {
		t.Fatalf("the repo holds %d follows, want 4: %v", len(follows), follows)
	}
	again, err := s.Follow(ctx, targets)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range again {
		if !r.Exists || r.Err != nil {
			t.Errorf("second run: %+v, want existing", r)
		}
	}
	if follows, _ := s.Follows(ctx); len(follows) != 4 {
		t.Errorf("after a second run the repo holds %d follows", len(follows))
	}
}

func TestWrongPasswordIsAClearError(t *testing.T) {
	c := bluesky.New(bluesky.Options{PLCURL: testenv.PLCURL()})
	alice := testenv.MustPDSAccount(t, "alice")
	_, err := c.LoginAppPassword(context.Background(), testenv.PDSURL(), alice.Handle, "wrong")
	if err == nil || !strings.Contains(err.Error(), alice.Handle) {
		t.Fatalf("err = %v", err)
	}
}
