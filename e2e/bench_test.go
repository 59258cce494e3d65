package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/internal/testenv"
)

// TestBootBench is the measurement behind bench/boot.sh, not a test: it
// runs only when PXEKIT_BOOTBENCH_RUNS is set. It boots the BIOS path (QEMU
// iPXE ROM → DHCP → pxelinux.0 → kernel + marker initrd over TFTP) against
// dnsmasq and against pxekit's minimal server, serving the same tree, the
// runs interleaved, and prints the median time from QEMU start to the
// marker for each server and their ratio.
func TestBootBench(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("PXEKIT_BOOTBENCH_RUNS"))
	if runs <= 0 {
		t.Skip("set PXEKIT_BOOTBENCH_RUNS=N to run the boot benchmark (bench/boot.sh does)")
	}
	servers := []struct {
		name  string
		start func(l *lab, root string) *daemon
	}{
		{"dnsmasq", func(l *lab, root string) *daemon {
			return l.dnsmasq(l.ns, labBridge, root, "pxelinux.0")
		}},
		{"pxekit", func(l *lab, root string) *daemon {
			return l.pxekit(append([]string{"-range", labFirst + "-" + labLast, "-root", root, "-bios-boot", "pxelinux.0",
				"-leases", l.dir + "/leases"}, benchExtraFlags()...)...)
		}},
		// What pxekit does by default with the same tree for an iPXE
		// client: the menu rendered as an iPXE script, kernel and initrd
		// over HTTP, and the router advertisement iPXE waits for.
		{"pxekit-http", func(l *lab, root string) *daemon {
			return l.pxekit("-range", labFirst+"-"+labLast, "-root", root, "-leases", l.dir+"/leases", "-ra")
		}},
	}
	times := make(map[string][]time.Duration)
	console := make(map[string][]time.Duration)
	for i := range runs {
		for _, s := range servers {
			t.Run(fmt.Sprintf("%s/%d", s.name, i), func(t *testing.T) {
				l := newLab(t)
				root := l.mkdir("tftp")
				l.pxelinuxTree(root, true)
				if os.Getenv("PXEKIT_BOOTBENCH_BIG") != "" {
					bigInitrd(t, root)
				}
				s.start(l, root)
				r := l.boot(biosIPXE, 4*time.Minute)
				times[s.name] = append(times[s.name], r.elapsed)
				console[s.name] = append(console[s.name], r.console)
			})
		}
	}
	for _, s := range servers {
		fmt.Printf("BENCH %-8s runs=%d median to marker=%.1fs, to first console byte (network part)=%.1fs; all to marker=%v\n",
			s.name, len(times[s.name]), median(times[s.name]).Seconds(), median(console[s.name]).Seconds(), round(times[s.name]))
	}
	for _, name := range []string{"pxekit", "pxekit-http"} {
		if a, b := median(times[name]), median(times["dnsmasq"]); a > 0 && b > 0 {
			fmt.Printf("BENCH ratio %s/dnsmasq to marker = %.2f (below 1: pxekit boots faster)\n", name, a.Seconds()/b.Seconds())
		}
		if a, b := median(console[name]), median(console["dnsmasq"]); a > 0 && b > 0 {
			fmt.Printf("BENCH ratio %s/dnsmasq network part = %.2f\n", name, a.Seconds()/b.Seconds())
		}
	}
}

// median returns the median of d, 0 for none.
func median(d []time.Duration) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	if len(d) == 0 {
		return 0
	}
	if len(d)%2 == 1 {
		return d[len(d)/2]
	}
	return (d[len(d)/2-1] + d[len(d)/2]) / 2
}

func round(d []time.Duration) []time.Duration {
	out := make([]time.Duration, len(d))
	for i, v := range d {
		out[i] = v.Round(100 * time.Millisecond)
	}
	return out
}

// benchExtraFlags are extra minimal-server flags from PXEKIT_BOOTBENCH_FLAGS
// (space separated), so the script can compare settings.
func benchExtraFlags() []string {
	return strings.Fields(os.Getenv("PXEKIT_BOOTBENCH_FLAGS"))
}

// debianInitrd is the Debian installer's initrd (about 40 MB), from the
// debian-installer-12-netboot-amd64 package.
const debianInitrd = "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64/initrd.gz"

// bigInitrd puts the Debian installer's initrd in front of the marker
// initrd in root/initrd.gz. The kernel unpacks concatenated archives in
// order, so the marker's /init wins, and the boot moves the 40 MB that a
// real installer boot moves.
func bigInitrd(t testing.TB, root string) {
	t.Helper()
	big, err := os.ReadFile(debianInitrd)
	if err != nil {
		testenv.Unavailable(t, "%s: %v", debianInitrd, err)
	}
	p := filepath.Join(root, "initrd.gz")
	small, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, append(big, small...), 0o644); err != nil {
		t.Fatal(err)
	}
}
