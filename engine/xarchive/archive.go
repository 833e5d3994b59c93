package xarchive

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Archive is an opened X archive. It holds the list of data files found
// (and manifest.js's view of them), not their contents: every Each,
// EachURL or Account call streams the files again. An Archive is safe for
// concurrent use.
type Archive struct {
	source      string
	form        string // "zip", "folder" or "files"
	lim         Limits
	budget      *budget
	closer      io.Closer
	files       map[Kind][]*entry // in reading order; open == nil when only manifest.js knows it
	account     *entry
	generatedAt string
	ownerID     string // userInfo.accountId from manifest.js
	warnings    []string
}

// entry is one data file of the archive.
type entry struct {
	name   string // as shown in errors: the ZIP entry or the path
	fk     fileKind
	part   int
	expect int   // element count from manifest.js, -1 when unknown
	comp   int64 // compressed size, 0 when stored or not zipped
	size   int64 // size according to the ZIP header or the file system
	open   func() (io.ReadCloser, error)
	zf     *zip.File
}

// Account is the owner of an archive, from account.js. The e-mail address
// account.js also holds is never read into memory beyond the read buffer.
type Account struct {
	ID          string // decimal X account id
	Username    string // handle, without @
	DisplayName string
	CreatedAt   string // as written by X, e.g. 2009-03-01T12:00:00.000Z
}

// Close releases the ZIP file or folder.
func (a *Archive) Close() error {
	if a.closer == nil {
		return nil
	}
	return a.closer.Close()
}

// Form says what the archive came as: "zip", "folder" or "files" (loose
// .js files).
func (a *Archive) Form() string { return a.form }

// GeneratedAt returns archiveInfo.generationDate from manifest.js, or ""
// when the archive has no (readable) manifest.
func (a *Archive) GeneratedAt() string { return a.generatedAt }

// Warnings returns what Open noticed without failing: several data/
// folders, files manifest.js lists but the archive lacks, files it doesn't
// list, ignored loose files, a manifest.js that cannot be read. Inspect
// includes them in its Report.
func (a *Archive) Warnings() []string { return slices.Clone(a.warnings) }

// Files returns the data files Each or EachURL reads for kind, in order.
func (a *Archive) Files(kind Kind) []string {
	var names []string
	for _, e := range a.files[kind] {
		if e.open != nil {
			names = append(names, e.name)
		}
	}
	return names
}

func (a *Archive) has(kind Kind) bool { return len(a.Files(kind)) > 0 }

// assemble orders the data files found, reading manifest.js if there is
// one, and checks the sizes the headers declare against the limits.
func assemble(ctx context.Context, source string, lim Limits, ents []*entry, warnings []string) (*Archive, error) {
	a := &Archive{source: source, lim: lim, budget: &budget{max: lim.MaxBytes}, files: make(map[Kind][]*entry), warnings: warnings}
	byKey := make(map[string]*entry)
	var total int64
	for _, e := range ents {
		key := dataKey(e.fk, e.part)
		if prev, dup := byKey[key]; dup {
			a.warn("%s appears twice; reading the first copy (%s)", e.name, prev.name)
			continue
		}
		byKey[key] = e
		total += e.size
		if e.comp > 0 && e.size > ratioGrace && float64(e.size) > lim.MaxRatio*float64(e.comp) {
			return nil, newError(ELIMIT, e.name, "compression ratio exceeds %g:1 (MaxRatio; %s from %s compressed): refusing a likely ZIP bomb",
				lim.MaxRatio, humanBytes(e.size), humanBytes(e.comp))
		}
	}
	if total > lim.MaxBytes {
		return nil, newError(ELIMIT, source, "the data files add up to %s, more than the limit of %s (MaxBytes)", humanBytes(total), humanBytes(lim.MaxBytes))
	}

	var man *manifest
	if m := byKey[dataKey(fileManifest, 0)]; m != nil {
		var err error
		if man, err = a.readManifest(ctx, m); err != nil {
			if ErrorCode(err) == ELIMIT || ctx.Err() != nil {
				return nil, err
			}
			a.warn("%s cannot be read, so the files found are used instead: %v", m.name, err)
			man = nil
		}
	}
	if man != nil {
		a.generatedAt = man.ArchiveInfo.GenerationDate
		a.ownerID = man.UserInfo.AccountID
		if string(man.ArchiveInfo.IsPartialArchive) == "true" || string(man.ArchiveInfo.IsPartialArchive) == `"true"` {
			a.warn("manifest.js says this is a partial archive: some data may be missing")
		}
	}
	a.account = byKey[dataKey(fileAccount, 0)]

	for _, k := range Kinds() {
		used := make(map[string]bool)
		if man != nil {
			if dt, ok := man.DataTypes[kindFiles[k].manifest]; ok {
				for _, f := range dt.Files {
					base, ok := manifestFile(k, f.FileName)
					if !ok {
						a.warn("manifest.js lists %q for %s, which is not a %s file name; ignored", oneLine(f.FileName, 100), k, k)
						continue
					}
					fk, part, _ := parseDataName(base)
					key := dataKey(fk, part)
					if used[key] {
						continue
					}
					used[key] = true
					count := manifestCount(f.Count)
					e := byKey[key]
					if e == nil {
						a.warn("manifest.js lists %s but the archive has no such file", oneLine(f.FileName, 100))
						e = &entry{name: f.FileName, fk: fk, part: part}
					}
					e.expect = count
					a.files[k] = append(a.files[k], e)
				}
			}
		}
		var rest []*entry
		for key, e := range byKey {
			if e.fk == fileKind(k) && !used[key] {
				rest = append(rest, e)
			}
		}
		slices.SortFunc(rest, func(x, y *entry) int { return x.part - y.part })
		for i, e := range rest {
			if man != nil {
				a.warn("%s is not listed in manifest.js; reading it anyway", e.name)
			} else if e.part != i && (i == 0 || rest[i-1].part != e.part-1) {
				a.warn("%s is there but %s is missing: the archive may be incomplete", e.name, partName(k, max(e.part-1, 0)))
			}
		}
		a.files[k] = append(a.files[k], rest...)
	}
	return a, nil
}

