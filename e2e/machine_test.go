package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pxekit/pxekit/events"
	"github.com/pxekit/pxekit/internal/testenv"
	"github.com/pxekit/pxekit/timeline"
)

// TestKernelFlag boots QEMU's iPXE ROM pixiecore-style: no tree (the
// embedded default menu), and -kernel/-initrd/-cmdline name files of this
// machine that every machine boots at once.
func TestKernelFlag(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	dir := l.mkdir("files")
	l.kernelAndInitrd(dir)
	l.pxekit("-range", labFirst+"-"+labLast, "-ra",
		"-kernel", filepath.Join(dir, "vmlinuz"), "-initrd", filepath.Join(dir, "initrd.gz"), "-cmdline", kernelCmdline)
	l.requireNote("kernel", "plan~kernel /pxekit-kernel")
	l.boot(biosIPXE, bootTimeout)
	// The plan was this machine's: its script is named after its MAC,
	// and the kernel and initrd are the -kernel and -initrd files.
	m := l.machine(timeline.StageInitrd)
	requireStep(t, m, timeline.StageMenu, events.ProtoHTTP, "boot-01-52-54-00-12-34-56.ipxe")
	requireStep(t, m, timeline.StageKernel, events.ProtoHTTP, "pxekit-kernel")
	requireStep(t, m, timeline.StageInitrd, events.ProtoHTTP, "pxekit-initrd-1")
}

// TestAPIWebhook boots QEMU's iPXE ROM against an image whose menu
// boots an entry that panics; the -api webhook (busybox httpd in the
// lab namespace) answers for this machine with the marker kernel, so the
// marker appears only if the machine's plan was served.
func TestAPIWebhook(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	bb := testenv.NeedCommand(t, "busybox")[0]
	root := l.mkdir("tree")
	l.isoTree(root)
	writeFile(t, filepath.Join(root, "isolinux", "isolinux.cfg"), strings.Replace(isolinuxCfg, "default marker", "default other", 1))
	api := l.mkdir("api")
	writeFile(t, filepath.Join(api, "plan"), `{"kernel": "/install/vmlinuz", "initrds": ["/install/initrd.gz"], "cmdline": "`+kernelCmdline+`"}`)
	l.startIn(l.ns, bb, "httpd", "-f", "-p", "127.0.0.1:9000", "-h", api)
	l.pxekit("-range", labFirst+"-"+labLast, "-ra", "-root", root, "-api", "http://127.0.0.1:9000/plan")
	l.boot(biosIPXE, bootTimeout)
	// The webhook's plan, not the menu: a script of this machine's own,
	// and the marker on the console (the menu's default panics).
	m := l.machine(timeline.StageKernel)
	requireStep(t, m, timeline.StageDHCP, events.ProtoDHCP, "http://"+labServerIP+":8080/boot-01-52-54-00-12-34-56.ipxe")
	requireStep(t, m, timeline.StageMenu, events.ProtoHTTP, "boot-01-52-54-00-12-34-56.ipxe")
	requireStep(t, m, timeline.StageKernel, events.ProtoHTTP, "install/vmlinuz")
}
