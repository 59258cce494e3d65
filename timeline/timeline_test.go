package timeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/events"
)

var (
	t0   = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	mac1 = net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56}
	ip1  = netip.MustParseAddr("10.0.0.100")
)

// script is a sequence of events one second apart.
type script struct {
	t  *testing.T
	tl *Timeline
	n  int
}

func (s *script) ev(e events.Event) {
	s.n++
	e.Time = t0.Add(time.Duration(s.n) * time.Second)
	s.tl.Observe(e)
}

func (s *script) dhcp(kind events.Kind, mac net.HardwareAddr, addr netip.Addr, file string) {
	s.ev(events.Event{Proto: events.ProtoDHCP, Kind: kind, MAC: mac, Addr: addr, File: file, Type: "DISCOVER", Arch: "Intel x86PC", Firmware: "bios", Host: "node-1"})
}

func (s *script) fetch(proto events.Proto, addr netip.Addr, file, outcome string, n int64) {
	s.ev(events.Event{Proto: proto, Kind: events.KindStart, Addr: addr, File: file})
	s.ev(events.Event{Proto: proto, Kind: events.KindDone, Addr: addr, File: file, Outcome: outcome, Bytes: n})
}

func stages(m Machine) string {
	var s []string
	for _, st := range m.Steps {
		s = append(s, st.Stage.String())
	}
	return strings.Join(s, ",")
}

func TestBIOSBootToRootFS(t *testing.T) {
	tl := &Timeline{Names: map[string]Stage{"install/vmlinuz": StageKernel, "install/initrd.gz": StageInitrd}}
	s := &script{t: t, tl: tl}
	s.dhcp(events.KindRequest, mac1, netip.Addr{}, "") // unknown, not a boot client yet: nothing
	if tl.Len() != 0 {
		t.Fatalf("a request alone made a machine")
	}
	s.dhcp(events.KindIdentified, mac1, netip.Addr{}, "")
	s.dhcp(events.KindReply, mac1, ip1, "pxelinux.0")
	s.fetch(events.ProtoTFTP, ip1, "pxelinux.0", "aborted", 0) // tsize probe
	s.fetch(events.ProtoTFTP, ip1, "pxelinux.0", "ok", 42000)
	s.fetch(events.ProtoTFTP, ip1, "ldlinux.c32", "ok", 100)
	s.fetch(events.ProtoTFTP, ip1, "pxelinux.cfg/01-52-54-00-12-34-56", "not-found", 0)
	s.fetch(events.ProtoTFTP, ip1, "pxelinux.cfg/default", "ok", 300)
	s.dhcp(events.KindIdentified, mac1, netip.Addr{}, "") // iPXE's own DHCP: not a new boot
	s.fetch(events.ProtoHTTP, ip1, "install/vmlinuz", "ok", 5_000_000)
	mid, _ := tl.Machine(mac1.String())
	s.fetch(events.ProtoHTTP, ip1, "install/initrd.gz", "ok", 20_000_000)
	s.fetch(events.ProtoHTTP, ip1, "live/filesystem.squashfs", "ok", 1)
	s.fetch(events.ProtoHTTP, ip1, "pxelinux.cfg/default", "ok", 300) // backwards: counted only

	m, ok := tl.Machine(mac1.String())
	if !ok {
		t.Fatal("machine not found by MAC")
	}
	if got, want := stages(m), "dhcp,boot-program,menu,kernel,initrd,rootfs"; got != want {
		t.Errorf("steps %s, want %s", got, want)
	}
	if mid.Stage != StageKernel {
		t.Errorf("after the kernel: stage %v, want kernel", mid.Stage)
	}
	if m.Stage != StageRootFS || !m.Reached(StageKernel) || m.Addr != ip1 || m.Arch != "Intel x86PC" || m.Firmware != "bios" || m.Host != "node-1" || m.Boots != 1 {
		t.Errorf("machine %+v", m)
	}
	if m.Bytes != 42000+100+300+5_000_000+20_000_000+1+300 || m.Transfers != 9 || len(m.Fetching) != 0 {
		t.Errorf("bytes %d transfers %d fetching %v", m.Bytes, m.Transfers, m.Fetching)
	}
	if !strings.Contains(m.LastError, "pxelinux.cfg/01-52-54-00-12-34-56: not-found") {
		t.Errorf("last error %q, want the missing per-MAC config", m.LastError)
	}
	for i := 1; i < len(m.Steps); i++ {
		if !m.Steps[i].Time.After(m.Steps[i-1].Time) {
			t.Errorf("steps out of order: %+v", m.Steps)
		}
	}
	if m.Steps[0].File != "pxelinux.0" || m.Steps[3].File != "install/vmlinuz" {
		t.Errorf("step files %+v", m.Steps)
	}
	if tl.Len() != 1 {
		t.Errorf("%d machines, want 1: %+v", tl.Len(), tl.Machines())
	}

	// The machine reboots into PXE: a new boot.
	s.dhcp(events.KindIdentified, mac1, netip.Addr{}, "")
	m, _ = tl.Machine(mac1.String())
	if m.Stage != StageNone || len(m.Steps) != 0 || m.Boots != 2 {
		t.Errorf("after a new PXE request: stage %v steps %v boots %d, want none, none, 2", m.Stage, m.Steps, m.Boots)
	}
}

