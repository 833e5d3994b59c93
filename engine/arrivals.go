package engine

import (
	"slices"
	"strings"
	"time"
)

// Locales are the languages Passerelle speaks, English first (the
// fallback).
var Locales = []string{"en", "fr", "de", "es", "it", "pt", "sv"}

// Digest periods: how often a consenting member hears about arrivals.
const (
	PeriodDaily  = "daily"
	PeriodWeekly = "weekly" // the default
)

// Announce reports whether the member is to be told of the arrival in
// their next digest: they consented, don't follow it there yet, and the
// link is one they could act on (verified, or claimed when they allowed
// claimed links, and not in conflict). A member who is not on the
// arrival's network is told too: they may want to join it.
func (a Arrival) Announce() bool {
	if !a.NotifyArrivals || a.Followed || a.Conflict {
		return false
	}
	return a.Trust == TrustVerified || a.Trust == TrustClaimed && a.AllowClaimed
}

// Announcement is one arrival a digest tells a member about.
type Announcement struct {
	Network  Network
	Account  string // DID or acct
	Handle   string // may be empty
	XID      string // the X account the member followed
	Username string // its X username, when an archive gave it
	Followed bool   // the member follows it there now (auto-reconnect did)
	// Resumed: taken by this digest before a crash; it may have been
	// announced already, so it is not announced again.
	Resumed bool
}

// Name is how a digest names the arrival: its handle, else its account,
// never with a leading '@': a direct Mastodon status is shown to every
// account it mentions, and a digest is for its recipient alone.
func (a Announcement) Name() string {
	if a.Handle != "" {
		return strings.TrimPrefix(a.Handle, "@")
	}
	return a.Account
}

// Check validates the settings that take a value from a list.
func (s Settings) Check() error {
	if s.Locale != nil && !slices.Contains(Locales, *s.Locale) {
		return Errorf(EINVALID, "locale %q: want one of %v", *s.Locale, Locales)
	}
	if s.NotifyPeriod != nil && *s.NotifyPeriod != PeriodDaily && *s.NotifyPeriod != PeriodWeekly {
		return Errorf(EINVALID, "notification period %q: want daily or weekly (turn notifications off with notify_arrivals)", *s.NotifyPeriod)
	}
	if s.NotifyChannel != nil && *s.NotifyChannel != "" {
		if _, err := ParseNetwork(*s.NotifyChannel); err != nil {
			return Errorf(EINVALID, "notification channel %q: want bluesky or mastodon", *s.NotifyChannel)
		}
	}
	return nil
}

// Channel is the network a member's digests go to: their choice when they
// have an account there, else Mastodon, else Bluesky; "" when they have
// no account to receive them.
func (m MemberInfo) Channel() Network {
	if m.NotifyChannel != "" && m.Accounts[m.NotifyChannel] != "" {
		return m.NotifyChannel
	}
	for _, n := range []Network{Mastodon, Bluesky} {
		if m.Accounts[n] != "" {
			return n
		}
	}
	return ""
}

// ChangedLink is an account whose links appeared or changed trust.
type ChangedLink struct {
	Network Network
	Account string
	Changed time.Time
}

// DueDigest is a member whose digest is due.
type DueDigest struct {
	Member string
	Last   time.Time // their last digest; zero if none
}
