package xarchive

import (
	"io"
	"strconv"
	"sync"
)

// Limits bound what reading one archive may cost. A zero field takes its
// default (see DefaultLimits).
type Limits struct {
	// MaxBytes caps the uncompressed bytes read from the entries this
	// package reads (graph files, account.js, manifest.js), all entries
	// together. Re-reading an entry (a second Each) is not counted twice.
	MaxBytes int64
	// MaxEntries caps the number of entries in the ZIP central directory.
	MaxEntries int
	// MaxRatio caps uncompressed/compressed size for each ZIP entry read;
	// it is checked once an entry has produced more than 1 MiB, so small,
	// very repetitive files don't trip it.
	MaxRatio float64
	// MaxElement caps the size of one array element (one follow entry);
	// it bounds the memory a single element may take.
	MaxElement int
}

// Default limits.
const (
	DefaultMaxBytes   = 4 << 30
	DefaultMaxEntries = 1_000_000
	DefaultMaxRatio   = 200
	DefaultMaxElement = 1 << 20
	// ratioGrace is the output size below which MaxRatio is not enforced.
	ratioGrace = 1 << 20
)

// DefaultLimits returns the limits used for zero fields: 4 GiB, 1,000,000
// entries, ratio 200, 1 MiB per element.
func DefaultLimits() Limits {
	return Limits{
		MaxBytes:   DefaultMaxBytes,
		MaxEntries: DefaultMaxEntries,
		MaxRatio:   DefaultMaxRatio,
		MaxElement: DefaultMaxElement,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = d.MaxRatio
	}
	if l.MaxElement <= 0 {
		l.MaxElement = d.MaxElement
	}
	return l
}

// budget tracks MaxBytes across every read of one Archive. It keeps the
// furthest offset reached in each entry, so reading an entry twice costs
// once, while bytes are still counted as they stream (headers can lie).
type budget struct {
	max   int64
	mu    sync.Mutex
	total int64
	seen  map[string]int64
}

func (b *budget) reach(file string, n int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen == nil {
		b.seen = make(map[string]int64)
	}
	if prev := b.seen[file]; n > prev {
		b.total += n - prev
		b.seen[file] = n
	}
	if b.total > b.max {
		return newError(ELIMIT, file, "archive data exceeds the limit of %s uncompressed (MaxBytes)", humanBytes(b.max))
	}
	return nil
}

// meter counts the bytes coming out of one entry and enforces MaxBytes and
// MaxRatio while they stream.
type meter struct {
	r        io.Reader
	file     string
	n        int64
	budget   *budget
	comp     int64 // compressed size; 0 when the entry is not compressed
	maxRatio float64
	err      error
}

func (m *meter) Read(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	n, err := m.r.Read(p)
	if n > 0 {
		m.n += int64(n)
		if lerr := m.budget.reach(m.file, m.n); lerr != nil {
			m.err = lerr
			return 0, lerr
		}
		if m.comp > 0 && m.n > ratioGrace && float64(m.n) > m.maxRatio*float64(m.comp) {
			m.err = newError(ELIMIT, m.file, "compression ratio exceeds %g:1 (MaxRatio; %s from %s compressed): refusing a likely ZIP bomb",
				m.maxRatio, humanBytes(m.n), humanBytes(m.comp))
			return 0, m.err
		}
	}
	return n, err
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for v := n / unit; v >= unit; v /= unit {
		div *= unit
		exp++
	}
	whole := n / div
	frac := (n % div) * 10 / div
	s := strconv.FormatInt(whole, 10)
	if frac != 0 {
		s += "." + strconv.FormatInt(frac, 10)
	}
	return s + " " + string("KMGTPE"[exp]) + "iB"
}
