package events

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestLogHook(t *testing.T) {
	mac := net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56}
	ip := netip.MustParseAddr("10.0.0.100")
	for _, c := range []struct {
		name string
		e    Event
		want string // the line without time; "" for none
	}{
		{"request", Event{Proto: ProtoDHCP, Kind: KindRequest, MAC: mac, Type: "DISCOVER", Arch: "EFI x86-64", Firmware: "uefi", VendorClass: "PXEClient:Arch:00007"},
			`level=DEBUG msg="dhcp: request" type=DISCOVER mac=52:54:00:12:34:56 arch="EFI x86-64" firmware=uefi vendor_class=PXEClient:Arch:00007`},
		{"identified", Event{Proto: ProtoDHCP, Kind: KindIdentified, MAC: mac, Firmware: "uefi"}, ""},
		{"reply", Event{Proto: ProtoDHCP, Kind: KindReply, MAC: mac, Addr: ip, Type: "ACK", File: "ipxe.efi", Firmware: "uefi"},
			`level=INFO msg="dhcp: reply" type=ACK mac=52:54:00:12:34:56 addr=10.0.0.100 file=ipxe.efi firmware=uefi`},
		{"not a boot client", Event{Proto: ProtoDHCP, Kind: KindIgnored, MAC: mac, Type: "DISCOVER", Reason: ReasonNotBoot},
			`level=DEBUG msg="dhcp: not answered" type=DISCOVER mac=52:54:00:12:34:56 reason=not-boot-client`},
		{"uncovered architecture", Event{Proto: ProtoDHCP, Kind: KindIgnored, MAC: mac, Type: "DISCOVER", Arch: "EFI ARM64", Firmware: "uefi", Reason: ReasonNoBoot},
			`level=WARN msg="dhcp: not answered" type=DISCOVER mac=52:54:00:12:34:56 arch="EFI ARM64" firmware=uefi reason=no-boot-program`},
		{"pool exhausted", Event{Proto: ProtoDHCP, Kind: KindIgnored, MAC: mac, Type: "DISCOVER", Reason: ReasonNoAddress, Err: errors.New("pool full")},
			`level=WARN msg="dhcp: not answered" type=DISCOVER mac=52:54:00:12:34:56 reason=no-free-address err="pool full"`},
		{"tftp start", Event{Proto: ProtoTFTP, Kind: KindStart, Addr: ip, File: "pxelinux.0"},
			`level=DEBUG msg="tftp: transfer start" peer=10.0.0.100 file=pxelinux.0`},
		{"tftp options", Event{Proto: ProtoTFTP, Kind: KindOptions, Addr: ip, File: "pxelinux.0", BlockSize: 1468, WindowSize: 4, Size: 42, Timeout: time.Second},
			`level=DEBUG msg="tftp: options" peer=10.0.0.100 file=pxelinux.0 blksize=1468 windowsize=4 tsize=42 timeout=1s`},
		{"size probe", Event{Proto: ProtoTFTP, Kind: KindDone, Addr: ip, File: "pxelinux.0", Outcome: "aborted", Size: 42, BlockSize: 1468, WindowSize: 1},
			`level=DEBUG msg="tftp: transfer done" peer=10.0.0.100 file=pxelinux.0 outcome=aborted bytes=0 size=42 blksize=1468 windowsize=1 duration=0s`},
		{"tftp done", Event{Proto: ProtoTFTP, Kind: KindDone, Addr: ip, File: "vmlinuz", Outcome: "ok", Bytes: 2000000, Size: 2000000, BlockSize: 1468, WindowSize: 4, Retransmits: 3, Duration: time.Second},
			`level=INFO msg="tftp: transfer done" peer=10.0.0.100 file=vmlinuz outcome=ok bytes=2000000 size=2000000 blksize=1468 windowsize=4 retransmits=3 duration=1s rate="2.0 MB/s"`},
		{"tftp timeout", Event{Proto: ProtoTFTP, Kind: KindDone, Addr: ip, File: "vmlinuz", Outcome: "timeout", Bytes: 512, BlockSize: 512, WindowSize: 1, Duration: 5 * time.Second, Err: errors.New("no ack")},
			`level=WARN msg="tftp: transfer done" peer=10.0.0.100 file=vmlinuz outcome=timeout bytes=512 blksize=512 windowsize=1 duration=5s err="no ack"`},
		{"http range", Event{Proto: ProtoHTTP, Kind: KindDone, Addr: ip, Type: "GET", File: "live/filesystem.squashfs", Status: 206, Offset: 4096, Bytes: 1000, Outcome: "ok", Duration: 1234567 * time.Nanosecond},
			`level=INFO msg=http peer=10.0.0.100 method=GET file=live/filesystem.squashfs status=206 offset=4096 bytes=1000 duration=1ms outcome=ok rate="810.0 kB/s"`},
		{"http generated", Event{Proto: ProtoHTTP, Kind: KindDone, Addr: ip, Type: "GET", File: "boot.ipxe", Generated: true, Status: 200, Bytes: 912, Outcome: "ok", Duration: time.Millisecond},
			`level=INFO msg=http peer=10.0.0.100 method=GET file=boot.ipxe generated=true status=200 bytes=912 duration=1ms outcome=ok rate="912.0 kB/s"`},
		{"tftp generated", Event{Proto: ProtoTFTP, Kind: KindDone, Addr: ip, File: "pxelinux.cfg/default", Generated: true, Outcome: "ok", Bytes: 100, Size: 100, BlockSize: 1408, WindowSize: 1},
			`level=INFO msg="tftp: transfer done" peer=10.0.0.100 file=pxelinux.cfg/default generated=true outcome=ok bytes=100 size=100 blksize=1408 windowsize=1 duration=0s`},
		{"http error", Event{Proto: ProtoHTTP, Kind: KindDone, Addr: ip, Type: "GET", File: "x", Status: 500, Outcome: "error"},
			`level=WARN msg=http peer=10.0.0.100 method=GET file=x status=500 bytes=0 duration=0s outcome=error`},
		{"hostile names", Event{Proto: ProtoTFTP, Kind: KindDone, Addr: ip, File: "a\nlevel=ERROR msg=forged", Outcome: "not-found"},
			`level=INFO msg="tftp: transfer done" peer=10.0.0.100 file="a\nlevel=ERROR msg=forged" outcome=not-found bytes=0 blksize=0 windowsize=0 duration=0s`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b strings.Builder
			log := slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: noTime}))
			LogHook(log).Observe(c.e)
			want := c.want
			if want != "" {
				want += "\n"
			}
			if got := b.String(); got != want {
				t.Errorf("LogHook(%+v) wrote\n%q\nwant\n%q", c.e, got, want)
			}
		})
	}
}

func TestLogHookLevel(t *testing.T) {
	var b strings.Builder
	log := slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h := LogHook(log)
	h.Observe(Event{Proto: ProtoDHCP, Kind: KindRequest, Type: "DISCOVER"})
	h.Observe(Event{Proto: ProtoTFTP, Kind: KindStart, File: "x"})
	if b.Len() != 0 {
		t.Errorf("debug events written at info level: %s", b.String())
	}
	LogHook(nil).Observe(Event{Proto: ProtoDHCP, Kind: KindReply}) // discards, no panic
	if n := testing.AllocsPerRun(100, func() { h.Observe(Event{Proto: ProtoTFTP, Kind: KindStart, File: "x"}) }); n != 0 {
		t.Errorf("a line below the level allocates %v times, want 0", n)
	}
}

func noTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}