func TestInProgressAndErrors(t *testing.T) {
	tl := &Timeline{}
	s := &script{t: t, tl: tl}
	s.dhcp(events.KindReply, mac1, ip1, "")
	s.ev(events.Event{Proto: events.ProtoHTTP, Kind: events.KindStart, Addr: ip1, File: "vmlinuz"})
	m, _ := tl.Machine(mac1.String())
	if m.Stage != StageDHCP || !slices.Equal(m.Fetching, []string{"vmlinuz"}) {
		t.Errorf("while fetching: stage %v fetching %v, want dhcp [vmlinuz]", m.Stage, m.Fetching)
	}
	s.ev(events.Event{Proto: events.ProtoHTTP, Kind: events.KindDone, Addr: ip1, File: "vmlinuz", Outcome: "error", Err: errors.New("broken pipe")})
	m, _ = tl.Machine(mac1.String())
	if m.Stage != StageDHCP || m.LastError != "http vmlinuz: error: broken pipe" || m.LastErrorTime.IsZero() || len(m.Fetching) != 0 {
		t.Errorf("after a failed kernel: %+v", m)
	}

	// An uncovered client is a machine with an error; a request that was
	// not ours is nothing.
	mac2 := net.HardwareAddr{2, 0, 0, 0, 0, 2}
	s.ev(events.Event{Proto: events.ProtoDHCP, Kind: events.KindIgnored, MAC: mac2, Type: "DISCOVER", Firmware: "uefi", Arch: "EFI ARM64", Reason: events.ReasonNoBoot})
	mac3 := net.HardwareAddr{2, 0, 0, 0, 0, 3}
	s.ev(events.Event{Proto: events.ProtoDHCP, Kind: events.KindIgnored, MAC: mac3, Type: "REQUEST", Firmware: "uefi", Reason: events.ReasonOtherServer})
	if m, ok := tl.Machine(mac2.String()); !ok || m.LastError != "dhcp DISCOVER: no-boot-program" || m.Arch != "EFI ARM64" {
		t.Errorf("uncovered client: %+v, %v", m, ok)
	}
	if _, ok := tl.Machine(mac3.String()); ok {
		t.Error("a request for another server made a machine")
	}
}

func TestUnknownAddress(t *testing.T) {
	tl := &Timeline{}
	s := &script{t: t, tl: tl}
	ip := netip.MustParseAddr("192.168.1.50")
	s.fetch(events.ProtoTFTP, ip, "ipxe.efi", "ok", 10)
	m, ok := tl.Machine("ip:192.168.1.50")
	if !ok || m.MAC != "" || m.Stage != StageBootProgram || m.Addr != ip {
		t.Fatalf("machine by address: %+v, %v", m, ok)
	}
}

