package mastodon

import (
	"context"
	"errors"
	"fmt"

	gomastodon "github.com/mattn/go-mastodon"

	"github.com/passerelle-social/passerelle/engine"
)

// SendDirect posts a status of visibility "direct" from the session's
// account (the bot) to acct (user@domain), mentioned at the start of the
// text, and returns the status's URL. It is not idempotent: each call posts
// a new status.
//
// The recipient is resolved first: GoToSocial, like Mastodon, accepts a
// direct status whose mention it cannot resolve and delivers it to no one,
// so an unknown recipient would otherwise look like a success. A status the
// instance did not address to the recipient is deleted and reported.
// Permanent tells which errors a retry will not change.
func (s *Session) SendDirect(ctx context.Context, acct, text string) (statusURL string, err error) {
	to, err := engine.CheckAccount(engine.Mastodon, acct)
	if err != nil {
		return "", fmt.Errorf("mastodon: direct message: %w", &permanentError{err})
	}
	if to == s.acct {
		return "", fmt.Errorf("mastodon: direct message to %s: %w", to, &permanentError{errors.New("the sender cannot message itself")})
	}
	target, err := s.resolve(ctx, to)
	if err != nil {
		return "", fmt.Errorf("mastodon: direct message to %s: %w", to, err)
	}
	if target.Suspended {
		// Mastodon and GoToSocial show deleted accounts as suspended.
		return "", fmt.Errorf("mastodon: direct message to %s: %w", to, &permanentError{errors.New("the account is deleted or suspended")})
	}
	// The mention keeps its domain even for a local recipient: both forms
	// reach the same account.
	st, err := s.api.PostStatus(ctx, &gomastodon.Toot{Status: "@" + to + " " + text, Visibility: "direct"})
	if err != nil {
		return "", fmt.Errorf("mastodon: direct message to %s: %w", to, err)
	}
	for _, m := range st.Mentions {
		if s.canonical(m.Acct) == to {
			if st.URL != "" {
				return st.URL, nil
			}
			return st.URI, nil
		}
	}
	// The instance resolved the account a moment ago but did not address
	// the status to it: remove the status, which only the bot can see.
	if derr := s.api.DeleteStatus(ctx, st.ID); derr != nil {
		return "", fmt.Errorf("mastodon: direct message to %s: the instance did not address status %s to the recipient, and deleting it failed: %w", to, st.ID, derr)
	}
	return "", fmt.Errorf("mastodon: direct message to %s: the instance did not address the status to the recipient", to)
}

// Permanent reports whether a retry of SendDirect will fail the same way:
// the recipient is malformed, unknown, deleted or suspended, or the
// instance refused the request itself (a 4xx other than 401, 408 and 429).
func Permanent(err error) bool {
	var pe *permanentError
	return errors.As(err, &pe) || permanent(err)
}

// permanentError marks an error found before any request was refused.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }
