package xarchive

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Code classifies an Error so callers can map it to a status or a message
// for the person who uploaded the archive.
type Code string

// Error codes. All of them describe a problem with the input, never with
// Passerelle itself: I/O failures of the local disk are returned as plain
// wrapped errors.
const (
	// ENOTARCHIVE: the input is none of the accepted shapes (ZIP, folder,
	// loose .js files) or holds no X archive data.
	ENOTARCHIVE Code = "ENOTARCHIVE"
	// EGRAILBIRD: a pre-2019 "Grailbird" tweet archive, which holds no
	// follow lists.
	EGRAILBIRD Code = "EGRAILBIRD"
	// ECORRUPT: a ZIP that cannot be read (truncated, bad checksum,
	// unsupported compression, encrypted entry).
	ECORRUPT Code = "ECORRUPT"
	// ESYNTAX: a data file that is not `window.YTD.<type>.partN = [ ... ]`
	// with valid JSON; Offset is the byte within the file.
	ESYNTAX Code = "ESYNTAX"
	// ESHAPE: valid JSON, but an element does not have the shape its file
	// should hold (e.g. a number where an object belongs).
	ESHAPE Code = "ESHAPE"
	// EBADID: an accountId that is missing or not a decimal X id.
	EBADID Code = "EBADID"
	// ELIMIT: a configured limit (Limits) was exceeded.
	ELIMIT Code = "ELIMIT"
	// EUNSAFE: a ZIP entry name that is absolute or climbs out with "..".
	EUNSAFE Code = "EUNSAFE"
	// ENOACCOUNT: the archive has no account.js (or it holds no account).
	ENOACCOUNT Code = "ENOACCOUNT"
)

// Error is the one error type of this package. Error() is a single line that
// names the file and the problem, safe to show to the archive's owner: it
// never quotes more than a short, sanitised piece of the input.
type Error struct {
	Code Code
	// File is the entry inside the ZIP, the path inside the folder, or the
	// path of the loose file or archive as given to Open.
	File string
	// Offset is the byte offset within File, meaningful for ESYNTAX, ESHAPE
	// and EBADID (it counts the BOM and the `window.YTD... =` prefix).
	Offset int64
	Msg    string
	// Err is the underlying cause, if any (zip.ErrChecksum, a
	// *json.SyntaxError, ...).
	Err error
}

// Error returns one line: "<file>: <problem>[ at byte N]".
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(oneLine(e.File, 200))
		b.WriteString(": ")
	}
	b.WriteString(oneLine(e.Msg, 400))
	if e.hasOffset() {
		fmt.Fprintf(&b, " at byte %d", e.Offset)
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) hasOffset() bool {
	switch e.Code {
	case ESYNTAX, ESHAPE, EBADID:
		return true
	}
	return false
}

// ErrorCode returns the Code of the first *Error in err's chain, or "" when
// there is none.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func newError(code Code, file string, format string, args ...any) *Error {
	return &Error{Code: code, File: file, Msg: fmt.Sprintf(format, args...)}
}

// oneLine replaces control characters (newlines included) so that a hostile
// entry name cannot forge extra log lines, and caps the length.
func oneLine(s string, max int) string {
	clean := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return '?'
		}
		return r
	}, s)
	if len(clean) > max {
		cut := max
		for cut > 0 && clean[cut]&0xC0 == 0x80 { // don't split a rune
			cut--
		}
		clean = clean[:cut] + "…"
	}
	return clean
}

// snippet quotes a short piece of input for an error message.
func snippet(b []byte) string {
	const max = 32
	s := string(b)
	if len(s) > max {
		return fmt.Sprintf("%q…", oneLine(s[:max], max))
	}
	return fmt.Sprintf("%q", oneLine(s, max))
}
