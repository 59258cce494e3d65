package dhcp

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// PXEVendorOptions is option 43 as the PXE specification (PXE 2.1 §2.4)
// encapsulates it for PXE clients: sub-options that steer boot server
// discovery and the boot menu. Decoded sub-options get typed fields; any
// other (the MTFTP ones, 1–5, and the discovery multicast address, 7) is
// kept in Other.
//
// The zero value holds no sub-option and encodes as a lone End byte.
type PXEVendorOptions struct {
	// DiscoveryControl is sub-option 6, valid when HasDiscoveryControl
	// is set.
	DiscoveryControl    PXEDiscoveryControl
	HasDiscoveryControl bool

	// BootServers is sub-option 8, the boot servers per boot server type.
	BootServers []PXEBootServer

	// BootMenu is sub-option 9, the boot menu entries.
	BootMenu []PXEMenuItem

	// MenuPrompt is sub-option 10, valid when HasMenuPrompt is set.
	MenuPrompt    PXEMenuPrompt
	HasMenuPrompt bool

	// BootItem is sub-option 71, valid when HasBootItem is set. Clients
	// send it in requests to port 4011 to name the menu entry they chose;
	// servers echo it.
	BootItem    PXEBootItem
	HasBootItem bool

	// Other holds the sub-options not decoded above, in order.
	Other []SubOption
}

// PXE vendor option sub-option codes (PXE 2.1 table 2-1).
const (
	PXESubMTFTPAddr        = 1
	PXESubMTFTPClientPort  = 2
	PXESubMTFTPServerPort  = 3
	PXESubMTFTPTimeout     = 4
	PXESubMTFTPDelay       = 5
	PXESubDiscoveryControl = 6
	PXESubDiscoveryMcast   = 7
	PXESubBootServers      = 8
	PXESubBootMenu         = 9
	PXESubMenuPrompt       = 10
	PXESubMcastAddrAlloc   = 11
	PXESubCredentialTypes  = 12
	PXESubBootItem         = 71
)

const pxeVendorOptionsMaxMenu = 255

// PXEDiscoveryControl is the bit field of sub-option 6.
type PXEDiscoveryControl uint8

// Discovery control bits (PXE 2.1 §2.4, sub-option 6).
const (
	// PXEDiscoveryNoBroadcast disables broadcast boot server discovery.
	PXEDiscoveryNoBroadcast PXEDiscoveryControl = 1 << 0
	// PXEDiscoveryNoMulticast disables multicast boot server discovery.
	PXEDiscoveryNoMulticast PXEDiscoveryControl = 1 << 1
	// PXEDiscoveryServerListOnly accepts replies only from the servers in
	// sub-option 8.
	PXEDiscoveryServerListOnly PXEDiscoveryControl = 1 << 2
	// PXEDiscoveryBootFile makes the client download the boot file named
	// in the offer at once, with no prompt, menu or discovery.
	PXEDiscoveryBootFile PXEDiscoveryControl = 1 << 3
)

// PXEBootServer is one entry of sub-option 8: a boot server type and the
// IPv4 addresses of the servers of that type.
type PXEBootServer struct {
	Type  uint16
	Addrs []netip.Addr
}

// PXEMenuItem is one entry of sub-option 9: the boot server type the
// entry selects, and its text.
type PXEMenuItem struct {
	Type        uint16
	Description string
}

// PXEMenuPrompt is sub-option 10: the seconds the menu prompt waits (0:
// boot the first entry at once, 255: wait for a key) and its text.
type PXEMenuPrompt struct {
	Timeout uint8
	Prompt  string
}

// PXEBootItem is sub-option 71: the boot server type and the layer of the
// item (bit 15 asks for credentials).
type PXEBootItem struct {
	Type  uint16
	Layer uint16
}

