package dhcp

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// The options of a lease beyond address and mask, as a [Pool] hands them
// out: address lists (3 routers, 6 DNS, 42 NTP), 26 interface MTU, 119
// domain search list and 121 classless static routes.

// AddrList is the value of an option that lists IPv4 addresses: 3
// (routers), 6 (DNS servers), 42 (NTP servers), RFC 2132 §3.5, §3.8, §8.3.
type AddrList []netip.Addr

// ParseAddrList decodes an address list option: one or more addresses of
// four bytes. Errors wrap [ErrMalformedOption] (they are not
// [*OptionError]s: the list does not know its option code).
func ParseAddrList(b []byte) (AddrList, error) {
	if len(b) == 0 || len(b)%4 != 0 {
		return nil, fmt.Errorf("dhcp: address list of %d bytes, want a multiple of 4: %w", len(b), ErrMalformedOption)
	}
	l := make(AddrList, len(b)/4)
	for i := range l {
		l[i] = netip.AddrFrom4([4]byte(b[4*i:]))
	}
	return l, nil
}

// AppendBinary appends the encoding of l to b. Every address must be IPv4
// and l must not be empty.
func (l AddrList) AppendBinary(b []byte) ([]byte, error) {
	if len(l) == 0 {
		return b, fmt.Errorf("dhcp: empty address list: %w", ErrInvalidOptionValue)
	}
	if len(l) > 255/4 {
		return b, fmt.Errorf("dhcp: %d addresses, at most 63 fit in an option: %w", len(l), ErrInvalidOptionValue)
	}
	for _, a := range l {
		if !a.Is4() {
			return b, fmt.Errorf("dhcp: address list: %v is not an IPv4 address: %w", a, ErrInvalidOptionValue)
		}
		v := a.As4()
		b = append(b, v[:]...)
	}
	return b, nil
}

// MarshalBinary returns the encoding of l.
func (l AddrList) MarshalBinary() ([]byte, error) { return l.AppendBinary(nil) }

// ToBytes returns the encoding of l, nil when it cannot be encoded
// (dhcpv4.OptionValue).
func (l AddrList) ToBytes() []byte { return optBytes(l.AppendBinary(nil)) }

