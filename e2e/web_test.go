package e2e_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/passerelle-social/passerelle/e2e"
	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/fixtures"
	"github.com/passerelle-social/passerelle/internal/testenv"
	"github.com/passerelle-social/passerelle/networks/bluesky"
)

// TestBrowserSignInUploadReconnect runs web.mjs in headless chromium
// against `passerelle serve` and `passerelle work` on the real Neo4j,
// Redis and local PDS, then checks the PDS itself holds the follows.
func TestBrowserSignInUploadReconnect(t *testing.T) {
	e2e.RequireBrowser(t)
	ctx := context.Background()
	store := testenv.MustGraph(t)
	testenv.MustRedis(t)
	const n = 4
	var rows []engine.DatasetRow
	var xids, dids []string
	for i := 1; i <= n; i++ {
		a := testenv.MustPDSAccount(t, fmt.Sprintf("friend%d", i))
		dids = append(dids, a.DID)
		xids = append(xids, fixtures.XID(600+i))
		rows = append(rows, engine.DatasetRow{XID: xids[i-1], Network: engine.Bluesky, Account: a.DID, Trust: engine.TrustVerified})
	}
	if _, err := store.ImportDataset(ctx, "dataset:browser.csv", "v1", rows, false); err != nil {
		t.Fatal(err)
	}
	me := testenv.MustPDSAccount(t, "walker")
	archive := writeArchive(t, 42, xids)

	url := e2e.StartStack(t, "PASSERELLE_BLUESKY_HOSTS="+testenv.PDSURL(), "PASSERELLE_PLC_URL="+testenv.PLCURL(),
		"PASSERELLE_ADMINS="+me.DID)
	e2e.RunScenario(t, url, "web.mjs", "PDS_URL="+testenv.PDSURL(), "PDS_HANDLE="+me.Handle, "PDS_PASSWORD="+me.Password,
		"ARCHIVE="+archive, fmt.Sprintf("TARGETS=%d", n))

	s, err := bluesky.New(bluesky.Options{PLCURL: testenv.PLCURL()}).LoginAppPassword(ctx, testenv.PDSURL(), me.Handle, me.Password)
	if err != nil {
		t.Fatal(err)
	}
	follows, err := s.Follows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dids {
		if _, ok := follows[d]; !ok {
			t.Errorf("%s is not followed on the PDS (%d follow records)", d, len(follows))
		}
	}
}

// writeArchive writes X account n's archive as a ZIP (data/ folder),
// following the given X accounts, and returns its path.
func writeArchive(t *testing.T, n int, follows []string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "twitter-archive.zip")
	if err := fixtures.WriteArchiveFollowing(out, fixtures.ArchiveOptions{Account: n}, follows); err != nil {
		t.Fatal(err)
	}
	return out
}
