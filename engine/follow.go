package engine

import (
	"context"
	"encoding/json"
	"time"
)

// FollowMade is a follow that exists on the network: made now by
// Passerelle (ByApp) or found there.
type FollowMade struct {
	Target string
	URI    string
	ByApp  bool
}

// FollowFailed is a target that can't be followed for good (malformed,
// unknown, deleted or suspended), for one member.
type FollowFailed struct {
	Target string `json:"target"`
	Reason string `json:"reason"`
}

// FollowGraph is what the follow tasks need from the graph store.
type FollowGraph interface {
	// Credentials returns the sealed credentials of a member's account.
	Credentials(ctx context.Context, member string, n Network, account string) (string, error)
	// RecordFollows writes follows made or found, and permanent failures.
	RecordFollows(ctx context.Context, member string, n Network, from string, made []FollowMade, failed []FollowFailed) error
}

// FollowResult is what happened to one target of a follow batch.
type FollowResult struct {
	Target string
	URI    string // the follow record or relationship, new or existing
	Exists bool   // it was already followed: nothing was written
	Err    error  // nil on success
	// Permanent errors (malformed, unknown, deleted or suspended target, or
	// a write the server refuses) will not change on retry.
	Permanent bool
	// RetryAfter, when set, is how long the server asked to wait (its rate
	// limit): the target is tried again then, not counted as a failure.
	RetryAfter time.Duration
}

// Credentials are what a member gave Passerelle to act for one account,
// sealed at rest (engine/seal) as JSON.
type Credentials struct {
	Host       string `json:"host"`                 // PDS or instance URL
	Identifier string `json:"identifier,omitempty"` // handle or e-mail, for app passwords
	Password   string `json:"password,omitempty"`   // app password
	Token      string `json:"token,omitempty"`      // OAuth access token
	// Session is a signed-in session kept to be resumed (its format is the
	// network adapter's), so that a worker does not sign in again each
	// time; Expires is when its access token ends.
	Session json.RawMessage `json:"session,omitempty"`
	Expires time.Time       `json:"expires,omitzero"`
}

// OAuthApp is Passerelle's registered application on one instance (a
// Mastodon-API server); the secret is sealed at rest.
type OAuthApp struct {
	Instance     string `json:"instance"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	RedirectURI  string `json:"redirect_uri"`
}

// InstanceOAuth signs members in on their own instance: the app
// registered on first use, the authorization-code flow, and revocation.
type InstanceOAuth interface {
	RegisterApp(ctx context.Context, instance, redirectURI string) (*OAuthApp, error)
	AuthorizeURL(app *OAuthApp, state string) string
	Exchange(ctx context.Context, app *OAuthApp, code string) (string, error)
	RevokeToken(ctx context.Context, app *OAuthApp, token string) error
}

// Revoker is a NetworkClient that can end a session for good (a member
// who leaves): after Revoke the credentials open nothing.
type Revoker interface {
	Revoke(ctx context.Context, c Credentials) error
}

// Refresher is a NetworkClient whose sessions expire: Refresh renews them
// (or signs in again with the app password when the session can't be
// renewed) and returns the credentials to seal and store in their place.
type Refresher interface {
	Refresh(ctx context.Context, c Credentials) (Credentials, error)
}

// NetworkSession is one signed-in account on a target network.
type NetworkSession interface {
	// Account is the session's own account key (DID or acct).
	Account() string
	// Follows lists the account's follows: target → record URI.
	Follows(ctx context.Context) (map[string]string, error)
	// FollowKnown follows the targets not in existing (just listed by
	// Follows), never one twice; one result per target, in order.
	FollowKnown(ctx context.Context, targets []string, existing map[string]string) []FollowResult
}

// NetworkClient opens sessions on one target network. networks/bluesky and
// networks/mastodon implement it.
type NetworkClient interface {
	Open(ctx context.Context, c Credentials) (NetworkSession, error)
	// FollowCost is the rate-budget points one follow costs.
	FollowCost() int64
}

// MemberInfo is a member's settings and accounts.
type MemberInfo struct {
	AutoReconnect   bool
	AllowClaimed    bool
	NotifyArrivals  bool
	NotifyPeriod    string  // daily or weekly
	NotifyChannel   Network // chosen digest channel, or ""
	ResearchConsent bool
	ShowName        bool
	Locale          string
	Accounts        map[Network]string // the member's account on each network
}

// AllowedTrusts returns the trust levels the member's follows may use.
func (m MemberInfo) AllowedTrusts() []Trust {
	if m.AllowClaimed {
		return TrustsFrom(TrustClaimed)
	}
	return TrustsFrom(TrustVerified)
}

// CredentialsContext binds sealed credentials to one member's account, so
// that sealed credentials copied onto another account do not open.
func CredentialsContext(member, account string) string { return "uses:" + member + ":" + account }

// Sealer seals secrets at rest; engine/seal.Box implements it.
type Sealer interface {
	Seal(plaintext, context string) string
}

// Opener seals and opens secrets at rest.
type Opener interface {
	Sealer
	Open(sealed, context string) (string, error)
}

// Prove opens a session with the credentials (renewing them into a
// resumable session first when the network has sessions) and returns the
// account they sign in to, with the credentials to keep.
func Prove(ctx context.Context, nc NetworkClient, n Network, c Credentials) (string, Credentials, error) {
	if r, ok := nc.(Refresher); ok {
		// A session to resume later, instead of signing in each time.
		fresh, err := r.Refresh(ctx, c)
		if err != nil {
			return "", c, Errorf(EINVALID, "%s sign-in failed: %v", n, err)
		}
		c = fresh
	}
	s, err := nc.Open(ctx, c)
	if err != nil {
		return "", c, Errorf(EINVALID, "%s sign-in failed: %v", n, err)
	}
	return s.Account(), c, nil
}

// Keep records a proven account as the member's (USES) with its
// credentials sealed to that member and account.
func Keep(ctx context.Context, g LinkGraph, box Sealer, member string, n Network, account string, c Credentials, via, actor string) error {
	raw, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return g.LinkAccount(ctx, LinkRequest{Member: member, Network: n, Account: account, Handle: c.Identifier,
		Via: via, TokenEnc: box.Seal(string(raw), CredentialsContext(member, account)), Expires: c.Expires, Actor: actor})
}

// Connect proves a member's credentials for an account by opening a session
// with them, then records the account as the member's (USES, via
// "app_password") with the credentials sealed. It returns the account key.
func Connect(ctx context.Context, nc NetworkClient, g LinkGraph, box Sealer, member string, n Network, c Credentials, actor string) (string, error) {
	account, c, err := Prove(ctx, nc, n, c)
	if err != nil {
		return "", err
	}
	return account, Keep(ctx, g, box, member, n, account, c, "app_password", actor)
}

// ExpiringCredentials names a stored session that ends soon.
type ExpiringCredentials struct {
	Member  string
	Network Network
	Account string
	Expires time.Time
}