// String lists the addresses, separated by commas.
func (l AddrList) String() string {
	s := make([]string, len(l))
	for i, a := range l {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}

// InterfaceMTU is option 26, the MTU of the client's interface (RFC 2132
// §5.1): at least 68.
type InterfaceMTU uint16

// minMTU is the smallest MTU option 26 allows (RFC 2132 §5.1).
const minMTU = 68

// ParseInterfaceMTU decodes option 26. Errors wrap [ErrMalformedOption].
func ParseInterfaceMTU(b []byte) (InterfaceMTU, error) {
	if len(b) != 2 {
		return 0, optMalformed(dhcpv4.OptionInterfaceMTU, 0, "%d bytes, want 2", len(b))
	}
	m := InterfaceMTU(uint16(b[0])<<8 | uint16(b[1]))
	if m < minMTU {
		return 0, optMalformed(dhcpv4.OptionInterfaceMTU, 0, "MTU %d below %d", m, minMTU)
	}
	return m, nil
}

// AppendBinary appends the encoding of m to b.
func (m InterfaceMTU) AppendBinary(b []byte) ([]byte, error) {
	if m < minMTU {
		return b, optInvalid(dhcpv4.OptionInterfaceMTU, 0, "MTU %d below %d", m, minMTU)
	}
	return append(b, byte(m>>8), byte(m)), nil
}

// MarshalBinary returns the encoding of m.
func (m InterfaceMTU) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

// ToBytes returns the encoding of m, nil when it cannot be encoded
// (dhcpv4.OptionValue).
func (m InterfaceMTU) ToBytes() []byte { return optBytes(m.AppendBinary(nil)) }

// String returns the MTU in decimal.
func (m InterfaceMTU) String() string { return strconv.Itoa(int(m)) }

// Route is one classless static route: packets for Dest go through
// Router, or straight onto the link when Router is 0.0.0.0 (RFC 3442 §3).
type Route struct {
	Dest   netip.Prefix
	Router netip.Addr
}

// String returns "DEST via ROUTER".
func (r Route) String() string { return r.Dest.String() + " via " + r.Router.String() }

// ClasslessRoutes is option 121, classless static routes (RFC 3442). A
// client that receives it ignores option 3 (§5), so a [Pool] with
// routers and routes sends its first router as the default route in
// this option too.
type ClasslessRoutes []Route

// ParseClasslessRoutes decodes option 121: for each route the prefix
// length, the significant octets of the destination and four octets of
// router (RFC 3442 §3). Bits of the destination beyond the prefix length
// are cleared. Errors wrap [ErrMalformedOption].
func ParseClasslessRoutes(b []byte) (ClasslessRoutes, error) {
	if len(b) < 5 {
		return nil, optMalformed(dhcpv4.OptionClasslessStaticRoute, 0, "%d bytes, at least 5 needed", len(b))
	}
	var out ClasslessRoutes
	for len(b) > 0 {
		bits := int(b[0])
		if bits > 32 {
			return nil, optMalformed(dhcpv4.OptionClasslessStaticRoute, 0, "prefix length %d", bits)
		}
		n := (bits + 7) / 8
		if len(b) < 1+n+4 {
			return nil, optMalformed(dhcpv4.OptionClasslessStaticRoute, 0, "truncated route")
		}
		var d [4]byte
		copy(d[:], b[1:1+n])
		dest, _ := netip.AddrFrom4(d).Prefix(bits)
		out = append(out, Route{Dest: dest, Router: netip.AddrFrom4([4]byte(b[1+n:]))})
		b = b[1+n+4:]
	}
	return out, nil
}

// AppendBinary appends the encoding of r to b. Destinations and routers
// must be IPv4, and r must not be empty.
func (r ClasslessRoutes) AppendBinary(b []byte) ([]byte, error) {
	if len(r) == 0 {
		return b, optInvalid(dhcpv4.OptionClasslessStaticRoute, 0, "no routes")
	}
	start := len(b)
	for _, rt := range r {
		if !rt.Dest.IsValid() || !rt.Dest.Addr().Is4() || !rt.Router.Is4() {
			return b[:start], optInvalid(dhcpv4.OptionClasslessStaticRoute, 0, "route %v is not IPv4", rt)
		}
		d := rt.Dest.Masked().Addr().As4()
		bits := rt.Dest.Bits()
		gw := rt.Router.As4()
		b = append(b, byte(bits))
		b = append(b, d[:(bits+7)/8]...)
		b = append(b, gw[:]...)
	}
	return b, nil
}

// MarshalBinary returns the encoding of r.
func (r ClasslessRoutes) MarshalBinary() ([]byte, error) { return r.AppendBinary(nil) }

// ToBytes returns the encoding of r, nil when it cannot be encoded
// (dhcpv4.OptionValue).
func (r ClasslessRoutes) ToBytes() []byte { return optBytes(r.AppendBinary(nil)) }

// String lists the routes, separated by commas.
func (r ClasslessRoutes) String() string {
	s := make([]string, len(r))
	for i, rt := range r {
		s[i] = rt.String()
	}
	return strings.Join(s, ", ")
}

// ParseRoutes parses a comma-separated list of routes "PREFIX=ROUTER"
// ("10.1.0.0/16=10.0.0.254"), as the -route flag of the example programs
// takes it. The empty string is the empty list.
func ParseRoutes(s string) (ClasslessRoutes, error) {
	var out ClasslessRoutes
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, gw, ok := strings.Cut(f, "=")
		if !ok {
			return nil, &OptionError{Code: 121, Msg: "route " + strconv.Quote(f) + ": want PREFIX=ROUTER", Err: ErrInvalidOptionValue}
		}
		dest, err := netip.ParsePrefix(strings.TrimSpace(d))
		if err != nil || !dest.Addr().Is4() {
			return nil, &OptionError{Code: 121, Msg: "route " + strconv.Quote(f) + ": destination is not an IPv4 prefix", Err: ErrInvalidOptionValue}
		}
		r, err := netip.ParseAddr(strings.TrimSpace(gw))
		if err != nil || !r.Is4() {
			return nil, &OptionError{Code: 121, Msg: "route " + strconv.Quote(f) + ": router is not an IPv4 address", Err: ErrInvalidOptionValue}
		}
		out = append(out, Route{Dest: dest.Masked(), Router: r})
	}
	return out, nil
}

