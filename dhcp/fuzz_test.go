package dhcp

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// captures returns the real firmware DISCOVERs in testdata/captures.
func captures(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("testdata/captures/*.bin")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".bin")] = b
	}
	return out
}

// httpAware boots HTTP clients with a URL and PXE clients with a TFTP file,
// as an nbp policy would.
var httpAware = DeciderFunc(func(_ context.Context, req *dhcpv4.DHCPv4) (Boot, error) {
	if strings.HasPrefix(req.ClassIdentifier(), ClassHTTPClient) {
		return Boot{File: "http://10.0.0.1/ipxe.efi", HTTP: true}, nil
	}
	return Boot{File: "ipxe.efi"}, nil
})

// TestCapturedFirmware answers each captured firmware DISCOVER as proxyDHCP
// and checks the OFFER against what that firmware needs.
func TestCapturedFirmware(t *testing.T) {
	for name, b := range captures(t) {
		t.Run(name, func(t *testing.T) {
			req, err := ParseRequest(b)
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			s := &Server{Decider: httpAware}
			r, err := s.handle(t.Context(), req, in67, testSrv)
			if err != nil || r == nil {
				t.Fatalf("no OFFER: %v", err)
			}
			r = replyRoundTrip(t, r, maxReplySize(req))
			http := strings.Contains(name, "http")
			wantClass := map[bool]string{false: "PXEClient", true: "HTTPClient"}[http]
			if r.ClassIdentifier() != wantClass {
				t.Errorf("60 = %q, want %q", r.ClassIdentifier(), wantClass)
			}
			if r.IsBroadcast() != req.IsBroadcast() {
				t.Errorf("broadcast flag %v, request had %v", r.IsBroadcast(), req.IsBroadcast())
			}
			if g := req.Options.Get(dhcpv4.OptionClientMachineIdentifier); g != nil && !bytes.Equal(r.Options.Get(dhcpv4.OptionClientMachineIdentifier), g) {
				t.Errorf("97 not echoed")
			}
			if !http && !r.Options.Has(dhcpv4.OptionVendorSpecificInformation) {
				t.Errorf("PXE offer without option 43")
			}
			if http && (r.Options.Has(dhcpv4.OptionVendorSpecificInformation) || !strings.HasPrefix(r.BootFileNameOption(), "http://")) {
				t.Errorf("HTTP boot offer: 43 present %v, 67 %q", r.Options.Has(dhcpv4.OptionVendorSpecificInformation), r.BootFileNameOption())
			}
			if !http && (r.BootFileName != "ipxe.efi" || r.ServerIPAddr.String() != testSrv.String()) {
				t.Errorf("PXE offer: file %q siaddr %v", r.BootFileName, r.ServerIPAddr)
			}
		})
	}
}

func addSeeds(f *testing.F) {
	for _, b := range captures(f) {
		f.Add(b)
	}
	for _, m := range []*dhcpv4.DHCPv4{
		pxeRequest(f, dhcpv4.MessageTypeDiscover),
		pxeRequest(f, dhcpv4.MessageTypeRequest, dhcpv4.WithClientIP(net.IPv4(10, 0, 0, 100))),
		plainRequest(f, dhcpv4.MessageTypeDiscover),
		plainRequest(f, dhcpv4.MessageTypeRequest, dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(10, 0, 0, 1))), dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(10, 0, 0, 100)))),
		plainRequest(f, dhcpv4.MessageTypeRelease, dhcpv4.WithClientIP(net.IPv4(10, 0, 0, 100))),
		plainRequest(f, dhcpv4.MessageTypeDecline, dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(10, 0, 0, 100)))),
		plainRequest(f, dhcpv4.MessageTypeInform, dhcpv4.WithClientIP(net.IPv4(10, 0, 0, 9))),
	} {
		b, err := AppendMessage(nil, m, 0)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzParseRequest checks that ParseRequest never panics and that what it
// accepts encodes and decodes again to the same options.
func FuzzParseRequest(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseRequest(b)
		if err != nil {
			return
		}
		m.BootFileName, m.ServerHostName = "", "" // may hold bytes AppendMessage refuses
		enc, err := AppendMessage(nil, m, 1500)
		if err != nil {
			return // options too large for one message: a clean error
		}
		m2, err := ParseRequest(enc)
		if err != nil {
			t.Fatalf("re-decoding our encoding of an accepted request: %v", err)
		}
		for c, v := range m.Options {
			if c != dhcpv4.OptionOptionOverload.Code() && !bytes.Equal(m2.Options[c], v) {
				t.Fatalf("option %d changed: %x → %x", c, v, m2.Options[c])
			}
		}
	})
}

// sink is a PacketConn that records what the server writes.
type sink struct {
	net.PacketConn
	wrote [][]byte
}

func (s *sink) WriteTo(b []byte, _ net.Addr) (int, error) {
	s.wrote = append(s.wrote, bytes.Clone(b))
	return len(b), nil
}

