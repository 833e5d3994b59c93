package xarchive

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/passerelle-social/passerelle/fixtures"
)

// Throughput of following.js-shaped data, each figure against its raw
// baseline:
//
//	go test -run '^$' -bench . -benchmem ./engine/xarchive
//
// BenchmarkRawFollowing reads the bytes and throws them away (io.Copy to
// io.Discard); BenchmarkParseFollowing runs the reader Each uses;
// BenchmarkDecoderFollowing the plain json.Decoder walk, for comparison.
// The Zip variants do the same through a deflated ZIP entry.

// benchFollowing is a 2024-layout following.js of 100,000 entries (~15 MB).
func benchFollowing(b *testing.B) []byte {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "a")
	if _, err := fixtures.WriteArchive(dir, fixtures.ArchiveOptions{Seed: 1, Following: 100_000, Variant: "dataonly"}); err != nil {
		b.Fatal(err)
	}
	return readFile(b, filepath.Join(dir, "following.js"))
}

// onlyReader hides WriteTo, so io.Copy reads in chunks as a parser would.
type onlyReader struct{ io.Reader }

func BenchmarkRawFollowing(b *testing.B) {
	data := benchFollowing(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := io.Copy(io.Discard, onlyReader{bytes.NewReader(data)}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseFollowing(b *testing.B) {
	data := benchFollowing(b)
	b.SetBytes(int64(len(data)))
	ctx := context.Background()
	for b.Loop() {
		n := 0
		s := newStream(bytes.NewReader(data), "following.js", DefaultMaxElement)
		err := streamIDs(ctx, s, KindFollowing, func([]byte, uint64) error { n++; return nil })
		if err != nil || n != 100_000 {
			b.Fatalf("%d ids, %v", n, err)
		}
	}
}

func BenchmarkDecoderFollowing(b *testing.B) {
	data := benchFollowing(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		ids, err := refIDs(data, KindFollowing)
		if err != nil || len(ids) != 100_000 {
			b.Fatalf("%d ids, %v", len(ids), err)
		}
	}
}

// benchZip puts the same following.js in a ZIP, deflated as X does.
func benchZip(b *testing.B) (zipPath string, size int64) {
	b.Helper()
	data := benchFollowing(b)
	p := filepath.Join(b.TempDir(), "archive.zip")
	if err := fixtures.WriteZip(p, fixtures.ZipFile{Name: "data/following.js", Data: data}); err != nil {
		b.Fatal(err)
	}
	return p, int64(len(data))
}

func BenchmarkZipRawFollowing(b *testing.B) {
	p, size := benchZip(b)
	zr, err := zip.OpenReader(p)
	if err != nil {
		b.Fatal(err)
	}
	defer zr.Close()
	b.SetBytes(size)
	for b.Loop() {
		rc, err := zr.File[0].Open()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, onlyReader{rc}); err != nil {
			b.Fatal(err)
		}
		rc.Close()
	}
}

func BenchmarkZipEachFollowing(b *testing.B) {
	p, size := benchZip(b)
	a := MustOpen(b, Limits{MaxBytes: 1 << 50}, p)
	ctx := context.Background()
	b.SetBytes(size)
	for b.Loop() {
		n := 0
		if err := a.Each(ctx, KindFollowing, func(string) error { n++; return nil }); err != nil || n != 100_000 {
			b.Fatalf("%d ids, %v", n, err)
		}
	}
}
