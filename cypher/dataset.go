package cypher

import (
	"context"
	"fmt"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/passerelle-social/passerelle/engine"
)

// DatasetResult says what a dataset import did or, on a dry run, would do.
type DatasetResult struct {
	Source  string `json:"source"`
	Rows    int    `json:"rows"`
	Before  int    `json:"links_before"` // links of this source before
	Removed int    `json:"removed"`      // links no longer in the file
	DryRun  bool   `json:"dry_run"`
}

// ImportDataset writes a dataset's links under source ("dataset:<file
// name>"), stamped with the file's digest, then removes the source's links
// that the file no longer holds. Running it again with the same file
// changes nothing. On a dry run nothing is written.
func (s *Store) ImportDataset(ctx context.Context, source, digest string, rows []engine.DatasetRow, dryRun bool) (*DatasetResult, error) {
	recs, err := s.read(ctx, "dataset_count", map[string]any{"source": source, "stamp": digest})
	if err != nil {
		return nil, err
	}
	before, _ := recs[0].Get("links")
	res := &DatasetResult{Source: source, Rows: len(rows), DryRun: dryRun}
	res.Before = int(before.(int64))
	if dryRun {
		return res, nil
	}
	const batch = 5000
	now := nowUTC()
	for i := 0; i < len(rows); i += batch {
		part := rows[i:min(i+batch, len(rows))]
		params := make([]map[string]any, len(part))
		for j, r := range part {
			params[j] = map[string]any{"xid": r.XID, "network": string(r.Network), "account": r.Account, "trust": string(r.Trust), "score": r.Score}
		}
		err := s.write(ctx, func(tx neo4j.ManagedTransaction) error {
			_, err := run(ctx, tx, "dataset_links", map[string]any{"source": source, "stamp": digest, "now": now, "rows": params})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("dataset %s: %w", source, err)
		}
	}
	err = s.write(ctx, func(tx neo4j.ManagedTransaction) error {
		recs, err := run(ctx, tx, "dataset_prune", map[string]any{"source": source, "stamp": digest})
		if err != nil {
			return err
		}
		n, _ := recs[0].Get("removed")
		res.Removed = int(n.(int64))
		return nil
	})
	return res, err
}

// Stats are the graph's global counts.
type Stats struct {
	Members       int64            `json:"members"`
	XAccounts     int64            `json:"x_accounts"`
	Follows       int64            `json:"follows"`
	Links         map[string]int64 `json:"links"`          // "<network>/<trust>" → n
	Recreatable   int64            `json:"recreatable"`    // from the last snapshot
	RecreatableAt string           `json:"recreatable_at"` // when it was taken; "" before the first
	Recreated     int64            `json:"recreated"`
}

// Stats returns the global statistics.
func (s *Store) Stats(ctx context.Context) (*Stats, error) {
	recs, err := s.read(ctx, "stats_global", nil)
	if err != nil {
		return nil, err
	}
	m := recs[0].AsMap()
	st := &Stats{Links: map[string]int64{}}
	st.Members, _ = m["members"].(int64)
	st.XAccounts, _ = m["x_accounts"].(int64)
	st.Follows, _ = m["follows"].(int64)
	st.Recreatable, _ = m["recreatable"].(int64)
	st.RecreatableAt = str(m["recreatable_at"])
	st.Recreated, _ = m["recreated"].(int64)
	for _, l := range m["links"].([]any) {
		lm := l.(map[string]any)
		n, _ := lm["n"].(int64)
		st.Links[str(lm["network"])+"/"+str(lm["trust"])] = n
	}
	return st, nil
}

// RefreshStats recomputes the slow statistics (recreatable pairs) and
// stores them for Stats.
func (s *Store) RefreshStats(ctx context.Context) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx neo4j.ManagedTransaction) error {
		recs, err := run(ctx, tx, "stats_recreatable", map[string]any{"now": nowUTC()})
		if err != nil {
			return err
		}
		n, _ = recs[0].Values[0].(int64)
		return nil
	})
	return n, err
}

// MemberStats are one member's counts.
type MemberStats struct {
	Member    string              `json:"member"`
	Following int64               `json:"following"`
	Followers int64               `json:"followers"`
	Accounts  []map[string]string `json:"accounts"`
	Recreated int64               `json:"recreated"`
}

// MemberStats returns one member's statistics.
func (s *Store) MemberStats(ctx context.Context, member string) (*MemberStats, error) {
	recs, err := s.read(ctx, "stats_member", map[string]any{"member": member})
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, engine.Errorf(engine.ENOTFOUND, "no member %s", member)
	}
	m := recs[0].AsMap()
	st := &MemberStats{Member: member, Accounts: []map[string]string{}}
	st.Following, _ = m["following"].(int64)
	st.Followers, _ = m["followers"].(int64)
	st.Recreated, _ = m["recreated"].(int64)
	for _, a := range m["accounts"].([]any) {
		am := a.(map[string]any)
		st.Accounts = append(st.Accounts, map[string]string{"network": str(am["network"]), "account": str(am["account"])})
	}
	return st, nil
}
