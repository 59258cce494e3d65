package dhcp

import (
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"

	"github.com/pxekit/pxekit/internal/pxelinux"
)

// ClientArchs is option 93, the client system architecture list (RFC 4578
// §2.1, values from the IANA "Processor Architecture Types" registry).
// Clients send one type; the option allows several. Beware that RFC 4578's
// table swapped 7 and 9: x86-64 UEFI firmware sends 7 (EFI x86-64, as
// the IANA registry now says), and some sends 9.
//
// A nil or empty list cannot be encoded.
type ClientArchs []iana.Arch

// ParseClientArchs decodes option 93: one or more 16-bit big-endian
// architecture types.
func ParseClientArchs(b []byte) (ClientArchs, error) {
	if len(b) == 0 || len(b)%2 != 0 {
		return nil, optMalformed(dhcpv4.OptionClientSystemArchitectureType, 0, "length %d, want a positive multiple of 2", len(b))
	}
	a := make(ClientArchs, len(b)/2)
	for i := range a {
		a[i] = iana.Arch(binary.BigEndian.Uint16(b[2*i:]))
	}
	return a, nil
}

// FirstClientArch returns the first architecture of option 93 without
// allocating, for callers that need only that (clients send one).
func FirstClientArch(b []byte) (iana.Arch, error) {
	if len(b) == 0 || len(b)%2 != 0 {
		return 0, optMalformed(dhcpv4.OptionClientSystemArchitectureType, 0, "length %d, want a positive multiple of 2", len(b))
	}
	return iana.Arch(binary.BigEndian.Uint16(b)), nil
}

// AppendBinary appends the option value to b. It fails when a is empty.
// A list longer than 127 types exceeds 255 bytes and is split into several
// options by insomniacslk's encoder (RFC 3396).
func (a ClientArchs) AppendBinary(b []byte) ([]byte, error) {
	if len(a) == 0 {
		return b, optInvalid(dhcpv4.OptionClientSystemArchitectureType, 0, "empty architecture list")
	}
	for _, t := range a {
		b = binary.BigEndian.AppendUint16(b, uint16(t))
	}
	return b, nil
}

// MarshalBinary returns the option value.
func (a ClientArchs) MarshalBinary() ([]byte, error) { return a.AppendBinary(nil) }

// ToBytes implements [dhcpv4.OptionValue]; it returns nil when a is empty.
func (a ClientArchs) ToBytes() []byte { return optBytes(a.AppendBinary(nil)) }

// String returns the types as numbers with their IANA names, such as
// "7 (EFI x86-64)".
func (a ClientArchs) String() string {
	var sb strings.Builder
	for i, t := range a {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(strconv.Itoa(int(t)))
		sb.WriteString(" (")
		sb.WriteString(t.String())
		sb.WriteString(")")
	}
	return sb.String()
}

// Option returns a as option 93.
func (a ClientArchs) Option() dhcpv4.Option {
	return dhcpv4.Option{Code: dhcpv4.OptionClientSystemArchitectureType, Value: a}
}

// WithClientArchs returns a modifier that sets option 93, or leaves the
// packet alone when the list is empty.
func WithClientArchs(a ...iana.Arch) dhcpv4.Modifier {
	b, err := ClientArchs(a).AppendBinary(nil)
	return optModifier(dhcpv4.OptionClientSystemArchitectureType, b, err)
}

// ClientNDI is option 94, the client network device interface (RFC 4578
// §2.2): the interface type (1 for UNDI) and its major and minor version,
// such as UNDI 3.16 or 2.1. The zero value encodes as three zero bytes.
type ClientNDI struct {
	Type  uint8
	Major uint8
	Minor uint8
}

// NDITypeUNDI is the [ClientNDI] type of the Universal Network Driver
// Interface, the only type defined.
const NDITypeUNDI = 1

// ParseClientNDI decodes option 94, which must be 3 bytes.
func ParseClientNDI(b []byte) (ClientNDI, error) {
	if len(b) != 3 {
		return ClientNDI{}, optMalformed(dhcpv4.OptionClientNetworkInterfaceIdentifier, 0, "length %d, want 3", len(b))
	}
	return ClientNDI{Type: b[0], Major: b[1], Minor: b[2]}, nil
}

// AppendBinary appends the 3-byte option value to b. It never fails.
func (n ClientNDI) AppendBinary(b []byte) ([]byte, error) {
	return append(b, n.Type, n.Major, n.Minor), nil
}

// MarshalBinary returns the option value.
func (n ClientNDI) MarshalBinary() ([]byte, error) { return n.AppendBinary(nil) }

