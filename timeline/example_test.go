package timeline_test

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/pxekit/pxekit/events"
	"github.com/pxekit/pxekit/timeline"
)

// Join a DHCP reply and the transfers from the address it gave.
func ExampleTimeline() {
	tl := &timeline.Timeline{}
	mac := net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56}
	ip := netip.MustParseAddr("10.0.0.100")
	tl.Observe(events.Event{Proto: events.ProtoDHCP, Kind: events.KindReply, MAC: mac, Addr: ip, File: "pxelinux.0"})
	for _, f := range []string{"pxelinux.0", "pxelinux.cfg/default", "install/vmlinuz"} {
		tl.Observe(events.Event{Proto: events.ProtoTFTP, Kind: events.KindDone, Addr: ip, File: f, Outcome: "ok"})
	}
	m, _ := tl.Machine(mac.String())
	fmt.Println(m.Addr, m.Stage)
	for _, s := range m.Steps {
		fmt.Println(s.Stage, s.File)
	}
	// Output:
	// 10.0.0.100 kernel
	// dhcp pxelinux.0
	// boot-program pxelinux.0
	// menu pxelinux.cfg/default
	// kernel install/vmlinuz
}
