package dhcp6

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/events"
)

func testServer(t *testing.T) *Server {
	t.Helper()
	s := &Server{Decider: bootDecider, ServerAddr: netip.MustParseAddr("2001:db8::1")}
	if err := s.initServerID(); err != nil {
		t.Fatal(err)
	}
	return s
}

var peer6 = &net.UDPAddr{IP: net.ParseIP("fe80::2"), Port: 546}

func pxeSolicit(t *testing.T) *dhcpv6.Message {
	t.Helper()
	m, err := dhcpv6.NewSolicit(net.HardwareAddr{0x52, 0x54, 0, 1, 2, 3}, dhcpv6.WithArchType(iana.EFI_X86_64))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSolicitGetsAdvertiseWithoutAddresses(t *testing.T) {
	s := testServer(t)
	sol := pxeSolicit(t)
	r := s.handle(context.Background(), sol.ToBytes(), 1, peer6)
	adv, ok := r.(*dhcpv6.Message)
	if !ok || adv.MessageType != dhcpv6.MessageTypeAdvertise {
		t.Fatalf("handle(Solicit) = %v, want an Advertise", r)
	}
	if adv.TransactionID != sol.TransactionID {
		t.Errorf("xid %v, want %v", adv.TransactionID, sol.TransactionID)
	}
	if u := adv.Options.BootFileURL(); u != "tftp://[2001:db8::1]/ipxe.efi" {
		t.Errorf("option 59 = %q", u)
	}
	if p := adv.Options.BootFileParam(); len(p) != 1 || p[0] != "console=ttyS0" {
		t.Errorf("option 60 = %q", p)
	}
	ia := adv.Options.OneIANA()
	if ia == nil || len(ia.Options.Addresses()) != 0 || ia.Options.Status() == nil || ia.Options.Status().StatusCode != iana.StatusNoAddrsAvail {
		t.Errorf("IA_NA = %v, want no address and NoAddrsAvail", ia)
	}
	if adv.Options.ServerID() == nil || !adv.Options.ClientID().Equal(sol.Options.ClientID()) {
		t.Errorf("server ID %v, client ID %v", adv.Options.ServerID(), adv.Options.ClientID())
	}

	// Request to us: Reply. Request to another server: silence.
	req, err := dhcpv6.NewRequestFromAdvertise(adv, dhcpv6.WithArchType(iana.EFI_X86_64))
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := s.handle(context.Background(), req.ToBytes(), 1, peer6).(*dhcpv6.Message); !ok || r.MessageType != dhcpv6.MessageTypeReply {
		t.Errorf("handle(Request) = %v, want a Reply", r)
	}
	req.UpdateOption(dhcpv6.OptServerID(&dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr{2, 0, 0, 0, 0, 9}}))
	if r := s.handle(context.Background(), req.ToBytes(), 1, peer6); r != nil {
		t.Errorf("handle(Request to another server) = %v, want nothing", r)
	}
}

func TestNotBootClientGetsNothing(t *testing.T) {
	s := testServer(t)
	m, _ := dhcpv6.NewSolicit(net.HardwareAddr{0x52, 0x54, 0, 1, 2, 3})
	if r := s.handle(context.Background(), m.ToBytes(), 1, peer6); r != nil {
		t.Errorf("handle(plain Solicit) = %v, want nothing", r)
	}
	if r := s.handle(context.Background(), []byte{1, 2}, 1, peer6); r != nil {
		t.Errorf("handle(garbage) = %v", r)
	}
}

func TestRelayedInformationRequest(t *testing.T) {
	s := testServer(t)
	s.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	ir, err := dhcpv6.NewMessage(dhcpv6.WithArchType(iana.EFI_X86_64_HTTP))
	if err != nil {
		t.Fatal(err)
	}
	ir.MessageType = dhcpv6.MessageTypeInformationRequest
	relay, err := dhcpv6.EncapsulateRelay(ir, dhcpv6.MessageTypeRelayForward, net.ParseIP("2001:db8:1::1"), net.ParseIP("fe80::2"))
	if err != nil {
		t.Fatal(err)
	}
	r := s.handle(context.Background(), relay.ToBytes(), 1, &net.UDPAddr{IP: net.ParseIP("2001:db8:1::1"), Port: 547})
	rr, ok := r.(*dhcpv6.RelayMessage)
	if !ok || rr.MessageType != dhcpv6.MessageTypeRelayReply {
		t.Fatalf("handle(Relay-Forward) = %v, want a Relay-Reply", r)
	}
	inner, err := rr.GetInnerMessage()
	if err != nil || inner.MessageType != dhcpv6.MessageTypeReply || inner.Options.BootFileURL() == "" {
		t.Errorf("inner = %v, %v; want a Reply with option 59", inner, err)
	}
}

func TestAddBootHTTP(t *testing.T) {
	m, _ := dhcpv6.NewMessage()
	if err := AddBoot(m, Boot{URL: "http://[2001:db8::1]/x.efi", HTTP: true}); err != nil {
		t.Fatal(err)
	}
	if vc := m.Options.VendorClass(EnterprisePXE); len(vc) != 1 || string(vc[0]) != "HTTPClient" {
		t.Errorf("vendor class = %q, want HTTPClient", vc)
	}
	if err := AddBoot(m, Boot{}); err == nil {
		t.Errorf("AddBoot with no URL = nil error")
	}
}

func TestURLHost(t *testing.T) {
	for in, want := range map[string]string{"2001:db8::1": "[2001:db8::1]", "fe80::1%eth0": "[fe80::1%25eth0]", "192.0.2.1": "192.0.2.1"} {
		if got := URLHost(netip.MustParseAddr(in)); got != want {
			t.Errorf("URLHost(%s) = %s, want %s", in, got, want)
		}
	}
}

// FuzzServerHandle feeds arbitrary datagrams to the server's handler: no
// panic, and any reply encodes.
func FuzzServerHandle(f *testing.F) {
	m, _ := dhcpv6.NewSolicit(net.HardwareAddr{0x52, 0x54, 0, 1, 2, 3}, dhcpv6.WithArchType(iana.EFI_X86_64))
	f.Add(m.ToBytes())
	relay, _ := dhcpv6.EncapsulateRelay(m, dhcpv6.MessageTypeRelayForward, net.ParseIP("2001:db8:1::1"), net.ParseIP("fe80::2"))
	f.Add(relay.ToBytes())
	// With a Hook, so that the event's decoding of options 15, 16 and
	// 61 is fuzzed too.
	s := &Server{Decider: bootDecider, ServerAddr: netip.MustParseAddr("2001:db8::1"), Hook: events.HookFunc(func(events.Event) {})}
	if err := s.initServerID(); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if r := s.handle(context.Background(), b, 1, peer6); r != nil {
			_ = r.ToBytes()
		}
	})
}