func TestAddressMovesToAnotherMachine(t *testing.T) {
	tl := &Timeline{}
	s := &script{t: t, tl: tl}
	mac2 := net.HardwareAddr{2, 0, 0, 0, 0, 2}
	s.dhcp(events.KindReply, mac1, ip1, "")
	s.dhcp(events.KindReply, mac2, ip1, "") // the lease went to mac2
	s.fetch(events.ProtoTFTP, ip1, "vmlinuz", "ok", 1)
	if m, _ := tl.Machine(mac2.String()); m.Stage != StageKernel {
		t.Errorf("new holder of the address: stage %v, want kernel", m.Stage)
	}
	if m, _ := tl.Machine(mac1.String()); m.Stage != StageDHCP {
		t.Errorf("old holder of the address: stage %v, want dhcp", m.Stage)
	}
}

func TestBounded(t *testing.T) {
	tl := &Timeline{Max: 100}
	s := &script{t: t, tl: tl}
	for i := range 1000 {
		mac := net.HardwareAddr{2, 0, 0, 0, byte(i >> 8), byte(i)}
		s.dhcp(events.KindReply, mac, netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), "")
	}
	if tl.Len() != 100 || len(tl.byAddr) != 100 {
		t.Fatalf("%d machines, %d addresses, want 100 of each", tl.Len(), len(tl.byAddr))
	}
	ms := tl.Machines()
	if ms[0].MAC != "02:00:00:00:03:e7" || ms[99].MAC != "02:00:00:00:03:84" {
		t.Errorf("kept %s … %s, want the newest 100 (…03:e7 first, …03:84 last)", ms[0].MAC, ms[99].MAC)
	}
	// A transfer from a forgotten machine's address is a machine by address.
	s.fetch(events.ProtoTFTP, netip.MustParseAddr("10.1.0.1"), "x.0", "ok", 1)
	if _, ok := tl.Machine("ip:10.1.0.1"); !ok {
		t.Error("transfer from a forgotten address not kept")
	}
}

