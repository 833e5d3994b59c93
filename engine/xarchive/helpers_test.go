package xarchive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/passerelle-social/passerelle/fixtures"
)

// MustArchive writes a synthetic archive in a temporary directory and
// returns the paths to give Open (the ZIP, the folder, or the loose files).
func MustArchive(tb testing.TB, opt fixtures.ArchiveOptions) ([]string, *fixtures.ArchiveInfo) {
	tb.Helper()
	name := "twitter-2024-11-16-" + strings.Repeat("ab", 32) + ".zip"
	if strings.Contains(opt.Variant, "folder") || strings.Contains(opt.Variant, "dataonly") || strings.Contains(opt.Variant, "loose") {
		name = "archive"
	}
	out := filepath.Join(tb.TempDir(), name)
	info, err := fixtures.WriteArchive(out, opt)
	if err != nil {
		tb.Fatalf("WriteArchive(%+v): %v", opt, err)
	}
	if !strings.Contains(opt.Variant, "loose") {
		return []string{out}, info
	}
	var paths []string
	for _, f := range info.Files {
		paths = append(paths, filepath.Join(out, f))
	}
	return paths, info
}

// MustOpen opens paths with lim and closes the Archive when the test ends.
func MustOpen(tb testing.TB, lim Limits, paths ...string) *Archive {
	tb.Helper()
	a, err := Open(context.Background(), paths, lim)
	if err != nil {
		tb.Fatalf("Open(%v): %v", paths, err)
	}
	tb.Cleanup(func() { a.Close() })
	return a
}

// MustFile writes data at dir/name and returns the path.
func MustFile(tb testing.TB, dir, name string, data []byte) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := fixtures.WriteFile(p, data); err != nil {
		tb.Fatal(err)
	}
	return p
}

// MustZip writes a hand-made ZIP and returns its path.
func MustZip(tb testing.TB, files ...fixtures.ZipFile) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "upload.zip")
	if err := fixtures.WriteZip(p, files...); err != nil {
		tb.Fatal(err)
	}
	return p
}

func collect(tb testing.TB, a *Archive, kind Kind) []string {
	tb.Helper()
	var out []string
	var err error
	if kind.isList() {
		err = a.EachURL(context.Background(), kind, func(u string) error { out = append(out, u); return nil })
	} else {
		err = a.Each(context.Background(), kind, func(id string) error { out = append(out, id); return nil })
	}
	if err != nil {
		tb.Fatalf("Each(%s): %v", kind, err)
	}
	return out
}

// distinct keeps the first occurrence of each string, in order.
func distinct(in []string) []string {
	seen := make(map[string]bool)
	out := []string{}
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// parseBytes runs the production path over one following.js held in
// memory, reading it through r (nil: all at once).
func parseBytes(data []byte, kind Kind, wrap func(io.Reader) io.Reader) ([]string, error) {
	var r io.Reader = bytes.NewReader(data)
	if wrap != nil {
		r = wrap(r)
	}
	var ids []string
	err := streamIDs(context.Background(), newStream(r, "following.js", DefaultMaxElement), kind, func(id []byte, _ uint64) error {
		ids = append(ids, string(id))
		return nil
	})
	return ids, err
}

// refIDs is the reference reader the fast path is checked against: the
// straightforward json.Decoder walk (Token into the array, Decode each
// element), written independently of stream.
func refIDs(data []byte, kind Kind) ([]string, error) {
	var ids []string
	syntax := func(err error) error { return &Error{Code: ESYNTAX, File: "following.js", Msg: err.Error(), Err: err} }
	eq := bytes.IndexByte(data[:min(len(data), maxPrefix)], '=')
	if eq < 0 {
		return nil, &Error{Code: ESYNTAX, Msg: "no ="}
	}
	rd := bytes.NewReader(data[eq+1:])
	dec := json.NewDecoder(rd)
	tok, err := dec.Token()
	if err != nil {
		return nil, syntax(err)
	}
	if tok != json.Delim('[') {
		return nil, &Error{Code: ESYNTAX, Msg: "no ["}
	}
	for n := 1; dec.More(); n++ {
		raw, err := idElem(kind, dec.Decode)
		if err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return ids, &Error{Code: ESHAPE, Msg: err.Error(), Err: err}
			}
			return ids, syntax(err)
		}
		id, ok := idValue(raw)
		if !ok || id == nil {
			return ids, &Error{Code: EBADID, Msg: "bad id"}
		}
		if _, ok := parseID(id); !ok {
			return ids, &Error{Code: EBADID, Msg: "bad id"}
		}
		ids = append(ids, string(id))
	}
	if tok, err = dec.Token(); err != nil {
		return ids, syntax(err)
	}
	if tok != json.Delim(']') {
		return ids, &Error{Code: ESYNTAX, Msg: "no ]"}
	}
	rest, _ := io.ReadAll(io.MultiReader(dec.Buffered(), rd))
	if len(bytes.Trim(rest, " \t\r\n;")) != 0 {
		return ids, &Error{Code: ESYNTAX, Msg: "trailing data"}
	}
	return ids, nil
}

func readFile(tb testing.TB, p string) []byte {
	tb.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
