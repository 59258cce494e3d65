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
