// Package engine holds Passerelle's domain: its types, its rules and the small
// interfaces that the adapters (cypher, networks, workers, server) implement.
// It imports none of them, and no driver.
package engine
