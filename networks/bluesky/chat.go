package bluesky

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/bluesky-social/indigo/api/chat"
	"github.com/bluesky-social/indigo/atproto/atclient"

	"github.com/passerelle-social/passerelle/engine"
)

// ChatService is Bluesky's chat service, as a PDS names it in the
// atproto-proxy header that forwards chat.bsky.* calls to it.
const ChatService = "did:web:api.bsky.chat#bsky_chat"

// Limits of a chat message's text (chat.bsky.convo.defs#messageInput).
const (
	MaxChatGraphemes = 1000
	MaxChatBytes     = 10000
)

// Chat sends direct messages from one account (the bot) through Bluesky's
// chat service. Safe for concurrent use.
type Chat struct {
	api *atclient.APIClient
	// DID is the sending account.
	DID string
}

// OpenChat signs the bot in on host, its PDS, with an app password, and
// returns a Chat. With chatURL empty (production), chat calls go to the PDS,
// which forwards them to ChatService; otherwise they go straight to
// chatURL, with the same atproto-proxy header and the bot's PDS access
// token. That direct mode serves the tests' fake chat service: the real
// one accepts only the service-auth tokens a PDS mints, and the access
// token must not be sent to a host the operator does not trust.
func (c *Client) OpenChat(ctx context.Context, host, identifier, appPassword, chatURL string) (*Chat, error) {
	s, err := c.LoginAppPassword(ctx, host, identifier, appPassword)
	if err != nil {
		return nil, err
	}
	api := s.api.WithService(ChatService)
	if chatURL != "" {
		// Token refreshes still go to the PDS: the auth keeps its host.
		api.Host = strings.TrimRight(chatURL, "/")
	}
	return &Chat{api: api, DID: s.DID}, nil
}

// SendDirect sends text to did in their one-to-one conversation with the
// bot (opened if new) and returns the message's id. It is not idempotent:
// each call sends a new message. Text over MaxChatGraphemes or MaxChatBytes
// is refused before any call. PermanentChat tells which errors a retry will
// not change.
func (ch *Chat) SendDirect(ctx context.Context, did, text string) (messageID string, err error) {
	if err := CheckChatText(text); err != nil {
		return "", fmt.Errorf("bluesky: chat message to %s: %w", did, &permanentError{err})
	}
	if _, err := engine.CheckAccount(engine.Bluesky, did); err != nil {
		return "", fmt.Errorf("bluesky: chat message: %w", &permanentError{err})
	}
	if did == ch.DID {
		return "", fmt.Errorf("bluesky: chat message to %s: %w", did, &permanentError{errors.New("the sender cannot message itself")})
	}
	convo, err := chat.ConvoGetConvoForMembers(ctx, ch.api, []string{did})
	if err != nil {
		return "", fmt.Errorf("bluesky: chat message to %s: open the conversation: %w", did, err)
	}
	if convo.Convo == nil || convo.Convo.Id == "" {
		return "", fmt.Errorf("bluesky: chat message to %s: the chat service gave no conversation", did)
	}
	msg, err := chat.ConvoSendMessage(ctx, ch.api, &chat.ConvoSendMessage_Input{
		ConvoId: convo.Convo.Id,
		Message: &chat.ConvoDefs_MessageInput{Text: text},
	})
	if err != nil {
		return "", fmt.Errorf("bluesky: chat message to %s: send in conversation %s: %w", did, convo.Convo.Id, err)
	}
	return msg.Id, nil
}

// PermanentChat reports whether a retry of Chat.SendDirect will fail the
// same way: malformed recipient or text, or the chat service refused the
// request itself (a 400 such as "recipient does not accept messages from
// the sender", or another 4xx but 401, 408 and 429). An expired or invalid
// token of the bot is not permanent: a new session fixes it.
func PermanentChat(err error) bool {
	var pe *permanentError
	if errors.As(err, &pe) {
		return true
	}
	var ae *atclient.APIError
	if errors.As(err, &ae) && (ae.Name == "ExpiredToken" || ae.Name == "InvalidToken") {
		return false
	}
	return refusal(err)
}

