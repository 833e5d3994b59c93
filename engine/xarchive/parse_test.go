package xarchive

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/iotest"

	"github.com/passerelle-social/passerelle/fixtures"
)

func TestParseID(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"1", 1, true},
		{"12", 12, true},
		{"2072423667737169920", 2072423667737169920, true},
		{"9007199254740993", 9007199254740993, true}, // 2^53 + 1: a float64 would round it
		{"18446744073709551615", 18446744073709551615, true},
		{"18446744073709551616", 0, false},
		{"99999999999999999999", 0, false},
		{"123456789012345678901", 0, false},
		{"", 0, false},
		{"0", 0, false},
		{"012", 0, false},
		{"-1", 0, false},
		{"+1", 0, false},
		{"1.0", 0, false},
		{"1e3", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"١٢", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseID([]byte(tt.in))
			if got != tt.want || ok != tt.ok {
				t.Errorf("parseID(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestScanIDElem pins what the fast path takes and what it leaves to
// encoding/json.
func TestScanIDElem(t *testing.T) {
	tests := []struct {
		name string
		in   string
		id   string
		st   fastStatus
	}{
		{"compact", `{"following":{"accountId":"12","userLink":"https://twitter.com/intent/user?user_id=12"}}`, "12", fastOK},
		{"2024_layout", "{\n    \"following\" : {\n      \"accountId\" : \"12\",\n      \"userLink\" : \"u\"\n    }\n  }", "12", fastOK},
		{"crlf", "{\r\n  \"following\" : {\r\n    \"accountId\" : \"12\"\r\n  }\r\n}", "12", fastOK},
		{"link_first", `{"following":{"userLink":"x","accountId":"7"}}`, "7", fastOK},
		{"no_link", `{"following":{"accountId":"7"}}`, "7", fastOK},
		{"bad_digits_still_fast", `{"following":{"accountId":"7x"}}`, "7x", fastOK},
		{"cut", `{"following":{"accountId":"7"`, "", fastMore},
		{"cut_in_string", `{"following":{"accountId":"7`, "", fastMore},
		{"empty", ``, "", fastMore},
		{"escape", `{"following":{"accountId":"\u0037"}}`, "", fastBail},
		{"escape_in_link", `{"following":{"accountId":"7","userLink":"a\/b"}}`, "", fastBail},
		{"control_byte", "{\"following\":{\"accountId\":\"7\",\"userLink\":\"a\tb\"}}", "", fastBail},
		{"number_id", `{"following":{"accountId":7}}`, "", fastBail},
		{"null_link", `{"following":{"accountId":"7","userLink":null}}`, "", fastBail},
		{"duplicate_id", `{"following":{"accountId":"7","accountId":"8"}}`, "", fastBail},
		{"other_key", `{"following":{"accountId":"7","name":"x"}}`, "", fastBail},
		{"case_folded_key", `{"following":{"AccountId":"7"}}`, "", fastBail},
		{"other_wrapper", `{"follower":{"accountId":"7"}}`, "", fastBail},
		{"second_wrapper", `{"following":{"accountId":"7"},"following":{"accountId":"8"}}`, "", fastBail},
		{"empty_inner", `{"following":{}}`, "", fastBail},
		{"no_id", `{"following":{"userLink":"x"}}`, "", fastBail},
		{"trailing_comma", `{"following":{"accountId":"7",}}`, "", fastBail},
		{"not_object", `[1]`, "", fastBail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, n, st := scanIDElem([]byte(tt.in), "following")
			if st != tt.st || string(id) != tt.id {
				t.Fatalf("scanIDElem = %q, %v; want %q, %v", id, st, tt.id, tt.st)
			}
			if st == fastOK && n != len(tt.in) {
				t.Errorf("consumed %d bytes of %d", n, len(tt.in))
			}
		})
	}
}

// TestChunkedReads feeds the stream one byte (or half a buffer) at a time,
// so every element straddles a refill somewhere, and compares with a
// single read and with the json.Decoder reference.
func TestChunkedReads(t *testing.T) {
	for _, v := range []string{"2020", "2024", "bom", "crlf", "2020+bom+crlf", "nouserlink", "xhost"} {
		t.Run(v, func(t *testing.T) {
			paths, info := MustArchive(t, fixtures.ArchiveOptions{Seed: 9, Account: 4, Following: 700, Duplicates: 20, Variant: v + "+dataonly", KeepIDs: true})
			data := readFile(t, filepath.Join(paths[0], "following.js"))
			want, err := refIDs(data, KindFollowing)
			if err != nil {
				t.Fatalf("reference: %v", err)
			}
			if !slices.Equal(distinct(want), info.Following) {
				t.Fatal("reference disagrees with the generator")
			}
			for name, wrap := range map[string]func(io.Reader) io.Reader{
				"whole": nil, "one_byte": iotest.OneByteReader, "half": iotest.HalfReader, "data_err": iotest.DataErrReader,
			} {
				got, err := parseBytes(data, KindFollowing, wrap)
				if err != nil || !slices.Equal(got, want) {
					t.Errorf("%s: %d ids, err %v; want %d ids", name, len(got), err, len(want))
				}
			}
		})
	}
}

// differential runs the production reader (whole and byte by byte) and the
// json.Decoder reference on data and fails on any disagreement: same ids
// before the end or the first error, and both fail or neither does.
func differential(t *testing.T, data []byte) {
	want, werr := refIDs(data, KindFollowing)
	for name, wrap := range map[string]func(io.Reader) io.Reader{"whole": nil, "one_byte": iotest.OneByteReader} {
		got, err := parseBytes(data, KindFollowing, wrap)
		if (err == nil) != (werr == nil) {
			t.Fatalf("%s: err = %v, reference err = %v\ninput: %q", name, err, werr, data)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s: ids = %q, reference = %q (err %v / %v)\ninput: %q", name, got, want, err, werr, data)
		}
		if err != nil {
			if ErrorCode(err) == "" {
				t.Fatalf("%s: err %v is not an *Error", name, err)
			}
			if bytes.ContainsAny([]byte(err.Error()), "\r\n") {
				t.Fatalf("%s: message not one line: %q", name, err)
			}
		}
	}
}

// diffSeeds are small inputs covering the shapes and the edge cases.
func diffSeeds(tb testing.TB) [][]byte {
	seeds := [][]byte{
		fixtures.DataFile("following"),
		fixtures.DataFile("following", "1", "2072423667737169920", "18446744073709551615"),
		[]byte(`window.YTD.following.part0 = [{"following":{"accountId":"12","userLink":"https://twitter.com/intent/user?user_id=12"}}]`),
		[]byte("\xEF\xBB\xBFwindow.YTD.following.part0 = [ {\r\n  \"following\" : {\r\n    \"accountId\" : \"12\"\r\n  }\r\n} ]\r\n"),
		[]byte(`window.YTD.following.part0 = [{"following":{"accountId":"\u0031"}},{"Following":{"ACCOUNTID":"2"}}]`),
		[]byte(`window.YTD.following.part0 = [{"following":{"accountId":"1","accountId":"2"}}]`),
		[]byte(`window.YTD.following.part0 = [{"following":{"accountId":3}}, null]`),
		[]byte(`window.YTD.following.part0 = [{"following":{"accountId":"1"}} {"following":{"accountId":"2"}}]`),
		[]byte(`window.YTD.following.part0 = [{"following":{"accountId":"1"}},]`),
		[]byte(`window.YTD.following.part0 = [{"following":{"accountId":"1"}}];`),
		[]byte(`window.YTD.following.part0 = [{"following":{"accountId":"1"}}] x`),
		[]byte(`window.YTD.following.part0 = [{"following":{"accountId":"1"}}`),
		[]byte(`window.YTD.following.part0 = [{"following":{"accountId":"1"]}`),
		[]byte(`window.YTD.following.part0 = [1x]`),
		[]byte(`window.YTD.following.part0 = ["a"]`),
		[]byte(`window.YTD.following.part0 = {}`),
		[]byte(`window.YTD.following.part0 = `),
		[]byte(`no assignment at all`),
		[]byte(`window.YTD.following.part0 = [{"following":{"accountId":"1","userLink":"` + "\xff\xfe" + `"}}]`),
	}
	for _, v := range []string{"2020", "2024", "crlf", "bom", "nouserlink", "xhost"} {
		dir := filepath.Join(tb.TempDir(), "a")
		if _, err := fixtures.WriteArchive(dir, fixtures.ArchiveOptions{Seed: 2, Following: 3, Duplicates: 1, Variant: v + "+dataonly"}); err != nil {
			tb.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "following.js"))
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

func TestDifferential(t *testing.T) {
	for i, s := range diffSeeds(t) {
		t.Run(string(rune('a'+i)), func(t *testing.T) { differential(t, s) })
	}
}

// FuzzParse checks the fast reader against the json.Decoder reference.
//
//	go test -run '^$' -fuzz '^FuzzParse$' -fuzztime 60s ./engine/xarchive
func FuzzParse(f *testing.F) {
	for _, s := range diffSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		differential(t, data)
	})
}

// FuzzOpen opens arbitrary bytes as a ZIP (when they start like one) or as
// a loose following.js and inspects them: no panic, every error an *Error
// on one line, a report that marshals.
//
//	go test -run '^$' -fuzz '^FuzzOpen$' -fuzztime 60s ./engine/xarchive
func FuzzOpen(f *testing.F) {
	small := fixtures.ArchiveOptions{Seed: 1, Account: 5, Following: 3, Followers: 4, Blocks: 1, Mutes: 1, ListsCreated: 1, ListsMember: 1, Duplicates: 1, PartSize: 2}
	for _, v := range []string{"2020", "2024", "toplevel", "parts", "bom", "crlf", "nouserlink", "xhost", "nomanifest", "noaccount", "grailbird"} {
		o := small
		o.Variant = v
		paths, _ := MustArchive(f, o)
		f.Add(readFile(f, paths[0]))
	}
	for _, z := range [][]fixtures.ZipFile{
		{fixtures.Bomb(2 << 20)},
		{{Name: "data/../x.js", Data: []byte("x")}},
		{{Name: "following.js", Data: fixtures.DataFile("following", "1")}},
	} {
		f.Add(readFile(f, MustZip(f, z...)))
	}
	for _, s := range diffSeeds(f) {
		f.Add(s)
	}
	lim := Limits{MaxBytes: 8 << 20, MaxEntries: 1000, MaxElement: 64 << 10}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		var a *Archive
		var err error
		if bytes.HasPrefix(data, []byte("PK")) {
			a, err = OpenZip(ctx, bytes.NewReader(data), int64(len(data)), "upload.zip", lim)
		} else {
			a, err = assemble(ctx, "following.js", lim.withDefaults(), []*entry{{name: "following.js", fk: fileKind(KindFollowing), expect: -1,
				size: int64(len(data)), open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}}, nil)
		}
		if err == nil {
			_, err = Inspect(ctx, a)
		}
		if err != nil {
			if ErrorCode(err) == "" {
				t.Fatalf("err %v (%T) is not an *Error", err, err)
			}
			if bytes.ContainsAny([]byte(err.Error()), "\r\n") {
				t.Fatalf("message not one line: %q", err)
			}
		}
	})
}
