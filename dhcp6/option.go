package dhcp6

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"unicode/utf8"

	"github.com/insomniacslk/dhcp/iana"
)

// ErrMalformedOption is wrapped by every error that reports option bytes
// which do not follow the option's specification. Test with [errors.Is].
var ErrMalformedOption = errors.New("dhcp6: malformed option")

// ErrInvalidOptionValue is wrapped by every error that reports a typed
// value that cannot be encoded (an empty list, an entry over 65535 bytes).
var ErrInvalidOptionValue = errors.New("dhcp6: invalid option value")

// Option codes this package decodes (RFC 8415 §21, RFC 5970 §3).
const (
	CodeClientID    uint16 = 1
	CodeServerID    uint16 = 2
	CodeUserClass   uint16 = 15
	CodeVendorClass uint16 = 16
	CodeBootFileURL uint16 = 59
	CodeBootParams  uint16 = 60
	CodeArchList    uint16 = 61
	CodeNII         uint16 = 62
)

// EnterprisePXE is the IANA enterprise number (343, Intel) under which PXE
// and UEFI HTTP boot firmware send their vendor class.
const EnterprisePXE uint32 = 343

// OptionError describes a malformed or unencodable option. It unwraps to
// [ErrMalformedOption] or [ErrInvalidOptionValue].
type OptionError struct {
	// Code is the option code.
	Code uint16
	// Msg says what is wrong.
	Msg string
	// Err is ErrMalformedOption or ErrInvalidOptionValue.
	Err error
}

// Error returns a message such as "dhcp6: option 61: odd length 3".
func (e *OptionError) Error() string { return fmt.Sprintf("dhcp6: option %d: %s", e.Code, e.Msg) }

// Unwrap returns e.Err.
func (e *OptionError) Unwrap() error { return e.Err }

func malformed(code uint16, format string, a ...any) error {
	return &OptionError{Code: code, Msg: fmt.Sprintf(format, a...), Err: ErrMalformedOption}
}

func invalid(code uint16, format string, a ...any) error {
	return &OptionError{Code: code, Msg: fmt.Sprintf(format, a...), Err: ErrInvalidOptionValue}
}

// ArchList is option 61, the client's processor architecture types in
// order of preference (RFC 5970 §3.3). Its zero value is an empty list,
// which does not encode.
type ArchList []iana.Arch

// ParseArchList decodes the payload of option 61: one or more 16-bit
// architecture types.
func ParseArchList(b []byte) (ArchList, error) {
	if len(b) == 0 {
		return nil, malformed(CodeArchList, "empty")
	}
	if len(b)%2 != 0 {
		return nil, malformed(CodeArchList, "odd length %d", len(b))
	}
	l := make(ArchList, len(b)/2)
	for i := range l {
		l[i] = iana.Arch(binary.BigEndian.Uint16(b[2*i:]))
	}
	return l, nil
}

// AppendBinary appends the payload of option 61.
func (l ArchList) AppendBinary(b []byte) ([]byte, error) {
	if len(l) == 0 {
		return b, invalid(CodeArchList, "empty architecture list")
	}
	if len(l) > 0xffff/2 {
		return b, invalid(CodeArchList, "%d architectures do not fit", len(l))
	}
	for _, a := range l {
		b = binary.BigEndian.AppendUint16(b, uint16(a))
	}
	return b, nil
}

// NII is option 62, the client network interface identifier (RFC 5970
// §3.4): interface type 1 for UNDI, and its version.
type NII struct {
	Type, Major, Minor uint8
}

// ParseNII decodes the 3-byte payload of option 62.
func ParseNII(b []byte) (NII, error) {
	if len(b) != 3 {
		return NII{}, malformed(CodeNII, "length %d, want 3", len(b))
	}
	return NII{Type: b[0], Major: b[1], Minor: b[2]}, nil
}

// AppendBinary appends the payload of option 62.
func (n NII) AppendBinary(b []byte) ([]byte, error) {
	return append(b, n.Type, n.Major, n.Minor), nil
}

// readOpaque splits a sequence of 16-bit-length-prefixed items (the
// layout of options 15, 16 and 60). It allocates one copy of b.
func readOpaque(code uint16, b []byte, what string) ([][]byte, error) {
	c := append([]byte(nil), b...)
	var out [][]byte
	for len(c) > 0 {
		if len(c) < 2 {
			return nil, malformed(code, "truncated %s length", what)
		}
		n := int(binary.BigEndian.Uint16(c))
		c = c[2:]
		if n > len(c) {
			return nil, malformed(code, "%s of %d bytes, %d left", what, n, len(c))
		}
		out = append(out, c[:n:n])
		c = c[n:]
	}
	return out, nil
}

