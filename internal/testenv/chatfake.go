package testenv

// Bluesky's chat service (api.bsky.chat) has no local build: the
// @atproto/dev-env that runs the local PDS has none, and Bluesky has not
// published its source. So the two chat calls
// Passerelle makes, chat.bsky.convo.getConvoForMembers and
// chat.bsky.convo.sendMessage, are tested against this fake, which answers
// with the lexicon's JSON shapes (lexicons/chat/bsky/convo in indigo). The
// sender's sign-in stays real, on the local PDS.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// ChatProxy is the atproto-proxy header a PDS needs to forward chat calls
// to Bluesky's chat service; the fake requires it too.
const ChatProxy = "did:web:api.bsky.chat#bsky_chat"

// FakeChat is a stand-in for Bluesky's chat service on 127.0.0.1: direct
// conversations and the messages sent in them, recorded per recipient.
type FakeChat struct {
	// URL is the fake's base URL, the chatURL of bluesky.Client.OpenChat.
	URL string

	mu       sync.Mutex
	refuse   map[string]bool
	convos   map[string][2]string // convo id → sender DID, recipient DID
	byPair   map[[2]string]string // sender DID, recipient DID → convo id
	messages map[string][]FakeMessage
	calls    int
}

// FakeMessage is one message the fake received.
type FakeMessage struct {
	ID, ConvoID, Sender, Text string
}

// ChatFake starts a fake chat service, closed when the test ends. Every
// call must carry a Bearer JWT (its subject is taken as the sender, its
// signature is not checked) and the atproto-proxy header ChatProxy.
func ChatFake(tb testing.TB) *FakeChat {
	tb.Helper()
	f := &FakeChat{refuse: map[string]bool{}, convos: map[string][2]string{},
		byPair: map[[2]string]string{}, messages: map[string][]FakeMessage{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	tb.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Refuse makes the fake refuse conversations with these recipients (400
// InvalidRequest), as the real service does when a recipient does not
// accept messages from the sender.
func (f *FakeChat) Refuse(dids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range dids {
		f.refuse[d] = true
	}
}

// Messages returns the messages sent to did, oldest first.
func (f *FakeChat) Messages(did string) []FakeMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]FakeMessage(nil), f.messages[did]...)
}

// Calls counts the requests the fake received, refused ones included.
func (f *FakeChat) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *FakeChat) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	sender, ok := bearerSubject(r.Header.Get("Authorization"))
	if !ok {
		xrpcError(w, http.StatusUnauthorized, "AuthMissing", "no Bearer token with a subject")
		return
	}
	if p := r.Header.Get("Atproto-Proxy"); p != ChatProxy {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", fmt.Sprintf("atproto-proxy header %q, want %q", p, ChatProxy))
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/xrpc/chat.bsky.convo.getConvoForMembers":
		f.getConvoForMembers(w, r, sender)
	case r.Method == http.MethodPost && r.URL.Path == "/xrpc/chat.bsky.convo.sendMessage":
		f.sendMessage(w, r, sender)
	default:
		xrpcError(w, http.StatusNotImplemented, "MethodNotImplemented", r.Method+" "+r.URL.Path)
	}
}

// getConvoForMembers answers a chat.bsky.convo.defs#convoView. The fake
// knows direct conversations only: one member besides the sender.
func (f *FakeChat) getConvoForMembers(w http.ResponseWriter, r *http.Request, sender string) {
	var others []string
	for _, m := range r.URL.Query()["members"] {
		if m != sender {
			others = append(others, m)
		}
	}
	if len(others) != 1 || !strings.HasPrefix(others[0], "did:") {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", fmt.Sprintf("members %v: the fake knows one-to-one conversations only", others))
		return
	}
	to := others[0]
	if f.refuse[to] {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "recipient has disabled incoming messages")
		return
	}
	pair := [2]string{sender, to}
	id, ok := f.byPair[pair]
	if !ok {
		id = fmt.Sprintf("convo-%d", len(f.convos)+1)
		f.byPair[pair], f.convos[id] = id, pair
	}
	member := func(did string) map[string]any { return map[string]any{"did": did, "handle": "handle.invalid"} }
	writeJSON(w, map[string]any{"convo": map[string]any{
		"$type": "chat.bsky.convo.defs#convoView", "id": id, "rev": "1",
		"members": []any{member(sender), member(to)}, "muted": false, "unreadCount": 0,
	}})
}

// sendMessage answers a chat.bsky.convo.defs#messageView.
func (f *FakeChat) sendMessage(w http.ResponseWriter, r *http.Request, sender string) {
	var in struct {
		ConvoID string `json:"convoId"`
		Message struct {
			Text string `json:"text"`
		} `json:"message"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "body: "+err.Error())
		return
	}
	pair, ok := f.convos[in.ConvoID]
	if !ok || pair[0] != sender {
		xrpcError(w, http.StatusBadRequest, "InvalidConvo", "no conversation "+in.ConvoID+" of the sender")
		return
	}
	to := pair[1]
	n := 0
	for _, ms := range f.messages {
		n += len(ms)
	}
	m := FakeMessage{ID: fmt.Sprintf("msg-%d", n+1), ConvoID: in.ConvoID, Sender: sender, Text: in.Message.Text}
	f.messages[to] = append(f.messages[to], m)
	writeJSON(w, map[string]any{
		"$type": "chat.bsky.convo.defs#messageView", "id": m.ID, "rev": m.ID, "text": m.Text,
		"sender": map[string]any{"did": sender}, "sentAt": time.Now().UTC().Format(time.RFC3339Nano),
	})
}

// bearerSubject reads the subject of a Bearer JWT, without checking it.
func bearerSubject(h string) (string, bool) {
	tok, ok := strings.CutPrefix(h, "Bearer ")
	parts := strings.Split(tok, ".")
	if !ok || len(parts) != 3 {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", false
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(raw, &claims) != nil || !strings.HasPrefix(claims.Sub, "did:") {
		return "", false
	}
	return claims.Sub, true
}

func xrpcError(w http.ResponseWriter, status int, name, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": name, "message": msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
