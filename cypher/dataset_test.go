package cypher_test

import (
	"context"
	"testing"

	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/internal/testenv"
)

func TestDatasetImportIsIdempotentAndReplacesItsLinks(t *testing.T) {
	s := testenv.MustGraph(t)
	ctx := context.Background()
	rows := []engine.DatasetRow{
		{XID: "101", Network: engine.Bluesky, Account: did("a"), Trust: engine.TrustVerified, Score: 0.9},
		{XID: "102", Network: engine.Mastodon, Account: "b@x.test", Trust: engine.TrustEvidence},
		{XID: "103", Network: engine.Mastodon, Account: "c@x.test", Trust: engine.TrustClaimed},
	}
	count := func() int64 {
		return testenv.Query(t, "MATCH ()-[s:SAME_AS {source: 'dataset:links.csv'}]->() RETURN count(s) AS n", nil)[0]["n"].(int64)
	}
	dry, err := s.ImportDataset(ctx, "dataset:links.csv", "v1", rows, true)
	if err != nil || dry.Rows != 3 || count() != 0 {
		t.Fatalf("dry run: %+v, %v; %d links written", dry, err, count())
	}
	if _, err := s.ImportDataset(ctx, "dataset:links.csv", "v1", rows, false); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, s)
	again, err := s.ImportDataset(ctx, "dataset:links.csv", "v1", rows, false)
	if err != nil || again.Removed != 0 || again.Before != 3 {
		t.Fatalf("second import: %+v, %v", again, err)
	}
	if snapshot(t, s) != before || count() != 3 {
		t.Fatal("importing the same file twice changed the graph")
	}
	// A newer file without row 102 and with 103's trust raised.
	rows = []engine.DatasetRow{rows[0], {XID: "103", Network: engine.Mastodon, Account: "c@x.test", Trust: engine.TrustVerified}}
	res, err := s.ImportDataset(ctx, "dataset:links.csv", "v2", rows, false)
	if err != nil || res.Removed != 1 || count() != 2 {
		t.Fatalf("newer file: %+v, %v, %d links", res, err, count())
	}
	if got := testenv.Query(t, "MATCH (:XAccount {xid: '103'})-[s:SAME_AS]->() RETURN s.trust AS t", nil); got[0]["t"] != "verified" {
		t.Errorf("trust of 103 = %v", got)
	}
	// Another dataset's links are its own.
	if _, err := s.ImportDataset(ctx, "dataset:other.csv", "o1", rows[:1], false); err != nil {
		t.Fatal(err)
	}
	if count() != 2 {
		t.Errorf("another dataset changed this one's links")
	}
}
