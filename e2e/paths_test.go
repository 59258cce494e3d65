package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/events"
	"github.com/pxekit/pxekit/internal/promtext"
	"github.com/pxekit/pxekit/internal/testenv"
	"github.com/pxekit/pxekit/timeline"
)

// A bootPath is one way a machine boots from minimal-server, as one row of
// TestBootPaths: what the server serves and with which flags, the
// firmware that boots, what the serial console must show, and the steps
// the machine's timeline in /_pxekit/status.json must hold.
type bootPath struct {
	name string
	// fw boots the virtual machine (it names the QEMU machine, the
	// firmware and whether the NIC has its option ROM), within timeout
	// (bootTimeout when 0).
	fw      firmware
	timeout time.Duration
	// ipv6 boots on a segment without IPv4 (newLab6): the server must
	// have DHCPv6, the lab namespace no IPv4 address once the server
	// runs, and the timeline knows the machine by its v6 address.
	ipv6 bool
	// serve lays out what the server serves under r's lab, starts what
	// else the path needs beside it (a DHCP server, a webhook), and
	// returns minimal-server's flags (-iface is added).
	serve func(r *bootRun) []string
	// ready checks the server after it started, before the boot: its
	// start-up notes.
	ready func(r *bootRun)
	// success is what the serial console must show; "" means the
	// marker of the test's own initrd.
	success string
	// stage is how far the timeline must show the machine
	// (timeline.StageNone: the path checks no timeline); inOrder asks its steps to be in stage and time order, from DHCP on.
	stage   timeline.Stage
	inOrder bool
	steps   []wantStep
	// check makes the path's own checks after the boot.
	check func(r *bootRun)
}

// A wantStep is a step the machine's timeline must have: stage reached
// over proto by a file that starts with file (ends with it, when suffix
// is set).
type wantStep struct {
	stage  timeline.Stage
	proto  events.Proto
	file   string
	suffix bool
}

// bootRun is one boot of a bootPath: its lab, what the boot produced, the
// machine as status.json shows it at the path's stage, and what serve
// started beside the server.
type bootRun struct {
	*lab
	t   *testing.T
	res qemuResult
	m   timeline.Machine
	// peer is the DHCP server that serve started beside pxekit, if any.
	peer *daemon
}

// TestBootPaths boots every row of bootPaths, one subtest each (named by
// the row), in parallel as far as go test's -parallel and qemuSlots allow.
func TestBootPaths(t *testing.T) {
	t.Parallel()
	for _, p := range bootPaths() {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			p.run(t)
		})
	}
}

// run is the one body of every boot path: lab, server, boot, timeline.
func (p bootPath) run(t *testing.T) {
	if p.fw.arm64() {
		testenv.NeedCommand(t, "qemu-system-aarch64")
	}
	r := &bootRun{t: t}
	if p.ipv6 {
		needIPv6Server(t)
		r.lab = newLab6(t)
	} else {
		r.lab = newLab(t)
	}
	flags := p.serve(r)
	switch {
	case p.ipv6:
		r.capture6()
	case os.Getenv("PXEKIT_E2E_PCAP") != "":
		r.start("tcpdump", "-i", labBridge, "-n", "-l", "-e", "icmp6 or port 67 or port 68 or port 69")
	}
	r.pxekit(flags...)
	if p.ipv6 {
		r.requireNoIPv4()
	}
	if p.ready != nil {
		p.ready(r)
	}
	r.success = p.success
	timeout := p.timeout
	if timeout == 0 {
		timeout = bootTimeout
	}
	r.res = r.boot(p.fw, timeout)
	switch {
	case p.stage == timeline.StageNone:
	case p.ipv6:
		r.m = r.machine6(p.stage)
	default:
		r.m = r.machine(p.stage)
	}
	if p.inOrder {
		requireStepsInOrder(t, r.m)
	}
	for _, s := range p.steps {
		if s.suffix {
			requireStepEnds(t, r.m, s.stage, s.proto, s.file)
		} else {
			requireStep(t, r.m, s.stage, s.proto, s.file)
		}
	}
	if p.check != nil {
		p.check(r)
	}
}

// step and stepEnds make the wantSteps of a bootPath.
func step(stage timeline.Stage, proto events.Proto, file string) wantStep {
	return wantStep{stage: stage, proto: proto, file: file}
}

func stepEnds(stage timeline.Stage, proto events.Proto, file string) wantStep {
	return wantStep{stage: stage, proto: proto, file: file, suffix: true}
}

// Shorthands for the rows.
const (
	sDHCP   = timeline.StageDHCP
	sProg   = timeline.StageBootProgram
	sMenu   = timeline.StageMenu
	sKernel = timeline.StageKernel
	sInitrd = timeline.StageInitrd
	sRootFS = timeline.StageRootFS
	pDHCP   = events.ProtoDHCP
	pTFTP   = events.ProtoTFTP
	pHTTP   = events.ProtoHTTP
)

