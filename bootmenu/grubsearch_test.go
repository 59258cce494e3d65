package bootmenu

import (
	"net"
	"net/netip"
	"slices"
	"testing"
)

// TestGRUBSearchPath follows grub_net_search_config_file: UUID (any,
// from the ACK), 01-MAC whatever the hardware type, the hex IP shortened
// to one digit, then grub.cfg; option 209 plays no part.
func TestGRUBSearchPath(t *testing.T) {
	mac := net.HardwareAddr{0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF}
	tests := []struct {
		name   string
		prefix string
		c      SearchClient
		want   []string
	}{
		{
			name:   "UUID, MAC and IP",
			prefix: "/grub",
			c: SearchClient{
				UUID: []byte{0xb8, 0x94, 0x59, 0x08, 0xd6, 0xa6, 0x41, 0xa9, 0x61, 0x1d, 0x74, 0xa6, 0xab, 0x80, 0xb8, 0x3d},
				MAC:  mac,
				IP:   netip.MustParseAddr("192.168.2.91"),
			},
			want: []string{
				"/grub/grub.cfg-b8945908-d6a6-41a9-611d-74a6ab80b83d",
				"/grub/grub.cfg-01-52-54-00-ab-cd-ef",
				"/grub/grub.cfg-C0A8025B", "/grub/grub.cfg-C0A8025", "/grub/grub.cfg-C0A802", "/grub/grub.cfg-C0A80",
				"/grub/grub.cfg-C0A8", "/grub/grub.cfg-C0A", "/grub/grub.cfg-C0", "/grub/grub.cfg-C",
				"/grub/grub.cfg",
			},
		},
		{
			// GRUB has no acceptance rule: the nil UUID is tried too.
			name:   "nil UUID, trailing slash, other hardware type, option 209",
			prefix: "/boot/grub/",
			c:      SearchClient{ConfigFile: "custom.cfg", UUID: make([]byte, 16), HardwareType: 6, MAC: mac, IP: netip.MustParseAddr("::ffff:10.0.2.15")},
			want: []string{
				"/boot/grub/grub.cfg-00000000-0000-0000-0000-000000000000",
				"/boot/grub/grub.cfg-01-52-54-00-ab-cd-ef",
				"/boot/grub/grub.cfg-0A00020F", "/boot/grub/grub.cfg-0A00020", "/boot/grub/grub.cfg-0A0002", "/boot/grub/grub.cfg-0A000",
				"/boot/grub/grub.cfg-0A00", "/boot/grub/grub.cfg-0A0", "/boot/grub/grub.cfg-0A", "/boot/grub/grub.cfg-0",
				"/boot/grub/grub.cfg",
			},
		},
		{name: "no UUID (short), no IP", prefix: "(tftp)/grub", c: SearchClient{UUID: []byte{1, 2}, MAC: mac},
			want: []string{"(tftp)/grub/grub.cfg-01-52-54-00-ab-cd-ef", "(tftp)/grub/grub.cfg"}},
		{name: "root prefix", prefix: "", c: SearchClient{}, want: []string{"/grub.cfg"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := GRUBSearchPath(tt.prefix, tt.c); !slices.Equal(got, tt.want) {
				t.Errorf("GRUBSearchPath(%q, %+v) =\n%q\nwant\n%q", tt.prefix, tt.c, got, tt.want)
			}
		})
	}
}
