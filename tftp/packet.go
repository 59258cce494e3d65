package tftp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
)

// TFTP opcodes (RFC 1350 §5, RFC 2347 §2).
const (
	opRRQ   = 1
	opWRQ   = 2
	opDATA  = 3
	opACK   = 4
	opERROR = 5
	opOACK  = 6
)

// TFTP error codes (RFC 1350 Appendix, RFC 2347 §2).
const (
	errNotDefined       = 0
	errFileNotFound     = 1
	errAccessViolation  = 2
	errIllegalOperation = 4
	errUnknownTID       = 5
	errOptionRefused    = 8
)

// Limits from the option RFCs.
const (
	minBlockSize     = 8     // RFC 2348
	maxBlockSize     = 65464 // RFC 2348
	defaultBlockSize = 512   // RFC 1350
	maxWindowSize    = 65535 // RFC 7440
	maxRequestLen    = 2048  // longer requests are refused, not parsed
	maxOptions       = 32    // options beyond this many are ignored
)

// errMalformed is returned by parseRequest for packets that are not a
// well-formed read or write request.
var errMalformed = errors.New("tftp: malformed request")

// request is a decoded RRQ or WRQ (RFC 1350 §5 with RFC 2347 options).
// Option fields hold -1 when the client did not ask for the option or
// asked for it with a value outside the range its RFC allows; such options
// are left out of the OACK, as RFC 2347 §3 permits.
type request struct {
	op       int
	name     string
	mode     string // lower case: "octet", "netascii" or "mail"
	blksize  int    // RFC 2348: 8..65464 (larger values are clamped)
	tsize    bool   // RFC 2349: the client asked for the transfer size
	timeout  int    // RFC 2349: 1..255 seconds
	window   int    // RFC 7440: 1..65535 blocks
	rollover int    // de-facto "rollover" option: 0 or 1
	order    []string
}

// parseRequest decodes a read or write request:
//
//	2 bytes  opcode (1 RRQ, 2 WRQ)
//	string   filename, NUL terminated
//	string   mode, NUL terminated
//	{string option name, NUL; string value, NUL} ...
//
// Option names and the mode are case-insensitive. Unknown options are
// ignored; a repeated option keeps its first value. An unterminated or
// empty option name ends the option list (some ROMs pad requests with
// NULs). The returned request does not refer to b.
func parseRequest(b []byte) (*request, error) {
	if len(b) < 4 || len(b) > maxRequestLen {
		return nil, errMalformed
	}
	op := int(binary.BigEndian.Uint16(b))
	if op != opRRQ && op != opWRQ {
		return nil, errMalformed
	}
	rest := b[2:]
	name, rest, ok := cutString(rest)
	if !ok || name == "" {
		return nil, errMalformed
	}
	mode, rest, ok := cutString(rest)
	if !ok {
		return nil, errMalformed
	}
	r := &request{op: op, name: name, mode: asciiLower(mode), blksize: -1, timeout: -1, window: -1, rollover: -1}
	switch r.mode {
	case "octet", "netascii", "mail":
	default:
		return nil, errMalformed
	}
	for len(r.order) < maxOptions {
		var k, v string
		k, rest, ok = cutString(rest)
		if !ok || k == "" {
			break
		}
		v, rest, ok = cutString(rest)
		if !ok {
			break
		}
		k = asciiLower(k)
		if r.has(k) {
			continue
		}
		if k == "tsize" {
			// In a request the value is meaningless (RFC 2349 asks for
			// "0"); atftp 0.8 sends "enable". Accept any.
			r.tsize = true
			r.order = append(r.order, k)
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			continue
		}
		switch k {
		case "blksize":
			if n < minBlockSize {
				continue
			}
			r.blksize = min(n, maxBlockSize)
		case "timeout":
			if n < 1 || n > 255 {
				continue
			}
			r.timeout = n
		case "windowsize":
			if n < 1 || n > maxWindowSize {
				continue
			}
			r.window = n
		case "rollover":
			if n != 0 && n != 1 {
				continue
			}
			r.rollover = n
		default:
			continue
		}
		r.order = append(r.order, k)
	}
	return r, nil
}

// has reports whether option k was accepted already.
func (r *request) has(k string) bool {
	for _, o := range r.order {
		if o == k {
			return true
		}
	}
	return false
}

// equal reports whether two requests ask for the same transfer.
func (r *request) equal(o *request) bool {
	if r.op != o.op || r.name != o.name || r.mode != o.mode || r.blksize != o.blksize ||
		r.tsize != o.tsize || r.timeout != o.timeout || r.window != o.window ||
		r.rollover != o.rollover || len(r.order) != len(o.order) {
		return false
	}
	for i := range r.order {
		if r.order[i] != o.order[i] {
			return false
		}
	}
	return true
}

func cutString(b []byte) (s string, rest []byte, ok bool) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", nil, false
	}
	return string(b[:i]), b[i+1:], true
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// appendError appends an ERROR packet (RFC 1350 §5): opcode 5, a 2-byte
// error code, a NUL-terminated message.
func appendError(b []byte, code int, msg string) []byte {
	b = binary.BigEndian.AppendUint16(b, opERROR)
	b = binary.BigEndian.AppendUint16(b, uint16(code))
	b = append(b, msg...)
	return append(b, 0)
}

// appendOption appends one OACK option (RFC 2347 §2): name NUL value NUL.
func appendOption(b []byte, name string, value int64) []byte {
	b = append(b, name...)
	b = append(b, 0)
	b = strconv.AppendInt(b, value, 10)
	return append(b, 0)
}

// parseError decodes an ERROR packet's code and message; ok is false for a
// packet too short to be one.
func parseError(b []byte) (code int, msg string, ok bool) {
	if len(b) < 4 || binary.BigEndian.Uint16(b) != opERROR {
		return 0, "", false
	}
	code = int(binary.BigEndian.Uint16(b[2:]))
	m := b[4:]
	if i := bytes.IndexByte(m, 0); i >= 0 {
		m = m[:i]
	}
	if len(m) > 128 {
		m = m[:128]
	}
	return code, string(m), true
}
