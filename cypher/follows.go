package cypher

import (
	"context"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/passerelle-social/passerelle/engine"
)

// RecordFollows implements engine.FollowGraph.
func (s *Store) RecordFollows(ctx context.Context, member string, n engine.Network, from string, made []engine.FollowMade, failed []engine.FollowFailed) error {
	m := make([]map[string]any, len(made))
	for i, f := range made {
		m[i] = map[string]any{"target": f.Target, "uri": nullable(f.URI), "by_app": f.ByApp}
	}
	x := make([]map[string]any, len(failed))
	for i, f := range failed {
		x[i] = map[string]any{"target": f.Target, "reason": f.Reason}
	}
	return s.write(ctx, func(tx neo4j.ManagedTransaction) error {
		_, err := run(ctx, tx, "follows_record", map[string]any{
			"network": string(n), "from": from, "member": member, "now": nowUTC(), "made": m, "failed": x,
		})
		return err
	})
}

// Credentials implements engine.FollowGraph.
func (s *Store) Credentials(ctx context.Context, member string, n engine.Network, account string) (string, error) {
	recs, err := s.read(ctx, "member_credentials", map[string]any{"member": member, "network": string(n), "account": account})
	if err != nil {
		return "", err
	}
	if len(recs) == 0 {
		return "", engine.Errorf(engine.ENOTFOUND, "member %s has no %s account %s", member, n, account)
	}
	tok, _ := recs[0].Get("token_enc")
	t, _ := tok.(string)
	if t == "" {
		return "", engine.Errorf(engine.ENOTFOUND, "member %s gave no credentials for %s account %s", member, n, account)
	}
	return t, nil
}

// MemberInfo returns a member's settings and accounts.
func (s *Store) MemberInfo(ctx context.Context, member string) (*engine.MemberInfo, error) {
	recs, err := s.read(ctx, "member_info", map[string]any{"member": member})
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, engine.Errorf(engine.ENOTFOUND, "no member %s", member)
	}
	m := recs[0].AsMap()
	info := &engine.MemberInfo{Locale: str(m["locale"]), NotifyPeriod: str(m["notify_period"]),
		NotifyChannel: engine.Network(str(m["notify_channel"])), Accounts: map[engine.Network]string{}}
	info.AutoReconnect, _ = m["auto_reconnect"].(bool)
	info.AllowClaimed, _ = m["allow_claimed"].(bool)
	info.NotifyArrivals, _ = m["notify_arrivals"].(bool)
	info.ResearchConsent, _ = m["research_consent"].(bool)
	info.ShowName, _ = m["show_name"].(bool)
	for _, a := range m["accounts"].([]any) {
		am := a.(map[string]any)
		info.Accounts[engine.Network(str(am["network"]))] = str(am["account"])
	}
	return info, nil
}

// ExpiringCredentials returns up to limit stored sessions whose access
// ends before before, soonest first.
func (s *Store) ExpiringCredentials(ctx context.Context, before time.Time, limit int) ([]engine.ExpiringCredentials, error) {
	recs, err := s.read(ctx, "credentials_expiring", map[string]any{"before": before.UTC(), "limit": limit})
	if err != nil {
		return nil, err
	}
	out := make([]engine.ExpiringCredentials, len(recs))
	for i, r := range recs {
		m := r.AsMap()
		out[i] = engine.ExpiringCredentials{Member: str(m["member"]), Network: engine.Network(str(m["network"])), Account: str(m["account"])}
		out[i].Expires, _ = m["expires_at"].(time.Time)
	}
	return out, nil
}

// SaveCredentials replaces the sealed credentials of a member's account.
func (s *Store) SaveCredentials(ctx context.Context, member string, n engine.Network, account, sealed string, expires time.Time) error {
	return s.write(ctx, func(tx neo4j.ManagedTransaction) error {
		recs, err := run(ctx, tx, "credentials_save", map[string]any{"member": member, "network": string(n), "account": account,
			"token_enc": sealed, "expires_at": nullTime(expires)})
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return engine.Errorf(engine.ENOTFOUND, "member %s no longer uses %s account %s", member, n, account)
		}
		return nil
	})
}

// MemberByAccount returns the member who uses an account, or "" when none
// does.
func (s *Store) MemberByAccount(ctx context.Context, n engine.Network, account string) (string, error) {
	recs, err := s.read(ctx, "member_by_account", map[string]any{"network": string(n), "account": account})
	if err != nil || len(recs) == 0 {
		return "", err
	}
	v, _ := recs[0].Get("member")
	return str(v), nil
}
