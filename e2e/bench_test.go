package e2e

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
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
	}
	times := make(map[string][]time.Duration)
	console := make(map[string][]time.Duration)
	for i := range runs {
		for _, s := range servers {
			t.Run(fmt.Sprintf("%s/%d", s.name, i), func(t *testing.T) {
				l := newLab(t)
				root := l.mkdir("tftp")
				l.pxelinuxTree(root, true)
				s.start(l, root)
				r := l.boot(biosIPXE, 4*time.Minute)
				times[s.name] = append(times[s.name], r.elapsed)
				console[s.name] = append(console[s.name], r.console)
			})
		}
	}
	med := func(d []time.Duration) time.Duration {
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
	for _, s := range servers {
		fmt.Printf("BENCH %-8s runs=%d median to marker=%.1fs, to first console byte (network part)=%.1fs; all to marker=%v\n",
			s.name, len(times[s.name]), med(times[s.name]).Seconds(), med(console[s.name]).Seconds(), round(times[s.name]))
	}
	if a, b := med(times["pxekit"]), med(times["dnsmasq"]); a > 0 && b > 0 {
		fmt.Printf("BENCH ratio pxekit/dnsmasq to marker = %.2f (below 1: pxekit boots faster)\n", a.Seconds()/b.Seconds())
	}
	if a, b := med(console["pxekit"]), med(console["dnsmasq"]); a > 0 && b > 0 {
		fmt.Printf("BENCH ratio pxekit/dnsmasq network part = %.2f\n", a.Seconds()/b.Seconds())
	}
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
