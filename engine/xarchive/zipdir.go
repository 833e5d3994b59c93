package xarchive

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
)

// countZipRecords counts the central directory records of a ZIP the way
// archive/zip reads them (from the directory start until a header does not
// match), stopping as soon as the count passes limit. archive/zip keeps a
// *File per record and does not trust the count in the directory end, so
// this is what bounds its memory. ok is false when the directory cannot be
// located; zip.NewReader then reports the problem.
func countZipRecords(r io.ReaderAt, size int64, limit int) (n int, ok bool) {
	start, ok := zipDirStart(r, size)
	if !ok {
		return 0, false
	}
	br := bufio.NewReaderSize(io.NewSectionReader(r, start, size-start), 64<<10)
	var hdr [46]byte
	for n <= limit {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return n, true
		}
		if binary.LittleEndian.Uint32(hdr[0:]) != 0x02014b50 {
			return n, true
		}
		skip := int64(binary.LittleEndian.Uint16(hdr[28:])) + int64(binary.LittleEndian.Uint16(hdr[30:])) + int64(binary.LittleEndian.Uint16(hdr[32:]))
		if _, err := br.Discard(int(skip)); err != nil {
			return n, true
		}
		n++
	}
	return n, true
}

// zipDirStart finds the offset of the central directory, following the
// same rules as archive/zip (directory end in the last 65 KiB, Zip64
// locator, base offset for data prepended to the ZIP).
func zipDirStart(r io.ReaderAt, size int64) (int64, bool) {
	const endLen, loc64Len = 22, 20
	tail := min(size, 65*1024)
	if tail < endLen {
		return 0, false
	}
	buf := make([]byte, tail)
	if _, err := r.ReadAt(buf, size-tail); err != nil && err != io.EOF {
		return 0, false
	}
	p := -1
	for i := len(buf) - endLen; i >= 0; i-- {
		if bytes.Equal(buf[i:i+4], []byte("PK\x05\x06")) {
			if int(binary.LittleEndian.Uint16(buf[i+20:]))+endLen+i <= len(buf) {
				p = i
			}
			break
		}
	}
	if p < 0 {
		return 0, false
	}
	endOff := size - tail + int64(p)
	d := buf[p:]
	records := uint64(binary.LittleEndian.Uint16(d[10:]))
	dirSize := uint64(binary.LittleEndian.Uint32(d[12:]))
	dirOff := uint64(binary.LittleEndian.Uint32(d[16:]))
	if records == 0xffff || dirSize == 0xffff || dirOff == 0xffffffff {
		var loc [loc64Len]byte
		if endOff >= loc64Len {
			if _, err := r.ReadAt(loc[:], endOff-loc64Len); err == nil &&
				binary.LittleEndian.Uint32(loc[0:]) == 0x07064b50 &&
				binary.LittleEndian.Uint32(loc[4:]) == 0 && binary.LittleEndian.Uint32(loc[16:]) == 1 {
				end64 := int64(binary.LittleEndian.Uint64(loc[8:]))
				var e [56]byte
				if end64 < 0 || end64 > size {
					return 0, false
				}
				if _, err := r.ReadAt(e[:], end64); err != nil || binary.LittleEndian.Uint32(e[0:]) != 0x06064b50 {
					return 0, false
				}
				endOff = end64
				dirSize = binary.LittleEndian.Uint64(e[40:])
				dirOff = binary.LittleEndian.Uint64(e[48:])
			}
		}
	}
	if dirSize > 1<<62 || dirOff > 1<<62 {
		return 0, false
	}
	base := endOff - int64(dirSize) - int64(dirOff)
	if o := base + int64(dirOff); o < 0 || o >= size {
		return 0, false
	}
	if base > 0 {
		var sig [4]byte
		if _, err := r.ReadAt(sig[:], int64(dirOff)); err == nil && binary.LittleEndian.Uint32(sig[:]) == 0x02014b50 {
			base = 0
		}
	}
	return base + int64(dirOff), true
}
