package dhcp

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/pxekit/pxekit/events"
)

// recorder keeps the events a hook was told about.
type recorder struct {
	mu sync.Mutex
	ev []events.Event
}

func (r *recorder) Observe(e events.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e.MAC = append(e.MAC[:0:0], e.MAC...)
	r.ev = append(r.ev, e)
}

func (r *recorder) take() []events.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev := r.ev
	r.ev = nil
	return ev
}

func serveOnce(t *testing.T, s *Server, req *dhcpv4.DHCPv4, port int) {
	t.Helper()
	b, err := AppendMessage(nil, req, 0)
	if err != nil {
		t.Fatal(err)
	}
	sc := &serverConn{conn: &sink{}, localPort: port}
	in := inbound{port: port, dst: testSrv, local: testSrv, src: netip.MustParseAddrPort("0.0.0.0:68")}
	s.serveDatagram(context.Background(), sc, b, in, nil, newPktinfo())
}

func kinds(ev []events.Event) []events.Kind {
	var k []events.Kind
	for _, e := range ev {
		k = append(k, e.Kind)
	}
	return k
}

func TestHookProxy(t *testing.T) {
	rec := &recorder{}
	s := &Server{Decider: StaticBoot(Boot{File: "ipxe.efi"}), Hook: rec, RememberFor: -1}

	serveOnce(t, s, pxeRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithGeneric(dhcpv4.OptionHostName, []byte("<b>x</b>"))), ServerPort)
	ev := rec.take()
	if got := kinds(ev); len(got) != 3 || got[0] != events.KindRequest || got[1] != events.KindIdentified || got[2] != events.KindReply {
		t.Fatalf("PXE DISCOVER: kinds %v, want request, identified, reply", got)
	}
	for _, e := range ev {
		if e.Proto != events.ProtoDHCP || e.MAC.String() != testMAC.String() || e.Time.IsZero() {
			t.Errorf("event %v: proto %v mac %v time %v", e.Kind, e.Proto, e.MAC, e.Time)
		}
		if e.Arch != "EFI x86-64" || e.Firmware != "uefi" || e.Host != "<b>x</b>" {
			t.Errorf("event %v: arch %q firmware %q host %q", e.Kind, e.Arch, e.Firmware, e.Host)
		}
	}
	if r := ev[2]; r.Type != "OFFER" || r.File != "ipxe.efi" || r.Addr.IsValid() {
		t.Errorf("reply event: type %q file %q addr %v, want OFFER ipxe.efi no address", r.Type, r.File, r.Addr)
	}

	for _, tc := range []struct {
		name   string
		req    *dhcpv4.DHCPv4
		port   int
		reason string
	}{
		{"plain", plainRequest(t, dhcpv4.MessageTypeDiscover), ServerPort, events.ReasonNotBoot},
		{"discover on 4011", pxeRequest(t, dhcpv4.MessageTypeDiscover), PXEPort, events.ReasonOtherServer},
		{"release", pxeRequest(t, dhcpv4.MessageTypeRelease), ServerPort, events.ReasonNoReply},
	} {
		serveOnce(t, s, tc.req, tc.port)
		ev := rec.take()
		if len(ev) == 0 || ev[len(ev)-1].Kind != events.KindIgnored || ev[len(ev)-1].Reason != tc.reason {
			t.Errorf("%s: events %+v, want last ignored with reason %q", tc.name, ev, tc.reason)
		}
	}

	s2 := &Server{Decider: DeciderFunc(func(context.Context, *dhcpv4.DHCPv4) (Boot, error) { return Boot{}, ErrNoBoot }), Hook: rec}
	serveOnce(t, s2, pxeRequest(t, dhcpv4.MessageTypeDiscover), ServerPort)
	if ev := rec.take(); len(ev) != 3 || ev[2].Reason != events.ReasonNoBoot {
		t.Errorf("uncovered client: events %+v, want ignored with reason %q", ev, events.ReasonNoBoot)
	}

}

func TestHookMalformedAndFull(t *testing.T) {
	rec := &recorder{}
	p := &Pool{First: netip.MustParseAddr("10.0.0.100"), Last: netip.MustParseAddr("10.0.0.100")}
	s, _ := newFullServer(t, p)
	s.Decider, s.Hook = StaticBoot(Boot{File: "undionly.kpxe"}), rec
	sc := &serverConn{conn: &sink{}, localPort: ServerPort}
	in := inbound{port: ServerPort, dst: testSrv, local: testSrv, src: netip.MustParseAddrPort("10.9.9.9:68")}
	s.serveDatagram(context.Background(), sc, []byte{1, 2, 3}, in, nil, newPktinfo())
	if ev := rec.take(); len(ev) != 1 || ev[0].Kind != events.KindIgnored || ev[0].Reason != events.ReasonMalformed || ev[0].Addr != in.src.Addr() || ev[0].Err == nil {
		t.Errorf("malformed datagram: events %+v", ev)
	}

	serveOnce(t, s, pxeRequest(t, dhcpv4.MessageTypeDiscover), ServerPort)
	ev := rec.take()
	if len(ev) != 3 || ev[2].Kind != events.KindReply || ev[2].Addr != p.First || ev[2].File != "undionly.kpxe" {
		t.Fatalf("full DISCOVER: events %+v, want a reply with yiaddr %v", ev, p.First)
	}
	dora(t, s, testMAC, true)
	rec.take()
	other := pxeRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(mac(2)))
	serveOnce(t, s, other, ServerPort)
	if ev := rec.take(); len(ev) != 3 || ev[2].Reason != events.ReasonNoAddress {
		t.Errorf("exhausted pool: events %+v, want reason %q", ev, events.ReasonNoAddress)
	}
}

