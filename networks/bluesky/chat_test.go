package bluesky_test

import (
	"context"
	"strings"
	"testing"

	"github.com/passerelle-social/passerelle/internal/testenv"
	"github.com/passerelle-social/passerelle/networks/bluesky"
)

// The bot signs in on the real local PDS, but Bluesky's chat service has no
// local build, so getConvoForMembers and sendMessage are tested against
// testenv.ChatFake, which answers with the lexicon's shapes.

func TestChatSendDirect(t *testing.T) {
	ctx := context.Background()
	c := bluesky.New(bluesky.Options{PLCURL: testenv.PLCURL()})
	bot := testenv.MustPDSAccount(t, "bot")
	alice := testenv.MustPDSAccount(t, "alice")
	bob := testenv.MustPDSAccount(t, "bob")
	closed := testenv.MustPDSAccount(t, "closed")
	fake := testenv.ChatFake(t)
	fake.Refuse(closed.DID)

	ch, err := c.OpenChat(ctx, testenv.PDSURL(), bot.Handle, bot.Password, fake.URL)
	if err != nil {
		t.Fatal(err)
	}
	if ch.DID != bot.DID {
		t.Fatalf("chat DID %s, want %s", ch.DID, bot.DID)
	}

	// Two recipients get their message; a second one to alice goes to the
	// same conversation.
	sent := map[string][]string{
		alice.DID: {"2 people you follow on X arrived: @carol.test, @dave.test", "and 1 more: @erin.test"},
		bob.DID:   {"1 person you follow on X arrived: @frank.test 🇫🇷👍🏽"},
	}
	ids := map[string]bool{}
	for _, did := range []string{alice.DID, bob.DID, alice.DID} {
		text := sent[did][len(fake.Messages(did))]
		id, err := ch.SendDirect(ctx, did, text)
		if err != nil {
			t.Fatalf("send to %s: %v", did, err)
		}
		if id == "" || ids[id] {
			t.Fatalf("message id %q: empty or seen before", id)
		}
		ids[id] = true
	}
	for did, texts := range sent {
		got := fake.Messages(did)
		if len(got) != len(texts) {
			t.Fatalf("%s got %d messages, want %d: %+v", did, len(got), len(texts), got)
		}
		for i, m := range got {
			if m.Text != texts[i] || m.Sender != bot.DID || m.ConvoID != got[0].ConvoID || !ids[m.ID] {
				t.Errorf("%s message %d: %+v, want %q from %s in one conversation", did, i, m, texts[i], bot.DID)
			}
		}
	}

	// A recipient who does not accept messages from the bot: permanent.
	_, err = ch.SendDirect(ctx, closed.DID, "hello")
	if err == nil || !bluesky.PermanentChat(err) || !strings.Contains(err.Error(), closed.DID) {
		t.Errorf("refused recipient: %v (permanent %v), want a permanent error naming %s", err, bluesky.PermanentChat(err), closed.DID)
	}
	if n := len(fake.Messages(closed.DID)); n != 0 {
		t.Errorf("the refused recipient got %d messages", n)
	}

	// Over-long text, a malformed DID and the bot itself are refused
	// before any call.
	calls := fake.Calls()
	for _, tc := range []struct{ name, did, text, reason string }{
		{"1001 characters", alice.DID, strings.Repeat("a", 1001), "over the chat limit of 1000"},
		{"10800 bytes", alice.DID, strings.Repeat("👨‍👩‍👧", 600), "over the chat limit of 10000"},
		{"empty", alice.DID, " ", "empty"},
		{"malformed DID", "alice.test", "hello", "not a DID"},
		{"itself", bot.DID, "hello", "itself"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ch.SendDirect(ctx, tc.did, tc.text)
			if err == nil || !bluesky.PermanentChat(err) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("err %v (permanent %v), want a permanent error about %q", err, bluesky.PermanentChat(err), tc.reason)
			}
		})
	}
	if fake.Calls() != calls {
		t.Errorf("refused texts made %d calls to the chat service", fake.Calls()-calls)
	}
	if n := len(fake.Messages(alice.DID)); n != 2 {
		t.Errorf("alice has %d messages after the refused ones, want 2", n)
	}
}

// TestCheckChatText checks the limits of a chat message: 1000 graphemes,
// counted as a person sees them, and 10000 bytes.
func TestCheckChatText(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		ok   bool
	}{
		{"1000 letters", strings.Repeat("a", 1000), true},
		{"1001 letters", strings.Repeat("a", 1001), false},
		{"1000 letters with combining accents", strings.Repeat("e\u0301", 1000), true},
		{"1001 letters with combining accents", strings.Repeat("e\u0301", 1001), false},
		{"1000 flags", strings.Repeat("🇫🇷", 1000), true},
		{"1001 flags", strings.Repeat("🇫🇷", 1001), false},
		{"1000 thumbs with a skin tone", strings.Repeat("👍🏽", 1000), true},
		{"500 ZWJ families", strings.Repeat("👨‍👩‍👧", 500), true},
		{"500 lines ending in CRLF", strings.Repeat("x\r\n", 500), true},
		{"501 lines ending in CRLF", strings.Repeat("x\r\n", 501), false},
		{"556 ZWJ families (10008 bytes)", strings.Repeat("👨‍👩‍👧", 556), false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := bluesky.CheckChatText(tc.text)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckChatText: %v, want ok %v", err, tc.ok)
			}
		})
	}
}
