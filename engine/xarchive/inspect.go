package xarchive

import (
	"context"
	"fmt"
	"hash/maphash"
)

// Report is what Inspect finds in an archive; it marshals to the JSON the
// API and the CLI show.
type Report struct {
	Account     *ReportAccount `json:"account"` // null when there is no account.js
	GeneratedAt string         `json:"generated_at"`
	// Counts holds distinct ids (distinct URLs for lists) per kind; every
	// Kind is a key, 0 when the archive has none.
	Counts map[string]int `json:"counts"`
	// Duplicates holds, per kind, how many elements repeat an id (or URL)
	// seen before in that kind; every Kind is a key.
	Duplicates map[string]int `json:"duplicates"`
	Warnings   []string       `json:"warnings"` // never null
}

// ReportAccount is the owner as shown in a Report: no e-mail, ever.
type ReportAccount struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
}

// Inspect reads every graph file of a once and counts distinct ids per
// kind, duplicates, and differences with manifest.js (as warnings). Memory
// stays bounded: ids are deduplicated as uint64 (about 10 bytes each, so
// 1.2M followers take some 20 MiB), list URLs by a 64-bit hash.
func Inspect(ctx context.Context, a *Archive) (*Report, error) {
	r := &Report{
		GeneratedAt: a.GeneratedAt(),
		Counts:      make(map[string]int),
		Duplicates:  make(map[string]int),
		Warnings:    a.Warnings(),
	}
	if r.Warnings == nil {
		r.Warnings = []string{}
	}
	warn := func(format string, args ...any) {
		r.Warnings = append(r.Warnings, oneLine(fmt.Sprintf(format, args...), 500))
	}

	acct, err := a.Account(ctx)
	switch {
	case err == nil:
		r.Account = &ReportAccount{ID: acct.ID, Username: acct.Username, DisplayName: acct.DisplayName}
		if a.ownerID != "" && a.ownerID != acct.ID {
			warn("manifest.js names account %s but account.js names %s", oneLine(a.ownerID, 24), acct.ID)
		}
	case ErrorCode(err) == ENOACCOUNT:
		warn("%v", err)
	default:
		return nil, err
	}

	if !a.has(KindFollowing) && !a.has(KindFollower) {
		warn("the archive has neither following.js nor follower.js: there is no follow list to import")
	}
	seed := maphash.MakeSeed()
	for _, k := range Kinds() {
		read := make(map[*entry]int)
		var total int
		if k.isList() {
			seen := make(map[uint64]struct{})
			for _, e := range a.files[k] {
				if e.open == nil {
					continue
				}
				err := a.readURLs(ctx, e, func(url string) error {
					read[e]++
					seen[maphash.String(seed, url)] = struct{}{}
					return nil
				})
				if err != nil {
					return nil, err
				}
			}
			total, r.Counts[string(k)] = sum(read), len(seen)
		} else {
			seen := make(map[uint64]struct{}, min(expected(a.files[k]), 1<<21))
			for _, e := range a.files[k] {
				if e.open == nil {
					continue
				}
				n := 0
				err := a.readIDs(ctx, e, k, func(_ *entry, _ []byte, v uint64) error {
					n++
					seen[v] = struct{}{}
					return nil
				})
				if err != nil {
					return nil, err
				}
				read[e] = n
			}
			total, r.Counts[string(k)] = sum(read), len(seen)
		}
		r.Duplicates[string(k)] = total - r.Counts[string(k)]
		for _, e := range a.files[k] {
			if e.expect >= 0 && e.expect != read[e] {
				warn("%s: manifest.js expects %d entries, read %d", e.name, e.expect, read[e])
			}
		}
	}
	return r, nil
}

func sum(m map[*entry]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// expected is the element count manifest.js announces for files, a size
// hint for the dedup set.
func expected(files []*entry) int {
	n := 0
	for _, e := range files {
		n += max(e.expect, 0)
	}
	return n
}
