package dhcp

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
)

// ErrMalformedPacket is wrapped by every error that [ParseRequest] returns
// for bytes that are not a well-formed DHCP request.
var ErrMalformedPacket = errors.New("dhcp: malformed packet")

// ErrReplyTooLarge is returned by [AppendMessage] when the options do not
// fit the size limit even with option overload.
var ErrReplyTooLarge = errors.New("dhcp: reply does not fit the message size")

// Offsets and sizes of the fixed BOOTP header (RFC 2131 §2, figure 1).
const (
	offSname   = 44
	offFile    = 108
	lenSname   = 64
	lenFile    = 128
	headerLen  = 236
	optionsOff = headerLen + 4 // after the magic cookie
	bootpMin   = 300           // RFC 951 message length, which some relays insist on

	// MinMessageSize is the smallest DHCP message every client must accept
	// (RFC 2131 §2: 576-octet IP datagrams, less 28 octets of IP and UDP
	// headers). Replies are kept within it unless the client announces a
	// larger size in option 57.
	MinMessageSize = 576 - 28

	// MaxRequestSize bounds the requests [ParseRequest] accepts; larger
	// datagrams are rejected before any decoding.
	MaxRequestSize = 4096
)

var magic = [4]byte{99, 130, 83, 99}

// ParseRequest decodes a client's message (BOOTREQUEST). Beyond
// dhcpv4.FromBytes it checks the op code, the hardware address length and
// the presence of a valid option 53, rejects datagrams over
// [MaxRequestSize], and honours option overload (option 52, RFC 2132 §9.3)
// by reading options from the file and sname fields. Every error wraps
// [ErrMalformedPacket]. The result does not refer to b.
func ParseRequest(b []byte) (*dhcpv4.DHCPv4, error) {
	return parseMessage(b, dhcpv4.OpcodeBootRequest)
}

// message is a decoded message with the backing arrays of its fields, so
// that decoding costs a handful of allocations.
type message struct {
	d   dhcpv4.DHCPv4
	ips [16]byte
	hw  [16]byte
}

func parseMessage(b []byte, op dhcpv4.OpcodeType) (*dhcpv4.DHCPv4, error) {
	if len(b) > MaxRequestSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformedPacket, len(b), MaxRequestSize)
	}
	if len(b) < optionsOff {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrMalformedPacket, len(b), optionsOff)
	}
	if b[0] != byte(op) {
		return nil, fmt.Errorf("%w: op %d is not %v", ErrMalformedPacket, b[0], op)
	}
	hlen := int(b[2])
	if hlen == 0 || hlen > 16 {
		return nil, fmt.Errorf("%w: hardware address length %d", ErrMalformedPacket, b[2])
	}
	if [4]byte(b[headerLen:optionsOff]) != magic {
		return nil, fmt.Errorf("%w: bad magic cookie % x", ErrMalformedPacket, b[headerLen:optionsOff])
	}
	msg := new(message)
	m := &msg.d
	m.OpCode = dhcpv4.OpcodeType(b[0])
	m.HWType = iana.HWType(b[1])
	m.HopCount = b[3]
	copy(m.TransactionID[:], b[4:8])
	m.NumSeconds = uint16(b[8])<<8 | uint16(b[9])
	m.Flags = uint16(b[10])<<8 | uint16(b[11])
	copy(msg.ips[:], b[12:28])
	m.ClientIPAddr = net.IP(msg.ips[0:4:4])
	m.YourIPAddr = net.IP(msg.ips[4:8:8])
	m.ServerIPAddr = net.IP(msg.ips[8:12:12])
	m.GatewayIPAddr = net.IP(msg.ips[12:16:16])
	copy(msg.hw[:], b[28:44])
	m.ClientHWAddr = net.HardwareAddr(msg.hw[:hlen:hlen])
	m.ServerHostName = cstring(b[offSname : offSname+lenSname])
	m.BootFileName = cstring(b[offFile : offFile+lenFile])

	// One copy of the options area; values are slices of it. RFC 3396:
	// the values of repeated options are concatenated.
	area := bytes.Clone(b[optionsOff:])
	m.Options = make(dhcpv4.Options, 16)
	end, err := parseOptions(m.Options, area)
	if err != nil {
		return nil, err
	}
	if !end {
		return nil, fmt.Errorf("%w: no End option", ErrMalformedPacket)
	}
	if ov := m.Options[dhcpv4.OptionOptionOverload.Code()]; ov != nil {
		if len(ov) != 1 || ov[0] < 1 || ov[0] > 3 {
			return nil, fmt.Errorf("%w: option 52 value %x", ErrMalformedPacket, ov)
		}
		// RFC 2131 §4.1: options in file come before those in sname.
		if ov[0]&1 != 0 {
			if _, err := parseOptions(m.Options, bytes.Clone(b[offFile:offFile+lenFile])); err != nil {
				return nil, fmt.Errorf("options in the file field: %w", err)
			}
			m.BootFileName = ""
		}
		if ov[0]&2 != 0 {
			if _, err := parseOptions(m.Options, bytes.Clone(b[offSname:offSname+lenSname])); err != nil {
				return nil, fmt.Errorf("options in the sname field: %w", err)
			}
			m.ServerHostName = ""
		}
	}
	mt := m.Options[dhcpv4.OptionDHCPMessageType.Code()]
	if len(mt) != 1 || mt[0] < 1 || mt[0] > 18 {
		return nil, fmt.Errorf("%w: option 53 missing or invalid (%x)", ErrMalformedPacket, mt)
	}
	return m, nil
}

