package dhcp

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

func TestClasslessRoutes(t *testing.T) {
	routes := ClasslessRoutes{
		{Dest: netip.MustParsePrefix("0.0.0.0/0"), Router: netip.MustParseAddr("10.0.0.1")},
		{Dest: netip.MustParsePrefix("10.0.0.0/8"), Router: netip.MustParseAddr("10.0.0.2")},
		{Dest: netip.MustParsePrefix("10.17.0.0/16"), Router: netip.MustParseAddr("10.0.0.3")},
		{Dest: netip.MustParsePrefix("10.27.129.0/24"), Router: netip.MustParseAddr("10.0.0.4")},
		{Dest: netip.MustParsePrefix("10.229.0.128/25"), Router: netip.MustParseAddr("0.0.0.0")},
		{Dest: netip.MustParsePrefix("192.168.1.7/32"), Router: netip.MustParseAddr("10.0.0.5")},
	}
	// RFC 3442 §3's table of destination descriptors, each followed by
	// its router.
	want := []byte{
		0, 10, 0, 0, 1,
		8, 10, 10, 0, 0, 2,
		16, 10, 17, 10, 0, 0, 3,
		24, 10, 27, 129, 10, 0, 0, 4,
		25, 10, 229, 0, 128, 0, 0, 0, 0,
		32, 192, 168, 1, 7, 10, 0, 0, 5,
	}
	got, err := routes.MarshalBinary()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("MarshalBinary = % x, %v; want % x", got, err, want)
	}
	back, err := ParseClasslessRoutes(want)
	if err != nil || !reflect.DeepEqual(back, routes) {
		t.Fatalf("ParseClasslessRoutes = %v, %v; want %v", back, err, routes)
	}
	// Bits beyond the prefix length are cleared.
	if r, err := ParseClasslessRoutes([]byte{12, 10, 0xff, 1, 2, 3, 4}); err != nil || r[0].Dest.String() != "10.240.0.0/12" {
		t.Errorf("ParseClasslessRoutes of 10.255/12 = %v, %v; want 10.240.0.0/12", r, err)
	}
	for _, bad := range [][]byte{nil, {0, 1, 2, 3}, {33, 1, 1, 1, 1, 1, 1, 1, 1}, {8, 10, 1, 2, 3}, {0, 10, 0, 0, 1, 8}} {
		if r, err := ParseClasslessRoutes(bad); !errors.Is(err, ErrMalformedOption) {
			t.Errorf("ParseClasslessRoutes(% x) = %v, %v; want ErrMalformedOption", bad, r, err)
		}
	}
	if _, err := (ClasslessRoutes{{Dest: netip.MustParsePrefix("2001:db8::/32"), Router: netip.MustParseAddr("10.0.0.1")}}).MarshalBinary(); !errors.Is(err, ErrInvalidOptionValue) {
		t.Errorf("IPv6 route encoded: %v", err)
	}
}

func TestParseRoutes(t *testing.T) {
	r, err := ParseRoutes("10.1.0.0/16=10.0.0.254, 192.168.7.9/24=10.0.0.1")
	want := ClasslessRoutes{{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParseAddr("10.0.0.254")}, {netip.MustParsePrefix("192.168.7.0/24"), netip.MustParseAddr("10.0.0.1")}}
	if err != nil || !reflect.DeepEqual(r, want) {
		t.Errorf("ParseRoutes = %v, %v; want %v", r, err, want)
	}
	for _, bad := range []string{"10.1.0.0/16", "10.1.0.0=10.0.0.1", "10.1.0.0/16=x", "::/0=10.0.0.1"} {
		if r, err := ParseRoutes(bad); err == nil {
			t.Errorf("ParseRoutes(%q) = %v, want an error", bad, r)
		}
	}
}

func TestDomainSearch(t *testing.T) {
	// RFC 3397 §3's example: the second name points to "apple.com" of
	// the first.
	want := []byte("\x03eng\x05apple\x03com\x00\x09marketing\xc0\x04")
	d := DomainSearch{"eng.apple.com", "marketing.apple.com."}
	got, err := d.MarshalBinary()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("MarshalBinary = %q, %v; want %q", got, err, want)
	}
	back, err := ParseDomainSearch(want)
	if err != nil || !reflect.DeepEqual(back, DomainSearch{"eng.apple.com", "marketing.apple.com"}) {
		t.Fatalf("ParseDomainSearch = %q, %v", back, err)
	}
	for name, bad := range map[string][]byte{
		"empty":        nil,
		"root":         {0},
		"truncated":    []byte("\x03eng\x05app"),
		"no end":       []byte("\x03eng"),
		"self pointer": {0xc0, 0},
		"forward":      []byte("\xc0\x02\x03com\x00"),
		"loop":         []byte("\x03com\x00\x02ab\xc0\x05"),
		"label type":   {0x40, 1, 0},
		"dot in label": []byte("\x03a.b\x00"),
		"pointer cut":  []byte("\x03com\x00\xc0"),
	} {
		if r, err := ParseDomainSearch(bad); !errors.Is(err, ErrMalformedOption) {
			t.Errorf("%s: ParseDomainSearch(%q) = %q, %v; want ErrMalformedOption", name, bad, r, err)
		}
	}
	for _, bad := range []DomainSearch{{}, {""}, {"a..b"}, {string(make([]byte, 64)) + ".com"}} {
		if _, err := bad.MarshalBinary(); !errors.Is(err, ErrInvalidOptionValue) {
			t.Errorf("MarshalBinary(%q) = %v, want ErrInvalidOptionValue", bad, err)
		}
	}
}

