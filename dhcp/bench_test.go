package dhcp

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// BenchmarkProxyOffer measures one proxyDHCP exchange as the server does
// it: decode a captured OVMF DISCOVER, decide, build the OFFER, encode it
// into a reused buffer.
func BenchmarkProxyOffer(b *testing.B) {
	raw := captures(b)["ovmf-pxe"]
	s := &Server{Decider: StaticBoot(Boot{File: "ipxe.efi"}), RememberFor: -1}
	out := make([]byte, 0, 1500)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		req, err := ParseRequest(raw)
		if err != nil {
			b.Fatal(err)
		}
		r, err := s.handle(context.Background(), req, in67, testSrv)
		if err != nil || r == nil {
			b.Fatal(err)
		}
		if out, err = AppendMessage(out[:0], r, maxReplySize(req)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFullDiscoverRequest measures a full DHCP DISCOVER and REQUEST
// for a new client each time (decode, allocate, build, encode), with
// leases in memory (Store nil).
func BenchmarkFullDiscoverRequest(b *testing.B) {
	benchFull(b, nil)
}

// BenchmarkFullFileStoreParallel is the same with the FileStore, from many
// goroutines as the server's workers call it: the lease writes (fsync and
// rename) batch.
func BenchmarkFullFileStoreParallel(b *testing.B) {
	benchFull(b, &FileStore{Path: filepath.Join(b.TempDir(), "leases")})
}

func benchFull(b *testing.B, store LeaseStore) {
	// A /8, so that no run of b.Loop exhausts the pool (a /16 did, at
	// 65534 iterations).
	p := &Pool{First: netip.MustParseAddr("10.0.0.1"), Last: netip.MustParseAddr("10.255.255.254"), Subnet: netip.MustParsePrefix("10.0.0.0/8"), Store: store}
	if err := p.init(context.Background()); err != nil {
		b.Fatal(err)
	}
	s := &Server{Pool: p, RememberFor: -1}
	srv := netip.MustParseAddr("10.0.0.1")
	// Request templates; each iteration patches in its client's MAC
	// (chaddr at offset 28) and, in the REQUEST, the offered address.
	d, _ := dhcpv4.New(dhcpv4.WithMessageType(dhcpv4.MessageTypeDiscover), dhcpv4.WithHwAddr(net.HardwareAddr{2, 0, 0, 0, 0, 0}))
	disc, _ := AppendMessage(nil, d, 0)
	q, _ := dhcpv4.New(dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest), dhcpv4.WithHwAddr(net.HardwareAddr{2, 0, 0, 0, 0, 0}),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(srv.AsSlice())), dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.IPv4(0, 0, 0, 0))))
	reqt, _ := AppendMessage(nil, q, 0)
	opt50 := bytes.Index(reqt[240:], []byte{50, 4, 0, 0, 0, 0}) + 240
	if opt50 < 240 {
		b.Fatal("template without option 50")
	}
	var n atomic.Uint32
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		out := make([]byte, 0, 1500)
		dp, rp := bytes.Clone(disc), bytes.Clone(reqt)
		for pb.Next() {
			i := n.Add(1)
			mac := [6]byte{2, 0, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}
			copy(dp[28:], mac[:])
			copy(rp[28:], mac[:])
			req, err := ParseRequest(dp)
			if err != nil {
				b.Fatal(err)
			}
			offer, err := s.handle(context.Background(), req, in67, srv)
			if err != nil || offer == nil {
				b.Fatalf("no offer for client %d: %v", i, err)
			}
			out, _ = AppendMessage(out[:0], offer, MinMessageSize)
			copy(rp[opt50+2:], offer.YourIPAddr.To4())
			req, err = ParseRequest(rp)
			if err != nil {
				b.Fatal(err)
			}
			ack, err := s.handle(context.Background(), req, in67, srv)
			if err != nil || ack == nil || msgType(ack) != dhcpv4.MessageTypeAck {
				b.Fatalf("no ACK for client %d: %v", i, err)
			}
			out, _ = AppendMessage(out[:0], ack, MinMessageSize)
		}
	})
}