// fullDHCP are the flags of minimal-server as full DHCP server on the
// lab's range, with router advertisements.
func fullDHCP(flags ...string) []string {
	return append([]string{"-range", labFirst + "-" + labLast, "-ra"}, flags...)
}

// tree lays out the isoTree in the lab, plus the files of extra (lab
// path → file of this machine), and returns its directory.
func (r *bootRun) tree(extra map[string]string) string {
	root := r.mkdir("tree")
	r.isoTree(root)
	for dst, src := range extra {
		copyFile(r.t, src, filepath.Join(root, dst))
	}
	return root
}

// image is tree made into an ISO image by xorriso, with the tree
// removed: nothing but the image remains.
func (r *bootRun) image(extra map[string]string) string {
	src := r.tree(extra)
	iso := r.makeISO(src)
	if err := os.RemoveAll(src); err != nil {
		r.t.Fatal(err)
	}
	return iso
}

// arm64Tree lays out an ARM64 tree: Debian's arm64 installer kernel, the
// arm64 marker initrd, Debian's arm64 netboot GRUB and an isolinux.cfg
// the server renders GRUB's configuration from.
func (r *bootRun) arm64Tree() string {
	t := r.t
	root := r.mkdir("tree")
	copyFile(t, debArm64Kernel, filepath.Join(root, "install", "vmlinuz"))
	buildArm64Initrd(t, filepath.Join(root, "install"), r.marker)
	copyFile(t, debArm64Grubaa6, filepath.Join(root, "grubaa64.efi"))
	writeFile(t, filepath.Join(root, "isolinux", "isolinux.cfg"), "default marker\ntimeout 1\nlabel marker\n  kernel /install/vmlinuz\n  append initrd=/install/initrd.gz console=ttyAMA0\n")
	return root
}

// grubWelcome is what GRUB writes first on the console.
const grubWelcome = "Welcome to GRUB!"

