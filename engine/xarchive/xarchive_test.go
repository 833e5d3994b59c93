package xarchive

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/passerelle-social/passerelle/fixtures"
)

// TestVariants reads every archive shape the generator makes and checks
// that what comes out is exactly what went in.
func TestVariants(t *testing.T) {
	base := fixtures.ArchiveOptions{Seed: 42, Account: 7, Following: 150, Followers: 230, Blocks: 4, Mutes: 3,
		ListsCreated: 2, ListsMember: 5, Duplicates: 6, PartSize: 100, KeepIDs: true}
	tests := []struct {
		name         string
		variant      string
		edit         func(*fixtures.ArchiveOptions)
		generatedAt  string // "" when there is no manifest
		wantFiles    map[Kind]int
		wantWarnings []string
	}{
		{name: "2020_zip", variant: "2020", generatedAt: "2020-06-12T08:14:31.000Z"},
		{name: "2024_zip", variant: "2024", generatedAt: "2024-11-16T09:21:43.000Z"},
		{name: "zip_under_top_level_folder", variant: "toplevel", generatedAt: "2024-11-16T09:21:43.000Z"},
		{name: "folder", variant: "folder", generatedAt: "2024-11-16T09:21:43.000Z"},
		{name: "data_only_folder", variant: "dataonly", generatedAt: "2024-11-16T09:21:43.000Z"},
		{name: "loose_files", variant: "loose"},
		{name: "split_parts", variant: "parts", generatedAt: "2024-11-16T09:21:43.000Z",
			wantFiles: map[Kind]int{KindFollowing: 2, KindFollower: 3}},
		{name: "split_parts_2020_loose", variant: "2020+parts+loose",
			wantFiles: map[Kind]int{KindFollowing: 2, KindFollower: 3}},
		{name: "split_parts_folder", variant: "parts+folder", generatedAt: "2024-11-16T09:21:43.000Z",
			wantFiles: map[Kind]int{KindFollowing: 2, KindFollower: 3}},
		{name: "bom", variant: "bom", generatedAt: "2024-11-16T09:21:43.000Z"},
		{name: "crlf", variant: "crlf", generatedAt: "2024-11-16T09:21:43.000Z"},
		{name: "bom_crlf_2020", variant: "2020+bom+crlf", generatedAt: "2020-06-12T08:14:31.000Z"},
		{name: "no_userlink", variant: "nouserlink", generatedAt: "2024-11-16T09:21:43.000Z"},
		{name: "userlink_on_x_com", variant: "xhost", generatedAt: "2024-11-16T09:21:43.000Z"},
		{name: "no_manifest", variant: "nomanifest"},
		{name: "zip64", variant: "zip64", generatedAt: "2024-11-16T09:21:43.000Z"},
		{name: "empty_arrays", variant: "2024", generatedAt: "2024-11-16T09:21:43.000Z",
			edit: func(o *fixtures.ArchiveOptions) {
				o.Following, o.Followers, o.Blocks, o.Mutes, o.ListsCreated, o.ListsMember, o.Duplicates = 0, 0, 0, 0, 0, 0, 0
			}},
		{name: "empty_arrays_2020", variant: "2020+crlf", generatedAt: "2020-06-12T08:14:31.000Z",
			edit: func(o *fixtures.ArchiveOptions) { o.Following, o.Duplicates = 0, 0 }},
		{name: "unicode_owner", variant: "2024", generatedAt: "2024-11-16T09:21:43.000Z",
			edit: func(o *fixtures.ArchiveOptions) { o.DisplayName = "Zoë \"Z\" 🐦 <b>&" }},
		{name: "with_media", variant: "2024", generatedAt: "2024-11-16T09:21:43.000Z",
			edit: func(o *fixtures.ArchiveOptions) { o.MediaBytes, o.MediaFiles = 3<<20, 7 }},
		{name: "manifest_count_mismatch", variant: "2024", generatedAt: "2024-11-16T09:21:43.000Z",
			edit:         func(o *fixtures.ArchiveOptions) { o.ManifestSkew = 2 },
			wantWarnings: []string{"data/follower.js: manifest.js expects 232 entries, read 230"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := base
			opt.Variant = tt.variant
			if tt.edit != nil {
				tt.edit(&opt)
			}
			paths, info := MustArchive(t, opt)
			a := MustOpen(t, Limits{}, paths...)
			ctx := context.Background()

			r, err := Inspect(ctx, a)
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if r.Account == nil || r.Account.ID != info.AccountID || r.Account.Username != info.Username || r.Account.DisplayName != info.DisplayName {
				t.Errorf("account = %+v, want %s %s %q", r.Account, info.AccountID, info.Username, info.DisplayName)
			}
			if r.GeneratedAt != tt.generatedAt {
				t.Errorf("generated_at = %q, want %q", r.GeneratedAt, tt.generatedAt)
			}
			for _, k := range Kinds() {
				if r.Counts[string(k)] != info.Counts[string(k)] {
					t.Errorf("counts[%s] = %d, want %d", k, r.Counts[string(k)], info.Counts[string(k)])
				}
				if r.Duplicates[string(k)] != info.Duplicates[string(k)] {
					t.Errorf("duplicates[%s] = %d, want %d", k, r.Duplicates[string(k)], info.Duplicates[string(k)])
				}
			}
			if !slices.Equal(r.Warnings, tt.wantWarnings) && !(len(r.Warnings) == 0 && len(tt.wantWarnings) == 0) {
				t.Errorf("warnings = %q, want %q", r.Warnings, tt.wantWarnings)
			}

			// Each streams every element, duplicates included, in file order.
			want := map[Kind][]string{KindFollowing: info.Following, KindFollower: info.Followers, KindBlock: info.Blocks,
				KindMute: info.Mutes, KindListsCreated: info.ListsCreated, KindListsMember: info.ListsMember}
			for k, ids := range want {
				got := collect(t, a, k)
				if len(got) != len(ids)+info.Duplicates[string(k)] {
					t.Errorf("%s: %d elements, want %d", k, len(got), len(ids)+info.Duplicates[string(k)])
				}
				if !slices.Equal(distinct(got), ids) {
					t.Errorf("%s: distinct ids differ from those written (got %d, want %d)", k, len(distinct(got)), len(ids))
				}
				if n, ok := tt.wantFiles[k]; ok && len(a.Files(k)) != n {
					t.Errorf("%s files = %q, want %d", k, a.Files(k), n)
				}
			}

			js, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(js), info.Email) {
				t.Errorf("the report holds the e-mail address: %s", js)
			}
			for _, key := range []string{`"warnings":[`, `"lists_created":`, `"lists_member":`, `"mute":`, `"block":`} {
				if !strings.Contains(string(js), key) {
					t.Errorf("report JSON lacks %s: %s", key, js)
				}
			}
		})
	}
}

