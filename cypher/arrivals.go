package cypher

import (
	"context"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/passerelle-social/passerelle/engine"
)

// Announce records that members are to be told of an account's arrival in
// their next digest; it returns how many announcements are new. Each
// (member, account) is announced at most once, however often this runs.
func (s *Store) Announce(ctx context.Context, n engine.Network, account string, members []string) (int, error) {
	if len(members) == 0 {
		return 0, nil
	}
	var created int64
	err := s.write(ctx, func(tx neo4j.ManagedTransaction) error {
		recs, err := run(ctx, tx, "arrival_announce", map[string]any{
			"network": string(n), "account": account, "members": members, "now": nowUTC()})
		if err != nil || len(recs) == 0 {
			return err
		}
		v, _ := recs[0].Get("created")
		created, _ = v.(int64)
		return nil
	})
	return int(created), err
}

// DigestsDue returns the members with announcements waiting whose period
// since their last digest is over.
func (s *Store) DigestsDue(ctx context.Context, now time.Time) ([]engine.DueDigest, error) {
	recs, err := s.read(ctx, "notify_due", map[string]any{"now": now.UTC()})
	if err != nil {
		return nil, err
	}
	out := make([]engine.DueDigest, len(recs))
	for i, r := range recs {
		m := r.AsMap()
		out[i].Member = str(m["member"])
		out[i].Last, _ = m["last"].(time.Time)
	}
	return out, nil
}

// ClaimDigest takes a member's waiting announcements into the digest
// named digest and returns them. Announcements this digest took before (a
// retry after a crash) come back with Resumed set.
func (s *Store) ClaimDigest(ctx context.Context, member, digest string) ([]engine.Announcement, error) {
	var out []engine.Announcement
	err := s.write(ctx, func(tx neo4j.ManagedTransaction) error {
		recs, err := run(ctx, tx, "notify_claim", map[string]any{"member": member, "digest": digest, "now": nowUTC()})
		if err != nil {
			return err
		}
		out = make([]engine.Announcement, len(recs))
		for i, r := range recs {
			m := r.AsMap()
			a := engine.Announcement{Network: engine.Network(str(m["network"])), Account: str(m["account"]),
				Handle: str(m["handle"]), XID: str(m["xid"]), Username: str(m["username"])}
			a.Followed, _ = m["followed"].(bool)
			a.Resumed, _ = m["resumed"].(bool)
			out[i] = a
		}
		return nil
	})
	return out, err
}

// FinishDigest settles the announcements a digest took: "sent", "pending"
// (not sent: they wait for the next try) or "dropped" (which also drops
// the member's waiting ones).
func (s *Store) FinishDigest(ctx context.Context, member, digest, state string) error {
	return s.write(ctx, func(tx neo4j.ManagedTransaction) error {
		_, err := run(ctx, tx, "notify_finish", map[string]any{"member": member, "digest": digest, "state": state, "now": nowUTC()})
		return err
	})
}

// LinksChanged returns the accounts whose links appeared or changed trust
// in (since, until].
func (s *Store) LinksChanged(ctx context.Context, since, until time.Time) ([]engine.ChangedLink, error) {
	recs, err := s.read(ctx, "links_changed", map[string]any{"since": since.UTC(), "until": until.UTC()})
	if err != nil {
		return nil, err
	}
	out := make([]engine.ChangedLink, len(recs))
	for i, r := range recs {
		m := r.AsMap()
		out[i] = engine.ChangedLink{Network: engine.Network(str(m["network"])), Account: str(m["account"])}
		out[i].Changed, _ = m["changed"].(time.Time)
	}
	return out, nil
}

// Watermark returns a periodic job's watermark (initial the first time)
// and, when set is not zero, moves it to set.
func (s *Store) Watermark(ctx context.Context, job string, initial, set time.Time) (time.Time, error) {
	var at time.Time
	err := s.write(ctx, func(tx neo4j.ManagedTransaction) error {
		var next any
		if !set.IsZero() {
			next = set.UTC()
		}
		recs, err := run(ctx, tx, "job_watermark", map[string]any{"name": job, "initial": initial.UTC(), "set": next})
		if err != nil {
			return err
		}
		v, _ := recs[0].Get("at")
		at, _ = v.(time.Time)
		return nil
	})
	return at, err
}

// ForgetAnnouncements removes every announcement of an account's arrival.
func (s *Store) ForgetAnnouncements(ctx context.Context, n engine.Network, account string) error {
	return s.write(ctx, func(tx neo4j.ManagedTransaction) error {
		_, err := run(ctx, tx, "arrival_forget", map[string]any{"network": string(n), "account": account})
		return err
	})
}
