package e2e

import (
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/events"
	"github.com/pxekit/pxekit/isofs"
	"github.com/pxekit/pxekit/timeline"
)

// liveISOEnv names the Debian Live image that TestDebianLiveISO boots.
const liveISOEnv = "PXEKIT_E2E_LIVE_ISO"

// Under TCG a Debian 12 Live image needs about 2.5 GB of memory (live-boot
// downloads its squashfs into RAM) and several minutes to its login prompt.
const (
	liveMemMiB  = 2560
	liveTimeout = 15 * time.Minute
)

// liveLogin is what the live system's getty prints on the serial console
// (console=ttyS0 on its kernel line): "debian login:", followed by the
// automatic login of live-config.
const liveLogin = "login:"

// liveSquashfs returns the size of every live/*.squashfs in the image,
// read with isofs (without mounting it).
func liveSquashfs(t *testing.T, iso string) map[string]int64 {
	t.Helper()
	f, err := os.Open(iso)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fsys, err := isofs.Open(f)
	if err != nil {
		t.Fatalf("isofs.Open(%s): %v", iso, err)
	}
	names, err := fs.Glob(fsys, "live/*.squashfs")
	if err != nil {
		t.Fatal(err)
	}
	sizes := make(map[string]int64)
	for _, n := range names {
		st, err := fs.Stat(fsys, n)
		if err != nil {
			t.Fatal(err)
		}
		sizes[n] = st.Size()
	}
	if len(sizes) == 0 {
		t.Fatalf("%s has no live/*.squashfs: not a live-build image", iso)
	}
	return sizes
}

// TestDebianLiveISO boots a real Debian Live image, made by Debian's
// live-build, from minimal-server -iso: QEMU's iPXE ROM gets the iPXE
// script rendered from the image's own isolinux menu, whose default entry
// the server boots after 5 s (-timeout 5s) with fetch=<squashfs URL> added
// by netboot's live-boot rule, and the live system must reach its login
// prompt on the serial console, its squashfs downloaded from the server
// over HTTP. The image is never mounted.
//
// The test is opt-in, also in CI: it runs only when PXEKIT_E2E_LIVE_ISO
// names the image (live-build's live-image-amd64.hybrid.iso, whose kernel
// line must carry console=ttyS0,115200n8: lb config --bootappend-live).
func TestDebianLiveISO(t *testing.T) {
	iso := os.Getenv(liveISOEnv)
	if iso == "" {
		t.Skipf("set %s=/path/to/live-image-amd64.hybrid.iso to boot a Debian Live image", liveISOEnv)
	}
	if st, err := os.Stat(iso); err != nil || !st.Mode().IsRegular() {
		t.Fatalf("%s=%s: not a regular file (%v)", liveISOEnv, iso, err)
	}
	sizes := liveSquashfs(t, iso)
	l := newLab(t)
	l.mem = liveMemMiB
	l.success = liveLogin
	l.pxekit("-range", labFirst+"-"+labLast, "-iso", iso, "-timeout", "5s", "-ra")
	r := l.boot(biosIPXE, liveTimeout)
	m := l.machine(timeline.StageRootFS)
	requireStepsInOrder(t, m)
	requireStep(t, m, timeline.StageDHCP, events.ProtoDHCP, "http://"+labServerIP+":8080/boot.ipxe")
	requireStep(t, m, timeline.StageMenu, events.ProtoHTTP, "boot.ipxe")
	// live-boot's wget must have had the whole squashfs: a GET answered
	// 200 that sent as many bytes as the image holds.
	var fetched []string
	for _, x := range m.Recent {
		if size, ok := sizes[x.File]; ok && x.Proto == events.ProtoHTTP && x.Status == 200 && x.Bytes == size {
			fetched = append(fetched, fmt.Sprintf("%s %d bytes", x.File, x.Bytes))
		}
	}
	if len(fetched) == 0 {
		t.Fatalf("the server log has no whole HTTP GET of %v with status 200\n--- serial console (last 4000 bytes):\n%s", sizes, tail(r.serial, 4000))
	}
	prompt := r.serial[strings.LastIndex(r.serial[:strings.Index(r.serial, liveLogin)], "\n")+1:]
	if i := strings.IndexByte(prompt, '\n'); i >= 0 {
		prompt = prompt[:i]
	}
	t.Logf("Debian Live: %q on the serial console %.1fs after power-on; squashfs served: %s",
		strings.TrimSpace(prompt), r.elapsed.Seconds(), strings.Join(fetched, " | "))
}