// parseOptions adds the options in area to o, whose values then refer to
// area. It reports whether it met the End option.
func parseOptions(o dhcpv4.Options, area []byte) (end bool, err error) {
	for i := 0; i < len(area); {
		code := area[i]
		switch code {
		case 0:
			i++
			continue
		case 255:
			return true, nil
		}
		if i+2 > len(area) || i+2+int(area[i+1]) > len(area) {
			return false, fmt.Errorf("%w: option %d truncated", ErrMalformedPacket, code)
		}
		n := int(area[i+1])
		v := area[i+2 : i+2+n : i+2+n]
		if old, ok := o[code]; ok {
			v = append(old, v...)
		}
		o[code] = v
		i += 2 + n
	}
	return false, nil
}

// cstring returns the NUL-terminated string at the start of b.
func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if len(b) == 0 {
		return ""
	}
	return string(b)
}

// msgType returns option 53 without the allocations of
// (*dhcpv4.DHCPv4).MessageType.
func msgType(m *dhcpv4.DHCPv4) dhcpv4.MessageType {
	if v := m.Options[dhcpv4.OptionDHCPMessageType.Code()]; len(v) == 1 {
		return dhcpv4.MessageType(v[0])
	}
	return dhcpv4.MessageTypeNone
}

// optAddr returns an IPv4 address option, or the zero Addr.
func optAddr(m *dhcpv4.DHCPv4, c dhcpv4.OptionCode) netip.Addr {
	if v := m.Options[c.Code()]; len(v) == 4 {
		return netip.AddrFrom4([4]byte(v))
	}
	return netip.Addr{}
}

// requested reports whether m's option 55 lists c.
func requested(m *dhcpv4.DHCPv4, c dhcpv4.OptionCode) bool {
	return bytes.IndexByte(m.Options[dhcpv4.OptionParameterRequestList.Code()], c.Code()) >= 0
}

// maxReplySize returns the size limit of a reply to req: option 57 when
// present and sane (less 28 octets of IP and UDP headers), else
// [MinMessageSize], never more than an Ethernet frame allows.
func maxReplySize(req *dhcpv4.DHCPv4) int {
	size := MinMessageSize
	if v := req.Options.Get(dhcpv4.OptionMaximumDHCPMessageSize); len(v) == 2 {
		if n := int(v[0])<<8 | int(v[1]) - 28; n > size {
			size = n
		}
	}
	return min(size, 1500-28)
}

