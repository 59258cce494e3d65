//go:build linux && !386

package dhcp

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
)

// listenPktinfo opens a loopback UDP socket with IP_PKTINFO, as Serve
// readies one.
func listenPktinfo(t testing.TB, network, addr string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenPacket(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	uc := c.(*net.UDPConn)
	if network == "udp4" {
		if err := ipv4.NewPacketConn(uc).SetControlMessage(ipv4.FlagDst|ipv4.FlagInterface, true); err != nil {
			t.Fatal(err)
		}
	}
	return uc
}

// TestRawSock: the raw datagram path reads what a peer sent, with its
// source address and IP_PKTINFO, and sends with a control message to
// where it is told.
func TestRawSock(t *testing.T) {
	srv := listenPktinfo(t, "udp4", "127.0.0.1:0")
	peer := listenPktinfo(t, "udp4", "127.0.0.1:0")
	raw := newRawSock(srv)
	if raw == nil {
		t.Fatal("newRawSock of a udp4 socket = nil")
	}
	msg := []byte("DHCPDISCOVER, or near enough")
	if _, err := peer.WriteTo(msg, srv.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf, oob := make([]byte, 1500), make([]byte, 256)
	srv.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, oobn, src, err := raw.recvmsg(buf, oob)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf[:n], msg) {
		t.Errorf("recvmsg read %q, want %q", buf[:n], msg)
	}
	if want := peer.LocalAddr().(*net.UDPAddr).AddrPort(); src != want {
		t.Errorf("recvmsg: source %v, want %v", src, want)
	}
	var in inbound
	parsePktinfo(oob[:oobn], &in)
	if in.ifIndex == 0 || in.dst != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("recvmsg: IP_PKTINFO gave interface %d, destination %v; want loopback's, 127.0.0.1", in.ifIndex, in.dst)
	}

	reply := []byte("DHCPOFFER")
	dst := peer.LocalAddr().(*net.UDPAddr).AddrPort()
	if err := raw.sendmsg(reply, newPktinfo().set(in.ifIndex, netip.Addr{}), dst); err != nil {
		t.Fatal(err)
	}
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := peer.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf[:n], reply) || from != srv.LocalAddr().(*net.UDPAddr).AddrPort() {
		t.Errorf("peer read %q from %v, want %q from %v", buf[:n], from, reply, srv.LocalAddr())
	}

	// A closed socket ends a read, as it ends the server's loop.
	srv.Close()
	if _, _, _, err := raw.recvmsg(buf, oob); err == nil {
		t.Error("recvmsg on a closed socket: no error")
	}
}

// TestRawSockIPv6: an IPv6 socket (which may take IPv4 too) keeps
// net.UDPConn's path.
func TestRawSockIPv6(t *testing.T) {
	c, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback:", err)
	}
	defer c.Close()
	if r := newRawSock(c.(*net.UDPConn)); r != nil {
		t.Error("newRawSock of a udp6 socket: not nil")
	}
}

// BenchmarkSocketRoundTrip sends a datagram over loopback and reads it
// back with IP_PKTINFO, through net.UDPConn and through rawSock.
func BenchmarkSocketRoundTrip(b *testing.B) {
	for _, name := range []string{"net", "raw"} {
		b.Run(name, func(b *testing.B) {
			c := listenPktinfo(b, "udp4", "127.0.0.1:0")
			raw := newRawSock(c)
			dst := c.LocalAddr().(*net.UDPAddr).AddrPort()
			msg := make([]byte, 300)
			buf, oob := make([]byte, 1500), make([]byte, 256)
			pi := newPktinfo().set(0, netip.Addr{})
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if name == "raw" {
					if err = raw.sendmsg(msg, pi, dst); err == nil {
						_, _, _, err = raw.recvmsg(buf, oob)
					}
				} else {
					if _, _, err = c.WriteMsgUDPAddrPort(msg, pi, dst); err == nil {
						_, _, _, _, err = c.ReadMsgUDPAddrPort(buf, oob)
					}
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
