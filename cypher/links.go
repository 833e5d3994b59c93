package cypher

import (
	"context"
	"fmt"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/passerelle-social/passerelle/engine"
)

var _ engine.LinkGraph = (*Store)(nil)

// sync runs sync_member_links for xids in tx: derived links always change in
// the same transaction as the claims and accounts they derive from.
func sync(ctx context.Context, tx neo4j.ManagedTransaction, xids []string) error {
	if len(xids) == 0 {
		return nil
	}
	_, err := run(ctx, tx, "sync_member_links", map[string]any{"xids": xids, "now": nowUTC()})
	return err
}

func audit(ctx context.Context, tx neo4j.ManagedTransaction, actor, action, member string, n engine.Network, account, detail string) error {
	_, err := run(ctx, tx, "audit", map[string]any{"event": map[string]any{
		"at": nowUTC(), "actor": actor, "action": action, "member": member,
		"network": string(n), "account": account, "detail": detail,
	}})
	return err
}

func xidsOf(rec *neo4j.Record) []string {
	v, _ := rec.Get("xids")
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// CreateMember creates a member with default settings (or finds them).
func (s *Store) CreateMember(ctx context.Context, member string) error {
	if err := engine.CheckMemberID(member); err != nil {
		return err
	}
	return s.write(ctx, func(tx neo4j.ManagedTransaction) error {
		_, err := run(ctx, tx, "member_create", map[string]any{"member": member, "now": nowUTC()})
		return err
	})
}

// ClaimX implements engine.LinkGraph: records the claim and recomputes the
// X account's links, in one transaction.
func (s *Store) ClaimX(ctx context.Context, member, xid, via, username, actor string) error {
	if err := engine.CheckXID(xid); err != nil {
		return err
	}
	if via != engine.ViaArchive && via != engine.ViaXOAuth {
		return engine.Errorf(engine.EINVALID, "claim via %q: want archive or x_oauth", via)
	}
	var user any
	if username != "" {
		user = username
	}
	return s.write(ctx, func(tx neo4j.ManagedTransaction) error {
		recs, err := run(ctx, tx, "member_claim", map[string]any{"member": member, "xid": xid, "via": via, "now": nowUTC(), "username": user})
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return engine.Errorf(engine.ENOTFOUND, "no member %s", member)
		}
		if err := audit(ctx, tx, actor, "claim:"+via, member, "", "", xid); err != nil {
			return err
		}
		return sync(ctx, tx, []string{xid})
	})
}

// LinkAccount implements engine.LinkGraph.
func (s *Store) LinkAccount(ctx context.Context, req engine.LinkRequest) error {
	account, err := engine.CheckAccount(req.Network, req.Account)
	if err != nil {
		return err
	}
	params := map[string]any{
		"member": req.Member, "network": string(req.Network), "account": account,
		"handle": nullable(req.Handle), "via": req.Via, "token_enc": nullable(req.TokenEnc), "now": nowUTC(),
		"expires_at": nullTime(req.Expires),
	}
	return s.write(ctx, func(tx neo4j.ManagedTransaction) error {
		recs, err := run(ctx, tx, "member_link", params)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return engine.Errorf(engine.ENOTFOUND, "no member %s", req.Member)
		}
		if err := audit(ctx, tx, req.Actor, "link", req.Member, req.Network, account, req.Via); err != nil {
			return err
		}
		return sync(ctx, tx, xidsOf(recs[0]))
	})
}

// UnlinkAccount implements engine.LinkGraph.
func (s *Store) UnlinkAccount(ctx context.Context, member string, n engine.Network, account, actor string) error {
	account, err := engine.CheckAccount(n, account)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx neo4j.ManagedTransaction) error {
		recs, err := run(ctx, tx, "member_unlink", map[string]any{"member": member, "network": string(n), "account": account})
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return engine.Errorf(engine.ENOTFOUND, "no member %s", member)
		}
		if removed, _ := recs[0].Get("removed"); removed == int64(0) {
			return engine.Errorf(engine.ENOTFOUND, "member %s does not use %s account %s", member, n, account)
		}
		if err := audit(ctx, tx, actor, "unlink", member, n, account, ""); err != nil {
			return err
		}
		return sync(ctx, tx, xidsOf(recs[0]))
	})
}

// DeleteMember implements engine.LinkGraph: the member's archives are
// retracted from the edges, then everything of theirs is deleted and the
// links of their X accounts recomputed. A crash half-way is finished by
// running it again.
func (s *Store) DeleteMember(ctx context.Context, member, actor string) error {
	st, err := s.MemberImportState(ctx, member)
	if err != nil {
		return err
	}
	var archives []string
	for _, a := range st.Archives {
		archives = append(archives, a.ID)
	}
	if len(archives) > 0 {
		for _, c := range st.Claims {
			if err := s.Retract(ctx, c.XID, archives); err != nil {
				return fmt.Errorf("delete member %s: %w", member, err)
			}
		}
	}
	return s.write(ctx, func(tx neo4j.ManagedTransaction) error {
		recs, err := run(ctx, tx, "member_delete", map[string]any{"member": member})
		if err != nil {
			return err
		}
		if found, _ := recs[0].Get("found"); found != true {
			return engine.Errorf(engine.ENOTFOUND, "no member %s", member)
		}
		if err := audit(ctx, tx, actor, "delete", member, "", "", ""); err != nil {
			return err
		}
		return sync(ctx, tx, xidsOf(recs[0]))
	})
}