// permanentError marks an error found before any call.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// CheckChatText refuses text that Bluesky's chat service would refuse:
// empty, over MaxChatBytes bytes, or over MaxChatGraphemes graphemes.
func CheckChatText(text string) error {
	if strings.TrimSpace(text) == "" {
		return errors.New("empty message")
	}
	if len(text) > MaxChatBytes {
		return fmt.Errorf("message of %d bytes, over the chat limit of %d", len(text), MaxChatBytes)
	}
	if n := graphemes(text); n > MaxChatGraphemes {
		return fmt.Errorf("message of %d characters (graphemes), over the chat limit of %d", n, MaxChatGraphemes)
	}
	return nil
}

// graphemes counts the user-perceived characters of s, never fewer than
// Unicode's grapheme clusters (UAX #29), so a text it accepts is within
// the limit. It joins to the character before: combining marks, ZWJ and
// ZWNJ, tag characters, emoji modifiers, the second of a pair of regional
// indicators (a flag), an emoji after an emoji and a ZWJ, and LF after CR.
// Rarer joins (Hangul jamo, prepended and spacing marks) count as
// characters of their own, which only errs towards refusing. The module
// has no grapheme library, and adding one for a bound would be a new
// dependency.
func graphemes(s string) int {
	n := 0
	var prev rune
	// emoji: the cluster so far is an emoji then extending marks only;
	// emojiZWJ: it is that, then one ZWJ (UAX #29 rule GB11).
	emoji, emojiZWJ := false, false
	ri := 0 // regional indicators in a row
	for i, r := range s {
		join := false
		switch {
		case i == 0:
		case prev == '\r' && r == '\n':
			join = true
		case isControl(prev):
		case isExtend(r) || r == zwj:
			join = true
		case emojiZWJ && isPictographic(r):
			join = true
		case isRegional(r) && ri%2 == 1:
			join = true
		}
		switch {
		case !join:
			n++
			emoji, emojiZWJ = isPictographic(r), false
		case r == zwj:
			emoji, emojiZWJ = false, emoji
		case emojiZWJ && isPictographic(r):
			emoji, emojiZWJ = true, false
		case isExtend(r):
			emojiZWJ = false
		default: // the second regional indicator, or LF
			emoji, emojiZWJ = false, false
		}
		if isRegional(r) {
			ri++
		} else {
			ri = 0
		}
		prev = r
	}
	return n
}

const (
	zwj  = '\u200d'
	zwnj = '\u200c' // a format character, but Extend for graphemes
)

// isControl is a rune after which a grapheme cluster always ends (UAX #29
// Control, CR, LF), or one treated so: the few prepended format characters
// (Arabic number signs) join the next rune there, and ending the cluster
// early only errs towards refusing.
func isControl(r rune) bool {
	if r == zwj || r == zwnj || isTag(r) {
		return false
	}
	if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
		return true
	}
	// Unassigned default-ignorable code points are Control too.
	ignorable := r == 0x2065 || (r >= 0xFFF0 && r <= 0xFFF8) || (r >= 0xE0000 && r <= 0xE0FFF)
	return ignorable && !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.Cc, unicode.Cf, unicode.Co)
}

// isExtend is a rune that extends the grapheme before it, but a ZWJ:
// combining marks, ZWNJ, tag characters and emoji modifiers.
func isExtend(r rune) bool {
	return unicode.In(r, unicode.Mn, unicode.Me) || r == zwnj || isTag(r) || isEmojiModifier(r)
}

// isTag is a tag character, as in the flags of England or Scotland: format
// characters, but Extend for graphemes.
func isTag(r rune) bool { return r >= 0xE0020 && r <= 0xE007F }

func isEmojiModifier(r rune) bool { return r >= 0x1F3FB && r <= 0x1F3FF }

func isRegional(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

// isPictographic covers the ranges of the emoji blocks that are
// Extended_Pictographic (emoji-data.txt), and the few older symbols that
// common ZWJ sequences use (heart, sexes, medical, scales, airplane,
// snowflake, skull, black square).
func isPictographic(r rune) bool {
	switch {
	case r >= 0x1F300 && r <= 0x1F3FA, r >= 0x1F400 && r <= 0x1F53D, r >= 0x1F546 && r <= 0x1F64F,
		r >= 0x1F680 && r <= 0x1F6FF, r >= 0x1F90C && r <= 0x1F93A, r >= 0x1F93C && r <= 0x1F945,
		r >= 0x1F947 && r <= 0x1FAFF:
		return true
	}
	switch r {
	case 0x2764, 0x2640, 0x2642, 0x2695, 0x2696, 0x2708, 0x2744, 0x2620, 0x2B1B:
		return true
	}
	return false
}