// ParsePXEVendorOptions decodes option 43 as PXE vendor options. It fails
// on a truncated sub-option and on a malformed sub-option 6, 8, 9, 10 or
// 71.
func ParsePXEVendorOptions(b []byte) (PXEVendorOptions, error) {
	const code = dhcpv4.OptionVendorSpecificInformation
	subs, err := parseSubOptions(code, b)
	if err != nil {
		return PXEVendorOptions{}, err
	}
	var o PXEVendorOptions
	for _, s := range subs {
		d := s.Data
		switch s.Code {
		case PXESubDiscoveryControl:
			if len(d) != 1 {
				return PXEVendorOptions{}, optMalformed(code, s.Code, "length %d, want 1", len(d))
			}
			o.DiscoveryControl, o.HasDiscoveryControl = PXEDiscoveryControl(d[0]), true
		case PXESubBootServers:
			if len(d) == 0 {
				return PXEVendorOptions{}, optMalformed(code, s.Code, "empty boot server list")
			}
			for len(d) > 0 {
				if len(d) < 3 {
					return PXEVendorOptions{}, optMalformed(code, s.Code, "truncated boot server entry")
				}
				n := int(d[2])
				if len(d) < 3+4*n {
					return PXEVendorOptions{}, optMalformed(code, s.Code, "boot server entry lists %d addresses, %d bytes left", n, len(d)-3)
				}
				bs := PXEBootServer{Type: binary.BigEndian.Uint16(d), Addrs: make([]netip.Addr, n)}
				for i := range n {
					bs.Addrs[i] = netip.AddrFrom4([4]byte(d[3+4*i:]))
				}
				o.BootServers = append(o.BootServers, bs)
				d = d[3+4*n:]
			}
		case PXESubBootMenu:
			if len(d) == 0 {
				return PXEVendorOptions{}, optMalformed(code, s.Code, "empty boot menu")
			}
			for len(d) > 0 {
				if len(d) < 3 {
					return PXEVendorOptions{}, optMalformed(code, s.Code, "truncated menu entry")
				}
				n := int(d[2])
				if len(d) < 3+n {
					return PXEVendorOptions{}, optMalformed(code, s.Code, "menu entry text of %d bytes, %d left", n, len(d)-3)
				}
				o.BootMenu = append(o.BootMenu, PXEMenuItem{Type: binary.BigEndian.Uint16(d), Description: string(d[3 : 3+n])})
				d = d[3+n:]
			}
		case PXESubMenuPrompt:
			if len(d) == 0 {
				return PXEVendorOptions{}, optMalformed(code, s.Code, "empty menu prompt")
			}
			o.MenuPrompt, o.HasMenuPrompt = PXEMenuPrompt{Timeout: d[0], Prompt: string(d[1:])}, true
		case PXESubBootItem:
			if len(d) != 4 {
				return PXEVendorOptions{}, optMalformed(code, s.Code, "length %d, want 4", len(d))
			}
			o.BootItem = PXEBootItem{Type: binary.BigEndian.Uint16(d), Layer: binary.BigEndian.Uint16(d[2:])}
			o.HasBootItem = true
		default:
			o.Other = append(o.Other, s)
		}
	}
	return o, nil
}

