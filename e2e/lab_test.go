package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/internal/testenv"
)

// Addresses inside every lab namespace. Each test has its own namespace, so
// they never clash between tests running in parallel.
const (
	labBridge   = "br0"
	labTap      = "tap0"
	labServerIP = "10.99.0.1"
	labPrefix   = "/24"
	labFirst    = "10.99.0.100"
	labLast     = "10.99.0.150"
	labMAC      = "52:54:00:12:34:56"
)

// debianKernel is the amd64 Linux kernel from Debian's
// debian-installer-12-netboot-amd64 package.
const debianKernel = "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64/linux"

// lab is one network namespace with a bridge that holds the server address
// and a tap device for QEMU, plus a scratch directory.
type lab struct {
	t      *testing.T
	ns     *testenv.NetNS
	dir    string
	marker string
	mac    string // the virtual machine's MAC address, labMAC unless changed
	// mem is the virtual machine's memory in MiB; 0 means 512 (1024 on
	// arm64), enough for the marker initrds.
	mem int
	// statusBase is where the server's status pages are ("" means
	// labHTTP): for labs without IPv4.
	statusBase string
	// success is what the serial console must show for a boot to pass;
	// "" means the marker (a real system's login prompt for an image
	// that boots to one).
	success string
}

// want returns what a boot waits for on the serial console.
func (l *lab) want() string {
	if l.success != "" {
		return l.success
	}
	return l.marker
}

// newLab makes the namespace, bridge and tap device, and a boot tree in
// l.dir/tftp with the Debian kernel and a fresh marker initrd.
func newLab(t *testing.T) *lab {
	t.Helper()
	testenv.NeedCommand(t, "ip")
	l := &lab{t: t, ns: testenv.NewNetNS(t), dir: t.TempDir(), marker: newMarker(), mac: labMAC}
	l.ns.MustRun(t, "ip", "link", "add", labBridge, "type", "bridge")
	l.ns.MustRun(t, "ip", "addr", "add", labServerIP+labPrefix, "dev", labBridge)
	l.ns.MustRun(t, "ip", "link", "set", labBridge, "up")
	l.ns.MustRun(t, "ip", "tuntap", "add", labTap, "mode", "tap")
	l.ns.MustRun(t, "ip", "link", "set", labTap, "master", labBridge)
	l.ns.MustRun(t, "ip", "link", "set", labTap, "up")
	return l
}

// tree makes l.dir/<name> and returns its path.
func (l *lab) mkdir(name string) string {
	p := filepath.Join(l.dir, name)
	if err := os.MkdirAll(p, 0o755); err != nil {
		l.t.Fatal(err)
	}
	return p
}

// copyFile copies src to dst, making dst's directory.
func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if os.IsNotExist(err) {
		testenv.Unavailable(t, "%s is missing (Debian package not installed?)", src)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t testing.TB, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Boot programs from Debian packages.
const (
	debPxelinux  = "/usr/lib/PXELINUX/pxelinux.0"
	debLdlinux   = "/usr/lib/syslinux/modules/bios/ldlinux.c32"
	debUndionly  = "/usr/lib/ipxe/undionly.kpxe"
	debIPXEEFI   = "/usr/lib/ipxe/ipxe.efi"
	debSnponly   = "/usr/lib/ipxe/snponly.efi"
	debDIGrubx64 = "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64/grubx64.efi"
	debDIBootx64 = "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64/bootnetx64.efi"
	// kernelCmdline is the marker kernel's command line. no_timer_check:
	// under TCG on a loaded host the kernel's IO-APIC timer check can
	// miss its ticks and panic ("IO-APIC + timer doesn't work!"), as
	// TestBootPaths/ipv6-bios-ipxe did at a load average of 25.
	kernelCmdline = "console=ttyS0 no_timer_check"
)

// pxelinuxMenu is the pxelinux configuration of every BIOS path: one entry
// that boots the kernel and the marker initrd at once.
const pxelinuxMenu = `# written by the pxekit e2e test
DEFAULT marker
PROMPT 0
TIMEOUT 1
LABEL marker
  MENU LABEL boot the marker initrd
  KERNEL vmlinuz
  INITRD initrd.gz
  APPEND ` + kernelCmdline + `
`

// pxelinuxTree fills dir with pxelinux.0, ldlinux.c32, the kernel, the
// marker initrd and, when withConfig is set, pxelinux.cfg/default.
func (l *lab) pxelinuxTree(dir string, withConfig bool) {
	t := l.t
	copyFile(t, debPxelinux, filepath.Join(dir, "pxelinux.0"))
	copyFile(t, debLdlinux, filepath.Join(dir, "ldlinux.c32"))
	l.kernelAndInitrd(dir)
	if withConfig {
		writeFile(t, filepath.Join(dir, "pxelinux.cfg", "default"), pxelinuxMenu)
	}
}

// kernelAndInitrd puts linux and initrd.gz into dir.
func (l *lab) kernelAndInitrd(dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		l.t.Fatal(err)
	}
	copyFile(l.t, debianKernel, filepath.Join(dir, "vmlinuz"))
	buildInitrd(l.t, dir, l.marker)
}

