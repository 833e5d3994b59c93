package cypher_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/passerelle-social/passerelle/cypher"
	"github.com/passerelle-social/passerelle/internal/testenv"
)

// largeLabels are the labels whose scan would touch millions of nodes.
var largeLabels = []string{"XAccount", "Member", "BlueskyAccount", "MastodonAccount", "Archive", "AuditEvent"}

// planParams holds a value for every parameter any query takes: EXPLAIN
// needs them all, and extra ones are ignored.
var planParams = map[string]any{
	"member": "m", "xid": "1", "xids": []string{"1"}, "ids": []string{"2"}, "archive": map[string]any{"id": "a", "counts": map[string]any{}},
	"old": []string{"a"}, "now": "2024-01-01T00:00:00Z", "network": "bluesky", "account": "did:plc:x", "handle": "h",
	"via": "admin", "token_enc": nil, "username": "u", "display_name": "d", "x_created_at": "c", "trusts": []string{"verified"},
	"include_followed": false, "source": "dataset:x", "stamp": "s", "rows": []map[string]any{{"xid": "1", "network": "bluesky", "account": "did:plc:x", "trust": "verified", "score": 0.5}},
	"event": map[string]any{"at": "now"}, "dismiss": true, "auto_reconnect": nil, "allow_claimed": nil, "notify_arrivals": nil,
	"research_consent": nil, "show_name": nil, "locale": nil, "notify_period": nil, "notify_channel": nil,
	"members": []string{"m"}, "digest": "d", "state": "sent", "since": "2024-01-01T00:00:00Z", "until": "2024-01-02T00:00:00Z",
	"name": "job", "initial": "2024-01-01T00:00:00Z", "set": nil, "expires_at": nil, "key": "k", "sealed": "s", "instance": "https://x", "redirect_uri": "https://y", "client_id": "c", "secret_enc": "s", "before": "2024-01-01T00:00:00Z", "limit": 10,
}

// TestQueriesStartFromAnIndex runs EXPLAIN on every query file and fails on
// a scan of a large label: every query must start from an index or a
// constraint (or Neo4j's count store).
func TestQueriesStartFromAnIndex(t *testing.T) {
	testenv.MustStore(t)
	ctx := context.Background()
	d, err := neo4j.NewDriverWithContext(testenv.Neo4jURI(), neo4j.NoAuth())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(ctx)
	names := cypher.QueryNames()
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			text := cypher.QueryText(name)
			if !strings.Contains(text, "// Plan:") || !strings.Contains(text, "// Parameters:") || !strings.Contains(text, "// Rows:") {
				t.Errorf("header must name its Parameters, Rows and Plan")
			}
			sess := d.NewSession(ctx, neo4j.SessionConfig{})
			defer sess.Close(ctx)
			res, err := sess.Run(ctx, "EXPLAIN "+text, planParams)
			if err != nil {
				t.Fatal(err)
			}
			sum, err := res.Consume(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var walk func(p neo4j.Plan)
			walk = func(p neo4j.Plan) {
				op := p.Operator()
				if strings.Contains(op, "AllNodesScan") || strings.Contains(op, "RelationshipTypeScan") || strings.Contains(op, "AllRelationshipsScan") {
					t.Errorf("plan has %s", op)
				}
				if strings.Contains(op, "NodeByLabelScan") {
					details, _ := p.Arguments()["Details"].(string)
					for _, l := range largeLabels {
						if strings.Contains(details, ":"+l) {
							t.Errorf("plan scans the %s label: %s %s", l, op, details)
						}
					}
				}
				for _, c := range p.Children() {
					walk(c)
				}
			}
			walk(sum.Plan())
		})
	}
}