func appendOpaque(code uint16, b []byte, items [][]byte) ([]byte, error) {
	for _, it := range items {
		if len(it) > 0xffff {
			return b, invalid(code, "entry of %d bytes does not fit", len(it))
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(it)))
		b = append(b, it...)
	}
	return b, nil
}

// UserClass is option 15, the client's user classes (RFC 8415 §21.15).
type UserClass [][]byte

// ParseUserClass decodes the payload of option 15: one or more
// length-prefixed classes. Empty classes are allowed, an empty option is
// not.
func ParseUserClass(b []byte) (UserClass, error) {
	if len(b) == 0 {
		return nil, malformed(CodeUserClass, "empty")
	}
	l, err := readOpaque(CodeUserClass, b, "user class")
	return UserClass(l), err
}

// Has reports whether one of the classes is s (compared exactly).
func (u UserClass) Has(s string) bool {
	for _, c := range u {
		if string(c) == s {
			return true
		}
	}
	return false
}

// AppendBinary appends the payload of option 15.
func (u UserClass) AppendBinary(b []byte) ([]byte, error) {
	if len(u) == 0 {
		return b, invalid(CodeUserClass, "no user class")
	}
	return appendOpaque(CodeUserClass, b, u)
}

// VendorClass is option 16 (RFC 8415 §21.16): an enterprise number and
// its class data. PXE firmware sends [EnterprisePXE] with one entry such
// as "PXEClient:Arch:00007:UNDI:003016".
type VendorClass struct {
	Enterprise uint32
	Data       [][]byte
}

// ParseVendorClass decodes the payload of option 16.
func ParseVendorClass(b []byte) (VendorClass, error) {
	if len(b) < 4 {
		return VendorClass{}, malformed(CodeVendorClass, "length %d, want at least 4", len(b))
	}
	d, err := readOpaque(CodeVendorClass, b[4:], "vendor class")
	if err != nil {
		return VendorClass{}, err
	}
	return VendorClass{Enterprise: binary.BigEndian.Uint32(b), Data: d}, nil
}

// AppendBinary appends the payload of option 16.
func (v VendorClass) AppendBinary(b []byte) ([]byte, error) {
	b = binary.BigEndian.AppendUint32(b, v.Enterprise)
	return appendOpaque(CodeVendorClass, b, v.Data)
}

// Class returns "PXEClient" or "HTTPClient" when v is enterprise 343 and
// its first entry starts with one of them (followed by the end or ':'),
// and "" otherwise.
func (v VendorClass) Class() string {
	if v.Enterprise != EnterprisePXE || len(v.Data) == 0 {
		return ""
	}
	s := string(v.Data[0])
	for _, c := range []string{"PXEClient", "HTTPClient"} {
		if rest, ok := strings.CutPrefix(s, c); ok && (rest == "" || rest[0] == ':') {
			return c
		}
	}
	return ""
}

// BootFileURL is option 59, the URL of the boot file (RFC 5970 §3.1).
type BootFileURL string

// ParseBootFileURL decodes the payload of option 59: a non-empty UTF-8
// URL without NUL bytes.
func ParseBootFileURL(b []byte) (BootFileURL, error) {
	if len(b) == 0 {
		return "", malformed(CodeBootFileURL, "empty")
	}
	if !utf8.Valid(b) {
		return "", malformed(CodeBootFileURL, "not UTF-8")
	}
	if strings.IndexByte(string(b), 0) >= 0 {
		return "", malformed(CodeBootFileURL, "NUL byte in URL")
	}
	return BootFileURL(b), nil
}

// AppendBinary appends the payload of option 59.
func (u BootFileURL) AppendBinary(b []byte) ([]byte, error) {
	if u == "" || len(u) > 0xffff {
		return b, invalid(CodeBootFileURL, "URL of %d bytes", len(u))
	}
	return append(b, u...), nil
}

// BootFileParams is option 60, the parameters for the boot file (RFC
// 5970 §3.2), each a length-prefixed UTF-8 string.
type BootFileParams []string

// ParseBootFileParams decodes the payload of option 60.
func ParseBootFileParams(b []byte) (BootFileParams, error) {
	if len(b) == 0 {
		return nil, malformed(CodeBootParams, "empty")
	}
	items, err := readOpaque(CodeBootParams, b, "parameter")
	if err != nil {
		return nil, err
	}
	p := make(BootFileParams, len(items))
	for i, it := range items {
		if len(it) == 0 {
			return nil, malformed(CodeBootParams, "empty parameter %d", i)
		}
		if !utf8.Valid(it) {
			return nil, malformed(CodeBootParams, "parameter %d is not UTF-8", i)
		}
		p[i] = string(it)
	}
	return p, nil
}

