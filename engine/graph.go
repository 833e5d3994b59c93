package engine

import "context"

// Graph is the graph store as the rest of Passerelle sees it. cypher.Store
// implements it over Neo4j.
type Graph interface {
	// Ping answers when the store can run a query.
	Ping(ctx context.Context) error
	// CheckSchema fails, naming the file, when a schema file is not applied.
	CheckSchema(ctx context.Context) error
}