// TestBigIDs checks ids beyond 2^53 come out exactly as written.
func TestBigIDs(t *testing.T) {
	ids := []string{"2072423667737169920", "9007199254740993", "18446744073709551615", "12", "1"}
	tests := []struct {
		name string
		data []byte
	}{
		{"2024_layout", fixtures.DataFile("follower", ids...)},
		{"one_line", []byte(`window.YTD.follower.part0 = [{"follower":{"accountId":"2072423667737169920"}},{"follower":{"accountId":"9007199254740993"}},{"follower":{"accountId":"18446744073709551615"}},{"follower":{"accountId":"12"}},{"follower":{"accountId":"1"}}]`)},
		{"generic_path", []byte(`window.YTD.follower.part0 = [{"follower":{"accountId":"2072423667737169920","extra":1}},{"follower":{"accountId":9007199254740993}},{"follower":{"accountId":"18446744073709551615","accountId2":null}},{"follower":{"accountId":"\u0031\u0032"}},{"Follower":{"AccountId":"1"}}]`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := MustFile(t, t.TempDir(), "follower.js", tt.data)
			a := MustOpen(t, Limits{}, p)
			if got := collect(t, a, KindFollower); !slices.Equal(got, ids) {
				t.Errorf("ids = %q, want %q", got, ids)
			}
		})
	}
}

