package tftp

import (
	"errors"
	"testing"
)

func TestCleanPath(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{in: "pxelinux.0", want: "pxelinux.0"},
		{in: "/pxelinux.0", want: "pxelinux.0"},                          // GRUB, some ROMs
		{in: "//boot//./vmlinuz", want: "boot/vmlinuz"},                  // empty and "." elements
		{in: `boot\x86_64\grubx64.efi`, want: "boot/x86_64/grubx64.efi"}, // Windows-made menus
		{in: "::boot/ldlinux.c32", want: "boot/ldlinux.c32"},             // pxelinux absolute path
		{in: "::/boot/ldlinux.c32", want: "boot/ldlinux.c32"},
		{in: "pxelinux.cfg/01-52-54-00-12-34-56", want: "pxelinux.cfg/01-52-54-00-12-34-56"},
		{in: "..", bad: true},
		{in: "../etc/passwd", bad: true},
		{in: "boot/../../x", bad: true},
		{in: "boot/../x", bad: true}, // refused, not rewritten
		{in: `..\x`, bad: true},
		{in: "a\x00b", bad: true},
		{in: "/", bad: true},
		{in: "", bad: true},
		{in: "::", bad: true},
		{in: "...", want: "..."}, // a legal file name
	}
	for _, tc := range tests {
		got, err := CleanPath(tc.in)
		if tc.bad {
			if !errors.Is(err, ErrAccessViolation) {
				t.Errorf("CleanPath(%q) = %q, %v; want ErrAccessViolation", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("CleanPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestWireBlock(t *testing.T) {
	tests := []struct {
		k    int64
		one  bool
		want uint16
	}{
		{0, false, 0}, {1, false, 1}, {65535, false, 65535}, {65536, false, 0}, {65537, false, 1},
		{0, true, 0}, {1, true, 1}, {65535, true, 65535}, {65536, true, 1}, {65537, true, 2}, {131070, true, 65535}, {131071, true, 1},
	}
	for _, tc := range tests {
		if got := wireBlock(tc.k, tc.one); got != tc.want {
			t.Errorf("wireBlock(%d, %v) = %d, want %d", tc.k, tc.one, got, tc.want)
		}
	}
	// ackBlock inverts wireBlock inside a window, across the wrap.
	for _, one := range []bool{false, true} {
		for _, hi := range []int64{0, 1, 5, 65534, 65535, 65536, 65537, 131070, 131071, 200000} {
			for lo := max(hi-70, 0); lo <= hi; lo++ {
				for k := lo; k <= hi; k++ {
					if one && k == 0 && lo > 0 {
						continue
					}
					got, ok := ackBlock(wireBlock(k, one), lo, hi, one)
					if !ok || got != k {
						t.Fatalf("ackBlock(wire(%d), %d, %d, %v) = %d, %v", k, lo, hi, one, got, ok)
					}
				}
			}
			// A number outside [lo, hi] is rejected.
			if hi > 100 {
				if _, ok := ackBlock(wireBlock(hi-100, one), hi-10, hi, one); ok {
					t.Errorf("ackBlock accepted a block behind the window (hi %d)", hi)
				}
			}
		}
	}
}
