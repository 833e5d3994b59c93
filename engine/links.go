package engine

import (
	"context"
	"regexp"
	"strings"
	"time"
)

// Network is a target network.
type Network string

// The networks Passerelle reconnects on.
const (
	Bluesky  Network = "bluesky"
	Mastodon Network = "mastodon"
)

// ParseNetwork checks a network name.
func ParseNetwork(s string) (Network, error) {
	switch Network(s) {
	case Bluesky, Mastodon:
		return Network(s), nil
	}
	return "", Errorf(EINVALID, "network %q: want bluesky or mastodon", s)
}

// Trust is how sure a link between an X account and an account elsewhere is.
type Trust string

// Trust levels, strongest first (DESIGN.md, "Trust").
const (
	TrustVerified Trust = "verified" // the X side signed in with X
	TrustClaimed  Trust = "claimed"  // only an uploaded archive says so
	TrustEvidence Trust = "evidence" // a dataset's weaker evidence
)

// ParseTrust checks a trust level.
func ParseTrust(s string) (Trust, error) {
	switch Trust(s) {
	case TrustVerified, TrustClaimed, TrustEvidence:
		return Trust(s), nil
	}
	return "", Errorf(EINVALID, "trust %q: want verified, claimed or evidence", s)
}

// TrustsFrom returns the levels at or above min, strongest first.
func TrustsFrom(min Trust) []Trust {
	switch min {
	case TrustVerified:
		return []Trust{TrustVerified}
	case TrustClaimed:
		return []Trust{TrustVerified, TrustClaimed}
	}
	return []Trust{TrustVerified, TrustClaimed, TrustEvidence}
}

var (
	// did:plc is 24 base32 characters; did:web is a host name (a port is
	// written %3A).
	didPattern = regexp.MustCompile(`^did:(plc:[a-z2-7]{24}|web:[a-z0-9]([a-z0-9.-]*[a-z0-9])?(%3[aA][0-9]{1,5})?)$`)
	// acct is user@host[:port], lower-cased; Mastodon usernames are
	// letters, digits and underscores (GoToSocial allows dots too).
	acctPattern = regexp.MustCompile(`^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?@[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$`)
	xidPattern  = regexp.MustCompile(`^[1-9][0-9]{0,19}$`)
)

// CheckAccount validates an account key for its network and returns it in
// canonical form: a DID as is, an acct lower-cased without a leading '@'.
func CheckAccount(n Network, account string) (string, error) {
	switch n {
	case Bluesky:
		if !didPattern.MatchString(account) {
			return "", Errorf(EINVALID, "%q is not a DID (did:plc:<24 base32 characters> or did:web:<host>)", account)
		}
		return account, nil
	case Mastodon:
		acct := strings.ToLower(strings.TrimPrefix(account, "@"))
		if !acctPattern.MatchString(acct) || len(acct) > 320 {
			return "", Errorf(EINVALID, "%q is not a Mastodon account (user@instance)", account)
		}
		return acct, nil
	}
	return "", Errorf(EINVALID, "network %q: want bluesky or mastodon", n)
}

// CheckXID validates a decimal X account id.
func CheckXID(xid string) error {
	if !xidPattern.MatchString(xid) {
		return Errorf(EINVALID, "X account id %q is not a decimal number", xid)
	}
	return nil
}

// Claim sources.
const (
	ViaArchive = "archive" // an uploaded account.js: anyone can forge one
	ViaXOAuth  = "x_oauth" // signed in with X: proof
)

// LinkRequest records that a member uses an account on a network.
type LinkRequest struct {
	Member   string
	Network  Network
	Account  string    // DID or acct, canonical (CheckAccount)
	Handle   string    // optional
	Via      string    // "oauth", "app_password" or "admin"
	TokenEnc string    // encrypted token, or "" (admin links carry none)
	Expires  time.Time // when the sealed session expires; zero if it does not
	Actor    string    // who did it, for the audit trail
}

// Reconnection is one row of a member's matches: an X account they followed
// (or that followed them) and its account on a network where they are.
type Reconnection struct {
	XID      string `json:"xid"`
	Network  string `json:"network"`
	Account  string `json:"account"`
	Handle   string `json:"handle"`
	Trust    string `json:"trust"`
	Source   string `json:"source"`
	Conflict bool   `json:"conflict"`
	Followed bool   `json:"followed"`
}

// MatchQuery selects a member's reconnections.
type MatchQuery struct {
	Member          string
	Network         Network // "" for both
	Trusts          []Trust // allowed levels; empty for all
	IncludeFollowed bool
}

// Arrival is one member concerned by an account that became reachable.
type Arrival struct {
	Member         string
	XID            string // the arriving X account
	FromAccount    string // the member's account on that network, "" if none
	AutoReconnect  bool
	NotifyArrivals bool
	AllowClaimed   bool
	Locale         string
	Trust          Trust
	Conflict       bool
	Followed       bool
}

// AutoFollow reports whether Passerelle may follow the arrival for the
// member without asking: they turned auto-reconnect on, have an account
// there, don't follow it yet, and the link is verified (or claimed, when
// they allowed claimed links) and not in conflict.
func (a Arrival) AutoFollow() bool {
	if !a.AutoReconnect || a.FromAccount == "" || a.Followed || a.Conflict {
		return false
	}
	return a.Trust == TrustVerified || a.Trust == TrustClaimed && a.AllowClaimed
}

// Conflict is an X account claimed by more than one member.
type Conflict struct {
	XID      string          `json:"xid"`
	Username string          `json:"username"`
	Claims   []ConflictClaim `json:"claims"`
}

// ConflictClaim is one member's claim in a conflict.
type ConflictClaim struct {
	Member  string `json:"member"`
	Via     string `json:"via"`
	Refuted bool   `json:"refuted"`
	At      string `json:"at"`
}

// Settings are a member's choices; nil fields are left as they are.
type Settings struct {
	AutoReconnect   *bool
	AllowClaimed    *bool
	NotifyArrivals  *bool
	ResearchConsent *bool
	ShowName        *bool
	Locale          *string
	NotifyPeriod    *string // daily or weekly
	NotifyChannel   *string // bluesky, mastodon, or "" for the default
}

// LinkGraph is what identity links and matching need from the graph store.
type LinkGraph interface {
	ClaimX(ctx context.Context, member, xid, via, username, actor string) error
	LinkAccount(ctx context.Context, req LinkRequest) error
	UnlinkAccount(ctx context.Context, member string, n Network, account, actor string) error
	DeleteMember(ctx context.Context, member, actor string) error
	SetSettings(ctx context.Context, member string, s Settings) error
	Conflicts(ctx context.Context) ([]Conflict, error)
	Reachable(ctx context.Context, q MatchQuery, followers bool) ([]Reconnection, error)
	Arrivals(ctx context.Context, n Network, account string, fn func(Arrival) error) error
}

// Page returns rows[offset : offset+limit], clipped; limit 0 means all.
func Page[T any](rows []T, offset, limit int) []T {
	if offset < 0 {
		offset = 0
	}
	if offset >= len(rows) {
		return rows[:0]
	}
	rows = rows[offset:]
	if limit > 0 && limit < len(rows) {
		rows = rows[:limit]
	}
	return rows
}

// Totals counts reconnections per network and trust: "bluesky/verified" → n.
func Totals(rows []Reconnection) map[string]int {
	out := map[string]int{}
	for _, r := range rows {
		out[r.Network+"/"+r.Trust]++
	}
	return out
}
