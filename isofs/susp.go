package isofs

import (
	"time"
)

// Limits on what one directory record's System Use Sharing Protocol
// entries may add up to; beyond them the record is corrupt.
const (
	maxCEHops    = 32       // continuation areas followed per record
	maxSUSPBytes = 64 << 10 // system use bytes read per record, CE areas included
	maxNameLen   = 4096     // bytes of an NM name
	maxLinkLen   = 4096     // bytes of an SL target
)

// rrInfo is what the SUSP and Rock Ridge entries of one directory record
// say (IEEE P1281 SUSP 1.12, IEEE P1282 RRIP 1.12).
type rrInfo struct {
	name    string // NM, pieces joined
	hasName bool

	mode    uint32 // PX: POSIX st_mode
	hasMode bool
	nlink   uint32
	uid     uint32
	gid     uint32
	ino     uint32

	tf string // TF entry from its flags byte on

	link    []byte // SL target being assembled
	hasLink bool
	slSep   bool // a slash goes before the next SL component

	child     uint32 // CL: location of the relocated directory
	hasChild  bool
	relocated bool // RE: this record is the relocated directory itself

	ext    []string // ER: identifiers of the extensions in use
	sp     bool     // SP: SUSP is in use; skip is its LEN_SKP
	skip   int
	zf     bool   // ZF: the file is zisofs-compressed
	zfAlgo string // ZF algorithm, "pz" for zisofs
	zfSize uint32 // ZF uncompressed size
}

// POSIX file type bits of st_mode, as PX records them (RRIP §4.1.1).
const (
	sIFMT   = 0o170000
	sIFSOCK = 0o140000
	sIFLNK  = 0o120000
	sIFREG  = 0o100000
	sIFBLK  = 0o060000
	sIFDIR  = 0o040000
	sIFCHR  = 0o020000
	sIFIFO  = 0o010000
)

// parseSUSP decodes the system use area su of the record at offset recOff
// into info, following CE continuation areas. skip is the SP LEN_SKP in
// effect. Malformed entries are errors; unknown ones are ignored.
func (f *FS) parseSUSP(su string, skip int, recOff int64, info *rrInfo) error {
	if skip > len(su) {
		return nil
	}
	su = su[skip:]
	hops, total := 0, len(su)
	for {
		var ceLoc, ceOff, ceLen uint32
		ce := false
	entries:
		for len(su) >= 4 {
			l := int(su[2])
			if l < 4 {
				break // padding
			}
			if l > len(su) {
				return corrupt(recOff, "SUSP entry length")
			}
			e := su[:l]
			su = su[l:]
			switch e[:2] {
			case "ST":
				break entries
			case "CE":
				if l < 28 {
					return corrupt(recOff, "SUSP CE entry")
				}
				ce, ceLoc, ceOff, ceLen = true, le32(e, 4), le32(e, 12), le32(e, 20)
			case "ER":
				// LEN_ID, LEN_DES, LEN_SRC, EXT_VER, then the identifier
				// (SUSP §5.5).
				if l < 8 || 8+int(e[4]) > l {
					return corrupt(recOff, "SUSP ER entry")
				}
				if len(info.ext) < 8 {
					info.ext = append(info.ext, e[8:8+int(e[4])])
				}
			case "SP":
				if l >= 7 && e[4] == 0xBE && e[5] == 0xEF {
					info.sp, info.skip = true, int(e[6])
				}
			case "PX":
				if l < 36 {
					return corrupt(recOff, "Rock Ridge PX entry")
				}
				info.hasMode = true
				info.mode, info.nlink = le32(e, 4), le32(e, 12)
				info.uid, info.gid = le32(e, 20), le32(e, 28)
				if l >= 44 {
					info.ino = le32(e, 36)
				}
			case "NM":
				if l < 5 {
					return corrupt(recOff, "Rock Ridge NM entry")
				}
				if e[4]&0x06 != 0 { // CURRENT or PARENT: not a name
					continue
				}
				if !info.hasName {
					info.name, info.hasName = e[5:], true
				} else {
					if len(info.name)+l-5 > maxNameLen {
						return corrupt(recOff, "Rock Ridge NM name too long")
					}
					info.name += e[5:]
				}
			case "SL":
				if l < 5 {
					return corrupt(recOff, "Rock Ridge SL entry")
				}
				if err := info.addSL(e[5:], recOff); err != nil {
					return err
				}
			case "TF":
				if l < 5 {
					return corrupt(recOff, "Rock Ridge TF entry")
				}
				info.tf = e[4:]
			case "CL":
				if l < 12 {
					return corrupt(recOff, "Rock Ridge CL entry")
				}
				info.child, info.hasChild = le32(e, 4), true
			case "PL":
				// The real parent of a relocated directory: isofs knows it
				// already, having come through the CL record.
				if l < 12 {
					return corrupt(recOff, "Rock Ridge PL entry")
				}
			case "RE":
				info.relocated = true
			case "ZF":
				// Algorithm, header size, log2 block size, uncompressed
				// size both-endian (zisofs.go).
				if l < 16 {
					return corrupt(recOff, "Rock Ridge ZF entry")
				}
				info.zf, info.zfAlgo, info.zfSize = true, e[4:6], le32(e, 8)
			}
		}
		if !ce {
			return nil
		}
		hops++
		total += int(ceLen)
		if hops > maxCEHops || total > maxSUSPBytes {
			return corrupt(recOff, "SUSP continuation areas too long or looping")
		}
		start := int64(ceLoc)*f.bs + int64(ceOff)
		if int64(ceOff) >= f.bs || start+int64(ceLen) > f.limit {
			return corrupt(recOff, "SUSP CE entry points past the end of the image")
		}
		buf := make([]byte, ceLen)
		if _, err := f.r.ReadAt(buf, start); err != nil {
			return truncated(start, "SUSP continuation area")
		}
		su = string(buf)
	}
}

