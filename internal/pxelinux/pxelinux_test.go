package pxelinux

import "testing"

func TestAcceptsUUID(t *testing.T) {
	for _, tt := range []struct {
		name string
		uuid []byte
		want bool
	}{
		{"nil UUID", make([]byte, 16), false},
		{"version 4", []byte{0xb8, 0x94, 0x59, 0x08, 0xd6, 0xa6, 0x41, 0xa9, 0x61, 0x1d, 0x74, 0xa6, 0xab, 0x80, 0xb8, 0x3d}, true},
		{"byte 6 0x10", []byte{6: 0x10, 15: 0}, true},
		{"byte 6 0x0f", []byte{6: 0x0f, 15: 0}, false},
		{"byte 6 0xef", []byte{6: 0xef, 15: 0}, true},
		{"byte 6 0xf0", []byte{6: 0xf0, 15: 0}, false},
		{"short", []byte{1, 2, 3, 4, 5, 6, 0x40}, false},
		{"none", nil, false},
	} {
		if got := AcceptsUUID(tt.uuid); got != tt.want {
			t.Errorf("%s: AcceptsUUID(% x) = %v, want %v", tt.name, tt.uuid, got, tt.want)
		}
	}
}