// AppendBinary appends the option value to b: sub-options 6, 8, 9, 10, 71,
// then Other, then End. A sub-option longer than 255 bytes is split
// (RFC 3396). It fails on a boot server entry with more than 255 or
// non-IPv4 addresses, a menu text longer than 255 bytes, or an Other entry
// that repeats a decoded code or uses code 0 or 255.
func (o PXEVendorOptions) AppendBinary(b []byte) ([]byte, error) {
	const code = dhcpv4.OptionVendorSpecificInformation
	var err error
	if o.HasDiscoveryControl {
		b = append(b, PXESubDiscoveryControl, 1, byte(o.DiscoveryControl))
	}
	if o.BootServers != nil {
		var d []byte
		for _, bs := range o.BootServers {
			if len(bs.Addrs) > 255 {
				return b, optInvalid(code, PXESubBootServers, "%d addresses for type %d, at most 255", len(bs.Addrs), bs.Type)
			}
			d = binary.BigEndian.AppendUint16(d, bs.Type)
			d = append(d, byte(len(bs.Addrs)))
			for _, a := range bs.Addrs {
				if !a.Is4() {
					return b, optInvalid(code, PXESubBootServers, "address %v is not IPv4", a)
				}
				a4 := a.As4()
				d = append(d, a4[:]...)
			}
		}
		if len(d) == 0 {
			return b, optInvalid(code, PXESubBootServers, "empty boot server list")
		}
		if b, err = appendSubOption(code, b, PXESubBootServers, d); err != nil {
			return b, err
		}
	}
	if o.BootMenu != nil {
		var d []byte
		for _, m := range o.BootMenu {
			if len(m.Description) > pxeVendorOptionsMaxMenu {
				return b, optInvalid(code, PXESubBootMenu, "menu text of %d bytes, at most 255", len(m.Description))
			}
			d = binary.BigEndian.AppendUint16(d, m.Type)
			d = append(d, byte(len(m.Description)))
			d = append(d, m.Description...)
		}
		if len(d) == 0 {
			return b, optInvalid(code, PXESubBootMenu, "empty boot menu")
		}
		if b, err = appendSubOption(code, b, PXESubBootMenu, d); err != nil {
			return b, err
		}
	}
	if o.HasMenuPrompt {
		d := append([]byte{o.MenuPrompt.Timeout}, o.MenuPrompt.Prompt...)
		if b, err = appendSubOption(code, b, PXESubMenuPrompt, d); err != nil {
			return b, err
		}
	}
	if o.HasBootItem {
		b = append(b, PXESubBootItem, 4)
		b = binary.BigEndian.AppendUint16(b, o.BootItem.Type)
		b = binary.BigEndian.AppendUint16(b, o.BootItem.Layer)
	}
	for _, s := range o.Other {
		switch s.Code {
		case PXESubDiscoveryControl, PXESubBootServers, PXESubBootMenu, PXESubMenuPrompt, PXESubBootItem:
			return b, optInvalid(code, s.Code, "sub-option %d belongs in its typed field, not in Other", s.Code)
		}
		if b, err = appendSubOption(code, b, s.Code, s.Data); err != nil {
			return b, err
		}
	}
	return append(b, 255), nil
}

// MarshalBinary returns the option value.
func (o PXEVendorOptions) MarshalBinary() ([]byte, error) { return o.AppendBinary(nil) }

// ToBytes implements [dhcpv4.OptionValue]; it returns nil when o cannot be
// encoded.
func (o PXEVendorOptions) ToBytes() []byte { return optBytes(o.AppendBinary(nil)) }

// String lists the sub-options that are present.
func (o PXEVendorOptions) String() string {
	var parts []string
	if o.HasDiscoveryControl {
		parts = append(parts, fmt.Sprintf("discovery control %#x", uint8(o.DiscoveryControl)))
	}
	for _, bs := range o.BootServers {
		parts = append(parts, fmt.Sprintf("boot servers type %d %v", bs.Type, bs.Addrs))
	}
	for _, m := range o.BootMenu {
		parts = append(parts, fmt.Sprintf("menu type %d %q", m.Type, m.Description))
	}
	if o.HasMenuPrompt {
		parts = append(parts, fmt.Sprintf("prompt %ds %q", o.MenuPrompt.Timeout, o.MenuPrompt.Prompt))
	}
	if o.HasBootItem {
		parts = append(parts, fmt.Sprintf("boot item type %d layer %d", o.BootItem.Type, o.BootItem.Layer))
	}
	for _, s := range o.Other {
		parts = append(parts, s.String())
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

// Option returns o as option 43.
func (o PXEVendorOptions) Option() dhcpv4.Option {
	return dhcpv4.Option{Code: dhcpv4.OptionVendorSpecificInformation, Value: o}
}

// WithPXEVendorOptions returns a modifier that sets option 43, or leaves
// the packet alone when o cannot be encoded.
func WithPXEVendorOptions(o PXEVendorOptions) dhcpv4.Modifier {
	b, err := o.AppendBinary(nil)
	return optModifier(dhcpv4.OptionVendorSpecificInformation, b, err)
}
