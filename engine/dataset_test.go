package engine_test

import (
	"strings"
	"testing"

	"github.com/passerelle-social/passerelle/engine"
)

const goodDID = "did:plc:abcdefghijklmnopqrstuvwx"

func TestParseDataset(t *testing.T) {
	for _, tc := range []struct {
		name     string
		csv      string
		rows     int
		badLines []int
		fatal    string
	}{
		{"good with score", "xid,network,account,trust,score\n123,bluesky," + goodDID + ",verified,0.9\n456,mastodon,@Bob@Example.Social,evidence,\n", 2, nil, ""},
		{"good without score, BOM, CRLF", "\ufeffxid,network,account,trust\r\n123,bluesky," + goodDID + ",claimed\r\n", 1, nil, ""},
		{"repeated pair keeps the last row", "xid,network,account,trust\n1,mastodon,a@b.c,claimed\n1,mastodon,a@b.c,verified\n", 1, nil, ""},
		{"every bad row with its line", "xid,network,account,trust,score\n" +
			"12a,bluesky," + goodDID + ",verified,\n" + // line 2: xid
			"1,myspace,x@y.z,verified,\n" + // 3: network
			"1,bluesky,did:plc:short,verified,\n" + // 4: DID
			"1,mastodon,not-an-acct,verified,\n" + // 5: acct
			"1,mastodon,a@b.c,certain,\n" + // 6: trust
			"1,mastodon,a@b.c,verified,2\n" + // 7: score
			"1,mastodon,a@b.c\n" + // 8: fields
			"2,mastodon,a@b.c,verified,0.5\n", 1, []int{2, 3, 4, 5, 6, 7, 8}, ""},
		{"wrong header", "id,net,acc,trust\n", 0, nil, "header"},
		{"empty file", "", 0, nil, "no header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, bad, err := engine.ParseDataset(strings.NewReader(tc.csv))
			if tc.fatal != "" {
				if err == nil || !strings.Contains(err.Error(), tc.fatal) {
					t.Fatalf("err = %v, want %q", err, tc.fatal)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != tc.rows {
				t.Errorf("%d rows, want %d: %+v", len(rows), tc.rows, rows)
			}
			var lines []int
			for _, b := range bad {
				lines = append(lines, b.Line)
			}
			if len(lines) != len(tc.badLines) {
				t.Fatalf("bad lines %v (%v), want %v", lines, bad, tc.badLines)
			}
			for i := range lines {
				if lines[i] != tc.badLines[i] {
					t.Fatalf("bad lines %v, want %v", lines, tc.badLines)
				}
			}
		})
	}
	rows, _, _ := engine.ParseDataset(strings.NewReader("xid,network,account,trust\n1,mastodon,@Bob@Example.Social,verified\n"))
	if rows[0].Account != "bob@example.social" {
		t.Errorf("acct = %q, want lower-cased without @", rows[0].Account)
	}
}

func TestArrivalAutoFollow(t *testing.T) {
	base := engine.Arrival{AutoReconnect: true, FromAccount: goodDID, Trust: engine.TrustVerified}
	for _, tc := range []struct {
		name string
		edit func(*engine.Arrival)
		want bool
	}{
		{"verified, auto on", func(*engine.Arrival) {}, true},
		{"auto off", func(a *engine.Arrival) { a.AutoReconnect = false }, false},
		{"no account there", func(a *engine.Arrival) { a.FromAccount = "" }, false},
		{"already followed", func(a *engine.Arrival) { a.Followed = true }, false},
		{"claimed, not allowed", func(a *engine.Arrival) { a.Trust = engine.TrustClaimed }, false},
		{"claimed, allowed", func(a *engine.Arrival) { a.Trust = engine.TrustClaimed; a.AllowClaimed = true }, true},
		{"claimed in conflict, allowed", func(a *engine.Arrival) { a.Trust = engine.TrustClaimed; a.AllowClaimed = true; a.Conflict = true }, false},
		{"evidence, claimed allowed", func(a *engine.Arrival) { a.Trust = engine.TrustEvidence; a.AllowClaimed = true }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := base
			tc.edit(&a)
			if got := a.AutoFollow(); got != tc.want {
				t.Errorf("AutoFollow = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPage(t *testing.T) {
	rows := []int{0, 1, 2, 3, 4}
	for _, tc := range []struct {
		name          string
		offset, limit int
		want          int
	}{{"all", 0, 0, 5}, {"first two", 0, 2, 2}, {"tail", 3, 10, 2}, {"past the end", 9, 2, 0}, {"negative offset", -1, 1, 1}} {
		if got := engine.Page(rows, tc.offset, tc.limit); len(got) != tc.want {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
}