// ToBytes implements [dhcpv4.OptionValue].
func (n ClientNDI) ToBytes() []byte { return optBytes(n.AppendBinary(nil)) }

// String returns "UNDI 3.16" for type 1, and "type 5 1.0" for others.
func (n ClientNDI) String() string {
	v := strconv.Itoa(int(n.Major)) + "." + strconv.Itoa(int(n.Minor))
	if n.Type == NDITypeUNDI {
		return "UNDI " + v
	}
	return "type " + strconv.Itoa(int(n.Type)) + " " + v
}

// Option returns n as option 94.
func (n ClientNDI) Option() dhcpv4.Option {
	return dhcpv4.Option{Code: dhcpv4.OptionClientNetworkInterfaceIdentifier, Value: n}
}

// WithClientNDI returns a modifier that sets option 94.
func WithClientNDI(n ClientNDI) dhcpv4.Modifier {
	b, err := n.AppendBinary(nil)
	return optModifier(dhcpv4.OptionClientNetworkInterfaceIdentifier, b, err)
}

// ClientGUID is option 97, the client machine identifier (RFC 4578 §2.3):
// type 0 followed by a 16-byte GUID, usually the machine's SMBIOS UUID.
// The bytes are kept in the order they appear on the wire. The zero value
// is the nil GUID.
type ClientGUID [16]byte

// ParseClientGUID decodes option 97: 17 bytes, the first (the type) 0.
func ParseClientGUID(b []byte) (ClientGUID, error) {
	const code = dhcpv4.OptionClientMachineIdentifier
	if len(b) != 17 {
		return ClientGUID{}, optMalformed(code, 0, "length %d, want 17", len(b))
	}
	if b[0] != 0 {
		return ClientGUID{}, optMalformed(code, 0, "identifier type %d, want 0 (GUID)", b[0])
	}
	return ClientGUID(b[1:17]), nil
}

// AppendBinary appends the 17-byte option value (type 0, then the GUID) to
// b. It never fails.
func (g ClientGUID) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, 0)
	return append(b, g[:]...), nil
}

// MarshalBinary returns the option value.
func (g ClientGUID) MarshalBinary() ([]byte, error) { return g.AppendBinary(nil) }

// ToBytes implements [dhcpv4.OptionValue].
func (g ClientGUID) ToBytes() []byte { return optBytes(g.AppendBinary(nil)) }

// IsZero reports whether g is the nil GUID (all zero), which some firmware
// sends when it has no machine UUID.
func (g ClientGUID) IsZero() bool { return g == ClientGUID{} }

// UUID returns g as pxelinux names its per-machine configuration file
// (pxelinux.cfg/<UUID>): the 16 bytes in wire order, lowercase hex, with
// dashes after the 4th, 6th, 8th and 10th byte, such as
// "b8945908-d6a6-41a9-611d-74a6ab80b83d". No bytes are swapped: a
// machine whose firmware copies its SMBIOS UUID into option 97 as stored
// (little-endian first three fields) gets a string that differs from what
// dmidecode prints for it in those fields.
func (g ClientGUID) UUID() string {
	var s [36]byte
	g.appendUUID(s[:0])
	return string(s[:])
}

func (g ClientGUID) appendUUID(b []byte) []byte {
	var h [32]byte
	hex.Encode(h[:], g[:])
	b = append(b, h[0:8]...)
	b = append(b, '-')
	b = append(b, h[8:12]...)
	b = append(b, '-')
	b = append(b, h[12:16]...)
	b = append(b, '-')
	b = append(b, h[16:20]...)
	b = append(b, '-')
	return append(b, h[20:32]...)
}

// PXELinuxAccepts reports whether pxelinux looks for a configuration file
// named after g: it skips a GUID whose byte 6 (in wire order, where the
// UUID version nibble would be) is below 0x10 or 0xf0 and above, the nil
// GUID among them. Firmware that sends the SMBIOS bytes as stored puts the
// low byte of the UUID's third field there, so this depends on the UUID.
// bootmenu.SearchPath applies the same rule, from the same place.
func (g ClientGUID) PXELinuxAccepts() bool { return pxelinux.AcceptsUUID(g[:]) }

// String returns g.UUID().
func (g ClientGUID) String() string { return g.UUID() }

// Option returns g as option 97.
func (g ClientGUID) Option() dhcpv4.Option {
	return dhcpv4.Option{Code: dhcpv4.OptionClientMachineIdentifier, Value: g}
}

// WithClientGUID returns a modifier that sets option 97.
func WithClientGUID(g ClientGUID) dhcpv4.Modifier {
	b, err := g.AppendBinary(nil)
	return optModifier(dhcpv4.OptionClientMachineIdentifier, b, err)
}
