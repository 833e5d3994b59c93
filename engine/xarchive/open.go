package xarchive

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Open opens an X archive given as one ZIP file, one folder (the unzipped
// archive, with or without its data/ level), or one or more loose .js
// files (following.js, follower.js, ...). It reads the ZIP central
// directory (or lists the folder) and manifest.js, nothing else: data files
// are streamed later by Each, EachURL and Account. Close the Archive when
// done.
func Open(ctx context.Context, paths []string, lim Limits) (*Archive, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	lim = lim.withDefaults()
	if len(paths) == 0 {
		return nil, newError(ENOTARCHIVE, "", "no input: give a ZIP, a folder, or .js files")
	}
	if len(paths) == 1 {
		p := paths[0]
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("xarchive: open: %w", err)
		}
		if fi.IsDir() {
			return openDir(ctx, p, lim)
		}
		zipped, err := hasZipMagic(p)
		if err != nil {
			return nil, err
		}
		if zipped {
			f, err := os.Open(p)
			if err != nil {
				return nil, fmt.Errorf("xarchive: open: %w", err)
			}
			a, err := openZip(ctx, f, fi.Size(), p, lim)
			if err != nil {
				f.Close()
				return nil, err
			}
			a.closer = f
			return a, nil
		}
		return openLoose(ctx, paths, lim)
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("xarchive: open: %w", err)
		}
		zipped := false
		if !fi.IsDir() {
			if zipped, err = hasZipMagic(p); err != nil {
				return nil, err
			}
		}
		if fi.IsDir() || zipped {
			return nil, newError(ENOTARCHIVE, p, "give one ZIP, one folder, or one or more .js files, not a mix")
		}
	}
	return openLoose(ctx, paths, lim)
}

// OpenZip opens a ZIP archive held by r (size bytes); name is used in
// error messages. Close is a no-op for the Archive it returns, r stays the
// caller's to close.
func OpenZip(ctx context.Context, r io.ReaderAt, size int64, name string, lim Limits) (*Archive, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var magic [4]byte
	if n, _ := r.ReadAt(magic[:], 0); n < 4 || !isZipMagic(magic[:]) {
		return nil, newError(ENOTARCHIVE, name, "not a ZIP file")
	}
	return openZip(ctx, r, size, name, lim.withDefaults())
}

func hasZipMagic(p string) (bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return false, fmt.Errorf("xarchive: open: %w", err)
	}
	defer f.Close()
	var magic [4]byte
	n, err := io.ReadFull(f, magic[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return false, fmt.Errorf("xarchive: read %s: %w", p, err)
	}
	return n == 4 && isZipMagic(magic[:]), nil
}

func isZipMagic(b []byte) bool {
	return bytes.Equal(b, []byte("PK\x03\x04")) || bytes.Equal(b, []byte("PK\x05\x06")) || bytes.Equal(b, []byte("PK\x07\x08"))
}

// grailbirdName matches the files of a pre-2019 tweet archive.
var grailbirdName = regexp.MustCompile(`(^|/)data/js/(tweets/\d{4}_\d{2}\.js|user_details\.js|tweet_index\.js|payload_details\.js)$`)

func grailbirdError(file string) error {
	return newError(EGRAILBIRD, file, "this is a pre-2019 \"Grailbird\" tweet archive: it holds tweets only, no following or follower lists; request a new archive from X (Settings > Your account > Download an archive of your data)")
}