// daemon is a program running in the lab namespace whose output is kept for
// the failure message.
type daemon struct {
	name string
	cmd  *exec.Cmd
	out  *testenv.Buffer
	done chan struct{}
}

// start runs a program in the lab namespace until the test ends (or until
// stop is called). Its output goes into the test log when the test fails.
func (l *lab) start(name string, args ...string) *daemon {
	return l.startIn(l.ns, name, args...)
}

func (l *lab) startIn(ns *testenv.NetNS, name string, args ...string) *daemon {
	t := l.t
	t.Helper()
	d := &daemon{name: filepath.Base(name), out: &testenv.Buffer{}, done: make(chan struct{})}
	d.cmd = ns.Command(context.Background(), name, args...)
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		d.stop()
		if t.Failed() || os.Getenv("PXEKIT_E2E_LOG") != "" {
			t.Logf("--- output of %s %s:\n%s", name, strings.Join(args, " "), d.out.String())
		}
	})
	return d
}

// stop sends SIGTERM and waits up to 10 s, then kills. It returns whether
// the program had exited by itself before stop was called.
func (d *daemon) stop() {
	select {
	case <-d.done:
		return
	default:
	}
	_ = d.cmd.Process.Signal(os.Interrupt)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
}

// exited reports whether the program has ended.
func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// waitOutput waits until the daemon's output contains s.
func (d *daemon) waitOutput(t testing.TB, s string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(d.out.String(), s) {
		if d.exited() {
			t.Fatalf("%s exited before printing %q:\n%s", d.name, s, d.out.String())
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not print %q within %v:\n%s", d.name, s, timeout, d.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dnsmasq runs dnsmasq as full DHCP server and TFTP server on the bridge,
// handing out bootFile (the reference server of bench/boot.sh and the
// address-only DHCP server of the proxyDHCP path when bootFile is "").
func (l *lab) dnsmasq(ns *testenv.NetNS, iface, tftpRoot, bootFile string) *daemon {
	t := l.t
	bin := testenv.NeedCommand(t, "dnsmasq")[0]
	args := []string{
		"--no-daemon", "--conf-file=/dev/null", "--port=0", "--user=root", "--group=root",
		"--interface=" + iface, "--bind-interfaces", "--pid-file=",
		"--dhcp-range=" + labFirst + "," + labLast + ",255.255.255.0,1h",
		"--dhcp-leasefile=" + filepath.Join(l.dir, "dnsmasq.leases"),
		"--no-ping", "--log-dhcp", "--log-facility=-",
	}
	if tftpRoot != "" {
		args = append(args, "--enable-tftp", "--tftp-root="+tftpRoot)
	}
	if bootFile != "" {
		args = append(args, "--dhcp-boot="+bootFile)
	}
	d := l.startIn(ns, bin, args...)
	d.waitOutput(t, "started", 10*time.Second)
	return d
}

// firmware names how the virtual machine boots.
type firmware int

const (
	biosIPXE  firmware = iota // SeaBIOS with QEMU's iPXE option ROM
	uefiOVMF                  // OVMF, PXE first
	uefiHTTP                  // OVMF with PXE off, so HTTP boot at once
	uefiARM64                 // AAVMF on QEMU's aarch64 virt machine, PXE first
	// AAVMF with IPv4 and IPv6 PXE off (fw_cfg, as for OVMF), so UEFI
	// HTTP boot at once.
	uefiARM64HTTP
	// OVMF with Secure Boot enforcing and Microsoft's keys enrolled
	// (Debian's OVMF_CODE_4M.secboot.fd, OVMF_VARS_4M.ms.fd), PXE
	// first, and with PXE off (HTTP boot). AAVMF in Debian has no
	// Secure Boot variables, so there is no ARM64 kind.
	uefiSecure
	uefiSecureHTTP
	// OVMF with IPv4 PXE and IPv4 HTTP boot off, so that it boots over
	// IPv6: PXEv6 first (then HTTPv6), and with IPv6 PXE off as well,
	// HTTPv6 at once (ipv6_test.go).
	uefiPXE6
	uefiHTTP6
)

func (f firmware) String() string {
	return [...]string{"BIOS iPXE", "UEFI OVMF", "UEFI HTTP", "ARM64 AAVMF", "ARM64 AAVMF HTTP", "UEFI Secure Boot", "UEFI Secure Boot HTTP", "UEFI PXEv6", "UEFI HTTPv6"}[f]
}

// arm64 reports whether f boots QEMU's aarch64 virt machine.
func (f firmware) arm64() bool { return f == uefiARM64 || f == uefiARM64HTTP }

// qemuSlots bounds the virtual machines running at once: 2 by default,
// PXEKIT_E2E_QEMU to change it.
var qemuSlots = make(chan struct{}, qemuParallel())

func qemuParallel() int {
	if n, err := strconv.Atoi(os.Getenv("PXEKIT_E2E_QEMU")); err == nil && n > 0 {
		return n
	}
	return 2
}

// qemuResult is what a boot produced.
type qemuResult struct {
	elapsed time.Duration // from QEMU start to the marker (or lab.success) on the console
	// console is the time from QEMU start to the first byte on the serial
	// console. In the BIOS paths nothing before the kernel writes there,
	// so it measures firmware and network (DHCP, TFTP or HTTP of boot
	// program, menu, kernel and initrd), without the kernel's boot.
	console time.Duration
	serial  string
}

// boot starts QEMU in the lab namespace with its NIC on the tap device and
// waits until the marker (or l.success) appears on its serial console. It fails the test
// when it does not appear within timeout.
func (l *lab) boot(fw firmware, timeout time.Duration) qemuResult {
	t := l.t
	t.Helper()
	r, err := l.tryBoot(fw, timeout)
	if err != nil {
		t.Fatalf("%v boot: %v\n--- serial console (last 4000 bytes):\n%s", fw, err, tail(r.serial, 4000))
	}
	t.Logf("%v boot: console output after %.1fs, %s after %.1fs", fw, r.console.Seconds(), l.wantName(), r.elapsed.Seconds())
	return r
}

// wantName names what boot waits for, for its log line.
func (l *lab) wantName() string {
	if l.success != "" {
		return fmt.Sprintf("%q", l.success)
	}
	return "marker"
}

func (l *lab) tryBoot(fw firmware, timeout time.Duration) (qemuResult, error) {
	t := l.t
	qemuName := "qemu-system-x86_64"
	if fw.arm64() {
		qemuName = "qemu-system-aarch64"
	}
	qemu := testenv.NeedCommand(t, qemuName)[0]
	serial := filepath.Join(l.dir, fmt.Sprintf("serial-%d.log", time.Now().UnixNano()))
	mem := "512"
	if fw.arm64() {
		mem = "1024"
	}
	if l.mem > 0 {
		mem = strconv.Itoa(l.mem)
	}
	args := []string{
		"-accel", "tcg", "-m", mem, "-smp", "1",
		"-display", "none", "-monitor", "none", "-no-reboot",
		"-serial", "file:" + serial,
		"-netdev", "tap,id=n0,ifname=" + labTap + ",script=no,downscript=no",
		"-boot", "n",
	}
	nic := "virtio-net-pci,netdev=n0,mac=" + l.mac
	switch fw {
	case uefiARM64, uefiARM64HTTP:
		code, vars := "/usr/share/AAVMF/AAVMF_CODE.fd", "/usr/share/AAVMF/AAVMF_VARS.fd"
		if _, err := os.Stat(code); err != nil {
			testenv.Unavailable(t, "%s is missing (install qemu-efi-aarch64)", code)
		}
		ourVars := filepath.Join(l.dir, "AAVMF_VARS.fd")
		copyFile(t, vars, ourVars)
		args = append(args,
			"-machine", "virt", "-cpu", "max,pauth-impdef=on",
			"-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+code,
			"-drive", "if=pflash,format=raw,unit=1,file="+ourVars)
		if fw == uefiARM64HTTP {
			// ArmVirtQemu reads the same fw_cfg knobs as OVMF
			// (OvmfPkg's PxeBcPcdProducerLib).
			args = append(args,
				"-fw_cfg", "name=opt/org.tianocore/IPv4PXESupport,string=no",
				"-fw_cfg", "name=opt/org.tianocore/IPv6PXESupport,string=no")
		}
		nic += ",romfile="
	case uefiOVMF, uefiHTTP, uefiSecure, uefiSecureHTTP, uefiPXE6, uefiHTTP6:
		// Without the NIC's option ROM (QEMU's is an iPXE build, which
		// would do the network boot itself), OVMF boots with its own
		// drivers (VirtioNetDxe, PxeBcDxe, HttpBootDxe), as a UEFI
		// machine without iPXE does.
		nic += ",romfile="
	}
	args = append(args, "-device", nic)
	switch fw {
	case uefiOVMF, uefiHTTP, uefiSecure, uefiSecureHTTP, uefiPXE6, uefiHTTP6:
		code := "/usr/share/OVMF/OVMF_CODE_4M.fd"
		vars := "/usr/share/OVMF/OVMF_VARS_4M.fd"
		machine := "q35"
		secure := fw == uefiSecure || fw == uefiSecureHTTP
		if secure {
			// Secure Boot needs SMM, and the variable store behind it.
			code = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
			vars = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"
			machine = "q35,smm=on"
		}
		// A fresh copy per boot: the firmware writes its variables.
		ourVars := filepath.Join(l.dir, "OVMF_VARS.fd")
		copyFile(t, vars, ourVars)
		if _, err := os.Stat(code); err != nil {
			testenv.Unavailable(t, "%s is missing (install ovmf)", code)
		}
		args = append(args,
			"-machine", machine,
			"-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+code,
			"-drive", "if=pflash,format=raw,unit=1,file="+ourVars)
		if secure {
			args = append(args, "-global", "driver=cfi.pflash01,property=secure,value=on")
		}
		if fw == uefiHTTP || fw == uefiSecureHTTP {
			args = append(args,
				"-fw_cfg", "name=opt/org.tianocore/IPv4PXESupport,string=no",
				"-fw_cfg", "name=opt/org.tianocore/IPv6PXESupport,string=no")
		}
		if fw == uefiPXE6 || fw == uefiHTTP6 {
			args = append(args,
				"-fw_cfg", "name=opt/org.tianocore/IPv4PXESupport,string=no",
				"-fw_cfg", "name=opt/org.tianocore/IPv4HTTPSupport,string=no")
		}
		if fw == uefiHTTP6 {
			args = append(args, "-fw_cfg", "name=opt/org.tianocore/IPv6PXESupport,string=no")
		}
	}
	// TCG keeps one core busy per virtual machine: run at most
	// qemuSlots at once, whatever -parallel says.
	qemuSlots <- struct{}{}
	defer func() { <-qemuSlots }()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := l.ns.Command(ctx, qemu, args...)
	var qout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &qout, &qout
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start qemu: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	defer func() {
		_ = cmd.Process.Kill()
		<-done
	}()
	want := l.want()
	var res qemuResult
	for {
		data, _ := os.ReadFile(serial)
		res.serial = string(data)
		if res.console == 0 && len(data) > 0 {
			res.console = time.Since(start)
		}
		if strings.Contains(res.serial, want) {
			res.elapsed = time.Since(start)
			return res, nil
		}
		select {
		case <-done:
			data, _ := os.ReadFile(serial)
			res.serial = string(data)
			if strings.Contains(res.serial, want) {
				res.elapsed = time.Since(start)
				return res, nil
			}
			return res, fmt.Errorf("qemu exited without %q on the console: %v\n%s", want, cmd.ProcessState, qout.String())
		case <-ctx.Done():
			return res, fmt.Errorf("no %q on the console within %v", want, timeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}
