package pxeclient

import (
	"bytes"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func codes(opts []Option) []uint8 {
	var c []uint8
	for _, o := range opts {
		c = append(c, o.Code)
	}
	return c
}

// TestMessageReplaysCapture checks that a client's DISCOVER carries the
// captured options in the captured order and flags, with only its own
// MAC in chaddr, option 61 and the node field of option 97's UUID, and
// that a REQUEST adds 54 and 50 after 53; and that Client.UUID replaces the
// whole UUID.
func TestMessageReplaysCapture(t *testing.T) {
	mac := net.HardwareAddr{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee}
	for _, p := range Profiles() {
		t.Run(p.Name, func(t *testing.T) {
			c := &Client{Profile: p, MAC: mac}
			got, err := ParseRequest(c.message(1, 0x01020304, 0, netip.Addr{}, nil))
			if err != nil {
				t.Fatal(err)
			}
			capt, err := os.ReadFile(filepath.Join("..", "nbp", "testdata", "captures", filepath.Base(captureFile(p.Name))))
			if err != nil {
				t.Fatal(err)
			}
			want, err := ParseRequest(capt)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(codes(got.Options), codes(want.Options)) {
				t.Errorf("DISCOVER option codes = %v, want %v", codes(got.Options), codes(want.Options))
			}
			if got.Flags != want.Flags || got.HType != want.HType {
				t.Errorf("flags/htype = %#x/%d, want %#x/%d", got.Flags, got.HType, want.Flags, want.HType)
			}
			for i, o := range got.Options {
				w := want.Options[i].Value
				if o.Code == 61 {
					w = append([]byte{1}, mac...)
				}
				if o.Code == 97 && len(w) == 17 {
					// The UUID's node field becomes the MAC (Client.UUID unset).
					w = append(slices.Clone(w[:11]), mac...)
				}
				if !bytes.Equal(o.Value, w) {
					t.Errorf("option %d = %x, want %x", o.Code, o.Value, w)
				}
			}
			if _, ok := want.Option(97); ok {
				u := bytes.Repeat([]byte{0x17}, 16)
				c2 := &Client{Profile: p, MAC: mac, UUID: u}
				m, err := ParseRequest(c2.message(1, 1, 0, netip.Addr{}, nil))
				if err != nil {
					t.Fatal(err)
				}
				if v, _ := m.Option(97); !bytes.Equal(v, append([]byte{0}, u...)) {
					t.Errorf("with Client.UUID: option 97 = %x, want 00%x", v, u)
				}
			}
			req, err := ParseRequest(c.message(3, 1, 0, netip.Addr{}, []Option{{54, []byte{10, 0, 0, 1}}, {50, []byte{10, 0, 0, 9}}}))
			if err != nil {
				t.Fatal(err)
			}
			i := slices.Index(codes(req.Options), 53)
			if i < 0 || !slices.Equal(codes(req.Options)[i:i+3], []uint8{53, 54, 50}) || req.Options[i].Value[0] != 3 {
				t.Errorf("REQUEST option codes = %v, want 53(3), 54, 50 together", codes(req.Options))
			}
		})
	}
}

func captureFile(name string) string {
	for _, d := range profileDefs {
		if d.name == name {
			return d.file
		}
	}
	return ""
}

func FuzzParseRequest(f *testing.F) {
	files, _ := filepath.Glob("profiles/*.bin")
	for _, fn := range files {
		b, err := os.ReadFile(fn)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRequest(b)
		if err != nil {
			return
		}
		// Re-encode through a client and decode again: the same options.
		c := &Client{Profile: &Profile{Discover: r}, MAC: make(net.HardwareAddr, min(int(r.HLen), 16))}
		typ := byte(1)
		if v, ok := r.Option(53); ok && len(v) == 1 {
			typ = v[0]
		}
		r2, err := ParseRequest(c.message(typ, 0, 0, netip.Addr{}, nil))
		if err != nil {
			t.Fatalf("re-encoded request does not parse: %v", err)
		}
		if _, ok := r.Option(53); ok && !slices.Equal(codes(r.Options), codes(r2.Options)) {
			t.Fatalf("codes %v, re-encoded %v", codes(r.Options), codes(r2.Options))
		}
	})
}

func FuzzParseOACK(f *testing.F) {
	f.Add([]byte("tsize\x00123\x00blksize\x001468\x00windowsize\x004\x00"))
	f.Add([]byte("blksize\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseOACK(b)
		if err != nil {
			return
		}
		var enc []byte
		for k, v := range m {
			enc = append(append(append(append(enc, k...), 0), v...), 0)
		}
		m2, err := parseOACK(enc)
		if err != nil || len(m2) != len(m) {
			t.Fatalf("round trip: %v, %d options, want %d", err, len(m2), len(m))
		}
	})
}
