package seal

import (
	"bytes"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	b, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	s1 := b.Seal("app-password-1234", "uses:alice:did:plc:x")
	s2 := b.Seal("app-password-1234", "uses:alice:did:plc:x")
	if s1 == s2 {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
	if strings.Contains(s1, "app-password") {
		t.Error("the plaintext shows in the sealed value")
	}
	got, err := b.Open(s1, "uses:alice:did:plc:x")
	if err != nil || got != "app-password-1234" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	other, _ := New(bytes.Repeat([]byte{8}, 32))
	for _, tc := range []struct {
		name, sealed, context string
		box                   *Box
	}{
		{"another context", s1, "uses:mallory:did:plc:x", b},
		{"another key", s1, "uses:alice:did:plc:x", other},
		{"altered", s1[:len(s1)-2] + "AA", "uses:alice:did:plc:x", b},
		{"truncated", s1[:10], "uses:alice:did:plc:x", b},
		{"no prefix", "plain", "", b},
	} {
		if _, err := tc.box.Open(tc.sealed, tc.context); err != ErrOpen {
			t.Errorf("%s: err = %v, want ErrOpen", tc.name, err)
		}
	}
	if _, err := New([]byte("short")); err == nil {
		t.Error("a short key was accepted")
	}
}
