package main

import (
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/pxekit/pxekit/dhcp"
)

// TestWarnNeighbours: a pool larger than the kernel's neighbour table is
// warned about (the storm of issue 17 lost machines to it); one that fits,
// or an unknown limit, is not.
func TestWarnNeighbours(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gc_thresh3")
	if err := os.WriteFile(path, []byte("1024\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := neighLimit(path); got != 1024 {
		t.Fatalf("neighLimit = %d, want 1024", got)
	}
	if got := neighLimit(filepath.Join(t.TempDir(), "none")); got != 0 {
		t.Fatalf("neighLimit of a missing file = %d, want 0", got)
	}
	pool := func(first, last string) *dhcp.Pool {
		return &dhcp.Pool{First: netip.MustParseAddr(first), Last: netip.MustParseAddr(last)}
	}
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name  string
		pools []*dhcp.Pool
		limit int
		warn  bool
	}{
		{"storm pool", []*dhcp.Pool{pool("10.80.1.1", "10.80.8.235")}, 1024, true},
		{"two pools together", []*dhcp.Pool{pool("10.0.0.10", "10.0.2.9"), pool("10.1.0.10", "10.1.2.19")}, 1024, true},
		{"fits", []*dhcp.Pool{pool("192.168.1.10", "192.168.1.250")}, 1024, false},
		{"raised", []*dhcp.Pool{pool("10.80.1.1", "10.80.8.235")}, 4000, false},
		{"unknown", []*dhcp.Pool{pool("10.80.1.1", "10.80.8.235")}, 0, false},
		{"proxy", nil, 1024, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nt := &notes{}
			warnNeighbours(log, nt, tc.pools, tc.limit)
			if got := len(nt.list) == 1 && nt.list[0].Kind == noteNeighbours && nt.list[0].Level == "warn"; got != tc.warn || len(nt.list) > 1 {
				t.Errorf("notes %+v, want a neighbours warning: %v", nt.list, tc.warn)
			}
		})
	}
}
