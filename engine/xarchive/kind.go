package xarchive

import (
	"strconv"
	"strings"
)

// Kind names one graph file type of an X archive.
type Kind string

// The graph kinds Passerelle reads. The string values are the keys of
// Report.Counts and Report.Duplicates.
const (
	KindFollowing    Kind = "following"     // following.js: accounts the owner follows
	KindFollower     Kind = "follower"      // follower.js: accounts that follow the owner
	KindBlock        Kind = "block"         // block.js
	KindMute         Kind = "mute"          // mute.js
	KindListsCreated Kind = "lists_created" // lists-created.js: URLs of the owner's lists
	KindListsMember  Kind = "lists_member"  // lists-member.js: URLs of lists the owner is in
)

// Kinds returns every Kind in a fixed order.
func Kinds() []Kind {
	return []Kind{KindFollowing, KindFollower, KindBlock, KindMute, KindListsCreated, KindListsMember}
}

// isList reports whether the kind's elements are list URLs rather than ids.
func (k Kind) isList() bool { return k == KindListsCreated || k == KindListsMember }

// valid reports whether k is one of Kinds().
func (k Kind) valid() bool {
	_, ok := kindFiles[k]
	return ok
}

// fileKind is what one data file holds: a Kind, or the account or manifest.
type fileKind string

const (
	fileAccount  fileKind = "account"
	fileManifest fileKind = "manifest"
)

// kindFiles maps a Kind to its file stem ("lists-created"), its global name
// ("lists_created"), the element wrapper key and the manifest dataTypes key.
var kindFiles = map[Kind]struct{ stem, global, wrapper, manifest string }{
	KindFollowing:    {"following", "following", "following", "following"},
	KindFollower:     {"follower", "follower", "follower", "follower"},
	KindBlock:        {"block", "block", "blocking", "block"},
	KindMute:         {"mute", "mute", "muting", "mute"},
	KindListsCreated: {"lists-created", "lists_created", "userListInfo", "listsCreated"},
	KindListsMember:  {"lists-member", "lists_member", "userListInfo", "listsMember"},
}

// stemKind maps a file stem (and a global name) to what the file holds.
func stemKind(stem string) (fileKind, bool) {
	switch stem {
	case "account":
		return fileAccount, true
	case "manifest":
		return fileManifest, true
	}
	for k, f := range kindFiles {
		if f.stem == stem || f.global == stem {
			return fileKind(k), true
		}
	}
	return "", false
}

// parseDataName recognises the base name of a data file Passerelle reads:
// "following.js" (part 0), "follower-part2.js" (part 2), "account.js",
// "manifest.js". Only graph kinds are split into parts.
func parseDataName(base string) (fk fileKind, part int, ok bool) {
	stem, found := strings.CutSuffix(base, ".js")
	if !found {
		return "", 0, false
	}
	if i := strings.LastIndex(stem, "-part"); i > 0 {
		digits := stem[i+len("-part"):]
		if len(digits) == 0 || len(digits) > 6 || digits[0] == '0' || strings.Trim(digits, "0123456789") != "" {
			return "", 0, false
		}
		n, _ := strconv.Atoi(digits)
		stem, part = stem[:i], n
	}
	fk, ok = stemKind(stem)
	if !ok || (part > 0 && (fk == fileAccount || fk == fileManifest)) {
		return "", 0, false
	}
	if fk != fileAccount && fk != fileManifest && kindFiles[Kind(fk)].stem != stem {
		return "", 0, false // "lists_created.js" is not a real file name
	}
	return fk, part, true
}

// partName is the base name of part n of a kind's file.
func partName(k Kind, n int) string {
	if n == 0 {
		return kindFiles[k].stem + ".js"
	}
	return kindFiles[k].stem + "-part" + strconv.Itoa(n) + ".js"
}