// bootPaths are the rows of TestBootPaths, by firmware family, the
// slowest first (go test starts parallel subtests in no fixed order).
func bootPaths() []bootPath {
	return []bootPath{
		{
			// OVMF with IPv4 PXE and HTTP and IPv6 PXE off boots by UEFI
			// HTTP boot over IPv6: DHCPv6 with vendor class "HTTPClient"
			// gets an http://[addr]:port/ URL for the boot program,
			// which loads kernel and marker initrd over v6. OVMF tries
			// UEFI HTTP boot over IPv4 first, whatever the fw_cfg knob
			// says, and waits out its DHCPv4 retries on this v6-only
			// segment; under TCG on a loaded machine the marker came
			// after 234 to 258 s, close to bootTimeout, so this boot
			// gets twice as long. (TestIPv6HTTPBoot before.)
			name: "ipv6-http-ipxe", fw: uefiHTTP6, ipv6: true, timeout: 2 * bootTimeout,
			serve: func(r *bootRun) []string {
				root := r.tree(map[string]string{"snponly.efi": debSnponly, "grubx64.efi": debDIGrubx64})
				return append(append([]string{}, ipv6Flags...), "-root", root, "-http", ":8080", "-ra")
			},
			stage: sKernel,
			// DHCPv6 gave an http://[…]:8080/ URL (the step the DHCPv6
			// server's events make), and everything after it came over
			// HTTP from the machine's v6 address.
			steps: []wantStep{
				step(sDHCP, pDHCP, "http://["+labServerIP6+"]:8080/"),
				step(sKernel, pHTTP, "install/vmlinuz"),
			},
			check: func(r *bootRun) {
				for _, s := range r.m.Steps {
					if s.Stage != sDHCP && s.Proto != pHTTP {
						r.t.Errorf("step %+v not over HTTP", s)
					}
				}
			},
		},
		{
			// QEMU's aarch64 virt machine with AAVMF and a virtio NIC
			// announces architecture 11, gets Debian's arm64 netboot
			// GRUB (grubaa64.efi) over TFTP, which reads the GRUB
			// configuration the server renders from isolinux.cfg, and
			// boots Debian's arm64 installer kernel with an arm64 marker
			// initrd. (TestARM64UEFIGRUB before.)
			name: "arm64-pxe-grub", fw: uefiARM64, timeout: 10 * time.Minute,
			serve: func(r *bootRun) []string {
				return fullDHCP("-root", r.arm64Tree(), "-http", "", "-status", ":8080")
			},
			stage: sInitrd, inOrder: true,
			steps: []wantStep{
				step(sDHCP, pDHCP, "grubaa64.efi"),
				step(sProg, pTFTP, "grubaa64.efi"),
				stepEnds(sMenu, pTFTP, "grub.cfg"),
				step(sKernel, pTFTP, "install/vmlinuz"),
			},
		},
		{
			// AAVMF with IPv4 and IPv6 PXE off (fw_cfg) tries UEFI HTTP
			// boot at once and announces architecture 19 (ARM64 HTTP
			// boot): the server answers with the URL of the tree's
			// arm64 GRUB, which the firmware downloads over HTTP and
			// starts. Debian 12's arm64 netboot GRUB has no http module
			// (like its x86-64 one, see secureboot-http-debian12-grub),
			// so the boot ends at GRUB: the path pins the firmware's
			// side, DHCP and the boot program over HTTP.
			name: "arm64-http-grub", fw: uefiARM64HTTP, timeout: 10 * time.Minute,
			serve: func(r *bootRun) []string {
				return fullDHCP("-root", r.arm64Tree(), "-http", ":8080")
			},
			success: grubWelcome,
			stage:   sProg, inOrder: true,
			steps: []wantStep{
				step(sDHCP, pDHCP, labHTTP+"/grubaa64.efi"),
				step(sProg, pHTTP, "grubaa64.efi"),
			},
			check: func(r *bootRun) {
				if want := iana.EFI_ARM64_HTTP.String(); r.m.Arch != want {
					r.t.Errorf("machine %s: arch %q, want %q (the firmware's HTTP boot)", r.m.MAC, r.m.Arch, want)
				}
				if x := requireTransfer(r.t, r.m, pHTTP, "grubaa64.efi", "ok"); x.Status != 200 {
					r.t.Errorf("grubaa64.efi: HTTP status %d, want 200", x.Status)
				}
				for _, x := range r.m.Recent {
					if x.Proto == pTFTP {
						r.t.Errorf("a TFTP transfer in an HTTP boot: %+v", x)
					}
				}
			},
		},
		{
			// OVMF with Secure Boot enforcing and Microsoft's keys, by
			// PXE (TFTP), from a tree that keeps Debian's signed shim as
			// shimx64.efi and its signed network GRUB as grubnetx64.efi:
			// the client is offered the shim, which asks for grubx64.efi
			// beside itself (the tree's grubnetx64.efi is served under
			// that name); GRUB reads the configuration the server
			// generates from isolinux.cfg under its built-in prefix
			// (/grub), then loads Debian's signed kernel and the marker
			// initrd, and the kernel says "Secure boot enabled".
			// (TestSecureBootPXE/tree before.)
			name: "secureboot-pxe-tree", fw: uefiSecure,
			serve: func(r *bootRun) []string { return r.signedChain("shimx64.efi", "grubnetx64.efi", debGRUBNet, false) },
			ready: func(r *bootRun) { r.requireNote("shim", "shim=shimx64.efi") },
			stage: sInitrd, inOrder: true,
			steps: signedPXESteps("shimx64.efi"),
			check: checkSecurePXE,
		},
		{
			// The same from an ISO image laid out as distribution images
			// are: shim as EFI/boot/bootx64.efi, GRUB beside it as
			// grubx64.efi. (TestSecureBootPXE/iso before.)
			name: "secureboot-pxe-iso", fw: uefiSecure,
			serve: func(r *bootRun) []string {
				return r.signedChain("EFI/boot/bootx64.efi", "EFI/boot/grubx64.efi", debGRUBNet, true)
			},
			ready: func(r *bootRun) { r.requireNote("shim", "shim=EFI/boot/bootx64.efi") },
			stage: sInitrd, inOrder: true,
			steps: signedPXESteps("EFI/boot/bootx64.efi"),
			check: checkSecurePXE,
		},
		{
			// OVMF with Secure Boot enforcing by UEFI HTTP boot, through
			// the whole signed chain over HTTP: Debian 12's shim (signed
			// by Microsoft), Debian 13's signed network GRUB (which has
			// the http module), the configuration the server generates
			// where that GRUB's built-in prefix (/grub) points, Debian
			// 12's signed kernel and the marker initrd.
			// (TestSecureBootHTTP/tree before.)
			name: "secureboot-http-tree", fw: uefiSecureHTTP,
			serve: func(r *bootRun) []string {
				return r.signedChain("shimx64.efi", "grubnetx64.efi", trixieGRUBNet(r.t), false)
			},
			ready: func(r *bootRun) { r.requireNote("shim", "shim=shimx64.efi"); requireNoSecureBootWarning(r) },
			stage: sInitrd, inOrder: true,
			steps: signedHTTPSteps("shimx64.efi"),
			check: func(r *bootRun) { requireSecureBoot(r.t, r.res) },
		},
		{
			// The same from an ISO image. (TestSecureBootHTTP/iso before.)
			name: "secureboot-http-iso", fw: uefiSecureHTTP,
			serve: func(r *bootRun) []string {
				return r.signedChain("EFI/boot/bootx64.efi", "EFI/boot/grubx64.efi", trixieGRUBNet(r.t), true)
			},
			ready: func(r *bootRun) { r.requireNote("shim", "shim=EFI/boot/bootx64.efi"); requireNoSecureBootWarning(r) },
			stage: sInitrd, inOrder: true,
			steps: signedHTTPSteps("EFI/boot/bootx64.efi"),
			check: func(r *bootRun) { requireSecureBoot(r.t, r.res) },
		},
		{
			// The negative: a tree whose UEFI boot program is unsigned
			// (Debian's iPXE build, as the server offers where the tree
			// has no EFI program of its own) is what the server warns
			// about at start-up, for PXE and for HTTP boot, naming the
			// program; OVMF with Secure Boot on fetches it and refuses
			// it ("Access Denied", where the boot ends); and the
			// server's report (status.json, from the timeline) says that
			// the machine stopped after the boot program, which Secure
			// Boot may have refused. (TestSecureBootWarnsUnsigned before.)
			name: "secureboot-refuses-unsigned", fw: uefiSecure, timeout: 2 * time.Minute,
			serve: func(r *bootRun) []string {
				root := r.tree(map[string]string{"snponly.efi": debSnponly})
				return []string{"-range", labFirst + "-" + labLast, "-root", root, "-http", ":8080"}
			},
			ready: func(r *bootRun) {
				r.requireNote("secure-boot", "file=snponly.efi", "role=x86-64 UEFI boot program, UEFI HTTP boot program", "problem~unsigned")
			},
			success: ": Access Denied",
			stage:   sProg,
			steps: []wantStep{
				step(sDHCP, pDHCP, "snponly.efi"),
				step(sProg, pTFTP, "snponly.efi"),
			},
			check: func(r *bootRun) {
				t := r.t
				if !strings.Contains(r.res.serial, `"UEFI PXEv4 (MAC:525400123456)"`) {
					t.Errorf("the refusal is not of the PXE boot option:\n%s", tail(r.res.serial, 2000))
				}
				m := r.stalled(timeline.DefaultStallAfter + 30*time.Second)
				if m.Stage != sProg || m.Stall.Stage != sProg || m.Stall.File != "snponly.efi" || m.Stall.Message != timeline.StallMessage {
					t.Errorf("machine %s: stage %v, stall %+v; want stopped after the boot program snponly.efi", m.MAC, m.Stage, *m.Stall)
				}
				if !strings.HasPrefix(m.Stall.Hint, "Secure Boot may have refused it: snponly.efi: unsigned") {
					t.Errorf("machine %s: stall hint %q, want the Secure Boot hint for the unsigned snponly.efi", m.MAC, m.Stall.Hint)
				}
			},
		},
		{
			// OVMF with Secure Boot enforcing by UEFI HTTP boot from an
			// ISO image as secureboot-http-iso, but with Debian 12's
			// signed network GRUB as EFI/boot/grubx64.efi. The firmware
			// accepts the image's shim, shim asks for its revocation
			// files (a clean 404), fetches GRUB over HTTP and starts it;
			// and that is as far as it gets: Debian 12's signed GRUB has
			// the tftp module but no http one, and a signed GRUB loads
			// no modules, so it cannot read its configuration from the
			// HTTP server it came from (and GRUB 2.06 would not parse
			// the port of "http,10.99.0.1:8080" either). The row pins
			// the chain up to GRUB, the start-up warning that says HTTP
			// boot clients stop at GRUB's prompt, and the report of the
			// silent machine: stopped after the boot program (GRUB),
			// without the Secure Boot hint, since nothing was refused, but
			// with the hint of a GRUB without http.
			// The boots over PXE (secureboot-pxe-tree, -iso) go on to the
			// kernel.
			// (TestSecureBootHTTPDebian12GRUB before.)
			name: "secureboot-http-debian12-grub", fw: uefiSecureHTTP,
			serve: func(r *bootRun) []string {
				iso := r.image(map[string]string{"EFI/boot/bootx64.efi": debShimSigned, "EFI/boot/grubx64.efi": debGRUBNet})
				return fullDHCP("-iso", iso)
			},
			ready: func(r *bootRun) {
				r.requireNote("shim", "shim=EFI/boot/bootx64.efi")
				r.requireNote("secure-boot", "file=EFI/boot/grubx64.efi", "role=GRUB loaded by http", "problem~has no http module")
			},
			success: grubWelcome,
			stage:   sProg,
			steps: []wantStep{
				step(sDHCP, pDHCP, labHTTP+"/EFI/boot/bootx64.efi"),
				step(sProg, pHTTP, "EFI/boot/bootx64.efi"),
			},
			check: func(r *bootRun) {
				t := r.t
				if strings.Contains(r.res.serial, "Access Denied") || strings.Contains(r.res.serial, "Security Violation") {
					t.Errorf("the firmware refused a program:\n%s", tail(r.res.serial, 3000))
				}
				// shim's optional files (revocations_sbat.efi, …) are a
				// clean 404.
				requireMetric(t, r.metrics(), "pxekit_transfers_total", map[string]string{"proto": "http", "outcome": "not-found"}, 1)
				m := r.stalled(timeline.DefaultStallAfter + 30*time.Second)
				// Nothing was refused, so no Secure Boot hint; the hint is
				// the GRUB without http.
				hint := m.Stall.Hint
				if m.Program != "EFI/boot/grubx64.efi" || m.Stall.File != "EFI/boot/grubx64.efi" || m.Stall.Message != timeline.StallMessage ||
					strings.Contains(hint, "Secure Boot") || !strings.Contains(hint, "without the http module") {
					t.Errorf("machine %s: program %q, stall %+v; want stopped after the boot program EFI/boot/grubx64.efi, the hint of a GRUB without http, no Secure Boot hint", m.MAC, m.Program, *m.Stall)
				}
			},
		},
		{
			// UEFI HTTP boot of the ISO image itself: OVMF with PXE
			// turned off is handed the image's URL (minimal-server
			// -http-boot-image), downloads the whole image, registers it
			// as a RAM disk and boots its El Torito EFI image, a
			// standalone GRUB, which boots the kernel and marker initrd
			// from the RAM disk: nothing but the image crosses the
			// network. (TestUEFIHTTPBootISO before.)
			name: "uefi-http-iso-ramdisk", fw: uefiHTTP,
			serve: func(r *bootRun) []string {
				return fullDHCP("-iso", r.efiISO("httpboot.iso"), "-http", ":8080", "-http-boot-image")
			},
			ready: func(r *bootRun) {
				if found, _ := r.hasNote("no-efi-boot-image"); found {
					r.t.Errorf("the server finds no EFI boot image in the test's ISO")
				}
			},
			stage: sRootFS, inOrder: true,
			steps: []wantStep{
				step(sDHCP, pDHCP, labHTTP+"/httpboot.iso"),
				step(sRootFS, pHTTP, "httpboot.iso"),
			},
			check: checkRAMDisk,
		},
		{
			// OVMF boots over PXE (TFTP) into the signed netboot GRUB of
			// Debian's installer (grubx64.efi), which reads the GRUB
			// configuration that the server renders from isolinux.cfg
			// under GRUB's prefix (/debian-installer/amd64/grub/grub.cfg),
			// then kernel and initrd. No HTTP for the clients (GRUB
			// loads everything over TFTP); the status pages on a port of
			// their own. (TestUEFIGRUB, path 4, before.)
			name: "uefi-pxe-grub", fw: uefiOVMF,
			serve: func(r *bootRun) []string {
				return fullDHCP("-root", r.tree(map[string]string{"grubx64.efi": debDIGrubx64}), "-http", "", "-status", ":8080")
			},
			stage: sInitrd, inOrder: true,
			steps: []wantStep{
				step(sDHCP, pDHCP, "grubx64.efi"),
				step(sProg, pTFTP, "grubx64.efi"),
				step(sMenu, pTFTP, "debian-installer/amd64/grub/grub.cfg"),
				step(sKernel, pTFTP, "install/vmlinuz"),
				step(sInitrd, pTFTP, "install/initrd.gz"),
			},
			check: func(r *bootRun) {
				// OVMF asks for blksize 1468 and windowsize 4 (RFC 7440),
				// after a tsize probe it aborts itself.
				requireTransfer(r.t, r.m, pTFTP, "grubx64.efi", "aborted")
				if x := requireTransfer(r.t, r.m, pTFTP, "grubx64.efi", "ok"); x.BlockSize != 1468 || x.WindowSize != 4 {
					r.t.Errorf("grubx64.efi sent with blksize %d windowsize %d, want OVMF's 1468 and 4", x.BlockSize, x.WindowSize)
				}
			},
		},
		{
			// OVMF with PXE turned off tries UEFI HTTP boot at once; the
			// server answers with the URL of Debian's iPXE EFI build
			// (snponly.efi), which asks again as iPXE, gets the iPXE
			// script and loads kernel and initrd over HTTP (with
			// initrd=<name>, which the 2019 iPXE in Debian needs for
			// Linux's EFI stub). (TestUEFIHTTPBoot, path 7, before.)
			name: "uefi-http-ipxe", fw: uefiHTTP,
			serve: func(r *bootRun) []string {
				return fullDHCP("-root", r.tree(map[string]string{"snponly.efi": debSnponly}), "-http", ":8080")
			},
			stage: sKernel, inOrder: true,
			steps: []wantStep{
				step(sDHCP, pDHCP, labHTTP+"/snponly.efi"),
				step(sProg, pHTTP, "snponly.efi"),
				step(sMenu, pHTTP, "boot.ipxe"),
				step(sKernel, pHTTP, "install/vmlinuz"),
			},
		},
		{
			// OVMF over PXE from an ISO image that, like most, has no
			// EFI boot program the server knows: it gets Debian's iPXE
			// EFI build from this machine over TFTP, which then loads
			// the iPXE script rendered from the image's isolinux.cfg,
			// and kernel and initrd out of the image over HTTP.
			// (TestUEFIFromISO before.)
			name: "uefi-pxe-iso-ipxe", fw: uefiOVMF,
			serve: func(r *bootRun) []string { return fullDHCP("-iso", r.image(nil)) },
			stage: sKernel, inOrder: true,
			steps: []wantStep{
				step(sDHCP, pDHCP, "snponly.efi"),
				step(sProg, pTFTP, "snponly.efi"),
				step(sMenu, pHTTP, "boot.ipxe"),
				step(sKernel, pHTTP, "install/vmlinuz"),
			},
		},
		{
			// OVMF with IPv4 PXE and HTTP off boots by PXEv6: DHCPv6 from
			// minimal-server (boot file URL tftp://[addr]/grubx64.efi,
			// option 59), Debian's netboot GRUB over TFTP on v6, which
			// configures itself from the firmware's cached DHCPv6 reply
			// and reads the GRUB configuration the server renders, then
			// kernel and marker initrd, all over IPv6.
			// (TestIPv6PXEGRUB before.)
			name: "ipv6-pxe-grub", fw: uefiPXE6, ipv6: true,
			serve: func(r *bootRun) []string {
				root := r.tree(map[string]string{"grubx64.efi": debDIGrubx64})
				return append(append([]string{}, ipv6Flags...), "-root", root, "-http", "", "-status", ":8080", "-ra")
			},
			stage: sInitrd,
			steps: []wantStep{
				step(sProg, pTFTP, "grubx64.efi"),
				step(sKernel, pTFTP, "install/vmlinuz"),
				step(sInitrd, pTFTP, "install/initrd.gz"),
			},
		},
		{
			// QEMU's iPXE option ROM under SeaBIOS on the v6-only
			// segment: after the router advertisement with the M flag,
			// iPXE's own DHCPv6 gets an address and the boot file URL of
			// the generated iPXE script, which it loads over TFTP on v6
			// and which loads kernel and marker initrd relative to its
			// own URL, over v6 as well. The marker is the check.
			// (TestIPv6BIOSiPXE before.)
			name: "ipv6-bios-ipxe", fw: biosIPXE, ipv6: true,
			serve: func(r *bootRun) []string {
				return append(append([]string{}, ipv6Flags...), "-root", r.tree(nil), "-http", "", "-ra")
			},
		},
		{
			// QEMU's iPXE ROM gets an address from pxekit as full DHCP
			// server, loads Debian's pxelinux.0 and ldlinux.c32 over
			// TFTP, then pxelinux.cfg/default, which the server renders
			// from the tree's isolinux.cfg with bootmenu, then the
			// kernel and the marker initrd. (TestBIOSPXELinux, path 1,
			// before.)
			name: "bios-pxelinux", fw: biosIPXE,
			serve: func(r *bootRun) []string { return fullDHCP("-root", r.tree(nil), "-bios-boot", "pxelinux.0") },
			stage: sInitrd, inOrder: true,
			steps: []wantStep{
				step(sDHCP, pDHCP, "pxelinux.0"),
				step(sProg, pTFTP, "pxelinux.0"),
				step(sMenu, pTFTP, "pxelinux.cfg/"),
				step(sKernel, pTFTP, "install/vmlinuz"),
				step(sInitrd, pTFTP, "install/initrd.gz"),
			},
			check: func(r *bootRun) {
				if r.m.Firmware != "ipxe" || !r.m.Addr.IsValid() {
					r.t.Errorf("machine firmware %q address %v, want ipxe and the leased address", r.m.Firmware, r.m.Addr)
				}
			},
		},
		{
			// The same boot with every file (pxelinux.0, ldlinux.c32, the
			// menu, kernel and initrd) read out of an ISO image made by
			// xorriso, which is never mounted.
			// (TestBIOSPXELinuxFromISO, path 2, before.)
			name: "bios-pxelinux-iso", fw: biosIPXE,
			serve: func(r *bootRun) []string { return fullDHCP("-iso", r.image(nil), "-bios-boot", "pxelinux.0") },
			stage: sKernel,
			steps: []wantStep{
				step(sMenu, pTFTP, "pxelinux.cfg/"),
				step(sKernel, pTFTP, "install/vmlinuz"),
			},
		},
		{
			// QEMU's iPXE ROM is told to load the iPXE script that the
			// server renders from isolinux.cfg with bootmenu, over
			// HTTP, and loads kernel and initrd over HTTP too; the boot
			// as the status page shows it (in Chromium too), and as
			// /_pxekit/metrics counts it. (TestIPXEScriptHTTP, path 3,
			// before.)
			name: "bios-ipxe-script-http", fw: biosIPXE,
			serve: func(r *bootRun) []string { return fullDHCP("-root", r.tree(nil), "-http", ":8080") },
			stage: sKernel, inOrder: true,
			steps: []wantStep{
				step(sDHCP, pDHCP, labHTTP+"/boot.ipxe"),
				step(sMenu, pHTTP, "boot.ipxe"),
				step(sKernel, pHTTP, "install/vmlinuz"),
				step(sInitrd, pHTTP, "install/initrd.gz"),
			},
			check: func(r *bootRun) {
				t, m := r.t, r.m
				if m.Bytes == 0 || m.LastError != "" {
					t.Errorf("machine bytes %d, last error %q", m.Bytes, m.LastError)
				}
				fams := r.metrics()
				requireMetric(t, fams, "pxekit_dhcp_replies_total", map[string]string{"type": "ACK", "firmware": "ipxe"}, 1)
				requireMetric(t, fams, "pxekit_transfers_total", map[string]string{"proto": "http", "outcome": "ok"}, 3)
				requireMetric(t, fams, "pxekit_transfer_bytes_total", map[string]string{"proto": "http"}, float64(m.Bytes))
				requireMetric(t, fams, "pxekit_transfer_duration_seconds_count", map[string]string{"proto": "http"}, 3)
				requireMetric(t, fams, "pxekit_dhcp_pool_addresses", map[string]string{"state": "bound"}, 1)
				r.requireBrowserShows(timeline.StageKernel)
			},
		},
		{
			// dnsmasq, in a namespace of its own joined to the bridge,
			// hands out addresses without any boot option; pxekit
			// answers as proxyDHCP, serving an ISO image as the README's
			// quickstart does, and the client boots. The address came
			// from dnsmasq (its lease file), the boot from pxekit.
			// (TestProxyDHCPBesideDnsmasq, path 5, before.)
			name: "proxydhcp-beside-dnsmasq", fw: biosIPXE,
			serve: func(r *bootRun) []string {
				iso := r.image(nil)
				r.dnsmasqBeside()
				return []string{"-proxy", "-iso", iso, "-ra"}
			},
			stage: sInitrd, inOrder: true,
			steps: []wantStep{
				step(sDHCP, pDHCP, labHTTP+"/boot.ipxe"),
				step(sMenu, pHTTP, "boot.ipxe"),
				step(sKernel, pHTTP, "install/vmlinuz"),
			},
			check: func(r *bootRun) {
				if x := requireTransfer(r.t, r.m, pHTTP, "install/vmlinuz", "ok"); x.Status != 200 {
					r.t.Errorf("install/vmlinuz: HTTP status %d, want 200", x.Status)
				}
				r.peer.stop()
				requireDnsmasqLease(r.t, filepath.Join(r.dir, "dnsmasq.leases"), labMAC)
			},
		},
		{
			// QEMU's iPXE ROM booted pixiecore-style: no tree (the
			// embedded default menu), and -kernel/-initrd/-cmdline name
			// files of this machine that every machine boots at once.
			// The plan was this machine's: its script is named after its
			// MAC, and the kernel and initrd are the -kernel and -initrd
			// files. (TestKernelFlag before.)
			name: "kernel-flag", fw: biosIPXE,
			serve: func(r *bootRun) []string {
				dir := r.mkdir("files")
				r.kernelAndInitrd(dir)
				return fullDHCP("-kernel", filepath.Join(dir, "vmlinuz"), "-initrd", filepath.Join(dir, "initrd.gz"), "-cmdline", kernelCmdline)
			},
			ready: func(r *bootRun) { r.requireNote("kernel", "plan~kernel /pxekit-kernel") },
			stage: sInitrd,
			steps: []wantStep{
				step(sMenu, pHTTP, "boot-01-52-54-00-12-34-56.ipxe"),
				step(sKernel, pHTTP, "pxekit-kernel"),
				step(sInitrd, pHTTP, "pxekit-initrd-1"),
			},
		},
		{
			// QEMU's iPXE ROM against an image whose menu boots an entry
			// that panics; the -api webhook (busybox httpd in the lab
			// namespace) answers for this machine with the marker
			// kernel, so the marker appears only if the machine's plan
			// was served: a script of this machine's own.
			// (TestAPIWebhook before.)
			name: "api-webhook", fw: biosIPXE,
			serve: func(r *bootRun) []string {
				t := r.t
				bb := testenv.NeedCommand(t, "busybox")[0]
				root := r.tree(nil)
				writeFile(t, filepath.Join(root, "isolinux", "isolinux.cfg"), strings.Replace(isolinuxCfg, "default marker", "default other", 1))
				api := r.mkdir("api")
				writeFile(t, filepath.Join(api, "plan"), `{"kernel": "/install/vmlinuz", "initrds": ["/install/initrd.gz"], "cmdline": "`+kernelCmdline+`"}`)
				r.start(bb, "httpd", "-f", "-p", "127.0.0.1:9000", "-h", api)
				return fullDHCP("-root", root, "-api", "http://127.0.0.1:9000/plan")
			},
			stage: sKernel,
			steps: []wantStep{
				step(sDHCP, pDHCP, labHTTP+"/boot-01-52-54-00-12-34-56.ipxe"),
				step(sMenu, pHTTP, "boot-01-52-54-00-12-34-56.ipxe"),
				step(sKernel, pHTTP, "install/vmlinuz"),
			},
		},
	}
}

