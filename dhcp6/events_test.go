package dhcp6

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/events"
	"github.com/pxekit/pxekit/timeline"
)

type eventLog struct {
	mu sync.Mutex
	ev []events.Event
}

func (l *eventLog) Observe(e events.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ev = append(l.ev, e)
}

func (l *eventLog) take() []events.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	ev := l.ev
	l.ev = nil
	return ev
}

// TestHookStateful follows a PXE client's Solicit and Request through
// Server.Hook: request, identified (arch and firmware), and the reply
// with its boot URL and the address given; and then a timeline fed those
// events joins a TFTP transfer from that address to the client's MAC.
func TestHookStateful(t *testing.T) {
	s := statefulServer(t, &Pool{})
	log := &eventLog{}
	tl := &timeline.Timeline{}
	s.Hook = events.Tee(log, tl)
	mac := net.HardwareAddr{0x52, 0x54, 0, 1, 2, 3}

	adv := exchange(t, s, pxeSolicit(t))
	a, _, _ := leaseOf(t, adv)
	ev := log.take()
	kinds := []events.Kind{events.KindRequest, events.KindIdentified, events.KindReply}
	if len(ev) != len(kinds) {
		t.Fatalf("Solicit: %d events %+v, want request, identified, reply", len(ev), ev)
	}
	for i, e := range ev {
		if e.Kind != kinds[i] || e.Proto != events.ProtoDHCP || e.MAC.String() != mac.String() {
			t.Errorf("event %d: %v %v %v, want %v dhcp %v", i, e.Kind, e.Proto, e.MAC, kinds[i], mac)
		}
	}
	if id := ev[1]; id.Arch != iana.EFI_X86_64.String() || id.Firmware != "uefi" || id.Type != "SOLICIT" {
		t.Errorf("identified: arch %q firmware %q type %q, want %q uefi SOLICIT", id.Arch, id.Firmware, id.Type, iana.EFI_X86_64.String())
	}
	if r := ev[2]; r.Type != "ADVERTISE" || r.File != "tftp://[2001:db8:99::1]/ipxe.efi" || r.Addr != a {
		t.Errorf("reply: type %q file %q addr %v, want ADVERTISE, the boot URL and %v", r.Type, r.File, r.Addr, a)
	}

	req, err := dhcpv6.NewRequestFromAdvertise(adv, dhcpv6.WithArchType(iana.EFI_X86_64))
	if err != nil {
		t.Fatal(err)
	}
	exchange(t, s, req)
	if ev := log.take(); len(ev) != 3 || ev[2].Type != "REPLY" || ev[2].Addr != a {
		t.Errorf("Request: events %+v, want a REPLY giving %v last", ev, a)
	}

	// The firmware fetches its program from the leased address.
	now := time.Now()
	tl.Observe(events.Event{Time: now, Proto: events.ProtoTFTP, Kind: events.KindStart, Addr: a, File: "ipxe.efi", Size: -1})
	tl.Observe(events.Event{Time: now, Proto: events.ProtoTFTP, Kind: events.KindDone, Addr: a, File: "ipxe.efi", Size: 100, Bytes: 100, Outcome: "ok"})
	var found bool
	for _, m := range tl.Machines() {
		if m.MAC == mac.String() {
			found = true
			if !m.Reached(timeline.StageBootProgram) || m.Firmware != "uefi" || m.Addr != a {
				t.Errorf("machine %s: stage %v firmware %q addr %v, want boot program, uefi, %v", m.MAC, m.Stage, m.Firmware, m.Addr, a)
			}
		}
	}
	if !found {
		t.Errorf("timeline has no machine %v: %+v", mac, tl.Machines())
	}
}

// TestHookNotBoot: an operating system's DHCPv6 client (no option 61, no
// PXE vendor class) is a request, never an identified boot client.
func TestHookNotBoot(t *testing.T) {
	s := testServer(t)
	log := &eventLog{}
	s.Hook = log
	m, err := dhcpv6.NewSolicit(net.HardwareAddr{0x52, 0x54, 0, 9, 9, 9})
	if err != nil {
		t.Fatal(err)
	}
	s.handle(t.Context(), m.ToBytes(), 1, peer6)
	ev := log.take()
	if len(ev) == 0 || ev[0].Kind != events.KindRequest {
		t.Fatalf("events %+v, want a request first", ev)
	}
	for _, e := range ev {
		if e.Kind == events.KindIdentified || e.Kind == events.KindReply {
			t.Errorf("a non-boot client got %v (%+v)", e.Kind, e)
		}
	}
	if last := ev[len(ev)-1]; last.Kind != events.KindIgnored || last.Reason != events.ReasonNotBoot {
		t.Errorf("last event %+v, want ignored as %q", last, events.ReasonNotBoot)
	}
}