// SetSettings implements engine.LinkGraph.
func (s *Store) SetSettings(ctx context.Context, member string, set engine.Settings) error {
	p := map[string]any{"member": member}
	for k, v := range map[string]*bool{"auto_reconnect": set.AutoReconnect, "allow_claimed": set.AllowClaimed,
		"notify_arrivals": set.NotifyArrivals, "research_consent": set.ResearchConsent, "show_name": set.ShowName} {
		p[k] = nil
		if v != nil {
			p[k] = *v
		}
	}
	if err := set.Check(); err != nil {
		return err
	}
	for k, v := range map[string]*string{"locale": set.Locale, "notify_period": set.NotifyPeriod, "notify_channel": set.NotifyChannel} {
		p[k] = nil
		if v != nil {
			p[k] = *v
		}
	}
	return s.write(ctx, func(tx neo4j.ManagedTransaction) error {
		recs, err := run(ctx, tx, "member_settings", p)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return engine.Errorf(engine.ENOTFOUND, "no member %s", member)
		}
		return nil
	})
}

// Conflicts implements engine.LinkGraph.
func (s *Store) Conflicts(ctx context.Context) ([]engine.Conflict, error) {
	recs, err := s.read(ctx, "admin_conflicts", nil)
	if err != nil {
		return nil, err
	}
	out := []engine.Conflict{}
	for _, r := range recs {
		m := r.AsMap()
		c := engine.Conflict{XID: str(m["xid"]), Username: str(m["username"])}
		for _, cl := range m["claims"].([]any) {
			cm := cl.(map[string]any)
			refuted, _ := cm["refuted"].(bool)
			c.Claims = append(c.Claims, engine.ConflictClaim{Member: str(cm["member"]), Via: str(cm["via"]), Refuted: refuted, At: str(cm["at"])})
		}
		out = append(out, c)
	}
	return out, nil
}

// Reachable implements engine.LinkGraph: the member's reconnections, their
// followings or (followers) their followers.
func (s *Store) Reachable(ctx context.Context, mq engine.MatchQuery, followers bool) ([]engine.Reconnection, error) {
	trusts := mq.Trusts
	if len(trusts) == 0 {
		trusts = engine.TrustsFrom(engine.TrustEvidence)
	}
	ts := make([]string, len(trusts))
	for i, t := range trusts {
		ts[i] = string(t)
	}
	name := "reachable_followings"
	if followers {
		name = "reachable_followers"
	}
	recs, err := s.read(ctx, name, map[string]any{
		"member": mq.Member, "network": nullable(string(mq.Network)), "trusts": ts, "include_followed": mq.IncludeFollowed,
	})
	if err != nil {
		return nil, err
	}
	out := make([]engine.Reconnection, len(recs))
	for i, r := range recs {
		// By position, in the RETURN's order: AsMap costs a map per row,
		// and a member may have thousands of rows.
		v := r.Values
		if len(v) != 8 {
			return nil, fmt.Errorf("%s: %d columns, want 8", name, len(v))
		}
		conflict, _ := v[6].(bool)
		followed, _ := v[7].(bool)
		out[i] = engine.Reconnection{XID: str(v[0]), Network: str(v[1]), Account: str(v[2]),
			Handle: str(v[3]), Trust: str(v[4]), Source: str(v[5]), Conflict: conflict, Followed: followed}
	}
	return out, nil
}

// Arrivals implements engine.LinkGraph. Rows are streamed to fn as the
// server produces them: an account followed by 100k members never sits in
// memory whole.
func (s *Store) Arrivals(ctx context.Context, n engine.Network, account string, fn func(engine.Arrival) error) error {
	sess := s.session(ctx, neo4j.AccessModeRead)
	defer sess.Close(ctx)
	_, err := sess.ExecuteRead(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		res, err := tx.Run(ctx, q("arrivals"), map[string]any{"network": string(n), "account": account})
		if err != nil {
			return nil, err
		}
		for res.Next(ctx) {
			m := res.Record().AsMap()
			a := engine.Arrival{Member: str(m["member"]), XID: str(m["xid"]), FromAccount: str(m["from_account"]),
				Locale: str(m["locale"]), Trust: engine.Trust(str(m["trust"]))}
			a.AutoReconnect, _ = m["auto_reconnect"].(bool)
			a.NotifyArrivals, _ = m["notify_arrivals"].(bool)
			a.AllowClaimed, _ = m["allow_claimed"].(bool)
			a.Conflict, _ = m["conflict"].(bool)
			a.Followed, _ = m["followed"].(bool)
			if err := fn(a); err != nil {
				return nil, err
			}
		}
		return nil, res.Err()
	})
	return err
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Dismiss records that a member never wants a target suggested or followed
// automatically (dismiss), or takes that back.
func (s *Store) Dismiss(ctx context.Context, member string, n engine.Network, account string, dismiss bool) error {
	account, err := engine.CheckAccount(n, account)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx neo4j.ManagedTransaction) error {
		recs, err := run(ctx, tx, "member_dismiss", map[string]any{"member": member, "network": string(n), "account": account, "dismiss": dismiss, "now": nowUTC()})
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return engine.Errorf(engine.ENOTFOUND, "no member %s or no %s account %s", member, n, account)
		}
		return nil
	})
}

// Dismissed returns the accounts a member dismissed on a network.
func (s *Store) Dismissed(ctx context.Context, member string, n engine.Network) ([]engine.Reconnection, error) {
	recs, err := s.read(ctx, "member_dismissed", map[string]any{"member": member, "network": string(n)})
	if err != nil {
		return nil, err
	}
	out := make([]engine.Reconnection, len(recs))
	for i, r := range recs {
		out[i] = engine.Reconnection{Network: string(n), Account: str(r.Values[0]), Handle: str(r.Values[1])}
	}
	return out, nil
}
