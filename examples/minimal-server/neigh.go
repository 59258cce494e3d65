package main

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/pxekit/pxekit/dhcp"
)

// neighPath holds the kernel's limit on neighbour (ARP) entries: Linux
// makes no entry past gc_thresh3 (1,024 by default), in all network
// namespaces together, and a packet to an address without one is dropped
// without an error to the sender.
const neighPath = "/proc/sys/net/ipv4/neigh/default/gc_thresh3"

// neighLimit returns the kernel's neighbour table limit, or 0 where it
// cannot be read (another system, no /proc).
func neighLimit(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// warnNeighbours warns when the full-DHCP pools hold more addresses than
// the kernel keeps neighbour entries: TFTP and HTTP answer each machine
// at its own address, so in a storm of that many machines at once the
// answers to the machines past the limit are lost, silently, until
// entries expire (a storm of 1,000 from minimal-server lost 22 machines
// to it, issue 17). Machines of a relayed subnet take no entry each, but
// they are counted too: the warning errs on the side of saying so. limit 0
// means unknown.
func warnNeighbours(log *slog.Logger, nt *notes, pools []*dhcp.Pool, limit int) {
	size := 0
	for _, p := range pools {
		size += int(u32(p.Last) - u32(p.First) + 1)
	}
	if limit <= 0 || size <= limit {
		return
	}
	nt.warn(log, noteNeighbours, "the pool has more addresses than the kernel keeps neighbour entries: machines past that many at once get no TFTP or HTTP answer",
		"pool", size, "gc_thresh3", limit, "raise", fmt.Sprintf("sysctl -w net.ipv4.neigh.default.gc_thresh3=%d net.ipv4.neigh.default.gc_thresh2=%d", 2*size, size))
}
