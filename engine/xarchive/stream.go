package xarchive

import (
	"bytes"
	"errors"
	"io"
)

// A data file is JavaScript that assigns one JSON array:
//
//	window.YTD.following.part0 = [ { ... }, { ... } ]
//
// stream reads it with bounded memory: it skips to the first '[' after the
// '=' (never by lines: the first line's shape changed over the years), then
// hands out one element at a time. The buffer holds at most one element
// plus read-ahead, so memory does not grow with the file.
type stream struct {
	r        io.Reader
	file     string
	buf      []byte
	pos, end int   // unread bytes are buf[pos:end]
	base     int64 // offset in the file of buf[0]
	eof      bool
	err      error // sticky read error (never io.EOF)
	maxBuf   int
	elems    int // elements handed out so far
}

const (
	initialBuf = 64 << 10
	// maxPrefix bounds the bytes before '=': real prefixes are ~35 bytes.
	maxPrefix = 4096
	// fastWindow is the longest element the fast path tries before it
	// leaves the element to the generic path.
	fastWindow = 4096
)

var (
	utf8BOM = []byte{0xEF, 0xBB, 0xBF}
	errFull = errors.New("element exceeds the buffer")
)

func newStream(r io.Reader, file string, maxElem int) *stream {
	maxBuf := max(maxElem, initialBuf)
	return &stream{r: r, file: file, buf: make([]byte, min(initialBuf, maxBuf)), maxBuf: maxBuf}
}

// offset is the position in the file of the next unread byte.
func (s *stream) offset() int64 { return s.base + int64(s.pos) }

