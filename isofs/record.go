package isofs

import (
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// dirRecord is a directory record (ECMA-119 §9.1) viewed in place; it is at
// least minRecordLen bytes long and its length byte has been checked.
type dirRecord string

const minRecordLen = 34 // 33 fixed bytes and a one-byte identifier

// File flags, ECMA-119 §9.1.6.
const (
	flagHidden      = 0x01
	flagDirectory   = 0x02
	flagMultiExtent = 0x80
)

func (r dirRecord) length() int        { return int(r[0]) }
func (r dirRecord) earLength() uint32  { return uint32(r[1]) }
func (r dirRecord) extent() uint32     { return le32(string(r), 2) }
func (r dirRecord) dataLength() uint32 { return le32(string(r), 10) }
func (r dirRecord) flags() byte        { return r[25] }
func (r dirRecord) unitSize() byte     { return r[26] }
func (r dirRecord) idLength() int      { return int(r[32]) }

// split returns the file identifier and the system use area, or ok false
// when the identifier does not fit in the record.
func (r dirRecord) split() (id, su string, ok bool) {
	n := r.idLength()
	end := 33 + n
	if end > len(r) {
		return "", "", false
	}
	id = string(r[33:end])
	if n%2 == 0 { // padding byte, §9.1.12
		end++
	}
	if end < len(r) {
		su = string(r[end:])
	}
	return id, su, true
}

// shortTime decodes the 7-byte recording date and time of ECMA-119 §9.1.5:
// years since 1900, month, day, hour, minute, second, and the offset from
// GMT in 15-minute intervals. An all-zero or out-of-range value is the zero
// time.
func shortTime[T string | []byte](b T) time.Time {
	if len(b) < 7 {
		return time.Time{}
	}
	mon, day, h, m, s := b[1], b[2], b[3], b[4], b[5]
	if mon < 1 || mon > 12 || day < 1 || day > 31 || h > 23 || m > 59 || s > 60 {
		return time.Time{}
	}
	return time.Date(1900+int(b[0]), time.Month(mon), int(day), int(h), int(m), int(s), 0, zone(int8(b[6])))
}

// longTime decodes the 17-byte date and time of ECMA-119 §8.4.26.1: 16 ASCII
// digits YYYYMMDDHHMMSScc and the GMT offset byte. All zeros (or any
// non-digit) is the zero time.
func longTime(b string) time.Time {
	if len(b) < 17 {
		return time.Time{}
	}
	var v [8]int
	for i := range 8 {
		hi, lo := b[2*i], b[2*i+1]
		if hi < '0' || hi > '9' || lo < '0' || lo > '9' {
			return time.Time{}
		}
		v[i] = int(hi-'0')*10 + int(lo-'0')
	}
	year := v[0]*100 + v[1]
	mon, day, h, m, s, cs := v[2], v[3], v[4], v[5], v[6], v[7]
	if year == 0 || mon < 1 || mon > 12 || day < 1 || day > 31 || h > 23 || m > 59 || s > 60 {
		return time.Time{}
	}
	return time.Date(year, time.Month(mon), day, h, m, s, cs*10_000_000, zone(int8(b[16])))
}

// zones holds the 256 GMT offsets a time can carry, made once.
var zones = sync.OnceValue(func() *[256]*time.Location {
	var zones [256]*time.Location
	for i := range zones {
		off := int(int8(i))
		if off < -48 || off > 52 {
			off = 0
		}
		if off == 0 {
			zones[i] = time.UTC
			continue
		}
		zones[i] = time.FixedZone("", off*15*60)
	}
	return &zones
})

func zone(q int8) *time.Location { return zones()[uint8(q)] }

// le32 and le16 read little-endian integers from a string; callers check
// the bounds.
func le32(s string, i int) uint32 {
	return uint32(s[i]) | uint32(s[i+1])<<8 | uint32(s[i+2])<<16 | uint32(s[i+3])<<24
}

func le16(s string, i int) uint16 { return uint16(s[i]) | uint16(s[i+1])<<8 }

// plainName turns an ECMA-119 file identifier (§7.5) into a name: the
// version ";n" is removed and so is a trailing dot left by an empty
// extension.
func plainName(id string) string {
	for i := len(id) - 1; i >= 0; i-- {
		if id[i] == ';' {
			id = id[:i]
			break
		}
	}
	if len(id) > 1 && id[len(id)-1] == '.' {
		id = id[:len(id)-1]
	}
	return id
}

// jolietName decodes a Joliet identifier: UCS-2 (in practice UTF-16)
// big-endian, with the same version suffix as ECMA-119. Unpaired
// surrogates and an odd trailing byte become U+FFFD.
func jolietName(id string) string {
	buf := make([]byte, 0, len(id)/2*3+3)
	for i := 0; i+1 < len(id); i += 2 {
		c := rune(id[i])<<8 | rune(id[i+1])
		if utf16.IsSurrogate(c) && i+3 < len(id) {
			c2 := rune(id[i+2])<<8 | rune(id[i+3])
			if r := utf16.DecodeRune(c, c2); r != utf8.RuneError {
				buf = utf8.AppendRune(buf, r)
				i += 2
				continue
			}
		}
		if utf16.IsSurrogate(c) {
			c = utf8.RuneError
		}
		buf = utf8.AppendRune(buf, c)
	}
	if len(id)%2 == 1 {
		buf = utf8.AppendRune(buf, utf8.RuneError)
	}
	return plainName(string(buf))
}

func (r dirRecord) interleaveGap() byte { return r[27] }
