package cypher

import (
	"context"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// Query runs one statement and returns its rows as maps: for tests that
// check what the graph holds, without a product method for it.
func (s *Store) Query(ctx context.Context, query string, params map[string]any) ([]map[string]any, error) {
	res, err := neo4j.ExecuteQuery(ctx, s.driver, query, params, neo4j.EagerResultTransformer, s.queryConfig())
	if err != nil {
		return nil, err
	}
	rows := make([]map[string]any, len(res.Records))
	for i, r := range res.Records {
		rows[i] = r.AsMap()
	}
	return rows, nil
}