// signedPXESteps are the steps of a Secure Boot PXE boot with the shim
// at shim.
func signedPXESteps(shim string) []wantStep {
	return []wantStep{
		step(sDHCP, pDHCP, shim),
		step(sProg, pTFTP, shim),
		step(sMenu, pTFTP, "grub/grub.cfg"),
		step(sKernel, pTFTP, "install/vmlinuz"),
		step(sInitrd, pTFTP, "install/initrd.gz"),
	}
}

// signedHTTPSteps are those of a Secure Boot HTTP boot.
func signedHTTPSteps(shim string) []wantStep {
	return []wantStep{
		step(sDHCP, pDHCP, labHTTP+"/"+shim),
		step(sProg, pHTTP, shim),
		step(sMenu, pHTTP, "grub/"),
		step(sKernel, pHTTP, "install/vmlinuz"),
		step(sInitrd, pHTTP, "install/initrd.gz"),
	}
}

// checkSecurePXE checks a Secure Boot PXE boot: the kernel said Secure
// Boot was on, and the server warned about nothing of the PXE chain. HTTP
// is on (status.json comes from it), so Debian 12's GRUB is rightly a
// warning for UEFI HTTP boot clients.
func checkSecurePXE(r *bootRun) {
	requireSecureBoot(r.t, r.res)
	st, _ := r.status()
	for _, n := range st.Notes {
		if n.Kind == "secure-boot" && n.Fields["role"] != "GRUB loaded by http" {
			r.t.Errorf("the server warned about a chain that booted with Secure Boot on: %s %v", n.Msg, n.Fields)
		}
	}
}