func TestHostileStrings(t *testing.T) {
	tl := &Timeline{}
	s := &script{t: t, tl: tl}
	long := strings.Repeat("<script>", 1000)
	s.ev(events.Event{Proto: events.ProtoDHCP, Kind: events.KindReply, MAC: mac1, Addr: ip1, Host: long, Firmware: "bios", Arch: long})
	s.fetch(events.ProtoTFTP, ip1, long, "not-found", 0)
	m, _ := tl.Machine(mac1.String())
	if len(m.Host) > maxString || len(m.Arch) > maxString || len(m.LastError) > maxString {
		t.Errorf("client strings kept at %d, %d, %d bytes, want at most %d", len(m.Host), len(m.Arch), len(m.LastError), maxString)
	}
	b, err := json.Marshal(tl.Machines())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "<script>") {
		t.Error("JSON carries <script> unescaped")
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name string
		want Stage
	}{
		{"pxelinux.0", StageBootProgram}, {"ldlinux.c32", StageBootProgram}, {"ipxe.efi", StageBootProgram},
		{"undionly.kpxe", StageBootProgram}, {"EFI/BOOT/BOOTX64.EFI", StageBootProgram},
		{"pxelinux.cfg/default", StageMenu}, {"pxelinux.cfg/01-52-54-00-12-34-56", StageMenu}, {"boot.ipxe", StageMenu},
		{"debian-installer/amd64/grub/grub.cfg", StageMenu}, {"http://10.0.0.1:8080/boot.ipxe", StageMenu},
		{"install/vmlinuz", StageKernel}, {"casper/vmlinuz", StageKernel}, {"images/pxeboot/vmlinuz", StageKernel},
		{"debian-installer/amd64/linux", StageKernel}, {"boot/bzImage", StageKernel},
		{"install/initrd.gz", StageInitrd}, {"casper/initrd", StageInitrd}, {"boot/initramfs-6.1.img", StageInitrd},
		{"live/filesystem.squashfs", StageRootFS}, {"ubuntu-24.04-live-server-amd64.iso", StageRootFS},
		{"images/install.img", StageNone}, {"README", StageNone},
	} {
		if got := Classify(tc.name); got != tc.want {
			t.Errorf("Classify(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestStageJSON(t *testing.T) {
	b, _ := json.Marshal(struct{ S Stage }{StageKernel})
	var back struct{ S Stage }
	if err := json.Unmarshal(b, &back); err != nil || back.S != StageKernel {
		t.Errorf("round trip: %v, %v", back.S, err)
	}
	if err := json.Unmarshal([]byte(`{"S":"bogus"}`), &back); err == nil {
		t.Error("unknown stage accepted")
	}
	if string(b) != `{"S":"kernel"}` {
		t.Errorf("JSON %s", b)
	}
	if Stage(200).String() != "none" {
		t.Error(fmt.Sprint(Stage(200)))
	}
}

func BenchmarkObserve(b *testing.B) {
	tl := &Timeline{}
	tl.Observe(events.Event{Proto: events.ProtoDHCP, Kind: events.KindReply, MAC: mac1, Addr: ip1})
	e := events.Event{Proto: events.ProtoTFTP, Kind: events.KindDone, Addr: ip1, File: "install/vmlinuz", Outcome: "ok", Bytes: 1}
	b.ReportAllocs()
	for b.Loop() {
		tl.Observe(e)
	}
}

func TestOptions(t *testing.T) {
	var tl Timeline
	a := netip.MustParseAddr("192.0.2.7")
	now := time.Now()
	tl.Observe(events.Event{Time: now, Proto: events.ProtoTFTP, Kind: events.KindStart, Addr: a, File: "pxelinux.0"})
	tl.Observe(events.Event{Time: now, Proto: events.ProtoTFTP, Kind: events.KindOptions, Addr: a, File: "pxelinux.0", BlockSize: 1468, WindowSize: 4, Size: 42, Timeout: time.Second})
	m, ok := tl.Machine("ip:" + a.String())
	if !ok {
		t.Fatal("no machine")
	}
	if got, want := m.Options.String(), "blksize=1468 windowsize=4 tsize=42 timeout=1s"; got != want || m.Options.File != "pxelinux.0" {
		t.Errorf("options %q (file %q), want %q", got, m.Options.File, want)
	}
}

func TestRecent(t *testing.T) {
	var tl Timeline
	a := netip.MustParseAddr("192.0.2.8")
	done := func(f, outcome string, status int) {
		tl.Observe(events.Event{Proto: events.ProtoHTTP, Kind: events.KindDone, Addr: a, File: f, Outcome: outcome, Status: status, Bytes: 7, BlockSize: 0})
	}
	done("grub.cfg-01-52-54-00-12-34-56", "not-found", 404)
	done("grub.cfg", "ok", 200)
	m, _ := tl.Machine("ip:" + a.String())
	if len(m.Recent) != 2 || m.Recent[0].File != "grub.cfg-01-52-54-00-12-34-56" || m.Recent[0].Outcome != "not-found" || m.Recent[0].Status != 404 ||
		m.Recent[1].File != "grub.cfg" || m.Recent[1].Bytes != 7 || m.Recent[1].Proto != events.ProtoHTTP {
		t.Fatalf("Recent = %+v, want the not-found then the ok transfer", m.Recent)
	}
	for i := range MaxRecent + 5 {
		done(fmt.Sprint("f", i), "ok", 200)
	}
	m, _ = tl.Machine("ip:" + a.String())
	if len(m.Recent) != MaxRecent || m.Recent[0].File != "f5" || m.Recent[MaxRecent-1].File != fmt.Sprint("f", MaxRecent+4) {
		t.Errorf("after %d more: %d recent, first %q last %q; want the last %d, oldest first", MaxRecent+5, len(m.Recent), m.Recent[0].File, m.Recent[len(m.Recent)-1].File, MaxRecent)
	}
	// A copy: changing it does not change the timeline.
	m.Recent[0].File = "changed"
	if m2, _ := tl.Machine("ip:" + a.String()); m2.Recent[0].File != "f5" {
		t.Error("Machine returned the timeline's own slice")
	}
}

func TestRecentAllocs(t *testing.T) {
	tl := &Timeline{}
	e := events.Event{Proto: events.ProtoTFTP, Kind: events.KindDone, Addr: ip1, File: "install/vmlinuz", Outcome: "ok", Bytes: 1}
	tl.Observe(e)
	if n := testing.AllocsPerRun(100, func() { tl.Observe(e) }); n != 0 {
		t.Errorf("Observe of a transfer allocates %v times, want 0", n)
	}
}

// TestProxyDHCPJoin: as proxyDHCP, the server's reply gives no address;
// the client's REQUEST to the other DHCP server names the one it was
// offered (dhcp puts option 50 in Addr), and the transfers from it join
// the machine of the MAC.
func TestProxyDHCPJoin(t *testing.T) {
	var tl Timeline
	tl.Observe(events.Event{Proto: events.ProtoDHCP, Kind: events.KindIdentified, MAC: mac1, Type: "DISCOVER", Firmware: "ipxe"})
	tl.Observe(events.Event{Proto: events.ProtoDHCP, Kind: events.KindReply, MAC: mac1, Type: "OFFER", File: "http://10.0.0.1/boot.ipxe"})
	tl.Observe(events.Event{Proto: events.ProtoDHCP, Kind: events.KindRequest, MAC: mac1, Type: "REQUEST", Addr: ip1})
	tl.Observe(events.Event{Proto: events.ProtoDHCP, Kind: events.KindIgnored, MAC: mac1, Type: "REQUEST", Addr: ip1, Reason: events.ReasonOtherServer})
	tl.Observe(events.Event{Proto: events.ProtoHTTP, Kind: events.KindDone, Addr: ip1, File: "boot.ipxe", Outcome: "ok"})
	if tl.Len() != 1 {
		t.Fatalf("%d machines %+v, want the one of the MAC", tl.Len(), tl.Machines())
	}
	if m, _ := tl.Machine(mac1.String()); m.Addr != ip1 || m.Stage != StageMenu {
		t.Errorf("machine %+v, want address %v at the menu", m, ip1)
	}
}

func TestStall(t *testing.T) {
	const why = "unsigned: firmware with Secure Boot on refuses it"
	uefi := func(s *script) {
		s.ev(events.Event{Proto: events.ProtoDHCP, Kind: events.KindIdentified, MAC: mac1, Type: "DISCOVER", Arch: "EFI x86-64", Firmware: "uefi"})
		s.ev(events.Event{Proto: events.ProtoDHCP, Kind: events.KindReply, MAC: mac1, Addr: ip1, File: "snponly.efi", Type: "OFFER"})
	}
	for _, tc := range []struct {
		name  string
		after time.Duration // StallAfter
		quiet time.Duration // from the last event to Now
		boot  func(s *script)
		file  string // Stall.File, "" for no stall
		hint  string // prefix of Stall.Hint
	}{
		{"unsigned program on UEFI", 0, 31 * time.Second, func(s *script) {
			uefi(s)
			s.fetch(events.ProtoTFTP, ip1, "snponly.efi", "ok", 1000)
		}, "snponly.efi", "Secure Boot may have refused it: " + why},
		{"not silent long enough", 0, 29 * time.Second, func(s *script) {
			uefi(s)
			s.fetch(events.ProtoTFTP, ip1, "snponly.efi", "ok", 1000)
		}, "", ""},
		{"own StallAfter", 5 * time.Second, 6 * time.Second, func(s *script) {
			uefi(s)
			s.fetch(events.ProtoHTTP, ip1, "/snponly.efi", "ok", 1000)
		}, "snponly.efi", "Secure Boot may have refused it"},
		{"never", -1, time.Hour, func(s *script) {
			uefi(s)
			s.fetch(events.ProtoTFTP, ip1, "snponly.efi", "ok", 1000)
		}, "", ""},
		{"BIOS: no Secure Boot hint", 0, time.Minute, func(s *script) {
			s.dhcp(events.KindIdentified, mac1, netip.Addr{}, "")
			s.dhcp(events.KindReply, mac1, ip1, "snponly.efi")
			s.fetch(events.ProtoTFTP, ip1, "snponly.efi", "ok", 1000)
		}, "snponly.efi", ""},
		{"signed program: no hint", 0, time.Minute, func(s *script) {
			uefi(s)
			s.fetch(events.ProtoTFTP, ip1, "shimx64.efi", "ok", 1000)
			s.fetch(events.ProtoTFTP, ip1, "grubx64.efi", "ok", 1000)
		}, "grubx64.efi", ""},
		{"second stage refused", 0, time.Minute, func(s *script) {
			uefi(s)
			s.fetch(events.ProtoTFTP, ip1, "shimx64.efi", "ok", 1000)
			s.fetch(events.ProtoTFTP, ip1, "grubx64.efi-unsigned", "ok", 1000) // named below
		}, "grubx64.efi-unsigned", "Secure Boot may have refused it: shim"},
		{"GRUB over HTTP", 0, time.Minute, func(s *script) {
			uefi(s)
			s.fetch(events.ProtoHTTP, ip1, "/boot/grubx64.efi", "ok", 1000)
		}, "boot/grubx64.efi", grubHTTPHint},
		{"shim and GRUB over HTTP", 0, time.Minute, func(s *script) {
			uefi(s)
			s.fetch(events.ProtoHTTP, ip1, "/shimaa64.efi", "ok", 1000)
			s.fetch(events.ProtoHTTP, ip1, "/grubaa64.efi", "ok", 1000)
		}, "grubaa64.efi", grubHTTPHint},
		{"GRUB over TFTP: no hint", 0, time.Minute, func(s *script) {
			uefi(s)
			s.fetch(events.ProtoTFTP, ip1, "grubnetx64.efi", "ok", 1000)
		}, "grubnetx64.efi", ""},
		{"moved on to the menu", 0, 29 * time.Second, func(s *script) {
			uefi(s)
			s.fetch(events.ProtoTFTP, ip1, "snponly.efi", "ok", 1000)
			s.fetch(events.ProtoHTTP, ip1, "boot.ipxe", "ok", 100)
		}, "", ""},
		{"stopped at the menu", 0, time.Minute, func(s *script) {
			uefi(s)
			s.fetch(events.ProtoTFTP, ip1, "snponly.efi", "ok", 1000)
			s.fetch(events.ProtoHTTP, ip1, "boot.ipxe", "ok", 100)
		}, "boot.ipxe", menuHint},
		{"kernel, no initrd", 0, time.Minute, func(s *script) {
			s.dhcp(events.KindReply, mac1, ip1, "pxelinux.0")
			s.fetch(events.ProtoTFTP, ip1, "pxelinux.0", "ok", 1000)
			s.fetch(events.ProtoTFTP, ip1, "pxelinux.cfg/default", "ok", 100)
			s.fetch(events.ProtoTFTP, ip1, "install/vmlinuz", "ok", 1000)
		}, "install/vmlinuz", ""},
		{"kernel its menu boots alone", 0, time.Minute, func(s *script) {
			s.dhcp(events.KindReply, mac1, ip1, "pxelinux.0")
			s.fetch(events.ProtoTFTP, ip1, "pxelinux.0", "ok", 1000)
			s.fetch(events.ProtoTFTP, ip1, "pxelinux.cfg/default", "ok", 100)
			s.fetch(events.ProtoHTTP, ip1, "memtest/vmlinuz", "ok", 1000)
		}, "", ""},
		{"initrd: the system runs", 0, time.Hour, func(s *script) {
			s.dhcp(events.KindReply, mac1, ip1, "pxelinux.0")
			s.fetch(events.ProtoTFTP, ip1, "pxelinux.0", "ok", 1000)
			s.fetch(events.ProtoTFTP, ip1, "pxelinux.cfg/default", "ok", 100)
			s.fetch(events.ProtoTFTP, ip1, "install/vmlinuz", "ok", 1000)
			s.fetch(events.ProtoTFTP, ip1, "install/initrd.gz", "ok", 1000)
		}, "", ""},
		{"a lease, no boot file", 0, time.Hour, func(s *script) {
			s.dhcp(events.KindReply, mac1, ip1, "")
		}, "", ""},
		{"still fetching", 0, time.Minute, func(s *script) {
			uefi(s)
			s.fetch(events.ProtoTFTP, ip1, "snponly.efi", "ok", 1000)
			s.ev(events.Event{Proto: events.ProtoTFTP, Kind: events.KindStart, Addr: ip1, File: "big.efi"})
		}, "", ""},
		{"program failed: stopped after DHCP", 0, time.Minute, func(s *script) {
			uefi(s)
			s.fetch(events.ProtoTFTP, ip1, "snponly.efi", "timeout", 0)
		}, "snponly.efi", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var now time.Time
			tl := &Timeline{
				StallAfter: tc.after,
				SecureBoot: map[string]string{"snponly.efi": why, "grubx64.efi-unsigned": "shim's second stage: unsigned"},
				Names:      map[string]Stage{"grubx64.efi-unsigned": StageBootProgram, "memtest/vmlinuz": StageKernel},
				NoInitrd:   map[string]bool{"memtest/vmlinuz": true},
				Now:        func() time.Time { return now },
			}
			s := &script{t: t, tl: tl}
			tc.boot(s)
			last := t0.Add(time.Duration(s.n) * time.Second)
			now = last.Add(tc.quiet)
			m, _ := tl.Machine(mac1.String())
			if ms := tl.Machines(); len(ms) != 1 || !equalStall(ms[0].Stall, m.Stall) {
				t.Errorf("Machines() and Machine() disagree: %+v, %+v", ms, m)
			}
			if tc.file == "" {
				if m.Stall != nil {
					t.Errorf("Stall = %+v, want none", *m.Stall)
				}
				return
			}
			if m.Stall == nil {
				t.Fatalf("Stall = nil, want one after %s (stage %v, fetching %v, last %v, now %v)", tc.file, m.Stage, m.Fetching, m.Last, now)
			}
			st := *m.Stall
			if st.File != tc.file || st.Stage != m.Stage || st.Message != StallMessageAt(m.Stage) || st.Message == "" || !st.Since.Equal(last) {
				t.Errorf("Stall = %+v, want file %s, stage %v, %q, since %v", st, tc.file, m.Stage, StallMessageAt(m.Stage), last)
			}
			if m.Stage == StageBootProgram && st.Message != StallMessage {
				t.Errorf("Stall.Message = %q, want %q", st.Message, StallMessage)
			}
			t.Logf("%v: %s %s", st.Stage, st.Message, st.File)
			if tc.hint == "" && st.Hint != "" || !strings.HasPrefix(st.Hint, tc.hint) {
				t.Errorf("Stall.Hint = %q, want %q…", st.Hint, tc.hint)
			}
			// As status.json carries it.
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			var back Machine
			if err := json.Unmarshal(b, &back); err != nil || back.Stall == nil || back.Stall.Hint != st.Hint || back.Program != m.Program {
				t.Errorf("JSON round trip: %s → %+v, %v", b, back.Stall, err)
			}
		})
	}
}

func equalStall(a, b *Stall) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