// FuzzServe runs arbitrary datagrams through the whole request path of a
// proxyDHCP and a full DHCP server (decode, decide, lease, build, encode)
// and checks that every reply sent is a well-formed BOOTREPLY.
func FuzzServe(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		p := &Pool{First: netip.MustParseAddr("10.0.0.100"), Last: netip.MustParseAddr("10.0.0.103"), now: func() time.Time { return time.Unix(1_800_000_000, 0) }}
		if err := p.init(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, s := range []*Server{{Decider: httpAware}, {Decider: httpAware, Pool: p}} {
			out := &sink{}
			sc := &serverConn{conn: out, localPort: ServerPort}
			for _, port := range []int{ServerPort, PXEPort} {
				in := inbound{port: port, dst: testSrv, local: testSrv, src: netip.MustParseAddrPort("10.0.0.100:68")}
				s.serveDatagram(context.Background(), sc, b, in, nil, newPktinfo())
			}
			for _, w := range out.wrote {
				if _, err := parseMessage(w, dhcpv4.OpcodeBootReply); err != nil {
					t.Fatalf("server sent a malformed reply: %v\n%x", err, w)
				}
				if len(w) > 1500-28 {
					t.Fatalf("reply of %d bytes", len(w))
				}
			}
		}
	})
}

// FuzzParseLeaseFile checks that a lease file never panics the decoders,
// that accepted files survive an encode/decode round trip, and that the
// damage-tolerant reading of FileStore.Load accounts for every byte it
// skips, agrees with ParseLeaseFile on a sound file, and yields leases
// that encode to a sound file.
func FuzzParseLeaseFile(f *testing.F) {
	rec := "10.0.0.5 52:54:00:12:34:56 1800000000 \"pc1\"\n"
	f.Add([]byte("# c\n" + rec))
	f.Add([]byte("10.0.0.6 02:00:00:00:00:01 0 \"\\x00\"\n\n"))
	f.Add([]byte("# pxekit dhcp le"))                                      // truncated in the header
	f.Add([]byte("# c\n10.0.0.5 52:54:00"))                                // truncated in the first record
	f.Add(make([]byte, 64))                                                // zeroed
	f.Add([]byte(rec + "\x00\x00\x0010.0.0.7 52:54:00:12:34:57 1 \"\"\n")) // zeroed block, then a record
	f.Add([]byte(rec + "garbage\n10.0.0.5 -\n" + rec))
	f.Add([]byte(rec + "10.0.0.8 02:00:00:00:00:02 1800000000 \"h 2\" 01020000000002\n")) // with option 61
	f.Add([]byte("10.0.0.8 02:00:00:00:00:02 1 \"\" 0\n10.0.0.9 02:00:00:00:00:03 1 \"\"  01\n"))
	// DHCPv6 (package dhcp6): IAID+DUID as the client identifier, a
	// lease with no MAC, a conflict, a deletion.
	f.Add([]byte("2001:db8:99::100 52:54:00:01:02:03 1800000000 \"\" 0000000100030001525400010203\n" +
		"2001:db8:99::101  1800000000 \"\" 00000007000401020304050607080910111213141516\n" +
		"2001:db8:99::102 conflict  1800000000\n2001:db8:99::100 -\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sc := scanLeaseFile(b, true)
		if sc.badBytes > int64(len(b)) || sc.bad > 0 && (sc.offset < 0 || sc.offset >= int64(len(b)) || sc.err == nil) {
			t.Fatalf("scan of %d bytes: %d lines, %d bytes skipped from %d (%v)", len(b), sc.bad, sc.badBytes, sc.offset, sc.err)
		}
		if sc.bad == 0 {
			strict, err := ParseLeaseFile(b)
			if err != nil || len(strict) != len(sc.leases) {
				t.Fatalf("sound file: ParseLeaseFile %d leases, %v; scan %d", len(strict), err, len(sc.leases))
			}
		}
		rs := &FileStore{leases: map[netip.Addr]Lease{}}
		for _, l := range sc.leases {
			rs.leases[l.Addr] = l
		}
		if again := scanLeaseFile(rs.encodeLocked(), true); again.bad != 0 || len(again.leases) != len(rs.leases) {
			t.Fatalf("re-reading the repaired file: %d bad lines (%v), %d leases of %d", again.bad, again.err, len(again.leases), len(rs.leases))
		}

		ls, err := ParseLeaseFile(b)
		if err != nil {
			return
		}
		s := &FileStore{leases: map[netip.Addr]Lease{}}
		for _, l := range ls {
			s.leases[l.Addr] = l
		}
		ls2, err := ParseLeaseFile(s.encodeLocked())
		if err != nil {
			t.Fatalf("re-decoding: %v", err)
		}
		if len(ls2) != len(s.leases) {
			t.Fatalf("%d leases, then %d", len(s.leases), len(ls2))
		}
	})
}