// DomainSearch is option 119, the domain search list (RFC 3397): domain
// names in the DNS wire format of RFC 1035 §3.1, compressed with pointers
// (§4.1.4) into the option's own bytes.
type DomainSearch []string

// Limits of DNS names (RFC 1035 §2.3.4).
const (
	maxLabel = 63
	maxName  = 255 // in wire format, with the length bytes and the root
)

// ParseDomainSearch decodes option 119 (the values of several option 119
// instances joined, RFC 3396, as a decoded message holds them). A pointer
// must point before the name it occurs in, so that no pointer loop is
// possible; labels must not contain dots, and names must not be the root
// alone. Errors wrap [ErrMalformedOption].
func ParseDomainSearch(b []byte) (DomainSearch, error) {
	if len(b) == 0 {
		return nil, optMalformed(dhcpv4.OptionDNSDomainSearchList, 0, "empty")
	}
	var out DomainSearch
	var name []byte
	for off := 0; off < len(b); {
		name = name[:0]
		start := off
		p, end := off, -1 // end: where the next name starts, once known
		low := start      // the lowest offset read for this name
		wire := 0
		for {
			if p >= len(b) {
				return nil, optMalformed(dhcpv4.OptionDNSDomainSearchList, 0, "name at %d truncated", start)
			}
			l := int(b[p])
			switch {
			case l == 0:
				if end < 0 {
					end = p + 1
				}
			case l&0xc0 == 0xc0:
				if p+1 >= len(b) {
					return nil, optMalformed(dhcpv4.OptionDNSDomainSearchList, 0, "pointer at %d truncated", p)
				}
				to := (l&0x3f)<<8 | int(b[p+1])
				if end < 0 {
					end = p + 2
				}
				// Each pointer must go below every byte read for this
				// name so far: no loop is possible, and a name takes at
				// most len(b) jumps.
				if to >= low {
					return nil, optMalformed(dhcpv4.OptionDNSDomainSearchList, 0, "pointer at %d to %d does not point backwards", p, to)
				}
				p, low = to, to
				continue
			case l&0xc0 != 0:
				return nil, optMalformed(dhcpv4.OptionDNSDomainSearchList, 0, "label type %#x at %d", l&0xc0, p)
			default:
				if p+1+l > len(b) {
					return nil, optMalformed(dhcpv4.OptionDNSDomainSearchList, 0, "label at %d truncated", p)
				}
				label := b[p+1 : p+1+l]
				if strings.IndexByte(string(label), '.') >= 0 {
					return nil, optMalformed(dhcpv4.OptionDNSDomainSearchList, 0, "label at %d contains a dot", p)
				}
				if wire += 1 + l; wire+1 > maxName {
					return nil, optMalformed(dhcpv4.OptionDNSDomainSearchList, 0, "name at %d longer than %d bytes", start, maxName)
				}
				if len(name) > 0 {
					name = append(name, '.')
				}
				name = append(name, label...)
				p += 1 + l
				continue
			}
			break
		}
		if len(name) == 0 {
			return nil, optMalformed(dhcpv4.OptionDNSDomainSearchList, 0, "root name at %d", start)
		}
		out = append(out, string(name))
		off = end
	}
	return out, nil
}

