//go:build linux

package testenv

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestVethUDP sends one datagram from one namespace to another over a veth
// pair, which proves that sockets opened through NetNS.Do live in the
// namespace they were opened in.
func TestVethUDP(t *testing.T) {
	a, b := NewNetNS(t), NewNetNS(t)
	Veth(t, a, netip.MustParsePrefix("10.77.0.1/24"), b, netip.MustParsePrefix("10.77.0.2/24"))

	srv, err := b.ListenPacket("udp4", "10.77.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cli, err := a.ListenPacket("udp4", "10.77.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()

	if _, err := cli.WriteTo([]byte("ping"), srv.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	_ = srv.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := srv.ReadFrom(buf)
	if err != nil {
		t.Fatalf("ReadFrom: %v", err)
	}
	if string(buf[:n]) != "ping" || from.(*net.UDPAddr).IP.String() != "10.77.0.1" {
		t.Fatalf("got %q from %v, want \"ping\" from 10.77.0.1", buf[:n], from)
	}

}

// TestListenBroadcastUDP sends a limited broadcast from a socket bound to
// one end of a veth pair and receives it on the other end, which needs
// SO_BROADCAST on the sender and SO_BINDTODEVICE to pick the link.
func TestListenBroadcastUDP(t *testing.T) {
	a, b := NewNetNS(t), NewNetNS(t)
	ifA, ifB := Veth(t, a, netip.MustParsePrefix("10.78.0.1/24"), b, netip.MustParsePrefix("10.78.0.2/24"))
	recv := b.ListenBroadcastUDP(t, "0.0.0.0:6767", ifB)
	// A second socket on the same port must be allowed (SO_REUSEADDR).
	b.ListenBroadcastUDP(t, "10.78.0.2:6767", "")
	send := a.ListenBroadcastUDP(t, "0.0.0.0:0", ifA)
	if _, err := send.WriteToUDPAddrPort([]byte("hello"), netip.MustParseAddrPort("255.255.255.255:6767")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	_ = recv.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := recv.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("ReadFrom: %v", err)
	}
	if string(buf[:n]) != "hello" || from.Addr().String() != "10.78.0.1" {
		t.Fatalf("got %q from %v, want \"hello\" from 10.78.0.1", buf[:n], from)
	}
}