// TestWarnings covers what Inspect reports without failing.
func TestWarnings(t *testing.T) {
	small := fixtures.ArchiveOptions{Seed: 3, Account: 11, Following: 30, Followers: 250, Blocks: 1, PartSize: 100}
	tests := []struct {
		name  string
		setup func(t *testing.T) []string
		want  []string
	}{
		{
			name: "manifest_lists_a_missing_part",
			setup: func(t *testing.T) []string {
				o := small
				o.Variant = "folder+parts"
				paths, _ := MustArchive(t, o)
				os.Remove(filepath.Join(paths[0], "data", "follower-part1.js"))
				return paths
			},
			want: []string{
				"manifest.js lists data/follower-part1.js but the archive has no such file",
				"data/follower-part1.js: manifest.js expects 100 entries, read 0",
			},
		},
		{
			name: "part_not_in_manifest",
			setup: func(t *testing.T) []string {
				o := small
				o.Variant = "folder"
				paths, _ := MustArchive(t, o)
				MustFile(t, filepath.Join(paths[0], "data"), "following-part1.js", fixtures.DataFile("following", "5", "6"))
				return paths
			},
			want: []string{"data/following-part1.js is not listed in manifest.js; reading it anyway"},
		},
		{
			name: "gap_in_parts_without_manifest",
			setup: func(t *testing.T) []string {
				dir := t.TempDir()
				return []string{
					MustFile(t, dir, "follower.js", fixtures.DataFile("follower", "1")),
					MustFile(t, dir, "follower-part2.js", fixtures.DataFile("follower", "2")),
				}
			},
			want: []string{"follower-part2.js is there but follower-part1.js is missing"},
		},
		{
			name: "no_follow_files",
			setup: func(t *testing.T) []string {
				dir := t.TempDir()
				return []string{MustFile(t, dir, "block.js", fixtures.DataFile("block", "1"))}
			},
			want: []string{
				"no account.js: the archive does not say whose it is",
				"the archive has neither following.js nor follower.js: there is no follow list to import",
			},
		},
		{
			name: "ignored_loose_file",
			setup: func(t *testing.T) []string {
				dir := t.TempDir()
				return []string{
					MustFile(t, dir, "following.js", fixtures.DataFile("following", "1")),
					MustFile(t, dir, "tweets.js", []byte("window.YTD.tweets.part0 = [ ]")),
				}
			},
			want: []string{"tweets.js holds tweets, which Passerelle does not read; ignored"},
		},
		{
			name: "two_data_folders_in_zip",
			setup: func(t *testing.T) []string {
				return []string{MustZip(t,
					fixtures.ZipFile{Name: "backup/data/following.js", Data: fixtures.DataFile("following", "1", "2")},
					fixtures.ZipFile{Name: "data/following.js", Data: fixtures.DataFile("following", "3")},
				)}
			},
			want: []string{"the ZIP holds 2 data/ folders; reading data/ only"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := MustOpen(t, Limits{}, tt.setup(t)...)
			r, err := Inspect(context.Background(), a)
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			for _, w := range tt.want {
				if !slices.ContainsFunc(r.Warnings, func(s string) bool { return strings.Contains(s, w) }) {
					t.Errorf("warnings %q lack %q", r.Warnings, w)
				}
			}
		})
	}
}

