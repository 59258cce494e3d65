package main

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/pxekit/pxekit/dhcp6"
	"github.com/pxekit/pxekit/ra"
)

func TestNewPool6(t *testing.T) {
	for _, c := range []struct {
		o       options
		first   string
		last    string
		wantErr string
	}{
		{o: options{ipv6: "stateless"}},
		{o: options{ipv6: "stateful", ipv6Prefix: "2001:db8:99::/64"}, first: "2001:db8:99::100", last: "2001:db8:99:0:ffff:ffff:ffff:ff7f"},
		{o: options{ipv6: "stateful", ipv6Prefix: "2001:db8:99::5/64", ipv6Range: "2001:db8:99::10-2001:db8:99::20"}, first: "2001:db8:99::10", last: "2001:db8:99::20"},
		{o: options{ipv6: "stateful", ipv6Prefix: "10.0.0.0/24"}, wantErr: "want an IPv6 prefix"},
		{o: options{ipv6: "stateful", ipv6Prefix: "2001:db8:99::/64", ipv6Range: "2001:db8:98::10-2001:db8:98::20"}, wantErr: "both in"},
		{o: options{ipv6: "stateful", ipv6Prefix: "2001:db8:99::/64", ipv6Range: "2001:db8:99::10"}, wantErr: "want FIRST-LAST"},
		{o: options{ipv6: "stateful"}, wantErr: "needs -ipv6-prefix"},
	} {
		p, err := newPool6(c.o, nil)
		switch {
		case c.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("newPool6(%+v) error %v, want one saying %q", c.o, err, c.wantErr)
			}
		case err != nil:
			t.Errorf("newPool6(%+v): %v", c.o, err)
		case c.first == "":
			if p != nil {
				t.Errorf("newPool6(%+v) = %+v, want no pool", c.o, p)
			}
		default:
			lo, hi := p.Range()
			if lo.String() != c.first || hi.String() != c.last {
				t.Errorf("newPool6(%+v) range %v-%v, want %s-%s", c.o, lo, hi, c.first, c.last)
			}
		}
	}
}

// TestConfigureRA: the M and O flags follow the DHCPv6 mode, and the
// stateful prefix is on-link without SLAAC.
func TestConfigureRA(t *testing.T) {
	pfx := netip.MustParsePrefix("2001:db8:99::/64")
	var rs ra.Server
	configureRA(&rs, &dhcp6.Pool{Prefix: pfx}, true)
	if !rs.Managed || !rs.Other || len(rs.Prefixes) != 1 || rs.Prefixes[0] != (ra.Prefix{Prefix: pfx, OnLink: true}) {
		t.Errorf("stateful: M %v O %v prefixes %+v; want M, O, %v on-link without A", rs.Managed, rs.Other, rs.Prefixes, pfx)
	}
	rs = ra.Server{}
	configureRA(&rs, nil, true)
	if rs.Managed || !rs.Other || len(rs.Prefixes) != 0 {
		t.Errorf("stateless: M %v O %v prefixes %+v; want O only", rs.Managed, rs.Other, rs.Prefixes)
	}
	rs = ra.Server{}
	configureRA(&rs, nil, false)
	if rs.Managed || rs.Other {
		t.Errorf("no DHCPv6: M %v O %v; want neither", rs.Managed, rs.Other)
	}
}