// fill drops buf[:keep], reads more bytes and returns how far the kept bytes
// moved down, so callers can adjust indices they hold. It returns io.EOF
// at the end of the file, errFull when the buffer cannot grow, or the read
// error.
func (s *stream) fill(keep int) (int, error) {
	if keep > 0 {
		copy(s.buf, s.buf[keep:s.end])
		s.end -= keep
		s.pos -= keep
		s.base += int64(keep)
	}
	if s.err != nil {
		return keep, s.err
	}
	if s.eof {
		return keep, io.EOF
	}
	if s.end == len(s.buf) {
		if len(s.buf) >= s.maxBuf {
			return keep, errFull
		}
		nb := make([]byte, min(2*len(s.buf), s.maxBuf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err == io.EOF {
			s.eof = true
		} else if err != nil {
			s.err = readError(s.file, err)
		}
		if n > 0 {
			return keep, nil
		}
		if s.eof {
			return keep, io.EOF
		}
		if s.err != nil {
			return keep, s.err
		}
	}
}

func (s *stream) syntax(off int64, format string, args ...any) *Error {
	e := newError(ESYNTAX, s.file, format, args...)
	e.Offset = off
	return e
}

// cut turns the end of the file inside the array into an ESYNTAX error.
func (s *stream) cut(err error, where string) error {
	if err == io.EOF {
		return s.syntax(s.base+int64(s.end), "file ends %s: it is cut short (truncated upload?)", where)
	}
	if err == errFull {
		return newError(ELIMIT, s.file, "an element near byte %d is larger than %s (MaxElement)", s.offset(), humanBytes(int64(s.maxBuf)))
	}
	return err
}

// skipWS skips JSON whitespace and returns the next byte without
// consuming it.
func (s *stream) skipWS() (byte, error) {
	for {
		for s.pos < s.end {
			c := s.buf[s.pos]
			if c > ' ' || !isSpace(c) {
				return c, nil
			}
			s.pos++
		}
		if _, err := s.fill(s.pos); err != nil {
			return 0, err
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// prefix skips an optional UTF-8 BOM and everything up to the first '=',
// then whitespace, and consumes open ('[' for data files, '{' for
// manifest.js).
func (s *stream) prefix(open byte) error {
	for s.end-s.pos < len(utf8BOM) {
		if _, err := s.fill(s.pos); err != nil {
			if err == io.EOF {
				break
			}
			return err
		}
	}
	if bytes.HasPrefix(s.buf[s.pos:s.end], utf8BOM) {
		s.pos += len(utf8BOM)
	}
	want := "window.YTD.<type>.part<N> = ["
	if open == '{' {
		want = "window.__THAR_CONFIG = {"
	}
	for {
		// Only the first maxPrefix bytes of the file may hold the '='.
		window := s.buf[s.pos:min(s.end, s.pos+int(max(maxPrefix-s.offset(), 0)))]
		if i := bytes.IndexByte(window, '='); i >= 0 {
			s.pos += i + 1
			break
		}
		s.pos += len(window)
		if s.offset() >= maxPrefix {
			return s.syntax(0, "no `= %c` in the first %d bytes: not an X archive data file (expected %s ...)", open, maxPrefix, want)
		}
		if _, err := s.fill(s.pos); err != nil {
			if err == io.EOF {
				return s.syntax(0, "no `= %c`: not an X archive data file (expected %s ...)", open, want)
			}
			return err
		}
	}
	c, err := s.skipWS()
	if err != nil {
		return s.cut(err, "right after `=`")
	}
	if c != open {
		return s.syntax(s.offset(), "expected %q after `=`, found %s (expected %s ...)", open, quoteByte(c), want)
	}
	s.pos++
	return nil
}

// next moves to the next array element. It returns false once the closing
// ']' (and whatever may follow it) has been read.
func (s *stream) next() (bool, error) {
	c, err := s.skipWS()
	if err != nil {
		return false, s.cut(err, "inside the array")
	}
	if s.elems > 0 {
		switch c {
		case ',':
			s.pos++
			if c, err = s.skipWS(); err != nil {
				return false, s.cut(err, "after a ','")
			}
			if c == ']' {
				return false, s.syntax(s.offset(), "invalid JSON: ']' after ',' (trailing comma)")
			}
		case ']':
			s.pos++
			return false, s.trailer()
		default:
			return false, s.syntax(s.offset(), "invalid JSON: expected ',' or ']' after element %d, found %s", s.elems, quoteByte(c))
		}
	} else if c == ']' {
		s.pos++
		return false, s.trailer()
	}
	s.elems++
	return true, nil
}

// trailer reads what follows the closing ']': only whitespace and ';' may.
// Reading to the end also lets the ZIP reader verify the entry's CRC.
func (s *stream) trailer() error {
	for {
		for s.pos < s.end {
			c := s.buf[s.pos]
			if !isSpace(c) && c != ';' {
				return s.syntax(s.offset(), "unexpected %s after the closing ']'", quoteByte(c))
			}
			s.pos++
		}
		if _, err := s.fill(s.pos); err != nil {
			if err == io.EOF {
				return nil
			}
			return s.cut(err, "")
		}
	}
}

// raw returns the bytes of the JSON value at the current position and
// moves past it. It only finds where the value ends (balancing brackets
// outside strings); the caller decodes the bytes with encoding/json, which
// validates them. The slice is valid until the next call on s.
func (s *stream) raw() ([]byte, int64, error) {
	start, i := s.pos, s.pos
	depth := 0
	inStr, esc, done := false, false, false
	for {
		buf := s.buf[:s.end]
		for i < len(buf) && !done {
			c := buf[i]
			switch {
			case inStr:
				switch {
				case esc:
					esc = false
				case c == '\\':
					esc = true
				case c == '"':
					inStr = false
					done = depth == 0
				}
			case c == '"':
				inStr = true
			case c == '{' || c == '[':
				depth++
			case c == '}' || c == ']':
				if depth == 0 {
					done = true
					continue // the closer belongs to the enclosing array
				}
				depth--
				done = depth == 0
			case c == ',' || isSpace(c):
				if depth == 0 {
					done = true
					continue
				}
			}
			i++
		}
		if done {
			break
		}
		shift, err := s.fill(start)
		start -= shift
		i -= shift
		if err == io.EOF && depth == 0 && !inStr && i > start {
			break // a bare scalar at the very end; the caller reports it
		}
		if err != nil {
			return nil, 0, s.cut(err, "inside an element")
		}
	}
	if i == start {
		return nil, 0, s.syntax(s.offset(), "invalid JSON: expected a value, found %s", quoteByte(s.buf[i]))
	}
	s.pos = i
	return s.buf[start:i], s.base + int64(start), nil
}

// fastID reads an element of the usual shape
//
//	{"following": {"accountId": "12", "userLink": "https://..."}}
//
// (any whitespace, keys in any order, userLink optional) and returns the
// accountId's raw string contents. It gives up (ok false, nothing consumed)
// on anything else: escapes, other keys, duplicate keys, other types;
// the generic path then decodes the element with encoding/json. Whatever
// fastID accepts, encoding/json decodes to the same accountId, which
// FuzzParse checks.
func (s *stream) fastID(wrapper string) (id []byte, ok bool, err error) {
	for {
		id, n, st := scanIDElem(s.buf[s.pos:s.end], wrapper)
		switch st {
		case fastOK:
			s.pos += n
			return id, true, nil
		case fastBail:
			return nil, false, nil
		}
		if s.eof || s.end-s.pos >= fastWindow {
			return nil, false, nil
		}
		if _, err := s.fill(s.pos); err != nil {
			if err == io.EOF || err == errFull {
				return nil, false, nil
			}
			return nil, false, err
		}
	}
}

type fastStatus int

const (
	fastOK   fastStatus = iota
	fastMore            // b ends before the element does
	fastBail            // not the usual shape
)

// scanIDElem is fastID over a byte slice; see fastID.
func scanIDElem(b []byte, wrapper string) (id []byte, n int, st fastStatus) {
	i := 0
	// ws skips whitespace from i; it reports false when b runs out.
	ws := func() bool {
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		return i < len(b)
	}
	// str reads a string without escapes or control bytes at i.
	str := func() ([]byte, fastStatus) {
		if b[i] != '"' {
			return nil, fastBail
		}
		for j := i + 1; j < len(b); j++ {
			switch c := b[j]; {
			case c == '"':
				v := b[i+1 : j]
				i = j + 1
				return v, fastOK
			case c == '\\' || c < 0x20:
				return nil, fastBail
			}
		}
		return nil, fastMore
	}
	// punct consumes whitespace then c.
	punct := func(c byte) fastStatus {
		if !ws() {
			return fastMore
		}
		if b[i] != c {
			return fastBail
		}
		i++
		return fastOK
	}

	if st = punct('{'); st != fastOK {
		return nil, 0, st
	}
	if !ws() {
		return nil, 0, fastMore
	}
	key, st := str()
	if st != fastOK {
		return nil, 0, st
	}
	if string(key) != wrapper {
		return nil, 0, fastBail
	}
	if st = punct(':'); st != fastOK {
		return nil, 0, st
	}
	if st = punct('{'); st != fastOK {
		return nil, 0, st
	}
	haveID, haveLink := false, false
	for {
		if !ws() {
			return nil, 0, fastMore
		}
		key, st := str()
		if st != fastOK {
			return nil, 0, st
		}
		if st = punct(':'); st != fastOK {
			return nil, 0, st
		}
		if !ws() {
			return nil, 0, fastMore
		}
		val, st := str()
		if st != fastOK {
			return nil, 0, st
		}
		switch string(key) {
		case "accountId":
			if haveID {
				return nil, 0, fastBail
			}
			haveID, id = true, val
		case "userLink":
			if haveLink {
				return nil, 0, fastBail
			}
			haveLink = true
		default:
			return nil, 0, fastBail
		}
		if !ws() {
			return nil, 0, fastMore
		}
		if b[i] == '}' {
			i++
			break
		}
		if b[i] != ',' {
			return nil, 0, fastBail
		}
		i++
	}
	if st = punct('}'); st != fastOK {
		return nil, 0, st
	}
	if !haveID {
		return nil, 0, fastBail
	}
	return id, i, fastOK
}

// parseID validates a decimal X id: 1 to 20 digits, no leading zero, at
// most 2^64-1. Ids go past 2^53, so they are never floats.
func parseID(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 || b[0] == '0' {
		return 0, false
	}
	if len(b) == 20 && string(b) > "18446744073709551615" {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		d := c - '0'
		if d > 9 {
			return 0, false
		}
		v = v*10 + uint64(d)
	}
	return v, true
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return "'" + string(c) + "'"
	}
	const hex = "0123456789abcdef"
	return "byte 0x" + string(hex[c>>4]) + string(hex[c&15])
}