func dataKey(fk fileKind, part int) string { return string(fk) + "#" + strconv.Itoa(part) }

func (a *Archive) warn(format string, args ...any) {
	a.warnings = append(a.warnings, oneLine(fmt.Sprintf(format, args...), 500))
}

// manifest is the part of data/manifest.js (window.__THAR_CONFIG) read.
type manifest struct {
	UserInfo struct {
		AccountID string `json:"accountId"`
	} `json:"userInfo"`
	ArchiveInfo struct {
		GenerationDate   string          `json:"generationDate"`
		IsPartialArchive json.RawMessage `json:"isPartialArchive"`
	} `json:"archiveInfo"`
	DataTypes map[string]struct {
		Files []struct {
			FileName string          `json:"fileName"`
			Count    json.RawMessage `json:"count"`
		} `json:"files"`
	} `json:"dataTypes"`
}

// maxManifest bounds manifest.js; real ones are tens of KiB.
const maxManifest = 16 << 20

func (a *Archive) readManifest(ctx context.Context, e *entry) (*manifest, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, done, err := a.openEntry(e)
	if err != nil {
		return nil, err
	}
	defer done()
	s.r = io.LimitReader(s.r, maxManifest)
	if err := s.prefix('{'); err != nil {
		return nil, err
	}
	// prefix consumed the '{'; hand it back to the decoder.
	dec := json.NewDecoder(io.MultiReader(bytes.NewReader(s.buf[s.pos-1:s.end]), s.r))
	var m manifest
	if err := dec.Decode(&m); err != nil {
		var xe *Error
		if errors.As(err, &xe) {
			return nil, xe
		}
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	return &m, nil
}

// manifestFile checks a fileName from manifest.js ("data/follower-part1.js")
// and returns its base name.
func manifestFile(k Kind, name string) (string, bool) {
	dir, base := path.Split(path.Clean(strings.ReplaceAll(name, `\`, "/")))
	if dir != "data/" && dir != "" {
		return "", false
	}
	fk, _, ok := parseDataName(base)
	return base, ok && fk == fileKind(k)
}

// manifestCount reads a count ("2186" or 2186); -1 when unusable.
func manifestCount(raw json.RawMessage) int {
	s := strings.Trim(string(raw), `"`)
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// openEntry starts streaming an entry through the byte budget.
func (a *Archive) openEntry(e *entry) (*stream, func(), error) {
	rc, err := e.open()
	if err != nil {
		if errors.Is(err, zip.ErrAlgorithm) {
			return nil, nil, newError(ECORRUPT, e.name, "the entry uses a ZIP compression method that is not supported: re-create the ZIP with Deflate")
		}
		return nil, nil, readError(e.name, err)
	}
	m := &meter{r: rc, file: e.name, budget: a.budget, comp: e.comp, maxRatio: a.lim.MaxRatio}
	return newStream(m, e.name, a.lim.MaxElement), func() { rc.Close() }, nil
}

// ctxEvery is how many elements pass between context checks.
const ctxEvery = 1024

// Each calls fn with every accountId of kind (following, follower, block or
// mute), file after file, part after part, in file order, duplicates
// included. Ids are validated decimal strings (they may exceed 2^53). An
// error from fn stops the walk and is returned as is. A kind the archive
// has no file for yields nothing and no error.
func (a *Archive) Each(ctx context.Context, kind Kind, fn func(id string) error) error {
	return a.eachID(ctx, kind, func(_ *entry, id []byte, _ uint64) error { return fn(string(id)) })
}

// eachID is Each without the string copy; id is valid during the call only.
func (a *Archive) eachID(ctx context.Context, kind Kind, fn func(e *entry, id []byte, v uint64) error) error {
	if !kind.valid() || kind.isList() {
		return fmt.Errorf("xarchive: Each(%q): not a kind of account ids (lists are read with EachURL)", kind)
	}
	for _, e := range a.files[kind] {
		if e.open == nil {
			continue
		}
		if err := a.readIDs(ctx, e, kind, fn); err != nil {
			return err
		}
	}
	return nil
}

func (a *Archive) readIDs(ctx context.Context, e *entry, kind Kind, fn func(e *entry, id []byte, v uint64) error) error {
	s, done, err := a.openEntry(e)
	if err != nil {
		return err
	}
	defer done()
	return streamIDs(ctx, s, kind, func(id []byte, v uint64) error { return fn(e, id, v) })
}

// streamIDs reads a follow/block/mute file: the fast path for the usual
// element shape, encoding/json for anything else.
func streamIDs(ctx context.Context, s *stream, kind Kind, fn func(id []byte, v uint64) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.prefix('['); err != nil {
		return err
	}
	wrapper := kindFiles[kind].wrapper
	for {
		more, err := s.next()
		if err != nil || !more {
			return err
		}
		if s.elems%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		off := s.offset()
		id, ok, err := s.fastID(wrapper)
		if err != nil {
			return err
		}
		if !ok {
			raw, _, err := s.raw()
			if err != nil {
				return err
			}
			v, err := idElem(kind, func(v any) error { return json.Unmarshal(raw, v) })
			if err != nil {
				return jsonError(s.file, off, s.elems, err)
			}
			var valid bool
			if id, valid = idValue(v); !valid {
				return badID(s.file, off, s.elems, wrapper, v, true)
			}
			if id == nil {
				return badID(s.file, off, s.elems, wrapper, nil, false)
			}
		}
		n, ok := parseID(id)
		if !ok {
			return badID(s.file, off, s.elems, wrapper, id, true)
		}
		if err := fn(id, n); err != nil {
			return err
		}
	}
}

// EachURL calls fn with the URL of every list in lists-created.js
// (KindListsCreated) or lists-member.js (KindListsMember), in file order.
func (a *Archive) EachURL(ctx context.Context, kind Kind, fn func(url string) error) error {
	if !kind.isList() {
		return fmt.Errorf("xarchive: EachURL(%q): not a list kind", kind)
	}
	for _, e := range a.files[kind] {
		if e.open == nil {
			continue
		}
		if err := a.readURLs(ctx, e, fn); err != nil {
			return err
		}
	}
	return nil
}

func (a *Archive) readURLs(ctx context.Context, e *entry, fn func(url string) error) error {
	s, done, err := a.openEntry(e)
	if err != nil {
		return err
	}
	defer done()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.prefix('['); err != nil {
		return err
	}
	for {
		more, err := s.next()
		if err != nil || !more {
			return err
		}
		if s.elems%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		raw, off, err := s.raw()
		if err != nil {
			return err
		}
		var el listElem
		if err := json.Unmarshal(raw, &el); err != nil {
			return jsonError(s.file, off, s.elems, err)
		}
		if el.UserListInfo == nil || el.UserListInfo.URL == nil || *el.UserListInfo.URL == "" {
			e := newError(ESHAPE, s.file, "element %d has no userListInfo.url", s.elems)
			e.Offset = off
			return e
		}
		if err := fn(*el.UserListInfo.URL); err != nil {
			return err
		}
	}
}

// Account reads account.js: the owner's id, handle, display name and
// creation date. It returns an ENOACCOUNT *Error when the archive has no
// account.js or the file holds no account.
func (a *Archive) Account(ctx context.Context) (*Account, error) {
	e := a.account
	if e == nil {
		return nil, newError(ENOACCOUNT, a.source, "no account.js: the archive does not say whose it is")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, done, err := a.openEntry(e)
	if err != nil {
		return nil, err
	}
	defer done()
	if err := s.prefix('['); err != nil {
		return nil, err
	}
	more, err := s.next()
	if err != nil {
		return nil, err
	}
	if !more {
		return nil, newError(ENOACCOUNT, e.name, "account.js holds no account")
	}
	raw, off, err := s.raw()
	if err != nil {
		return nil, err
	}
	var el accountElem
	if err := json.Unmarshal(raw, &el); err != nil {
		return nil, jsonError(e.name, off, 1, err)
	}
	if el.Account == nil {
		return nil, newError(ENOACCOUNT, e.name, "account.js holds no account object")
	}
	id, valid := idValue(el.Account.AccountID)
	if !valid || id == nil {
		return nil, badID(e.name, off, 1, "account", el.Account.AccountID, valid)
	}
	if _, ok := parseID(id); !ok {
		return nil, badID(e.name, off, 1, "account", id, true)
	}
	return &Account{ID: string(id), Username: el.Account.Username, DisplayName: el.Account.DisplayName, CreatedAt: el.Account.CreatedAt}, nil
}
