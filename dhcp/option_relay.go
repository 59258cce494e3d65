package dhcp

import (
	"net/netip"
	"strings"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// Relay agent sub-options of option 82 that the server reads.
const (
	// RelayLinkSelection is sub-option 5 (RFC 3527): the address of the
	// client's link, for relays whose giaddr is not on it.
	RelayLinkSelection uint8 = 5
)

// RelayAgentInfo is option 82, Relay Agent Information (RFC 3046): the
// sub-options a relay adds to a client's request, in the order their codes
// first appear. The server echoes the option as it came (RFC 3046 §2.2)
// and reads [RelayAgentInfo.LinkSelection] to choose the pool.
type RelayAgentInfo []SubOption

// ParseRelayAgentInfo decodes the value of option 82. A sub-option that
// appears twice has its values joined (RFC 3396). Errors wrap
// [ErrMalformedOption].
func ParseRelayAgentInfo(b []byte) (RelayAgentInfo, error) {
	subs, err := parseSubOptions(dhcpv4.OptionRelayAgentInformation, b)
	if err != nil {
		return nil, err
	}
	return RelayAgentInfo(subs), nil
}

// AppendBinary appends the encoding of r to b.
func (r RelayAgentInfo) AppendBinary(b []byte) ([]byte, error) {
	for _, s := range r {
		var err error
		if b, err = appendSubOption(dhcpv4.OptionRelayAgentInformation, b, s.Code, s.Data); err != nil {
			return b, err
		}
	}
	return b, nil
}

// MarshalBinary returns the encoding of r.
func (r RelayAgentInfo) MarshalBinary() ([]byte, error) { return r.AppendBinary(nil) }

// ToBytes returns the encoding of r, nil when it cannot be encoded
// (dhcpv4.OptionValue).
func (r RelayAgentInfo) ToBytes() []byte { return optBytes(r.AppendBinary(nil)) }

// String lists the sub-options.
func (r RelayAgentInfo) String() string {
	parts := make([]string, len(r))
	for i, s := range r {
		parts[i] = s.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// Get returns the value of sub-option code, and whether it is present.
func (r RelayAgentInfo) Get(code uint8) ([]byte, bool) {
	for _, s := range r {
		if s.Code == code {
			return s.Data, true
		}
	}
	return nil, false
}

// LinkSelection returns the address of sub-option 5 (RFC 3527), and false
// when it is absent or not four bytes long.
func (r RelayAgentInfo) LinkSelection() (netip.Addr, bool) {
	v, ok := r.Get(RelayLinkSelection)
	if !ok || len(v) != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte(v)), true
}

// linkAddr returns the address that selects the subnet of a relayed
// request: option 118 (RFC 3011), else option 82 sub-option 5 (RFC 3527),
// else giaddr; invalid when req is not relayed. Options 118 and 82 are
// read only when giaddr is set: a client on the server's own segment does
// not choose another subnet's pool.
func linkAddr(req *dhcpv4.DHCPv4) netip.Addr {
	gi, ok := netip.AddrFromSlice(req.GatewayIPAddr.To4())
	if !ok || gi.IsUnspecified() {
		return netip.Addr{}
	}
	if a := optAddr(req, dhcpv4.OptionSubnetSelection); a.IsValid() && !a.IsUnspecified() {
		return a
	}
	if v, ok := req.Options[dhcpv4.OptionRelayAgentInformation.Code()]; ok {
		if ri, err := ParseRelayAgentInfo(v); err == nil {
			if a, ok := ri.LinkSelection(); ok && !a.IsUnspecified() {
				return a
			}
		}
	}
	return gi
}