// TestAccountAbsent: no account.js gives ENOACCOUNT and a null account.
func TestAccountAbsent(t *testing.T) {
	paths, _ := MustArchive(t, fixtures.ArchiveOptions{Seed: 1, Account: 3, Following: 5, Variant: "noaccount"})
	a := MustOpen(t, Limits{}, paths...)
	_, err := a.Account(context.Background())
	if ErrorCode(err) != ENOACCOUNT {
		t.Fatalf("Account: err = %v, want ENOACCOUNT", err)
	}
	r, err := Inspect(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(r)
	if r.Account != nil || !strings.Contains(string(js), `"account":null`) {
		t.Errorf("report = %s, want account null", js)
	}
	if r.Counts["following"] != 5 {
		t.Errorf("following = %d, want 5", r.Counts["following"])
	}
}

// TestEmailNeverKept: the e-mail address is in account.js but nowhere in
// the Account or the Report.
func TestEmailNeverKept(t *testing.T) {
	const email = "secret.person+x@example.net"
	paths, _ := MustArchive(t, fixtures.ArchiveOptions{Seed: 1, Account: 3, Following: 2, Email: email})
	a := MustOpen(t, Limits{}, paths...)
	acct, err := a.Account(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r, err := Inspect(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(struct {
		A *Account
		R *Report
	}{acct, r})
	if strings.Contains(string(js), email) || strings.Contains(string(js), "secret.person") {
		t.Errorf("the e-mail leaked: %s", js)
	}
	if acct.CreatedAt == "" {
		t.Errorf("createdAt not read: %+v", acct)
	}
}

// TestBadInputs: every hostile or broken input fails with its code and a
// one-line message that names the file.
func TestBadInputs(t *testing.T) {
	ok := fixtures.DataFile("following", "12", "2072423667737169920")
	cut := ok[:len(ok)-40]
	tests := []struct {
		name     string
		setup    func(t *testing.T) []string
		lim      Limits
		code     Code
		contains []string
		atOpen   bool // the error comes from Open rather than Inspect
	}{
		{
			name: "truncated_zip",
			setup: func(t *testing.T) []string {
				paths, _ := MustArchive(t, fixtures.ArchiveOptions{Seed: 1, Account: 1, Following: 500, Followers: 500})
				b := readFile(t, paths[0])
				return []string{MustFile(t, t.TempDir(), "cut.zip", b[:len(b)/2])}
			},
			code: ECORRUPT, atOpen: true, contains: []string{"cut.zip: ", "truncated or corrupt"},
		},
		{
			name: "corrupt_entry_crc",
			setup: func(t *testing.T) []string {
				data := fixtures.DataFile("following", "12", "13", "14")
				p := MustZip(t, fixtures.ZipFile{Name: "data/following.js", Data: data, Store: true})
				b := readFile(t, p)
				i := strings.Index(string(b), `"13"`)
				b[i+1] = '7' // still valid JSON, wrong CRC
				return []string{MustFile(t, t.TempDir(), "crc.zip", b)}
			},
			code: ECORRUPT, contains: []string{"data/following.js: ", "checksum"},
		},
		{
			name: "not_a_zip",
			setup: func(t *testing.T) []string {
				return []string{MustFile(t, t.TempDir(), "upload.zip", []byte("\x89PNG\r\n\x1a\nthis is a picture, not an archive"))}
			},
			code: ENOTARCHIVE, atOpen: true, contains: []string{"upload.zip: ", "neither a ZIP"},
		},
		{
			name:  "empty_file",
			setup: func(t *testing.T) []string { return []string{MustFile(t, t.TempDir(), "upload.bin", nil)} },
			code:  ENOTARCHIVE, atOpen: true,
		},
		{
			name:  "empty_folder",
			setup: func(t *testing.T) []string { return []string{t.TempDir()} },
			code:  ENOTARCHIVE, atOpen: true, contains: []string{"no X archive data"},
		},
		{
			name:  "empty_zip",
			setup: func(t *testing.T) []string { return []string{MustZip(t)} },
			code:  ENOTARCHIVE, atOpen: true, contains: []string{"the ZIP holds no X archive data"},
		},
		{
			name: "zip_and_js_mixed",
			setup: func(t *testing.T) []string {
				paths, _ := MustArchive(t, fixtures.ArchiveOptions{Seed: 1, Following: 1})
				return []string{paths[0], MustFile(t, t.TempDir(), "following.js", ok)}
			},
			code: ENOTARCHIVE, atOpen: true, contains: []string{"not a mix"},
		},
		{
			name: "same_part_twice",
			setup: func(t *testing.T) []string {
				dir := t.TempDir()
				return []string{MustFile(t, dir, "following.js", ok), MustFile(t, dir, "following (1).js", ok)}
			},
			code: ENOTARCHIVE, atOpen: true, contains: []string{"both", "following part 0"},
		},
		{
			name:  "zip_bomb_ratio",
			setup: func(t *testing.T) []string { return []string{MustZip(t, fixtures.Bomb(64<<20))} },
			code:  ELIMIT, atOpen: true, contains: []string{"data/following.js: ", "MaxRatio", "ZIP bomb"},
		},
		{
			name:  "zip_bomb_bytes",
			setup: func(t *testing.T) []string { return []string{MustZip(t, fixtures.Bomb(8<<20))} },
			lim:   Limits{MaxBytes: 4 << 20, MaxRatio: 1e9},
			code:  ELIMIT, atOpen: true, contains: []string{"MaxBytes"},
		},
		{
			name: "too_many_entries",
			setup: func(t *testing.T) []string {
				paths, _ := MustArchive(t, fixtures.ArchiveOptions{Seed: 1, Following: 1, Variant: "zip64"})
				return paths
			},
			lim:  Limits{MaxEntries: 1000},
			code: ELIMIT, atOpen: true, contains: []string{"more than 1000 entries (MaxEntries)"},
		},
		{
			name: "element_too_large",
			setup: func(t *testing.T) []string {
				big := `window.YTD.following.part0 = [{"following":{"accountId":"1","userLink":"` + strings.Repeat("x", 300<<10) + `"}}]`
				return []string{MustFile(t, t.TempDir(), "following.js", []byte(big))}
			},
			lim:  Limits{MaxElement: 100 << 10},
			code: ELIMIT, contains: []string{"MaxElement"},
		},
		{
			name: "no_assignment",
			setup: func(t *testing.T) []string {
				return []string{MustFile(t, t.TempDir(), "following.js", []byte(`{"following": [1, 2]}`))}
			},
			code: ESYNTAX, contains: []string{"following.js: ", "no `= [`", "at byte 0"},
		},
		{
			name: "object_instead_of_array",
			setup: func(t *testing.T) []string {
				return []string{MustFile(t, t.TempDir(), "following.js", []byte("window.YTD.following.part0 = {}"))}
			},
			code: ESYNTAX, contains: []string{"expected '[' after `=`", "at byte 29"},
		},
		{
			name: "cut_json",
			setup: func(t *testing.T) []string {
				return []string{MustFile(t, t.TempDir(), "following.js", cut)}
			},
			code: ESYNTAX, contains: []string{"following.js: ", "cut short", "at byte " + strconv.Itoa(len(cut))},
		},
		{
			name: "cut_json_in_zip",
			setup: func(t *testing.T) []string {
				return []string{MustZip(t, fixtures.ZipFile{Name: "data/following.js", Data: cut})}
			},
			code: ESYNTAX, contains: []string{"data/following.js: ", "at byte " + strconv.Itoa(len(cut))},
		},
		{
			name: "invalid_json_inside_element",
			setup: func(t *testing.T) []string {
				return []string{MustFile(t, t.TempDir(), "following.js", []byte(`window.YTD.following.part0 = [ {"following": {"accountId": "1",}} ]`))}
			},
			code: ESYNTAX, contains: []string{"invalid JSON in element 1", "at byte 63"},
		},
		{
			name: "trailing_comma",
			setup: func(t *testing.T) []string {
				return []string{MustFile(t, t.TempDir(), "following.js", []byte(`window.YTD.following.part0 = [ {"following": {"accountId": "1"}}, ]`))}
			},
			code: ESYNTAX, contains: []string{"trailing comma"},
		},
		{
			name: "garbage_after_array",
			setup: func(t *testing.T) []string {
				return []string{MustFile(t, t.TempDir(), "following.js", []byte("window.YTD.following.part0 = [ ];\nalert(1)"))}
			},
			code: ESYNTAX, contains: []string{"unexpected 'a' after the closing ']'"},
		},
		{
			name: "element_not_an_object",
			setup: func(t *testing.T) []string {
				return []string{MustFile(t, t.TempDir(), "following.js", []byte(`window.YTD.following.part0 = [ 12 ]`))}
			},
			code: ESHAPE, contains: []string{"element 1"},
		},
		{
			name: "missing_account_id",
			setup: func(t *testing.T) []string {
				return []string{MustFile(t, t.TempDir(), "following.js", []byte(`window.YTD.following.part0 = [ {"following":{"userLink":"https://twitter.com/intent/user?user_id=1"}} ]`))}
			},
			code: EBADID, contains: []string{"element 1 has no following.accountId", "at byte 31"},
		},
		{
			name: "lists_without_url",
			setup: func(t *testing.T) []string {
				return []string{MustFile(t, t.TempDir(), "lists-member.js", []byte(`window.YTD.lists_member.part0 = [ {"userListInfo":{}} ]`))}
			},
			code: ESHAPE, contains: []string{"lists-member.js: element 1 has no userListInfo.url"},
		},
		{
			name: "zip_slip_dotdot",
			setup: func(t *testing.T) []string {
				return []string{MustZip(t,
					fixtures.ZipFile{Name: "data/following.js", Data: ok},
					fixtures.ZipFile{Name: "data/../../etc/cron.d/evil", Data: []byte("x")})}
			},
			code: EUNSAFE, atOpen: true, contains: []string{"upload.zip: ", `"data/../../etc/cron.d/evil"`, "outside the archive"},
		},
		{
			name: "zip_slip_absolute",
			setup: func(t *testing.T) []string {
				return []string{MustZip(t, fixtures.ZipFile{Name: "/data/following.js", Data: ok})}
			},
			code: EUNSAFE, atOpen: true,
		},
		{
			name: "zip_slip_backslash",
			setup: func(t *testing.T) []string {
				return []string{MustZip(t, fixtures.ZipFile{Name: `data\..\..\following.js`, Data: ok})}
			},
			code: EUNSAFE, atOpen: true,
		},
		{
			name: "encrypted_entry",
			setup: func(t *testing.T) []string {
				return []string{MustZip(t, fixtures.ZipFile{Name: "data/following.js", Data: ok, Flags: 0x1})}
			},
			code: ECORRUPT, atOpen: true, contains: []string{"encrypted"},
		},
		{
			name: "grailbird_zip",
			setup: func(t *testing.T) []string {
				paths, _ := MustArchive(t, fixtures.ArchiveOptions{Seed: 1, Variant: "grailbird"})
				return paths
			},
			code: EGRAILBIRD, atOpen: true, contains: []string{"Grailbird", "no following or follower lists"},
		},
		{
			name: "grailbird_folder",
			setup: func(t *testing.T) []string {
				paths, _ := MustArchive(t, fixtures.ArchiveOptions{Seed: 1, Variant: "grailbird+folder"})
				return paths
			},
			code: EGRAILBIRD, atOpen: true,
		},
		{
			name: "grailbird_loose",
			setup: func(t *testing.T) []string {
				paths, _ := MustArchive(t, fixtures.ArchiveOptions{Seed: 1, Variant: "grailbird+loose"})
				return paths
			},
			code: EGRAILBIRD, atOpen: true,
		},
	}
	for _, tt := range append(tests, badIDCases(t)...) {
		t.Run(tt.name, func(t *testing.T) {
			paths := tt.setup(t)
			a, err := Open(context.Background(), paths, tt.lim)
			if err == nil {
				defer a.Close()
				if tt.atOpen {
					t.Fatalf("Open succeeded, want %s", tt.code)
				}
				_, err = Inspect(context.Background(), a)
			} else if !tt.atOpen {
				t.Fatalf("Open: %v, want success", err)
			}
			if ErrorCode(err) != tt.code {
				t.Fatalf("err = %v (code %q), want %s", err, ErrorCode(err), tt.code)
			}
			msg := err.Error()
			if strings.ContainsAny(msg, "\r\n") {
				t.Errorf("message is not one line: %q", msg)
			}
			for _, c := range tt.contains {
				if !strings.Contains(msg, c) {
					t.Errorf("message %q lacks %q", msg, c)
				}
			}
		})
	}
}

type badInput = struct {
	name     string
	setup    func(t *testing.T) []string
	lim      Limits
	code     Code
	contains []string
	atOpen   bool
}

func badIDCases(t *testing.T) []badInput {
	var out []badInput
	for _, id := range []string{`"12ab"`, `"-5"`, `""`, `"1.5"`, `"007"`, `"0"`, `"123456789012345678901"`, `"18446744073709551616"`, `" 12"`, `"１２"`, `true`, `{"n":1}`, `-3`, `1e5`} {
		data := []byte(`window.YTD.following.part0 = [ {"following":{"accountId":"1"}}, {"following":{"accountId":` + id + `}} ]`)
		out = append(out, badInput{
			name: "bad_id_" + id,
			setup: func(t *testing.T) []string {
				return []string{MustFile(t, t.TempDir(), "following.js", data)}
			},
			code:     EBADID,
			contains: []string{"following.js: element 2", "at byte 64"},
		})
	}
	return out
}

// TestAccountErrors: a broken account.js fails Account and Inspect.
func TestAccountErrors(t *testing.T) {
	tests := []struct {
		name string
		data string
		code Code
	}{
		{"empty_array", "window.YTD.account.part0 = [ ]", ENOACCOUNT},
		{"no_account_object", `window.YTD.account.part0 = [ {"profile":{}} ]`, ENOACCOUNT},
		{"bad_id", `window.YTD.account.part0 = [ {"account":{"accountId":"x1","email":"a@b.c"}} ]`, EBADID},
		{"no_id", `window.YTD.account.part0 = [ {"account":{"username":"u","email":"a@b.c"}} ]`, EBADID},
		{"cut", `window.YTD.account.part0 = [ {"account":{"accountId":"1","em`, ESYNTAX},
		{"username_not_string", `window.YTD.account.part0 = [ {"account":{"accountId":"1","username":5}} ]`, ESHAPE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			a := MustOpen(t, Limits{}, MustFile(t, dir, "account.js", []byte(tt.data)), MustFile(t, dir, "following.js", fixtures.DataFile("following", "1")))
			_, err := a.Account(context.Background())
			if ErrorCode(err) != tt.code {
				t.Fatalf("Account: err = %v, want %s", err, tt.code)
			}
			if strings.Contains(err.Error(), "a@b.c") {
				t.Errorf("the error quotes the e-mail: %v", err)
			}
			_, err = Inspect(context.Background(), a)
			if tt.code == ENOACCOUNT && err != nil {
				t.Errorf("Inspect: %v, want a report with account null", err)
			}
			if tt.code != ENOACCOUNT && ErrorCode(err) != tt.code {
				t.Errorf("Inspect: err = %v, want %s", err, tt.code)
			}
		})
	}
}

// TestLooseSniff: loose files are known by their name or, failing that,
// by their `window.YTD.<type>.partN` global.
func TestLooseSniff(t *testing.T) {
	dir := t.TempDir()
	a := MustOpen(t, Limits{},
		MustFile(t, dir, "following (1).js", fixtures.DataFile("following", "1", "2")),
		MustFile(t, dir, "download.txt", append([]byte("\xEF\xBB\xBF\r\n"), []byte("window.YTD.follower.part3 = [ ]")...)),
	)
	if got := a.Files(KindFollowing); len(got) != 1 || !strings.HasSuffix(got[0], "following (1).js") {
		t.Errorf("following files = %q", got)
	}
	if got := a.Files(KindFollower); len(got) != 1 || !strings.HasSuffix(got[0], "download.txt") {
		t.Errorf("follower files = %q", got)
	}
	if got := collect(t, a, KindFollowing); !slices.Equal(got, []string{"1", "2"}) {
		t.Errorf("following = %q", got)
	}
}

// TestZipRootFiles: a ZIP of the data files themselves, without data/.
func TestZipRootFiles(t *testing.T) {
	p := MustZip(t, fixtures.ZipFile{Name: "following.js", Data: fixtures.DataFile("following", "1", "2")},
		fixtures.ZipFile{Name: "follower.js", Data: fixtures.DataFile("follower", "3")})
	a := MustOpen(t, Limits{}, p)
	if got := collect(t, a, KindFollower); !slices.Equal(got, []string{"3"}) {
		t.Errorf("followers = %q", got)
	}
}

// TestBudgetCountsEachEntryOnce: reading an archive twice does not spend
// MaxBytes twice, but the limit still holds.
func TestBudgetCountsEachEntryOnce(t *testing.T) {
	paths, _ := MustArchive(t, fixtures.ArchiveOptions{Seed: 5, Account: 2, Following: 2000, Followers: 3000, Variant: "folder"})
	var total int64
	entries, _ := os.ReadDir(filepath.Join(paths[0], "data"))
	for _, e := range entries {
		if _, _, ok := parseDataName(e.Name()); ok {
			fi, _ := e.Info()
			total += fi.Size()
		}
	}
	a := MustOpen(t, Limits{MaxBytes: total}, paths...)
	for i := range 3 {
		if _, err := Inspect(context.Background(), a); err != nil {
			t.Fatalf("Inspect #%d: %v", i+1, err)
		}
	}
	if _, err := Open(context.Background(), paths, Limits{MaxBytes: total - 1}); ErrorCode(err) != ELIMIT {
		t.Errorf("Open with MaxBytes one short: err = %v, want ELIMIT", err)
	}
}

// TestMeter: MaxBytes and MaxRatio hold while bytes stream, whatever the
// headers said.
func TestMeter(t *testing.T) {
	tests := []struct {
		name    string
		size    int64
		comp    int64
		max     int64
		ratio   float64
		wantErr string
	}{
		{"within", 3 << 20, 1 << 20, 8 << 20, 200, ""},
		{"ratio", 3 << 20, 1 << 10, 8 << 20, 200, "MaxRatio"},
		{"ratio_ignored_below_grace", 1 << 20, 1, 8 << 20, 200, ""},
		{"stored_has_no_ratio", 3 << 20, 0, 8 << 20, 200, ""},
		{"bytes", 3 << 20, 1 << 20, 2 << 20, 200, "MaxBytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &meter{r: strings.NewReader(strings.Repeat(" ", int(tt.size))), file: "data/following.js",
				budget: &budget{max: tt.max}, comp: tt.comp, maxRatio: tt.ratio}
			_, err := io.Copy(io.Discard, m)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tt.wantErr != "" && (ErrorCode(err) != ELIMIT || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want ELIMIT with %q", err, tt.wantErr)
			}
		})
	}
}