// addSL appends the component records of one SL entry (RRIP §4.1.3) to the
// link target, as recorded: a ROOT component is a slash ("/x", and in the
// middle of a target the empty component of a doubled slash, which is how
// xorriso records "a//b" and ".//file"), CURRENT is "." and PARENT "..";
// a slash separates a component from the next unless the component is ROOT
// or continues in the next record (its CONTINUE flag). Nothing is cleaned:
// ".//file" stays ".//file", as xorriso and Linux read it.
func (info *rrInfo) addSL(comps string, recOff int64) error {
	info.hasLink = true
	for len(comps) > 0 {
		if len(comps) < 2 || 2+int(comps[1]) > len(comps) {
			return corrupt(recOff, "Rock Ridge SL component")
		}
		flags, content := comps[0], comps[2:2+int(comps[1])]
		comps = comps[2+len(content):]
		if info.slSep {
			info.link = append(info.link, '/')
		}
		root := flags&0x38 != 0 // ROOT, VOLROOT, HOST
		switch {
		case flags&0x02 != 0:
			info.link = append(info.link, '.')
		case flags&0x04 != 0:
			info.link = append(info.link, ".."...)
		case root:
			info.link = append(info.link, '/')
		default:
			info.link = append(info.link, content...)
		}
		info.slSep = !root && flags&0x01 == 0
		if len(info.link) > maxLinkLen {
			return corrupt(recOff, "Rock Ridge SL target too long")
		}
	}
	return nil
}

// tfTime returns the time stamp selected by bit from a TF entry (RRIP
// §4.1.6) given from its flags byte on: the flags say which stamps are
// present, in the order creation, modify, access, attributes, ...; bit 7
// selects the 17-byte form over the 7-byte one.
func tfTime(tf string, bit byte) (time.Time, bool) {
	if len(tf) == 0 || tf[0]&bit == 0 {
		return time.Time{}, false
	}
	flags := tf[0]
	size := 7
	if flags&0x80 != 0 {
		size = 17
	}
	pos := 1
	for b := byte(1); b < bit; b <<= 1 {
		if flags&b != 0 {
			pos += size
		}
	}
	if pos+size > len(tf) {
		return time.Time{}, false
	}
	if size == 7 {
		return shortTime(tf[pos : pos+7]), true
	}
	return longTime(tf[pos : pos+17]), true
}
