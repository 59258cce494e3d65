package events_test

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/pxekit/pxekit/events"
)

// Put a slow consumer behind a Queue: servers never wait for it.
func ExampleQueue() {
	q := events.NewQueue(events.HookFunc(func(e events.Event) {
		fmt.Println(e.Proto, e.Kind, e.File, e.Outcome)
	}), 64)
	q.Observe(events.Event{Proto: events.ProtoTFTP, Kind: events.KindDone, File: "pxelinux.0", Outcome: "ok"})
	q.Close()
	fmt.Println("dropped", q.Dropped())
	// Output:
	// tftp done pxelinux.0 ok
	// dropped 0
}

// Render the events of a boot as log lines, one per step.
func ExampleLogHook() {
	// No time in the lines, so that the example's output is fixed.
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		},
	}))
	h := events.LogHook(log)
	mac := net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56}
	ip := netip.MustParseAddr("10.0.0.100")
	h.Observe(events.Event{Proto: events.ProtoDHCP, Kind: events.KindRequest, MAC: mac, Type: "DISCOVER", Arch: "Intel x86PC", Firmware: "bios"})
	h.Observe(events.Event{Proto: events.ProtoDHCP, Kind: events.KindReply, MAC: mac, Addr: ip, Type: "OFFER", File: "pxelinux.0", Arch: "Intel x86PC", Firmware: "bios"})
	h.Observe(events.Event{Proto: events.ProtoTFTP, Kind: events.KindDone, Addr: ip, File: "pxelinux.0", Outcome: "ok",
		Bytes: 42378, Size: 42378, BlockSize: 1468, WindowSize: 4, Duration: 12 * time.Millisecond})
	h.Observe(events.Event{Proto: events.ProtoHTTP, Kind: events.KindDone, Addr: ip, Type: "GET", File: "install/vmlinuz", Status: 404, Outcome: "not-found", Duration: time.Millisecond})
	// Output:
	// level=INFO msg="dhcp: reply" type=OFFER mac=52:54:00:12:34:56 addr=10.0.0.100 file=pxelinux.0 arch="Intel x86PC" firmware=bios
	// level=INFO msg="tftp: transfer done" peer=10.0.0.100 file=pxelinux.0 outcome=ok bytes=42378 size=42378 blksize=1468 windowsize=4 duration=12ms rate="3.5 MB/s"
	// level=INFO msg=http peer=10.0.0.100 method=GET file=install/vmlinuz status=404 bytes=0 duration=1ms outcome=not-found
}
