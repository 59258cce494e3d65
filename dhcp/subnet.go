package dhcp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// ParseRange parses an address range "FIRST-LAST" of IPv4 addresses, both
// included, as the -range flags of the example programs take it. Spaces
// around either address are allowed; LAST must not come before FIRST.
func ParseRange(s string) (first, last netip.Addr, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return netip.Addr{}, netip.Addr{}, fmt.Errorf("dhcp: range %q: want FIRST-LAST", s)
	}
	first, err = netip.ParseAddr(strings.TrimSpace(a))
	if err != nil || !first.Is4() {
		return netip.Addr{}, netip.Addr{}, fmt.Errorf("dhcp: range %q: first address is not an IPv4 address", s)
	}
	last, err = netip.ParseAddr(strings.TrimSpace(b))
	if err != nil || !last.Is4() {
		return netip.Addr{}, netip.Addr{}, fmt.Errorf("dhcp: range %q: last address is not an IPv4 address", s)
	}
	if last.Less(first) {
		return netip.Addr{}, netip.Addr{}, fmt.Errorf("dhcp: range %q: last address before the first", s)
	}
	return first, last, nil
}

// ParseAddrs parses a comma-separated list of IPv4 addresses, such as
// the routers or DNS servers of a [Pool]. Empty elements are skipped; the
// empty string is the empty list.
func ParseAddrs(s string) ([]netip.Addr, error) {
	var out []netip.Addr
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil || !a.Is4() {
			return nil, fmt.Errorf("dhcp: %q is not an IPv4 address", f)
		}
		out = append(out, a)
	}
	return out, nil
}

// errNoSubnet is wrapped by the errors of [InterfaceSubnet].
var errNoSubnet = errors.New("dhcp: no subnet of the interface holds the range")

// InterfaceSubnet returns the subnet (address and prefix of the interface,
// masked) that holds both first and last, as a DHCP server serving that
// interface hands it out (option 1). With name empty it looks at every
// interface that is up. The error names the interface and its IPv4
// prefixes when none holds the range. It looks the interfaces up in the
// network namespace of the calling thread.
func InterfaceSubnet(name string, first, last netip.Addr) (netip.Prefix, error) {
	var ifs []net.Interface
	if name != "" {
		ifi, err := net.InterfaceByName(name)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("dhcp: interface %s: %w", name, err)
		}
		ifs = []net.Interface{*ifi}
	} else {
		all, err := net.Interfaces()
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("dhcp: interfaces: %w", err)
		}
		for _, ifi := range all {
			if ifi.Flags&net.FlagUp != 0 {
				ifs = append(ifs, ifi)
			}
		}
	}
	var seen []string
	for _, ifi := range ifs {
		for _, p := range ifacePrefixes(&ifi) {
			if p.Contains(first) && p.Contains(last) {
				return p.Masked(), nil
			}
			seen = append(seen, ifi.Name+" "+p.String())
		}
	}
	where := "any interface"
	if name != "" {
		where = "interface " + name
	}
	has := "no IPv4 address"
	if len(seen) > 0 {
		has = strings.Join(seen, ", ")
	}
	return netip.Prefix{}, fmt.Errorf("%w: range %v-%v is outside every subnet of %s (%s)", errNoSubnet, first, last, where, has)
}

// ifacePrefixes returns the IPv4 addresses of ifi with their prefix length.
func ifacePrefixes(ifi *net.Interface) []netip.Prefix {
	as, err := ifi.Addrs()
	if err != nil {
		return nil
	}
	var out []netip.Prefix
	for _, a := range as {
		if ipn, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(ipn.IP.To4()); ok {
				ones, bits := ipn.Mask.Size()
				if bits == 32 {
					out = append(out, netip.PrefixFrom(ip, ones))
				}
			}
		}
	}
	return out
}