// TestCallbackErrorAndCancel: an error from fn comes back as is; a
// cancelled context stops the walk.
func TestCallbackErrorAndCancel(t *testing.T) {
	paths, _ := MustArchive(t, fixtures.ArchiveOptions{Seed: 1, Account: 1, Followers: 5000})
	a := MustOpen(t, Limits{}, paths...)
	stop := errors.New("stop here")
	n := 0
	err := a.Each(context.Background(), KindFollower, func(string) error {
		if n++; n == 10 {
			return stop
		}
		return nil
	})
	if err != stop {
		t.Errorf("err = %v, want the callback's error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n = 0
	err = a.Each(ctx, KindFollower, func(string) error {
		if n++; n == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n > 10+ctxEvery {
		t.Errorf("err = %v after %d ids, want context.Canceled within %d", err, n, ctxEvery)
	}
	if err := a.Each(context.Background(), KindListsCreated, func(string) error { return nil }); err == nil {
		t.Error("Each(lists_created) should refuse a list kind")
	}
	if err := a.EachURL(context.Background(), KindFollower, func(string) error { return nil }); err == nil {
		t.Error("EachURL(follower) should refuse an id kind")
	}
}

// TestConcurrentReads: one Archive serves several readers at once (run
// with -race).
func TestConcurrentReads(t *testing.T) {
	for _, v := range []string{"2024", "folder"} {
		t.Run(v, func(t *testing.T) {
			paths, info := MustArchive(t, fixtures.ArchiveOptions{Seed: 8, Account: 2, Following: 400, Followers: 900, Variant: v})
			a := MustOpen(t, Limits{}, paths...)
			errs := make(chan error, 4)
			for range 4 {
				go func() {
					r, err := Inspect(context.Background(), a)
					if err == nil && r.Counts["follower"] != info.Counts["follower"] {
						err = errors.New("wrong follower count")
					}
					errs <- err
				}()
			}
			for range 4 {
				if err := <-errs; err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestForm(t *testing.T) {
	for _, tc := range []struct{ variant, want string }{{"2024", "zip"}, {"folder", "folder"}, {"loose", "files"}} {
		paths, _ := MustArchive(t, fixtures.ArchiveOptions{Seed: 1, Following: 3, Variant: tc.variant})
		if got := MustOpen(t, Limits{}, paths...).Form(); got != tc.want {
			t.Errorf("%s: Form() = %q, want %q", tc.variant, got, tc.want)
		}
	}
}