func openZip(ctx context.Context, r io.ReaderAt, size int64, name string, lim Limits) (*Archive, error) {
	// archive/zip loads the whole central directory into memory, and walks
	// past the count the directory end declares; count the records first.
	if n, ok := countZipRecords(r, size, lim.MaxEntries); ok && n > lim.MaxEntries {
		return nil, newError(ELIMIT, name, "the ZIP has more than %d entries (MaxEntries)", lim.MaxEntries)
	}
	zr, err := zip.NewReader(boundedReaderAt{r, size}, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // names are checked below
		return nil, &Error{Code: ECORRUPT, File: name, Err: err,
			Msg: fmt.Sprintf("not a readable ZIP, it is truncated or corrupt (was the upload cut short?): %v", err)}
	}
	if len(zr.File) > lim.MaxEntries {
		return nil, newError(ELIMIT, name, "the ZIP has %d entries, more than %d (MaxEntries)", len(zr.File), lim.MaxEntries)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	groups := make(map[string][]*entry) // by the path before "data/"
	var top []*entry                    // data files at the root, without data/
	grail := false
	for _, f := range zr.File {
		if unsafeName(f.Name) {
			return nil, newError(EUNSAFE, name, "entry %q points outside the archive (absolute path or \"..\"): refusing the ZIP", oneLine(f.Name, 120))
		}
		p := strings.ReplaceAll(f.Name, `\`, "/")
		if strings.HasSuffix(p, "/") {
			continue
		}
		if grailbirdName.MatchString(p) {
			grail = true
		}
		dir, base := path.Split(p)
		fk, part, ok := parseDataName(base)
		if !ok {
			continue
		}
		e := zipEntry(f, fk, part)
		switch {
		case dir == "":
			top = append(top, e)
		case dir == "data/" || strings.HasSuffix(dir, "/data/"):
			prefix := strings.TrimSuffix(dir, "data/")
			groups[prefix] = append(groups[prefix], e)
		}
	}
	var ents []*entry
	var warnings []string
	switch {
	case len(groups) > 0:
		prefixes := make([]string, 0, len(groups))
		for p := range groups {
			prefixes = append(prefixes, p)
		}
		// The shallowest data/ folder wins: a copy nested deeper is
		// more likely a backup than the archive.
		slices.SortFunc(prefixes, func(x, y string) int {
			if c := strings.Count(x, "/") - strings.Count(y, "/"); c != 0 {
				return c
			}
			return strings.Compare(x, y)
		})
		ents = groups[prefixes[0]]
		if len(prefixes) > 1 {
			warnings = append(warnings, fmt.Sprintf("the ZIP holds %d data/ folders; reading %sdata/ only", len(prefixes), prefixes[0]))
		}
	case len(top) > 0:
		ents = top
	case grail:
		return nil, grailbirdError(name)
	default:
		return nil, newError(ENOTARCHIVE, name, "the ZIP holds no X archive data (no data/manifest.js, data/account.js, data/following.js or data/follower.js)")
	}
	for _, e := range ents {
		if err := e.zipCheck(); err != nil {
			return nil, err
		}
	}
	a, err := assemble(ctx, name, lim, ents, warnings)
	if err != nil {
		return nil, err
	}
	a.form = "zip"
	return a, nil
}

func zipEntry(f *zip.File, fk fileKind, part int) *entry {
	e := &entry{name: f.Name, fk: fk, part: part, expect: -1, size: int64(min(f.UncompressedSize64, 1<<62))}
	if f.Method != zip.Store {
		e.comp = int64(min(max(f.CompressedSize64, 1), 1<<62))
	}
	e.open = f.Open
	e.zf = f
	return e
}

// zipCheck refuses, before any read, entries archive/zip cannot read.
func (e *entry) zipCheck() error {
	f := e.zf
	if f.Flags&0x1 != 0 {
		return newError(ECORRUPT, e.name, "the entry is encrypted (password-protected ZIP): export the archive again without a password")
	}
	if f.Method != zip.Store && f.Method != zip.Deflate {
		return newError(ECORRUPT, e.name, "the entry uses ZIP compression method %d, which is not supported: re-create the ZIP with Deflate", f.Method)
	}
	return nil
}

// unsafeName reports whether a ZIP entry name is absolute or climbs out of
// the archive with "..": a "zip slip". Passerelle never extracts, but such
// a ZIP is not an X export and is refused whole.
func unsafeName(name string) bool {
	p := strings.ReplaceAll(name, `\`, "/")
	if strings.HasPrefix(p, "/") || (len(p) >= 2 && p[1] == ':' && (p[0]|0x20) >= 'a' && (p[0]|0x20) <= 'z') {
		return true
	}
	for p != "" {
		var part string
		part, p, _ = strings.Cut(p, "/")
		if part == ".." {
			return true
		}
	}
	return false
}

func openDir(ctx context.Context, dir string, lim Limits) (*Archive, error) {
	// os.Root keeps symlinks inside the folder from reaching out of it.
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("xarchive: open: %w", err)
	}
	a, err := openRoot(ctx, root, dir, lim)
	if err != nil {
		root.Close()
		return nil, err
	}
	a.closer = root
	return a, nil
}

func openRoot(ctx context.Context, root *os.Root, dir string, lim Limits) (*Archive, error) {
	fsys := root.FS()
	list := func(d string) []fs.DirEntry {
		des, _ := fs.ReadDir(fsys, d)
		return des
	}
	hasData := func(d string) bool {
		for _, de := range list(d) {
			if _, _, ok := parseDataName(de.Name()); ok && !de.IsDir() {
				return true
			}
		}
		return false
	}
	var rel string
	var warnings []string
	switch {
	case hasData("data"):
		rel = "data"
	case hasData("."):
		rel = "."
	default:
		var found []string
		for _, de := range list(".") {
			if de.IsDir() && hasData(de.Name()+"/data") {
				found = append(found, de.Name()+"/data")
			}
		}
		if len(found) == 0 {
			for _, g := range []string{"data/js/tweets", "js/tweets", "data/js/user_details.js", "js/user_details.js"} {
				if _, err := fs.Stat(fsys, g); err == nil {
					return nil, grailbirdError(dir)
				}
			}
			return nil, newError(ENOTARCHIVE, dir, "the folder holds no X archive data (no data/manifest.js, data/account.js, data/following.js or data/follower.js)")
		}
		rel = found[0]
		if len(found) > 1 {
			warnings = append(warnings, fmt.Sprintf("the folder holds %d data/ folders; reading %s only", len(found), rel))
		}
	}
	var ents []*entry
	for _, de := range list(rel) {
		fk, part, ok := parseDataName(de.Name())
		if !ok || de.IsDir() {
			continue
		}
		p := path.Join(rel, de.Name())
		fi, err := fs.Stat(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("xarchive: %w", err)
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		ents = append(ents, &entry{name: p, fk: fk, part: part, expect: -1, size: fi.Size(),
			open: func() (io.ReadCloser, error) { return root.Open(p) }})
	}
	a, err := assemble(ctx, dir, lim, ents, warnings)
	if err != nil {
		return nil, err
	}
	a.form = "folder"
	return a, nil
}

func openLoose(ctx context.Context, paths []string, lim Limits) (*Archive, error) {
	var ents []*entry
	var warnings []string
	seen := make(map[string]string)
	grail := false
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("xarchive: open: %w", err)
		}
		fk, part, ok := parseDataName(filepath.Base(p))
		if !ok {
			sn, err := sniffFile(p)
			if err != nil {
				return nil, err
			}
			switch {
			case sn.grailbird:
				grail = true
				continue
			case sn.other != "":
				warnings = append(warnings, fmt.Sprintf("%s holds %s, which Passerelle does not read; ignored", oneLine(p, 200), oneLine(sn.other, 40)))
				continue
			case !sn.ok:
				return nil, newError(ENOTARCHIVE, p, "neither a ZIP, a folder, nor an X archive data file (window.YTD.<type>.part<N> = [ ...)")
			}
			fk, part = sn.fk, sn.part
		}
		key := fmt.Sprintf("%s part %d", fk, part)
		if prev, dup := seen[key]; dup {
			return nil, newError(ENOTARCHIVE, p, "both %s and this file hold %s: give each file once", oneLine(prev, 200), key)
		}
		seen[key] = p
		ents = append(ents, &entry{name: p, fk: fk, part: part, expect: -1, size: fi.Size(),
			open: func() (io.ReadCloser, error) { return os.Open(p) }})
	}
	if len(ents) == 0 {
		if grail {
			return nil, grailbirdError(paths[0])
		}
		return nil, newError(ENOTARCHIVE, paths[0], "none of the files given is an X archive data file Passerelle reads (following.js, follower.js, ...)")
	}
	a, err := assemble(ctx, paths[0], lim, ents, warnings)
	if err != nil {
		return nil, err
	}
	a.form = "files"
	return a, nil
}

type sniffed struct {
	ok        bool
	fk        fileKind
	part      int
	other     string // an X data type Passerelle does not read ("tweets")
	grailbird bool
}

var ytdPrefix = regexp.MustCompile(`^window\.YTD\.([A-Za-z0-9_]+)\.part(0|[1-9][0-9]{0,5})\s*=`)

// sniffFile identifies a loose file whose name is not the usual one
// ("following (1).js") by its global name.
func sniffFile(p string) (sniffed, error) {
	f, err := os.Open(p)
	if err != nil {
		return sniffed{}, fmt.Errorf("xarchive: open: %w", err)
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return sniffed{}, fmt.Errorf("xarchive: read %s: %w", p, err)
	}
	return sniff(head[:n]), nil
}

func sniff(head []byte) sniffed {
	head = bytes.TrimPrefix(head, utf8BOM)
	head = bytes.TrimLeft(head, " \t\r\n")
	if m := ytdPrefix.FindSubmatch(head); m != nil {
		fk, ok := stemKind(string(m[1]))
		if !ok || fk == fileManifest {
			return sniffed{other: string(m[1])}
		}
		part := 0
		for _, c := range m[2] {
			part = part*10 + int(c-'0')
		}
		if part > 0 && fk == fileAccount {
			return sniffed{other: "account part " + string(m[2])}
		}
		return sniffed{ok: true, fk: fk, part: part}
	}
	if bytes.HasPrefix(head, []byte("window.__THAR_CONFIG")) {
		return sniffed{ok: true, fk: fileManifest}
	}
	for _, g := range []string{"Grailbird.data.", "var user_details", "var tweet_index", "var payload_details"} {
		if bytes.HasPrefix(head, []byte(g)) {
			return sniffed{grailbird: true}
		}
	}
	return sniffed{}
}

// errOutside is a read the ZIP's own offsets aimed outside the file.
var errOutside = errors.New("offset outside the file")

// boundedReaderAt refuses reads outside the file, so that a ZIP whose
// offsets point nowhere reads as corrupt rather than as an I/O failure.
type boundedReaderAt struct {
	r    io.ReaderAt
	size int64
}

func (b boundedReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > b.size {
		return 0, errOutside
	}
	return b.r.ReadAt(p, off)
}

// readError classifies an error met while reading an entry.
func readError(file string, err error) error {
	var xe *Error
	if errors.As(err, &xe) {
		return xe
	}
	var ce flate.CorruptInputError
	if errors.Is(err, zip.ErrChecksum) || errors.Is(err, zip.ErrFormat) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || errors.Is(err, errOutside) || errors.As(err, &ce) {
		return &Error{Code: ECORRUPT, File: file, Err: err,
			Msg: fmt.Sprintf("the compressed data is corrupt or truncated: %v", err)}
	}
	return fmt.Errorf("xarchive: read %s: %w", file, err)
}
