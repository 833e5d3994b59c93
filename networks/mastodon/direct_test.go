package mastodon_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/passerelle-social/passerelle/internal/testenv"
	"github.com/passerelle-social/passerelle/networks/mastodon"
)

// These tests run against the real local GoToSocial of scripts/gotosocial.sh.

// gtsGet reads one Mastodon-API endpoint of the local GoToSocial as the
// holder of token.
func gtsGet(t *testing.T, token, path string, out any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, testenv.GoToSocialURL()+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", path, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

type status struct {
	ID         string `json:"id"`
	URL        string `json:"url"`
	Visibility string `json:"visibility"`
	Content    string `json:"content"`
	Account    struct {
		Acct string `json:"acct"`
	} `json:"account"`
	Mentions []struct {
		Acct string `json:"acct"`
	} `json:"mentions"`
}

func TestSendDirectOnGoToSocial(t *testing.T) {
	ctx := context.Background()
	bot := testenv.MustGTSAccount(t, "bot")
	rcpt := testenv.MustGTSAccount(t, "rcpt")
	s, err := mastodon.New(mastodon.Options{}).OpenToken(ctx, testenv.GoToSocialURL(), bot.Token)
	if err != nil {
		t.Fatal(err)
	}
	const text = "3 people you follow on X arrived on Passerelle (digest-7f3a)"
	// The acct is normalised: upper case and a leading @ are accepted, and
	// the local recipient is mentioned with its domain.
	url, err := s.SendDirect(ctx, "@"+strings.ToUpper(rcpt.Acct), text)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, testenv.GoToSocialURL()+"/@"+bot.Username+"/statuses/") {
		t.Errorf("status URL %q", url)
	}

	// The recipient got it: a mention notification and a conversation.
	// (GoToSocial v0.18.3 has no /api/v1/timelines/direct: it answers 404.)
	var notes []struct {
		Type   string `json:"type"`
		Status status `json:"status"`
	}
	// GoToSocial delivers in the background: wait for it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		gtsGet(t, rcpt.Token, "/api/v1/notifications?types[]=mention", &notes)
		if len(notes) > 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(notes) != 1 {
		t.Fatalf("the recipient has %d mention notifications, want 1: %+v", len(notes), notes)
	}
	got := notes[0].Status
	if got.Visibility != "direct" || got.Account.Acct != bot.Username || got.URL != url ||
		!strings.Contains(got.Content, text) || !strings.Contains(got.Content, "@<span>"+rcpt.Username+"</span>") ||
		len(got.Mentions) != 1 || got.Mentions[0].Acct != rcpt.Username {
		t.Errorf("the recipient's notification: %+v", got)
	}
	var convs []struct {
		LastStatus status `json:"last_status"`
	}
	gtsGet(t, rcpt.Token, "/api/v1/conversations", &convs)
	if len(convs) != 1 || convs[0].LastStatus.ID != got.ID || convs[0].LastStatus.Visibility != "direct" {
		t.Errorf("the recipient's conversations: %+v", convs)
	}

	// Recipients that cannot get it fail before anything is posted.
	// GoToSocial itself would accept a direct status to an unknown
	// account (200, no mention, delivered to no one), so SendDirect
	// resolves the recipient first.
	for _, tc := range []struct{ name, acct, reason string }{
		{"unknown local", "nobody_" + rcpt.Username + "@" + testenv.GoToSocialDomain(), "unknown"},
		{"unknown instance", "nobody@nonexistent.invalid", "unknown"},
		{"malformed", "not an acct", "not a Mastodon account"},
		{"itself", bot.Acct, "itself"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.SendDirect(ctx, tc.acct, text)
			t.Log(err)
			if err == nil || !mastodon.Permanent(err) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("err %v (permanent %v), want a permanent error about %q", err, mastodon.Permanent(err), tc.reason)
			}
		})
	}
	var me struct {
		StatusesCount int `json:"statuses_count"`
	}
	gtsGet(t, bot.Token, "/api/v1/accounts/verify_credentials", &me)
	if me.StatusesCount != 1 {
		t.Errorf("the bot posted %d statuses, want 1", me.StatusesCount)
	}
}
