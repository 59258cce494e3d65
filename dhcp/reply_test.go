package dhcp

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

var (
	testMAC  = net.HardwareAddr{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	testSrv  = netip.MustParseAddr("10.0.0.1")
	testGUID = []byte{0, 0x78, 0x56, 0x34, 0x12, 0xbc, 0x9a, 0xf0, 0xde, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}
)

// pxeRequest builds a request as a UEFI PXE ROM sends it: option 60
// "PXEClient:Arch:00007:UNDI:003016", 93 arch 7, 94 UNDI 3.16, 97 GUID,
// 55 with 66, 67, 43, 60.
func pxeRequest(t testing.TB, mt dhcpv4.MessageType, mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	t.Helper()
	base := []dhcpv4.Modifier{
		dhcpv4.WithMessageType(mt),
		dhcpv4.WithHwAddr(testMAC),
		dhcpv4.WithTransactionID(dhcpv4.TransactionID{1, 2, 3, 4}),
		dhcpv4.WithGeneric(dhcpv4.OptionClassIdentifier, []byte("PXEClient:Arch:00007:UNDI:003016")),
		dhcpv4.WithGeneric(dhcpv4.OptionClientSystemArchitectureType, []byte{0, 7}),
		dhcpv4.WithGeneric(dhcpv4.OptionClientNetworkInterfaceIdentifier, []byte{1, 3, 16}),
		dhcpv4.WithGeneric(dhcpv4.OptionClientMachineIdentifier, testGUID),
		dhcpv4.WithRequestedOptions(dhcpv4.OptionTFTPServerName, dhcpv4.OptionBootfileName, dhcpv4.OptionVendorSpecificInformation, dhcpv4.OptionClassIdentifier),
	}
	m, err := dhcpv4.New(append(base, mods...)...)
	if err != nil {
		t.Fatal(err)
	}
	m.Options.Del(dhcpv4.OptionEnd)
	return m
}

// plainRequest builds a request without PXE options, like udhcpc or
// syslinux.efi's second exchange (options 53, 57, 55 only).
func plainRequest(t testing.TB, mt dhcpv4.MessageType, mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	t.Helper()
	base := []dhcpv4.Modifier{
		dhcpv4.WithMessageType(mt),
		dhcpv4.WithHwAddr(testMAC),
		dhcpv4.WithTransactionID(dhcpv4.TransactionID{5, 6, 7, 8}),
		dhcpv4.WithGeneric(dhcpv4.OptionMaximumDHCPMessageSize, []byte{0x05, 0xc0}),
		dhcpv4.WithRequestedOptions(dhcpv4.OptionSubnetMask, dhcpv4.OptionRouter, dhcpv4.OptionBootfileName),
	}
	m, err := dhcpv4.New(append(base, mods...)...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// roundTrip encodes a reply as the server would and decodes it again.
func replyRoundTrip(t testing.TB, r *dhcpv4.DHCPv4, size int) *dhcpv4.DHCPv4 {
	t.Helper()
	b, err := AppendMessage(nil, r, size)
	if err != nil {
		t.Fatalf("AppendMessage: %v", err)
	}
	if len(b) > max(size, MinMessageSize) {
		t.Fatalf("AppendMessage wrote %d bytes, limit %d", len(b), size)
	}
	got, err := parseMessage(b, dhcpv4.OpcodeBootReply)
	if err != nil {
		t.Fatalf("decoding our own reply: %v", err)
	}
	return got
}

// TestNewReplyPXE checks a ProxyDirect OFFER relayed with option 82. It
// covers the firmware that never sends a REQUEST when a plain DHCP offer
// and a proxy offer arrive together: everything it needs to boot (siaddr,
// file, 67, 60 PXEClient, 43 discovery control 8) is in the OFFER itself.
func TestNewReplyPXE(t *testing.T) {
	req := pxeRequest(t, dhcpv4.MessageTypeDiscover,
		dhcpv4.WithBroadcast(true),
		dhcpv4.WithGatewayIP(net.IPv4(10, 9, 8, 7)),
		dhcpv4.WithGeneric(dhcpv4.OptionRelayAgentInformation, []byte{1, 3, 'e', 't', '0'}))
	b := &Boot{File: "ipxe.efi"}
	r, err := NewReply(req, dhcpv4.MessageTypeOffer, testSrv, b, BootInReply)
	if err != nil {
		t.Fatal(err)
	}
	r = replyRoundTrip(t, r, MinMessageSize)
	checks := []struct {
		name      string
		got, want any
	}{
		{"op", r.OpCode, dhcpv4.OpcodeBootReply},
		{"xid", r.TransactionID, req.TransactionID},
		{"broadcast flag", r.IsBroadcast(), true},
		{"giaddr", r.GatewayIPAddr.String(), "10.9.8.7"},
		{"yiaddr", r.YourIPAddr.String(), "0.0.0.0"},
		{"chaddr", r.ClientHWAddr.String(), testMAC.String()},
		{"siaddr", r.ServerIPAddr.String(), "10.0.0.1"},
		{"file", r.BootFileName, "ipxe.efi"},
		{"53", r.MessageType(), dhcpv4.MessageTypeOffer},
		{"54", r.ServerIdentifier().String(), "10.0.0.1"},
		{"60", r.ClassIdentifier(), "PXEClient"},
		{"66", r.TFTPServerName(), "10.0.0.1"},
		{"67", r.BootFileNameOption(), "ipxe.efi"},
		{"97", string(r.Options.Get(dhcpv4.OptionClientMachineIdentifier)), string(testGUID)},
		{"82", string(r.Options.Get(dhcpv4.OptionRelayAgentInformation)), "\x01\x03et0"},
		{"43", string(r.Options.Get(dhcpv4.OptionVendorSpecificInformation)), "\x06\x01\x08\xff"},
		{"no 209", r.Options.Has(dhcpv4.OptionPXELinuxConfigFile), false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestNewReplyHTTPBoot(t *testing.T) {
	req := pxeRequest(t, dhcpv4.MessageTypeDiscover,
		dhcpv4.WithGeneric(dhcpv4.OptionClassIdentifier, []byte("HTTPClient:Arch:00016:UNDI:003001")))
	url := "http://10.0.0.1/boot/ipxe.efi"
	r, err := NewReply(req, dhcpv4.MessageTypeOffer, testSrv, &Boot{File: url, HTTP: true}, BootInReply)
	if err != nil {
		t.Fatal(err)
	}
	r = replyRoundTrip(t, r, MinMessageSize)
	if got := r.ClassIdentifier(); got != "HTTPClient" {
		t.Errorf("60 = %q, want HTTPClient (UEFI HTTP boot rejects offers without it)", got)
	}
	if got := r.BootFileNameOption(); got != url {
		t.Errorf("67 = %q, want %q", got, url)
	}
	if r.Options.Has(dhcpv4.OptionVendorSpecificInformation) || r.Options.Has(dhcpv4.OptionTFTPServerName) {
		t.Errorf("HTTP boot reply carries 43 or 66: %v", r.Options)
	}
	if !r.ServerIPAddr.IsUnspecified() {
		t.Errorf("siaddr = %v, want 0.0.0.0", r.ServerIPAddr)
	}
}

func TestNewReplyRaspberryPiMenu(t *testing.T) {
	req := pxeRequest(t, dhcpv4.MessageTypeDiscover,
		dhcpv4.WithGeneric(dhcpv4.OptionClassIdentifier, []byte("PXEClient:Arch:00000:UNDI:002001")))
	r, err := NewReply(req, dhcpv4.MessageTypeOffer, testSrv, &Boot{File: "bootcode.bin", Menu: "Raspberry Pi Boot"}, BootInReply)
	if err != nil {
		t.Fatal(err)
	}
	r = replyRoundTrip(t, r, MinMessageSize)
	o, err := ParsePXEVendorOptions(r.Options.Get(dhcpv4.OptionVendorSpecificInformation))
	if err != nil {
		t.Fatal(err)
	}
	if len(o.BootMenu) != 1 || o.BootMenu[0].Description != "Raspberry Pi Boot" {
		t.Errorf("43.9 = %+v, want one entry \"Raspberry Pi Boot\"", o.BootMenu)
	}
	if !o.HasMenuPrompt || o.MenuPrompt.Timeout != 0 {
		t.Errorf("43.10 = %+v (present %v), want timeout 0", o.MenuPrompt, o.HasMenuPrompt)
	}
	if !o.HasDiscoveryControl || o.DiscoveryControl != PXEDiscoveryBootFile {
		t.Errorf("43.6 = %v, want %v", o.DiscoveryControl, PXEDiscoveryBootFile)
	}
}

func TestNewReplyPXELinux(t *testing.T) {
	req := pxeRequest(t, dhcpv4.MessageTypeDiscover,
		dhcpv4.WithRequestedOptions(dhcpv4.OptionPXELinuxMagicString))
	b := &Boot{File: "pxelinux.0", ConfigFile: "pxelinux.cfg/default", PathPrefix: "/srv/tftp/", NextServer: netip.MustParseAddr("10.0.0.5")}
	r, err := NewReply(req, dhcpv4.MessageTypeOffer, testSrv, b, BootInReply)
	if err != nil {
		t.Fatal(err)
	}
	r = replyRoundTrip(t, r, MinMessageSize)
	if got := string(r.Options.Get(dhcpv4.OptionPXELinuxConfigFile)); got != b.ConfigFile {
		t.Errorf("209 = %q, want %q", got, b.ConfigFile)
	}
	if got := string(r.Options.Get(dhcpv4.OptionPXELinuxPathPrefix)); got != b.PathPrefix {
		t.Errorf("210 = %q, want %q", got, b.PathPrefix)
	}
	if got := r.Options.Get(dhcpv4.OptionPXELinuxMagicString); !bytes.Equal(got, []byte{0xf1, 0, 0x74, 0x7e}) {
		t.Errorf("208 = %x, want f100747e", got)
	}
	if got := r.ServerIPAddr.String(); got != "10.0.0.5" {
		t.Errorf("siaddr = %s, want the configured next server", got)
	}
}

func TestNewReplyBINL(t *testing.T) {
	req := pxeRequest(t, dhcpv4.MessageTypeDiscover)
	b := &Boot{File: "ipxe.efi", ProxyStyle: ProxyBINL}
	offer, err := NewReply(req, dhcpv4.MessageTypeOffer, testSrv, b, BootAtPXEPort)
	if err != nil {
		t.Fatal(err)
	}
	if offer.BootFileName != "" || offer.Options.Has(dhcpv4.OptionBootfileName) || offer.Options.Has(dhcpv4.OptionVendorSpecificInformation) {
		t.Errorf("BINL offer carries a file or option 43: %v", offer)
	}
	if offer.ClassIdentifier() != "PXEClient" {
		t.Errorf("BINL offer 60 = %q", offer.ClassIdentifier())
	}
	ack, err := NewReply(pxeRequest(t, dhcpv4.MessageTypeRequest), dhcpv4.MessageTypeAck, testSrv, b, BootInReply)
	if err != nil {
		t.Fatal(err)
	}
	if ack.BootFileName != "ipxe.efi" {
		t.Errorf("4011 ACK file = %q, want ipxe.efi", ack.BootFileName)
	}
}

func TestNewReplyLongFile(t *testing.T) {
	long := "http://10.0.0.1/" + strings.Repeat("a", 200) + "/boot.efi"
	r, err := NewReply(pxeRequest(t, dhcpv4.MessageTypeDiscover), dhcpv4.MessageTypeOffer, testSrv, &Boot{File: long}, BootInReply)
	if err != nil {
		t.Fatal(err)
	}
	r = replyRoundTrip(t, r, MinMessageSize)
	if r.BootFileName != "" {
		t.Errorf("file field = %q, want empty for a %d-byte name", r.BootFileName, len(long))
	}
	if got := r.BootFileNameOption(); got != long {
		t.Errorf("67 = %q, want %q", got, long)
	}
}

// TestAppendMessageOverload fills a reply beyond the 548 bytes a client
// accepts by default: the options must spill into file and sname (RFC
// 2132 §9.3) and decode back unchanged.
func TestAppendMessageOverload(t *testing.T) {
	req := pxeRequest(t, dhcpv4.MessageTypeDiscover)
	b := &Boot{File: "pxelinux.0", ServerName: "tftp.example", ConfigFile: strings.Repeat("c", 120), PathPrefix: strings.Repeat("p", 50)}
	r, err := NewReply(req, dhcpv4.MessageTypeOffer, testSrv, b, BootInReply)
	if err != nil {
		t.Fatal(err)
	}
	r.Options[dhcpv4.OptionRootPath.Code()] = bytes.Repeat([]byte{'r'}, 150)
	enc, err := AppendMessage(nil, r, MinMessageSize)
	if err != nil {
		t.Fatal(err)
	}
	if len(enc) > MinMessageSize {
		t.Fatalf("encoded %d bytes, want at most %d", len(enc), MinMessageSize)
	}
	got := replyRoundTrip(t, r, MinMessageSize)
	if ov := got.Options.Get(dhcpv4.OptionOptionOverload); len(ov) != 1 || ov[0] == 0 {
		t.Fatalf("option 52 = %x, want overload", ov)
	}
	for c, v := range r.Options {
		if !bytes.Equal(got.Options[c], v) {
			t.Errorf("option %d = %q, want %q", c, got.Options[c], v)
		}
	}
	// The same reply fits unchanged when the client accepts 1500 bytes.
	if got := replyRoundTrip(t, r, 1500-28); got.Options.Has(dhcpv4.OptionOptionOverload) || got.BootFileName != "pxelinux.0" {
		t.Errorf("with room, overload = %v, file = %q", got.Options.Has(dhcpv4.OptionOptionOverload), got.BootFileName)
	}
	// Far too much fails cleanly.
	r.Options[dhcpv4.OptionDNSDomainSearchList.Code()] = bytes.Repeat([]byte{'x'}, 600)
	if _, err := AppendMessage(nil, r, MinMessageSize); !errors.Is(err, ErrReplyTooLarge) {
		t.Errorf("AppendMessage(oversized) error = %v, want ErrReplyTooLarge", err)
	}
}

func TestReplyDest(t *testing.T) {
	bcast := netip.MustParseAddrPort("255.255.255.255:68")
	src := netip.MustParseAddrPort("10.0.0.50:68")
	tests := []struct {
		name string
		mods []dhcpv4.Modifier
		mt   dhcpv4.MessageType
		in   inbound
		want netip.AddrPort
	}{
		{"relay", []dhcpv4.Modifier{dhcpv4.WithGatewayIP(net.IPv4(10, 1, 0, 1))}, dhcpv4.MessageTypeOffer, inbound{}, netip.MustParseAddrPort("10.1.0.1:67")},
		{"relay NAK", []dhcpv4.Modifier{dhcpv4.WithGatewayIP(net.IPv4(10, 1, 0, 1))}, dhcpv4.MessageTypeNak, inbound{}, netip.MustParseAddrPort("10.1.0.1:67")},
		{"NAK", []dhcpv4.Modifier{dhcpv4.WithClientIP(net.IPv4(10, 0, 0, 50))}, dhcpv4.MessageTypeNak, inbound{src: src}, bcast},
		{"ciaddr from source", []dhcpv4.Modifier{dhcpv4.WithClientIP(net.IPv4(10, 0, 0, 50))}, dhcpv4.MessageTypeAck, inbound{src: netip.MustParseAddrPort("10.0.0.50:4011")}, netip.MustParseAddrPort("10.0.0.50:4011")},
		{"ciaddr", []dhcpv4.Modifier{dhcpv4.WithClientIP(net.IPv4(10, 0, 0, 50))}, dhcpv4.MessageTypeAck, inbound{}, netip.MustParseAddrPort("10.0.0.50:68")},
		{"broadcast flag", []dhcpv4.Modifier{dhcpv4.WithBroadcast(true)}, dhcpv4.MessageTypeOffer, inbound{}, bcast},
		{"port 4011 without ciaddr", nil, dhcpv4.MessageTypeAck, inbound{port: PXEPort, src: netip.MustParseAddrPort("10.0.0.50:4011")}, netip.MustParseAddrPort("10.0.0.50:4011")},
		{"no address yet", nil, dhcpv4.MessageTypeOffer, inbound{}, bcast},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := plainRequest(t, dhcpv4.MessageTypeRequest, tt.mods...)
			r, err := NewReply(req, tt.mt, testSrv, nil, BootInReply)
			if err != nil {
				t.Fatal(err)
			}
			if got := replyDest(req, r, tt.in); got != tt.want {
				t.Errorf("replyDest = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseRequestRejects(t *testing.T) {
	good, err := AppendMessage(nil, plainRequest(t, dhcpv4.MessageTypeDiscover), 0)
	if err != nil {
		t.Fatal(err)
	}
	good[0] = 1 // AppendMessage wrote op 1 from the request already
	if _, err := ParseRequest(good); err != nil {
		t.Fatalf("ParseRequest(good) = %v", err)
	}
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := map[string][]byte{
		"empty":          nil,
		"truncated":      good[:100],
		"giant":          make([]byte, MaxRequestSize+1),
		"reply op":       mut(func(b []byte) []byte { b[0] = 2; return b }),
		"hlen 0":         mut(func(b []byte) []byte { b[2] = 0; return b }),
		"hlen 17":        mut(func(b []byte) []byte { b[2] = 17; return b }),
		"bad cookie":     mut(func(b []byte) []byte { b[236] = 0; return b }),
		"no option 53":   mut(func(b []byte) []byte { b[240] = 0; b[241] = 0; b[242] = 0; return b }), // 53,1,1 → pads
		"53 length 2":    mut(func(b []byte) []byte { return append(b[:240], 53, 2, 1, 1, 255) }),
		"53 value 0":     mut(func(b []byte) []byte { return append(b[:240], 53, 1, 0, 255) }),
		"option overrun": mut(func(b []byte) []byte { return append(b[:240], 53, 1, 1, 12, 200, 'x', 255) }),
		"no end":         mut(func(b []byte) []byte { return append(b[:240], 53, 1, 1) }),
		"bad overload":   mut(func(b []byte) []byte { return append(b[:240], 53, 1, 1, 52, 1, 9, 255) }),
		"garbage file":   mut(func(b []byte) []byte { b[108] = 12; b[109] = 250; return append(b[:240], 53, 1, 1, 52, 1, 1, 255) }),
	}
	for name, b := range tests {
		if _, err := ParseRequest(b); !errors.Is(err, ErrMalformedPacket) {
			t.Errorf("%s: ParseRequest error = %v, want ErrMalformedPacket", name, err)
		}
	}
}

func TestParseRequestOverload(t *testing.T) {
	req := plainRequest(t, dhcpv4.MessageTypeDiscover)
	b, err := AppendMessage(nil, req, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Move option 12 (host name) into the sname field, announce overload 2.
	copy(b[offSname:], []byte{12, 4, 'h', 'o', 's', 't', 255})
	b = append(b[:240], 53, 1, 1, 52, 1, 2, 255)
	got, err := ParseRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	if h := got.HostName(); h != "host" {
		t.Errorf("host name from sname = %q, want host", h)
	}
	if got.ServerHostName != "" {
		t.Errorf("sname = %q, want empty once read as options", got.ServerHostName)
	}
}
