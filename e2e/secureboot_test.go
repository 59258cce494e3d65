package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/events"
	"github.com/pxekit/pxekit/timeline"
)

// Signed boot programs from Debian's shim-signed and
// grub-efi-amd64-signed packages. Debian's grubnetx64.efi.signed has
// "/grub" built in as its prefix, so it reads /grub/grub.cfg (or
// /grub/x86_64-efi/grub.cfg) from the server it came from.
const (
	debShimSigned = "/usr/lib/shim/shimx64.efi.signed"
	debGRUBNet    = "/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed"
)

// secureBootLine is what Debian's kernel prints when the firmware booted
// it with Secure Boot enforcing.
const secureBootLine = "Secure boot enabled"

// requireSecureBoot fails the test unless the kernel said that Secure
// Boot was on.
func requireSecureBoot(t *testing.T, r qemuResult) {
	t.Helper()
	if !strings.Contains(r.serial, secureBootLine) {
		t.Errorf("the kernel did not print %q: Secure Boot was not enforcing\n--- serial console (last 3000 bytes):\n%s", secureBootLine, tail(r.serial, 3000))
	}
}

// TestSecureBootWarnsUnsigned is the negative: a tree whose UEFI boot
// program is unsigned (Debian's iPXE build, as the server offers where
// the tree has no EFI program of its own) is what the server warns
// about at start-up, for PXE and for HTTP boot, naming the program;
// OVMF with Secure Boot on fetches it and refuses it ("Access Denied");
// and the server's report (status.json, from the timeline) says that
// the machine stopped after the boot program, which Secure Boot may
// have refused.
func TestSecureBootWarnsUnsigned(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	root := l.mkdir("tree")
	l.isoTree(root)
	copyFile(t, debSnponly, filepath.Join(root, "snponly.efi"))
	l.pxekit("-range", labFirst+"-"+labLast, "-root", root, "-http", ":8080")
	l.requireNote("secure-boot", "file=snponly.efi", "role=x86-64 UEFI boot program, UEFI HTTP boot program", "problem~unsigned")
	// And the same firmware as TestBootPaths/secureboot-pxe-* refuses it: Secure Boot
	// is on. The boot ends at OVMF's refusal, after the transfer.
	l.success = ": Access Denied"
	r := l.boot(uefiSecure, 2*time.Minute)
	if !strings.Contains(r.serial, `"UEFI PXEv4 (MAC:525400123456)"`) {
		t.Errorf("the refusal is not of the PXE boot option:\n%s", tail(r.serial, 2000))
	}
	m := l.machine(timeline.StageBootProgram)
	requireStep(t, m, timeline.StageDHCP, events.ProtoDHCP, "snponly.efi")
	requireStep(t, m, timeline.StageBootProgram, events.ProtoTFTP, "snponly.efi")
	m = l.stalled(timeline.DefaultStallAfter + 30*time.Second)
	if m.Stage != timeline.StageBootProgram || m.Stall.Stage != timeline.StageBootProgram || m.Stall.File != "snponly.efi" || m.Stall.Message != timeline.StallMessage {
		t.Errorf("machine %s: stage %v, stall %+v; want stopped after the boot program snponly.efi", m.MAC, m.Stage, *m.Stall)
	}
	if !strings.HasPrefix(m.Stall.Hint, "Secure Boot may have refused it: snponly.efi: unsigned") {
		t.Errorf("machine %s: stall hint %q, want the Secure Boot hint for the unsigned snponly.efi", m.MAC, m.Stall.Hint)
	}
}

// stalled returns the lab machine as status.json shows it once it is
// reported as stalled, and fails the test if that does not happen within
// timeout.
func (l *lab) stalled(timeout time.Duration) timeline.Machine {
	l.t.Helper()
	var m timeline.Machine
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(time.Second) {
		var st struct {
			Machines []timeline.Machine `json:"machines"`
		}
		body := l.fetch(labHTTP + "/_pxekit/status.json")
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			l.t.Fatalf("status.json: %v\n%s", err, body)
		}
		for _, x := range st.Machines {
			if x.MAC == l.mac {
				m = x
			}
		}
		if m.Stall != nil {
			return m
		}
	}
	l.t.Fatalf("status.json: machine %s not reported as stalled within %v: %+v", l.mac, timeout, m)
	return m
}

// signedChain lays out the isoTree with the signed shim at shim and grub
// (a signed network GRUB) at grubPath, as a tree or, with iso, as an
// xorriso image of it, and returns the flags of the server as full DHCP
// server on it.
func (l *lab) signedChain(shim, grubPath, grub string, iso bool) []string {
	t := l.t
	src := l.mkdir("tree")
	l.isoTree(src)
	copyFile(t, debShimSigned, filepath.Join(src, shim))
	copyFile(t, grub, filepath.Join(src, grubPath))
	files := []string{"-root", src}
	if iso {
		img := l.makeISO(src)
		if err := os.RemoveAll(src); err != nil {
			t.Fatal(err)
		}
		files = []string{"-iso", img}
	}
	return fullDHCP(files...)
}