// nullConn is a PacketConn that drops what the server writes.
type nullConn struct{ sink }

func (nullConn) WriteTo(b []byte, _ net.Addr) (int, error) { return len(b), nil }

// BenchmarkServeHook measures one proxyDHCP DISCOVER → OFFER through the
// whole datagram path, without a hook, with a hook that counts, and with
// an events.Queue in front of a consumer.
func BenchmarkServeHook(b *testing.B) {
	raw := captures(b)["ovmf-pxe"]
	for _, bc := range []struct {
		name string
		hook func() (events.Hook, func())
	}{
		{"none", func() (events.Hook, func()) { return nil, func() {} }},
		{"count", func() (events.Hook, func()) {
			var n atomic.Int64
			return events.HookFunc(func(events.Event) { n.Add(1) }), func() {}
		}},
		{"queue", func() (events.Hook, func()) {
			q := events.NewQueue(events.HookFunc(func(events.Event) {}), 8192)
			return q, q.Close
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h, done := bc.hook()
			defer done()
			s := &Server{Decider: StaticBoot(Boot{File: "ipxe.efi"}), RememberFor: -1, Hook: h}
			sc := &serverConn{conn: nullConn{}, localPort: ServerPort}
			in := inbound{port: ServerPort, dst: testSrv, local: testSrv, src: netip.MustParseAddrPort("0.0.0.0:68")}
			out := make([]byte, 0, 1500)
			pi := newPktinfo()
			b.ReportAllocs()
			for b.Loop() {
				out = s.serveDatagram(context.Background(), sc, raw, in, out[:0], pi)
			}
			if s.Stats().Replied == 0 {
				b.Fatal("no reply")
			}
		})
	}
}

// TestHookRequestedAddress: a proxyDHCP server sees the client's REQUEST
// to the DHCP server that offered it an address (option 50, server
// identifier another server's): it answers nothing, but its events carry
// that address, so that the client's transfers can be joined to its MAC.
func TestHookRequestedAddress(t *testing.T) {
	rec := &recorder{}
	s := &Server{Decider: StaticBoot(Boot{File: "ipxe.efi"}), Hook: rec, RememberFor: -1}
	want := netip.MustParseAddr("10.99.0.111")
	req := pxeRequest(t, dhcpv4.MessageTypeRequest,
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(want.AsSlice())),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(10, 99, 0, 2))))
	serveOnce(t, s, req, ServerPort)
	ev := rec.take()
	if len(ev) == 0 {
		t.Fatal("no events")
	}
	for _, e := range ev {
		if e.Addr != want {
			t.Errorf("%v event: addr %v, want the requested %v", e.Kind, e.Addr, want)
		}
	}
	if last := ev[len(ev)-1]; last.Kind != events.KindIgnored || last.Reason != events.ReasonOtherServer {
		t.Errorf("last event %v %q, want ignored: %s", last.Kind, last.Reason, events.ReasonOtherServer)
	}
	// A DISCOVER's option 50 is only a wish: no address.
	serveOnce(t, s, pxeRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(want.AsSlice()))), ServerPort)
	if ev := rec.take(); len(ev) == 0 || ev[0].Addr.IsValid() {
		t.Errorf("DISCOVER with option 50: events %+v, want no address", ev)
	}
}

// TestNoReplyLog: with NoReplyLog the reply is sent and reported to the
// hook, but Logger has no line for it.
func TestNoReplyLog(t *testing.T) {
	for _, quiet := range []bool{false, true} {
		logs := &logRecorder{min: slog.LevelInfo}
		rec := &recorder{}
		s := &Server{Decider: StaticBoot(Boot{File: "ipxe.efi"}), Hook: rec, RememberFor: -1, Logger: slog.New(logs), NoReplyLog: quiet}
		serveOnce(t, s, pxeRequest(t, dhcpv4.MessageTypeDiscover), ServerPort)
		lines := 0
		for _, r := range logs.records(slog.LevelInfo) {
			if r.Message == "dhcp: reply" {
				lines++
			}
		}
		replies := 0
		for _, e := range rec.take() {
			if e.Kind == events.KindReply {
				replies++
			}
		}
		if want := map[bool]int{false: 1, true: 0}[quiet]; lines != want || replies != 1 {
			t.Errorf("NoReplyLog %v: %d reply lines and %d reply events, want %d and 1", quiet, lines, replies, want)
		}
	}
}