// AppendMessage appends the wire form of m to b, in at most maxSize bytes
// (at least [MinMessageSize] is used). Option 53 comes first and option 82
// last (RFC 3046 §2.1); values over 255 bytes are split as RFC 3396 says.
// When the options do not fit, the file and sname fields carry the rest
// (option overload, RFC 2132 §9.3): a field is given up for options only
// when it is empty or its content is also in option 67 (file) or 66
// (sname). Short messages are padded to the 300 bytes of BOOTP.
func AppendMessage(b []byte, m *dhcpv4.DHCPv4, maxSize int) ([]byte, error) {
	maxSize = max(maxSize, MinMessageSize)
	if len(m.ClientHWAddr) > 16 {
		return b, fmt.Errorf("dhcp: hardware address of %d bytes", len(m.ClientHWAddr))
	}
	if len(m.ServerHostName) > lenSname-1 || len(m.BootFileName) > lenFile-1 {
		return b, fmt.Errorf("dhcp: sname (%d bytes) or file (%d bytes) too long for its field", len(m.ServerHostName), len(m.BootFileName))
	}
	start := len(b)
	b = slices.Grow(b, max(bootpMin, 400))
	hwt := m.HWType
	if hwt == 0 {
		hwt = iana.HWTypeEthernet
	}
	b = append(b, byte(m.OpCode), byte(hwt), byte(len(m.ClientHWAddr)), m.HopCount)
	b = append(b, m.TransactionID[:]...)
	b = append(b, byte(m.NumSeconds>>8), byte(m.NumSeconds), byte(m.Flags>>8), byte(m.Flags))
	b = appendIP4(b, m.ClientIPAddr)
	b = appendIP4(b, m.YourIPAddr)
	b = appendIP4(b, m.ServerIPAddr)
	b = appendIP4(b, m.GatewayIPAddr)
	b = appendPadded(b, m.ClientHWAddr, 16)
	b = appendPadded(b, []byte(m.ServerHostName), lenSname)
	b = appendPadded(b, []byte(m.BootFileName), lenFile)
	b = append(b, magic[:]...)

	// Option codes in wire order.
	var codesBuf [48]uint8
	codes := codesBuf[:0]
	total := 0
	for c, v := range m.Options {
		if c == 0 || c == 255 || c == dhcpv4.OptionOptionOverload.Code() {
			continue
		}
		codes = append(codes, c)
		total += tlvLen(len(v))
	}
	slices.SortFunc(codes, func(x, y uint8) int { return optOrder(x) - optOrder(y) })

	mainRoom := maxSize - headerLen - 4 - 1 // less the End option
	if total <= mainRoom {
		for _, c := range codes {
			b = appendTLV(b, c, m.Options[c])
		}
		b = append(b, 255)
		for len(b)-start < bootpMin {
			b = append(b, 0)
		}
		return b, nil
	}

	// Option overload: main area first (after option 52 itself), then
	// file, then sname, each field closed by an End option.
	type area struct{ off, room, used int }
	areas := [3]area{{off: -1, room: mainRoom - 3}}
	if m.BootFileName == "" || m.Options.Has(dhcpv4.OptionBootfileName) {
		clear(b[start+offFile : start+offFile+lenFile])
		areas[1] = area{off: offFile, room: lenFile - 1}
	}
	if m.ServerHostName == "" || m.Options.Has(dhcpv4.OptionTFTPServerName) {
		clear(b[start+offSname : start+offSname+lenSname])
		areas[2] = area{off: offSname, room: lenSname - 1}
	}
	b = append(b, dhcpv4.OptionOptionOverload.Code(), 1, 0)
	ovAt := len(b) - 1
	for _, c := range codes {
		v := m.Options[c]
		// First fit; the pieces of one option stay in area order, which
		// is the order of concatenation (RFC 3396 §7).
		ai := 0
		for first := true; first || len(v) > 0; first = false {
			n := min(len(v), 255)
			for ai < len(areas) && areas[ai].used+2+n > areas[ai].room {
				ai++
			}
			if ai == len(areas) {
				return b[:start], ErrReplyTooLarge
			}
			a := &areas[ai]
			if a.off < 0 {
				b = append(b, c, byte(n))
				b = append(b, v[:n]...)
			} else {
				p := start + a.off + a.used
				b[p], b[p+1] = c, byte(n)
				copy(b[p+2:], v[:n])
			}
			a.used += 2 + n
			v = v[n:]
		}
	}
	switch {
	case areas[1].used > 0 && areas[2].used > 0:
		b[ovAt] = 3
	case areas[2].used > 0:
		b[ovAt] = 2
	default:
		b[ovAt] = 1
	}
	for i := 1; i < 3; i++ {
		if areas[i].used > 0 {
			b[start+areas[i].off+areas[i].used] = 255
		}
	}
	b = append(b, 255)
	for len(b)-start < bootpMin {
		b = append(b, 0)
	}
	return b, nil
}

// optOrder sorts option 53 first and 82 last.
func optOrder(c uint8) int {
	switch c {
	case 53:
		return -1
	case 82:
		return 256
	}
	return int(c)
}

func tlvLen(n int) int {
	if n == 0 {
		return 2
	}
	return n + 2*((n+254)/255)
}

func appendTLV(b []byte, c uint8, v []byte) []byte {
	if len(v) == 0 {
		return append(b, c, 0)
	}
	for len(v) > 0 {
		n := min(len(v), 255)
		b = append(b, c, byte(n))
		b = append(b, v[:n]...)
		v = v[n:]
	}
	return b
}

func appendIP4(b []byte, ip net.IP) []byte {
	if ip4 := ip.To4(); ip4 != nil {
		return append(b, ip4...)
	}
	return append(b, 0, 0, 0, 0)
}

func appendPadded(b, v []byte, n int) []byte {
	b = append(b, v...)
	for i := len(v); i < n; i++ {
		b = append(b, 0)
	}
	return b
}
