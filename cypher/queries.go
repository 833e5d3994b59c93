package cypher

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

//go:embed queries/*.cypher
var queryFS embed.FS

// queries holds every query file by name (file name without extension),
// loaded once; a missing name is a programming error caught by the tests.
var queries = mustLoadQueries()

func mustLoadQueries() map[string]string {
	names, err := fs.Glob(queryFS, "queries/*.cypher")
	if err != nil {
		panic(err)
	}
	out := make(map[string]string, len(names))
	for _, n := range names {
		b, err := queryFS.ReadFile(n)
		if err != nil {
			panic(err)
		}
		out[strings.TrimSuffix(path.Base(n), ".cypher")] = string(b)
	}
	return out
}

// q returns the text of the named query file.
func q(name string) string {
	text, ok := queries[name]
	if !ok {
		panic(fmt.Sprintf("cypher: no query file queries/%s.cypher", name))
	}
	return text
}

// QueryNames lists the embedded query files, for tests that check them all.
func QueryNames() []string {
	out := make([]string, 0, len(queries))
	for n := range queries {
		out = append(out, n)
	}
	return out
}

// QueryText returns the text of the named query file.
func QueryText(name string) string { return q(name) }
