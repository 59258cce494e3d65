//go:build linux

package tftp

import "testing"

func TestGSORun(t *testing.T) {
	buf := make([]byte, 70000)
	window := func(seg int, lens ...int) [][]byte {
		var pkts [][]byte
		for i, n := range lens {
			pkts = append(pkts, buf[i*seg:i*seg+n])
		}
		return pkts
	}
	other := make([]byte, 100)
	for _, tc := range []struct {
		name      string
		pkts      [][]byte
		wantN     int
		wantSeg   int
		wantTotal int
	}{
		{"one packet", window(516, 516), 0, 0, 0},
		{"full window", window(516, 516, 516, 516, 516), 4, 516, 4 * 516},
		{"short last", window(516, 516, 516, 100), 3, 516, 2*516 + 100},
		{"short middle ends the run", window(516, 516, 100, 516), 2, 516, 516 + 100},
		{"not contiguous", [][]byte{buf[:516], other[:50]}, 1, 516, 516},
		{"bytes limit", window(8196, repeat(8196, 8)...), 7, 8196, 7 * 8196},
		{"segment limit", window(100, repeat(100, 80)...), 64, 100, 6400},
	} {
		n, seg := gsoRun(tc.pkts)
		if n != tc.wantN || n >= 2 && seg != tc.wantSeg {
			t.Errorf("%s: gsoRun = %d packets of %d, want %d of %d", tc.name, n, seg, tc.wantN, tc.wantSeg)
			continue
		}
		if n >= 2 {
			if total := (n-1)*seg + len(tc.pkts[n-1]); total != tc.wantTotal || total > gsoMaxBytes {
				t.Errorf("%s: %d bytes, want %d (at most %d)", tc.name, total, tc.wantTotal, gsoMaxBytes)
			}
		}
	}
}

func repeat(v, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = v
	}
	return s
}
