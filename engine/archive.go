package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"time"

	"github.com/passerelle-social/passerelle/engine/xarchive"
)

// ArchiveGraph is what an archive import needs from the graph store.
// cypher.Store implements it. Every method is idempotent: an import that
// fails half-way is finished by running it again.
type ArchiveGraph interface {
	// MemberImportState returns ENOTFOUND when there is no such member.
	MemberImportState(ctx context.Context, member string) (*MemberImportState, error)
	// BeginImport writes the member, their X account and claim, and the
	// Archive node (status "loading").
	BeginImport(ctx context.Context, imp *ArchiveImport) error
	// LoadIDs writes one batch of one kind's ids, attested by the archive.
	LoadIDs(ctx context.Context, kind xarchive.Kind, xid, archive string, ids []string) error
	// Retract removes the attestations of the old archives from the edges of
	// the owner xid, deleting edges left with none.
	Retract(ctx context.Context, xid string, old []string) error
	// FinishImport marks the archive done and current for the member.
	FinishImport(ctx context.Context, member, archive string) error
}

// MemberImportState is what the graph knows of a member before an import.
type MemberImportState struct {
	Claims   []Claim
	Archives []ArchiveRecord
	Current  string // id of the current archive, "" when none
}

// Claim is a member's claim of an X account.
type Claim struct {
	XID string
	Via string // "archive" or "x_oauth"
}

// ArchiveRecord is one stored Archive node, in short.
type ArchiveRecord struct {
	ID, SHA256, GeneratedAt, Status string
}

// ArchiveImport is everything BeginImport writes.
type ArchiveImport struct {
	Member  string
	Account xarchive.Account
	Archive ArchiveMeta
	Now     time.Time
}

// ArchiveMeta describes one archive as stored on its Archive node.
type ArchiveMeta struct {
	ID           string
	SHA256       string // digest of the archive's graph content (see contentDigest)
	GeneratedAt  string
	Source       string // "zip", "folder" or "files"
	Counts       map[string]int
	Duplicates   map[string]int
	ListsCreated []string
	ListsMember  []string
}

// Progress is one step of an import, for the person watching it.
type Progress struct {
	Phase string `json:"phase"` // inspect, digest, following, follower, block, mute, finish, done
	Done  int    `json:"done"`
	Total int    `json:"total"`
}

// ImportResult is what an import did.
type ImportResult struct {
	Member    string         `json:"member"`
	XID       string         `json:"xid"`
	Archive   string         `json:"archive"`
	Counts    map[string]int `json:"counts"`
	Unchanged bool           `json:"unchanged"` // the same archive was already imported
	Seconds   float64        `json:"seconds"`
	Warnings  []string       `json:"warnings"`
}

// Importer loads X archives into the graph.
type Importer struct {
	Graph     ArchiveGraph
	Limits    xarchive.Limits
	BatchSize int              // ids per write; 0 means 10,000
	Now       func() time.Time // the clock; nil means time.Now
}

var memberIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$`)

// CheckMemberID reports whether id can name a member.
func CheckMemberID(id string) error {
	if !memberIDPattern.MatchString(id) {
		return Errorf(EINVALID, "member id %q: use 1 to 64 letters, digits, '_', '.', ':' or '-'", id)
	}
	return nil
}

// NewMemberID returns a fresh random member id.
func NewMemberID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return "m_" + hex.EncodeToString(b)
}

// graphKinds are the kinds loaded as edges, in loading order.
var graphKinds = []xarchive.Kind{xarchive.KindFollowing, xarchive.KindFollower, xarchive.KindBlock, xarchive.KindMute}

// Import reads the archive at paths (a ZIP, a folder, or loose .js files) and
// loads it for member (created when new). The archive is read completely
// once before anything is written, so a bad archive changes nothing. The
// same archive imported twice changes nothing; a newer one from the same
// member replaces what the older one attested. progress may be nil.
func (im *Importer) Import(ctx context.Context, member string, paths []string, progress func(Progress)) (*ImportResult, error) {
	now := time.Now
	if im.Now != nil {
		now = im.Now
	}
	start := now()
	if progress == nil {
		progress = func(Progress) {}
	}
	if err := CheckMemberID(member); err != nil {
		return nil, err
	}
	a, err := xarchive.Open(ctx, paths, im.Limits)
	if err != nil {
		return nil, archiveError(err)
	}
	defer a.Close()

	progress(Progress{Phase: "inspect"})
	report, err := xarchive.Inspect(ctx, a)
	if err != nil {
		return nil, archiveError(err)
	}
	acct, err := a.Account(ctx)
	if err != nil {
		return nil, archiveError(err)
	}
	progress(Progress{Phase: "digest"})
	digest, err := contentDigest(ctx, a, acct.ID)
	if err != nil {
		return nil, archiveError(err)
	}
	meta := ArchiveMeta{
		ID:          archiveID(member, digest),
		SHA256:      digest,
		GeneratedAt: report.GeneratedAt,
		Source:      a.Form(),
		Counts:      report.Counts,
		Duplicates:  report.Duplicates,
	}
	if meta.ListsCreated, err = urls(ctx, a, xarchive.KindListsCreated); err != nil {
		return nil, archiveError(err)
	}
	if meta.ListsMember, err = urls(ctx, a, xarchive.KindListsMember); err != nil {
		return nil, archiveError(err)
	}
	res := &ImportResult{Member: member, XID: acct.ID, Archive: meta.ID, Counts: report.Counts, Warnings: report.Warnings}

	state, err := im.Graph.MemberImportState(ctx, member)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		state = &MemberImportState{}
	case err != nil:
		return nil, err
	}
	for _, c := range state.Claims {
		if c.XID != acct.ID {
			return nil, Errorf(ECONFLICT, "member %s is X account %s; this archive is X account %s (@%s)", member, c.XID, acct.ID, acct.Username)
		}
	}
	// old: the member's other archives whose attestations are still on edges.
	var old []string
	for _, r := range state.Archives {
		if r.ID == meta.ID || r.Status == "replaced" {
			continue
		}
		if r.ID == state.Current && r.GeneratedAt != "" && meta.GeneratedAt != "" && newer(r.GeneratedAt, meta.GeneratedAt) {
			return nil, Errorf(ECONFLICT, "this archive (generated %s) is older than the one already imported for member %s (generated %s): nothing changed", meta.GeneratedAt, member, r.GeneratedAt)
		}
		old = append(old, r.ID)
	}
	if state.Current == meta.ID && len(old) == 0 {
		res.Unchanged = true
		res.Seconds = now().Sub(start).Seconds()
		progress(Progress{Phase: "done", Done: 1, Total: 1})
		return res, nil
	}

	if err := im.Graph.BeginImport(ctx, &ArchiveImport{Member: member, Account: *acct, Archive: meta, Now: now().UTC()}); err != nil {
		return nil, fmt.Errorf("begin import: %w", err)
	}
	batch := im.BatchSize
	if batch <= 0 {
		batch = 10000
	}
	for _, kind := range graphKinds {
		total := report.Counts[string(kind)] + report.Duplicates[string(kind)]
		if err := im.load(ctx, a, kind, acct.ID, meta.ID, batch, total, progress); err != nil {
			return nil, err
		}
	}
	progress(Progress{Phase: "finish"})
	if len(old) > 0 {
		if err := im.Graph.Retract(ctx, acct.ID, old); err != nil {
			return nil, fmt.Errorf("retract older archives: %w", err)
		}
	}
	if err := im.Graph.FinishImport(ctx, member, meta.ID); err != nil {
		return nil, fmt.Errorf("finish import: %w", err)
	}
	res.Seconds = now().Sub(start).Seconds()
	progress(Progress{Phase: "done", Done: 1, Total: 1})
	return res, nil
}

func (im *Importer) load(ctx context.Context, a *xarchive.Archive, kind xarchive.Kind, xid, archive string, size, total int, progress func(Progress)) error {
	ids := make([]string, 0, size)
	done := 0
	flush := func() error {
		if len(ids) == 0 {
			return nil
		}
		if err := im.Graph.LoadIDs(ctx, kind, xid, archive, ids); err != nil {
			return fmt.Errorf("load %s: %w", kind, err)
		}
		done += len(ids)
		ids = ids[:0]
		progress(Progress{Phase: string(kind), Done: done, Total: total})
		return nil
	}
	progress(Progress{Phase: string(kind), Done: 0, Total: total})
	err := a.Each(ctx, kind, func(id string) error {
		if id == xid {
			return nil // following oneself is no edge
		}
		ids = append(ids, id)
		if len(ids) == size {
			return flush()
		}
		return nil
	})
	if err != nil {
		return archiveError(err)
	}
	return flush()
}

// contentDigest is the sha256 of the archive's graph content: the owner and
// every id of every kind, in order. The same archive gives the same digest
// whether it comes as a ZIP, a folder or loose files.
func contentDigest(ctx context.Context, a *xarchive.Archive, owner string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "account\x00%s\n", owner)
	for _, kind := range xarchive.Kinds() {
		fmt.Fprintf(h, "kind\x00%s\n", kind)
		write := func(s string) error {
			h.Write([]byte(s))
			h.Write([]byte{'\n'})
			return nil
		}
		var err error
		if kind == xarchive.KindListsCreated || kind == xarchive.KindListsMember {
			err = a.EachURL(ctx, kind, write)
		} else {
			err = a.Each(ctx, kind, write)
		}
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// archiveID names the Archive node of one member's upload of one archive.
// Two members uploading the same archive get two nodes.
func archiveID(member, digest string) string {
	sum := sha256.Sum256([]byte(member + "\x00" + digest))
	return "arc_" + hex.EncodeToString(sum[:10])
}

func urls(ctx context.Context, a *xarchive.Archive, kind xarchive.Kind) ([]string, error) {
	seen := map[string]bool{}
	out := []string{}
	err := a.EachURL(ctx, kind, func(u string) error {
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// newer reports whether X date a is after b. Both are X's ISO-8601 strings
// (for example 2024-11-16T09:12:31.000Z); they compare as text.
func newer(a, b string) bool { return a > b }

// archiveError turns the reader's errors into EINVALID errors whose message
// is the reader's one line, safe to show.
func archiveError(err error) error {
	if err == nil {
		return nil
	}
	var xe *xarchive.Error
	if errors.As(err, &xe) {
		msg := xe.Error()
		if xe.Code == xarchive.ENOACCOUNT {
			msg += ": an archive without account.js can't be imported as a member's archive"
		}
		code := EINVALID
		if xe.Code == xarchive.ELIMIT {
			code = ETOOLARGE
		}
		return &Error{Code: code, Message: msg, Err: err}
	}
	return err
}
