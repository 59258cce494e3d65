package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