// AppendBinary appends the payload of option 60.
func (p BootFileParams) AppendBinary(b []byte) ([]byte, error) {
	if len(p) == 0 {
		return b, invalid(CodeBootParams, "no parameter")
	}
	items := make([][]byte, len(p))
	for i, s := range p {
		if s == "" {
			return b, invalid(CodeBootParams, "empty parameter %d", i)
		}
		items[i] = []byte(s)
	}
	return appendOpaque(CodeBootParams, b, items)
}

// DUID types (RFC 8415 §11.1, RFC 6355).
const (
	DUIDLLT  uint16 = 1
	DUIDEN   uint16 = 2
	DUIDLL   uint16 = 3
	DUIDUUID uint16 = 4
)

// DUID is a DHCP unique identifier, the payload of options 1 and 2 (RFC
// 8415 §11). Type selects which fields mean something: HWType and
// LinkLayer for DUID-LL (3) and DUID-LLT (1, with Time), Enterprise and
// ID for DUID-EN (2), ID for DUID-UUID (4) and any other type.
type DUID struct {
	Type       uint16
	HWType     uint16
	Time       uint32
	LinkLayer  []byte
	Enterprise uint32
	ID         []byte
}

// maxDUID is the longest DUID: a 2-byte type and up to 128 bytes
// (RFC 8415 §11.1).
const maxDUID = 130

// ParseDUID decodes a DUID; code (1 or 2) only names the option in errors.
func ParseDUID(code uint16, b []byte) (DUID, error) {
	if len(b) < 3 {
		return DUID{}, malformed(code, "DUID of %d bytes, want at least 3", len(b))
	}
	if len(b) > maxDUID {
		return DUID{}, malformed(code, "DUID of %d bytes, at most %d allowed", len(b), maxDUID)
	}
	d := DUID{Type: binary.BigEndian.Uint16(b)}
	body := b[2:]
	switch d.Type {
	case DUIDLLT:
		if len(body) < 7 {
			return DUID{}, malformed(code, "DUID-LLT of %d bytes, want at least 9", len(b))
		}
		d.HWType = binary.BigEndian.Uint16(body)
		d.Time = binary.BigEndian.Uint32(body[2:])
		d.LinkLayer = append([]byte(nil), body[6:]...)
	case DUIDLL:
		if len(body) < 3 {
			return DUID{}, malformed(code, "DUID-LL of %d bytes, want at least 5", len(b))
		}
		d.HWType = binary.BigEndian.Uint16(body)
		d.LinkLayer = append([]byte(nil), body[2:]...)
	case DUIDEN:
		if len(body) < 5 {
			return DUID{}, malformed(code, "DUID-EN of %d bytes, want at least 7", len(b))
		}
		d.Enterprise = binary.BigEndian.Uint32(body)
		d.ID = append([]byte(nil), body[4:]...)
	case DUIDUUID:
		if len(body) != 16 {
			return DUID{}, malformed(code, "DUID-UUID of %d bytes, want 18", len(b))
		}
		d.ID = append([]byte(nil), body...)
	default:
		d.ID = append([]byte(nil), body...)
	}
	return d, nil
}

// AppendBinary appends the DUID's wire form.
func (d DUID) AppendBinary(b []byte) ([]byte, error) {
	start := len(b)
	b = binary.BigEndian.AppendUint16(b, d.Type)
	switch d.Type {
	case DUIDLLT:
		b = binary.BigEndian.AppendUint16(b, d.HWType)
		b = binary.BigEndian.AppendUint32(b, d.Time)
		b = append(b, d.LinkLayer...)
	case DUIDLL:
		b = binary.BigEndian.AppendUint16(b, d.HWType)
		b = append(b, d.LinkLayer...)
	case DUIDEN:
		b = binary.BigEndian.AppendUint32(b, d.Enterprise)
		b = append(b, d.ID...)
	default:
		b = append(b, d.ID...)
	}
	if n := len(b) - start; n < 3 || n > maxDUID {
		return b[:start], invalid(CodeClientID, "DUID of %d bytes", n)
	}
	if d.Type == DUIDUUID && len(d.ID) != 16 {
		return b[:start], invalid(CodeClientID, "DUID-UUID of %d bytes, want 16", len(d.ID))
	}
	return b, nil
}

// MAC returns the Ethernet address of a DUID-LL or DUID-LLT with hardware
// type 1 and a 6-byte address, as a copy, and false for any other DUID.
func (d DUID) MAC() (net.HardwareAddr, bool) {
	if (d.Type != DUIDLL && d.Type != DUIDLLT) || d.HWType != uint16(iana.HWTypeEthernet) || len(d.LinkLayer) != 6 {
		return nil, false
	}
	return append(net.HardwareAddr(nil), d.LinkLayer...), true
}

// Key returns the DUID's wire form as a string, for use as a map key.
// An unencodable DUID gives "".
func (d DUID) Key() string {
	b, err := d.AppendBinary(nil)
	if err != nil {
		return ""
	}
	return string(b)
}