func TestInterfaceMTUAndAddrList(t *testing.T) {
	if b, err := InterfaceMTU(1400).MarshalBinary(); err != nil || !bytes.Equal(b, []byte{0x05, 0x78}) {
		t.Errorf("InterfaceMTU(1400) = % x, %v", b, err)
	}
	if _, err := ParseInterfaceMTU([]byte{0, 67}); !errors.Is(err, ErrMalformedOption) {
		t.Errorf("MTU 67 accepted: %v", err)
	}
	if _, err := InterfaceMTU(67).MarshalBinary(); !errors.Is(err, ErrInvalidOptionValue) {
		t.Errorf("MTU 67 encoded: %v", err)
	}
	l, err := ParseAddrList([]byte{10, 0, 0, 1, 10, 0, 0, 2})
	if err != nil || l.String() != "10.0.0.1,10.0.0.2" {
		t.Errorf("ParseAddrList = %v, %v", l, err)
	}
	if _, err := ParseAddrList([]byte{10, 0, 0}); !errors.Is(err, ErrMalformedOption) {
		t.Errorf("ParseAddrList of 3 bytes: %v", err)
	}
}

// TestLeaseOptions checks that a lease carries NTP, MTU, search list and
// classless routes, and that option 121 gets the default route through
// the first router when the routes lack one (RFC 3442 §5: a client that
// takes 121 ignores 3), while 3 is still sent.
func TestLeaseOptions(t *testing.T) {
	p := &Pool{
		Routers: []netip.Addr{netip.MustParseAddr("10.0.0.1")},
		NTP:     []netip.Addr{netip.MustParseAddr("10.0.0.123")},
		MTU:     1400,
		Search:  DomainSearch{"lab.example", "example"},
		Routes:  ClasslessRoutes{{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParseAddr("10.0.0.254")}},
	}
	s, _ := newFullServer(t, p)
	ack := dora(t, s, mac(1), false)
	get := func(c dhcpv4.OptionCode) []byte { return ack.Options.Get(c) }
	if ntp, err := ParseAddrList(get(dhcpv4.OptionNTPServers)); err != nil || ntp.String() != "10.0.0.123" {
		t.Errorf("option 42 = %v, %v", ntp, err)
	}
	if m, err := ParseInterfaceMTU(get(dhcpv4.OptionInterfaceMTU)); err != nil || m != 1400 {
		t.Errorf("option 26 = %v, %v", m, err)
	}
	if d, err := ParseDomainSearch(get(dhcpv4.OptionDNSDomainSearchList)); err != nil || d.String() != "lab.example example" {
		t.Errorf("option 119 = %v, %v", d, err)
	}
	if r, err := ParseClasslessRoutes(get(dhcpv4.OptionClasslessStaticRoute)); err != nil || r.String() != "0.0.0.0/0 via 10.0.0.1, 10.1.0.0/16 via 10.0.0.254" {
		t.Errorf("option 121 = %v, %v; want the default route first", r, err)
	}
	if r, err := ParseAddrList(get(dhcpv4.OptionRouter)); err != nil || r.String() != "10.0.0.1" {
		t.Errorf("option 3 = %v, %v", r, err)
	}
	if err := (&Pool{First: netip.MustParseAddr("10.0.0.1"), Last: netip.MustParseAddr("10.0.0.2"), MTU: 40}).init(t.Context()); err == nil {
		t.Errorf("a pool with MTU 40 started")
	}
}

func FuzzOptionClasslessRoutes(f *testing.F) {
	fuzzDecoder(f, 121, ParseClasslessRoutes, []byte{0, 10, 0, 0, 1, 24, 10, 27, 129, 10, 0, 0, 4}, []byte{12, 10, 0xff, 1, 2, 3, 4})
}

func FuzzOptionDomainSearch(f *testing.F) {
	fuzzDecoder(f, 119, ParseDomainSearch, []byte("\x03eng\x05apple\x03com\x00\x09marketing\xc0\x04"), []byte("\x03com\x00\x02ab\xc0\x00"), []byte("\x01a\xc0\x00"))
}

func FuzzOptionInterfaceMTU(f *testing.F) {
	fuzzDecoder(f, 26, ParseInterfaceMTU, []byte{5, 0x78}, []byte{0, 68})
}

func FuzzOptionAddrList(f *testing.F) {
	fuzzDecoder(f, 42, ParseAddrList, []byte{10, 0, 0, 1}, []byte{10, 0, 0, 1, 10, 0, 0, 2})
}
