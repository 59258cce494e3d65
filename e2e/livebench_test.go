package e2e

import (
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

// TestLiveBench is the measurement behind bench/live.sh, not a test: it
// runs only when PXEKIT_LIVEBENCH_RUNS and PXEKIT_E2E_LIVE_ISO are set. It
// times power-on → login prompt of the Debian Live image under BIOS iPXE
// (2560 MB, TCG), runs interleaved, for two servers:
//
//   - pxekit: minimal-server -iso IMAGE -timeout 5s, full DHCP, -ra: the
//     iPXE script rendered from the image's menu, kernel, initrd and
//     squashfs over HTTP, straight out of the image;
//   - seeds: the way people serve a live image by hand: the image
//     loop-mounted read-only (fuseiso where the kernel has no iso9660; see
//     mountISO), dnsmasq (DHCP + TFTP) with Debian's
//     pxelinux.0 and a hand-written menu whose line adds fetch= (TIMEOUT 50,
//     the same 5 s), kernel and initrd over TFTP, and busybox httpd serving
//     the mount for the squashfs.
func TestLiveBench(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("PXEKIT_LIVEBENCH_RUNS"))
	iso := os.Getenv(liveISOEnv)
	if runs <= 0 || iso == "" {
		t.Skipf("set PXEKIT_LIVEBENCH_RUNS=N and %s=IMAGE to run the live boot benchmark (bench/live.sh does)", liveISOEnv)
	}
	servers := []struct {
		name  string
		start func(l *lab)
	}{
		{"pxekit", func(l *lab) {
			l.pxekit("-range", labFirst+"-"+labLast, "-iso", iso, "-timeout", "5s", "-ra", "-leases", l.dir+"/leases")
		}},
		{"seeds", func(l *lab) { l.seedsLive(iso) }},
	}
	times := make(map[string][]time.Duration)
	console := make(map[string][]time.Duration)
	for i := range runs {
		for _, s := range servers {
			t.Run(fmt.Sprintf("%s/%d", s.name, i), func(t *testing.T) {
				l := newLab(t)
				l.mem = liveMemMiB
				l.success = liveLogin
				s.start(l)
				r := l.boot(biosIPXE, liveTimeout)
				times[s.name] = append(times[s.name], r.elapsed)
				console[s.name] = append(console[s.name], r.console)
			})
		}
	}
	for _, s := range servers {
		fmt.Printf("BENCH %-6s runs=%d median to login prompt=%.1fs, to first console byte (firmware, DHCP, boot loader, kernel and initrd download)=%.1fs; all to login=%v\n",
			s.name, len(times[s.name]), median(times[s.name]).Seconds(), median(console[s.name]).Seconds(), round(times[s.name]))
	}
	if a, b := median(times["pxekit"]), median(times["seeds"]); a > 0 && b > 0 {
		fmt.Printf("BENCH ratio pxekit/seeds to login prompt = %.2f (below 1: pxekit boots faster)\n", a.Seconds()/b.Seconds())
	}
	if a, b := median(console["pxekit"]), median(console["seeds"]); a > 0 && b > 0 {
		fmt.Printf("BENCH ratio pxekit/seeds to first console byte = %.2f\n", a.Seconds()/b.Seconds())
	}
}

// seedsLive serves the live image the hand-made way (see TestLiveBench):
// it mounts iso read-only under l.dir/mnt (mountISO), links the mount's live/ into a TFTP root with pxelinux.0,
// ldlinux.c32 and a pxelinux.cfg/default written here, and starts dnsmasq
// and busybox httpd (port 8080, over the mount) in the lab.
func (l *lab) seedsLive(iso string) {
	t := l.t
	t.Helper()
	busybox := testenv.NeedCommand(t, "busybox")[0]
	mnt := l.mkdir("mnt")
	l.mountISO(iso, mnt)
	kernel, initrd := liveKernel(t, mnt)
	root := l.mkdir("tftp")
	copyFile(t, debPxelinux, filepath.Join(root, "pxelinux.0"))
	copyFile(t, debLdlinux, filepath.Join(root, "ldlinux.c32"))
	if err := os.Symlink(filepath.Join(mnt, "live"), filepath.Join(root, "live")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "pxelinux.cfg", "default"), `# the seeds' hand-written menu
DEFAULT live
PROMPT 0
TIMEOUT 50
LABEL live
  KERNEL `+kernel+`
  INITRD `+initrd+`
  APPEND boot=live components console=ttyS0,115200n8 fetch=http://`+labServerIP+`:8080/live/filesystem.squashfs
`)
	l.start(busybox, "httpd", "-f", "-vv", "-p", labServerIP+":8080", "-h", mnt)
	l.dnsmasq(l.ns, labBridge, root, "pxelinux.0")
}

// mountISO mounts iso read-only on mnt until the test ends: with the
// kernel's iso9660 (mount -o loop,ro), or, where the kernel has none (as
// the kernel of the machine the project's benchmarks ran on), with fuseiso,
// the FUSE file system that reads the image in place as the loop mount
// does.
func (l *lab) mountISO(iso, mnt string) {
	t := l.t
	t.Helper()
	var mount, umount []string
	if kernelHas("iso9660") {
		mount = []string{testenv.NeedCommand(t, "mount")[0], "-o", "loop,ro", iso, mnt}
		umount = []string{testenv.NeedCommand(t, "umount")[0], mnt}
	} else {
		mount = []string{testenv.NeedCommand(t, "fuseiso")[0], iso, mnt}
		umount = []string{testenv.NeedCommand(t, "fusermount")[0], "-u", mnt}
	}
	if out, err := exec.Command(mount[0], mount[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(mount, " "), err, out)
	}
	t.Logf("image mounted: %s", strings.Join(mount, " "))
	t.Cleanup(func() {
		if out, err := exec.Command(umount[0], umount[1:]...).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", strings.Join(umount, " "), err, out)
		}
	})
}

// kernelHas reports whether the running kernel knows the file system fs
// (/proc/filesystems).
func kernelHas(fs string) bool {
	data, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[len(f)-1] == fs {
			return true
		}
	}
	return false
}

// liveKernel returns the kernel and initrd of a mounted live-build image,
// relative to its root: live/vmlinuz and live/initrd.img, or the single
// versioned pair.
func liveKernel(t *testing.T, mnt string) (kernel, initrd string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(mnt, "live", "vmlinuz")); err == nil {
		return "live/vmlinuz", "live/initrd.img"
	}
	ks, _ := filepath.Glob(filepath.Join(mnt, "live", "vmlinuz-*"))
	is, _ := filepath.Glob(filepath.Join(mnt, "live", "initrd.img-*"))
	if len(ks) != 1 || len(is) != 1 {
		t.Fatalf("the image has kernels %q and initrds %q under live/, want one of each", ks, is)
	}
	return "live/" + filepath.Base(ks[0]), "live/" + filepath.Base(is[0])
}