// AppendBinary appends the encoding of d to b, each name compressed
// against the suffixes of the names before it. Names are written without
// a final dot ("lab.example"; one is allowed and dropped); labels are 1 to
// 63 bytes long.
func (d DomainSearch) AppendBinary(b []byte) ([]byte, error) {
	if len(d) == 0 {
		return b, optInvalid(dhcpv4.OptionDNSDomainSearchList, 0, "empty search list")
	}
	start := len(b)
	seen := make(map[string]int) // suffix → its offset from start
	for _, name := range d {
		name = strings.TrimSuffix(name, ".")
		if name == "" || len(name)+2 > maxName {
			return b[:start], optInvalid(dhcpv4.OptionDNSDomainSearchList, 0, "name %q", name)
		}
		for rest := name; ; {
			if off, ok := seen[rest]; ok {
				b = append(b, 0xc0|byte(off>>8), byte(off))
				break
			}
			if off := len(b) - start; off < 0x3fff {
				seen[rest] = off
			}
			label, tail, more := strings.Cut(rest, ".")
			if label == "" || len(label) > maxLabel {
				return b[:start], optInvalid(dhcpv4.OptionDNSDomainSearchList, 0, "name %q has a label of %d bytes", name, len(label))
			}
			b = append(b, byte(len(label)))
			b = append(b, label...)
			if !more {
				b = append(b, 0)
				break
			}
			rest = tail
		}
	}
	return b, nil
}

// MarshalBinary returns the encoding of d.
func (d DomainSearch) MarshalBinary() ([]byte, error) { return d.AppendBinary(nil) }

// ToBytes returns the encoding of d, nil when it cannot be encoded
// (dhcpv4.OptionValue).
func (d DomainSearch) ToBytes() []byte { return optBytes(d.AppendBinary(nil)) }

// String lists the names, separated by spaces.
func (d DomainSearch) String() string { return strings.Join(d, " ") }

// WithDomainSearch returns a modifier that sets option 119.
func WithDomainSearch(d DomainSearch) dhcpv4.Modifier {
	b, err := d.MarshalBinary()
	return optModifier(dhcpv4.OptionDNSDomainSearchList, b, err)
}

// WithClasslessRoutes returns a modifier that sets option 121.
func WithClasslessRoutes(r ClasslessRoutes) dhcpv4.Modifier {
	b, err := r.MarshalBinary()
	return optModifier(dhcpv4.OptionClasslessStaticRoute, b, err)
}

// extraOption is an option of a [Pool] encoded once, at start.
type extraOption struct {
	code  uint8
	value []byte
}

// encodeOptions encodes the options of p beyond 1, 3, 6 and 15 into
// p.extra, and reports a value that cannot be encoded.
func (p *Pool) encodeOptions() error {
	p.extra = nil
	add := func(code dhcpv4.OptionCode, v interface{ MarshalBinary() ([]byte, error) }) error {
		b, err := v.MarshalBinary()
		if err != nil {
			return fmt.Errorf("dhcp: pool %v-%v: %w", p.First, p.Last, err)
		}
		p.extra = append(p.extra, extraOption{code.Code(), b[:len(b):len(b)]})
		return nil
	}
	if len(p.NTP) > 0 {
		if err := add(dhcpv4.OptionNTPServers, AddrList(p.NTP)); err != nil {
			return err
		}
	}
	if p.MTU != 0 {
		if err := add(dhcpv4.OptionInterfaceMTU, InterfaceMTU(p.MTU)); err != nil {
			return err
		}
	}
	if len(p.Search) > 0 {
		if err := add(dhcpv4.OptionDNSDomainSearchList, p.Search); err != nil {
			return err
		}
	}
	if len(p.Routes) > 0 {
		routes := p.Routes
		hasDefault := false
		for _, r := range routes {
			hasDefault = hasDefault || r.Dest.Bits() == 0
		}
		if !hasDefault && len(p.Routers) > 0 {
			routes = append(ClasslessRoutes{{Dest: netip.PrefixFrom(netip.IPv4Unspecified(), 0), Router: p.Routers[0]}}, routes...)
		}
		if err := add(dhcpv4.OptionClasslessStaticRoute, routes); err != nil {
			return err
		}
	}
	return nil
}