// requireNoSecureBootWarning fails the test if the server warned about a
// chain that Secure Boot accepts (a GRUB with http among it).
func requireNoSecureBootWarning(r *bootRun) {
	if ok, notes := r.hasNote("secure-boot"); ok {
		r.t.Errorf("the server warned about a chain that Secure Boot accepts (a GRUB with http among it):\n%s", notes)
	}
}

// checkRAMDisk checks the boot of an ISO image as a RAM disk: GRUB ran
// from the image's EFI boot image and found the image as a disk (the RAM
// disk the firmware made of the download), the image came whole, and no
// other file crossed the network.
func checkRAMDisk(r *bootRun) {
	t, m := r.t, r.m
	if i := strings.Index(r.res.serial, grubFound); i < 0 {
		t.Errorf("serial console has no %q: GRUB did not run from the image", grubFound)
	} else {
		line, _, _ := strings.Cut(r.res.serial[i:], "\n")
		t.Logf("serial console: %s", strings.TrimSpace(line))
	}
	if x := requireTransfer(t, m, pHTTP, "httpboot.iso", "ok"); x.Status != 200 {
		t.Errorf("httpboot.iso: HTTP status %d, want 200", x.Status)
	}
	for _, x := range m.Recent {
		if x.File != "httpboot.iso" {
			t.Errorf("a file other than the image crossed the network: %+v", x)
		}
	}
	fams := r.metrics()
	requireMetric(t, fams, "pxekit_transfers_total", map[string]string{"proto": "http", "outcome": "ok"}, 1)
	if v, ok := promtext.Value(fams, "pxekit_transfers_total", map[string]string{"proto": "tftp"}); ok {
		t.Errorf("/metrics: %v TFTP transfers, want none", v)
	}
}

// dnsmasqBeside runs dnsmasq as address-only DHCP server in a namespace
// of its own, joined to the lab bridge by a veth pair.
func (r *bootRun) dnsmasqBeside() {
	t := r.t
	other := testenv.NewNetNS(t)
	id := fmt.Sprintf("%d", time.Now().UnixNano()%100000)
	inLab, inOther := "vl"+id, "vo"+id
	if out, err := exec.Command("ip", "link", "add", inLab, "netns", r.ns.Name, "type", "veth", "peer", "name", inOther, "netns", other.Name).CombinedOutput(); err != nil {
		t.Fatalf("ip link add veth: %v: %s", err, out)
	}
	r.ns.MustRun(t, "ip", "link", "set", inLab, "master", labBridge)
	r.ns.MustRun(t, "ip", "link", "set", inLab, "up")
	other.MustRun(t, "ip", "addr", "add", "10.99.0.2/24", "dev", inOther)
	other.MustRun(t, "ip", "link", "set", inOther, "up")
	r.peer = r.dnsmasq(other, inOther, "", "")
}
