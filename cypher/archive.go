package cypher

import (
	"context"
	"fmt"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/engine/xarchive"
)

var _ engine.ArchiveGraph = (*Store)(nil)

// MemberImportState implements engine.ArchiveGraph.
func (s *Store) MemberImportState(ctx context.Context, member string) (*engine.MemberImportState, error) {
	res, err := neo4j.ExecuteQuery(ctx, s.driver, q("member_import_state"), map[string]any{"member": member},
		neo4j.EagerResultTransformer, s.queryConfig(neo4j.ExecuteQueryWithReadersRouting()))
	if err != nil {
		return nil, fmt.Errorf("member import state: %w", err)
	}
	if len(res.Records) == 0 {
		return nil, engine.Errorf(engine.ENOTFOUND, "no member %s", member)
	}
	r := res.Records[0].AsMap()
	st := &engine.MemberImportState{}
	st.Current, _ = r["current"].(string)
	for _, c := range r["claims"].([]any) {
		m := c.(map[string]any)
		st.Claims = append(st.Claims, engine.Claim{XID: str(m["xid"]), Via: str(m["via"])})
	}
	for _, a := range r["archives"].([]any) {
		m := a.(map[string]any)
		st.Archives = append(st.Archives, engine.ArchiveRecord{
			ID: str(m["id"]), SHA256: str(m["sha256"]), GeneratedAt: str(m["generated_at"]), Status: str(m["status"]),
		})
	}
	return st, nil
}

// BeginImport implements engine.ArchiveGraph.
func (s *Store) BeginImport(ctx context.Context, imp *engine.ArchiveImport) error {
	counts := map[string]any{}
	for k, v := range imp.Archive.Counts {
		counts["count_"+k] = v
	}
	for k, v := range imp.Archive.Duplicates {
		counts["duplicates_"+k] = v
	}
	params := map[string]any{
		"member":       imp.Member,
		"now":          imp.Now,
		"xid":          imp.Account.ID,
		"username":     imp.Account.Username,
		"display_name": imp.Account.DisplayName,
		"x_created_at": imp.Account.CreatedAt,
		"archive": map[string]any{
			"id":            imp.Archive.ID,
			"sha256":        imp.Archive.SHA256,
			"generated_at":  imp.Archive.GeneratedAt,
			"source":        imp.Archive.Source,
			"counts":        counts,
			"lists_created": imp.Archive.ListsCreated,
			"lists_member":  imp.Archive.ListsMember,
		},
	}
	err := s.write(ctx, func(tx neo4j.ManagedTransaction) error {
		if _, err := run(ctx, tx, "member_create", map[string]any{"member": imp.Member, "now": imp.Now}); err != nil {
			return err
		}
		if _, err := run(ctx, tx, "import_begin", params); err != nil {
			return err
		}
		// The archive's claim may make (or join) a conflict: links follow.
		return sync(ctx, tx, []string{imp.Account.ID})
	})
	if err != nil {
		return fmt.Errorf("import begin: %w", err)
	}
	return nil
}

var loadQuery = map[xarchive.Kind]string{
	xarchive.KindFollowing: "import_following",
	xarchive.KindFollower:  "import_follower",
	xarchive.KindBlock:     "import_block",
	xarchive.KindMute:      "import_mute",
}

// LoadIDs implements engine.ArchiveGraph.
func (s *Store) LoadIDs(ctx context.Context, kind xarchive.Kind, xid, archive string, ids []string) error {
	name, ok := loadQuery[kind]
	if !ok {
		return fmt.Errorf("load ids: kind %q is not loaded as edges", kind)
	}
	_, err := neo4j.ExecuteQuery(ctx, s.driver, q(name),
		map[string]any{"xid": xid, "archive": archive, "ids": ids},
		neo4j.EagerResultTransformer, s.queryConfig())
	return err
}

// Retract implements engine.ArchiveGraph.
func (s *Store) Retract(ctx context.Context, xid string, old []string) error {
	for _, name := range []string{"import_retract_following", "import_retract_follower", "import_retract_blocks"} {
		if _, err := s.runAutoCommit(ctx, q(name), map[string]any{"xid": xid, "old": old}); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// FinishImport implements engine.ArchiveGraph.
func (s *Store) FinishImport(ctx context.Context, member, archive string) error {
	res, err := neo4j.ExecuteQuery(ctx, s.driver, q("import_finish"),
		map[string]any{"member": member, "archive": archive, "now": nowUTC()},
		neo4j.EagerResultTransformer, s.queryConfig())
	if err != nil {
		return fmt.Errorf("import finish: %w", err)
	}
	if len(res.Records) == 0 {
		return engine.Errorf(engine.ENOTFOUND, "no archive %s for member %s", archive, member)
	}
	return nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
