package dhcp

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/pxekit/pxekit/internal/testenv"
	"golang.org/x/sys/unix"
)

// TestListenThenServe binds with Listen first (bound to the interface,
// with the large receive buffer), checks a bad pool with LoadPools before
// serving, and only then serves the socket: the first DISCOVER sent after
// Listen returned is answered, without any wait for the server to start.
func TestListenThenServe(t *testing.T) {
	srv, cl := testenv.NewNetNS(t), testenv.NewNetNS(t)
	ifs, _ := testenv.Veth(t, srv, netip.MustParsePrefix("10.0.4.1/24"), cl, netip.MustParsePrefix("10.0.4.2/24"))

	var conn net.PacketConn
	if err := srv.Do(func() (err error) { conn, err = Listen(ifs, "0.0.0.0:67"); return err }); err != nil {
		t.Fatal(err)
	}
	rc, err := conn.(*net.UDPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var dev string
	var rcvbuf int
	rc.Control(func(fd uintptr) {
		dev, _ = unix.GetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE)
		rcvbuf, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
	})
	if dev != ifs {
		t.Errorf("Listen(%q): socket bound to %q", ifs, dev)
	}
	if rcvbuf < rcvBuf { // the kernel reports twice what was set
		t.Errorf("Listen: receive buffer %d bytes, want at least %d", rcvbuf, rcvBuf)
	}

	bad := &Server{Interface: ifs, Pool: &Pool{First: netip.MustParseAddr("10.9.0.10"), Last: netip.MustParseAddr("10.9.0.20")}}
	if err := srv.Do(func() error { return bad.LoadPools(t.Context()) }); !errors.Is(err, errNoSubnet) {
		t.Errorf("LoadPools with a range outside %s: %v, want errNoSubnet", ifs, err)
	}

	s := &Server{Interface: ifs, Pool: &Pool{First: netip.MustParseAddr("10.0.4.100"), Last: netip.MustParseAddr("10.0.4.110")}}
	if err := srv.Do(func() error { return s.LoadPools(t.Context()) }); err != nil {
		t.Fatalf("LoadPools: %v", err)
	}
	c := listenIn(t, cl, "0.0.0.0:68", "")
	xid := dhcpv4.TransactionID{4, 0, 4, 1}
	// Sent before Serve runs: the bound socket holds it until then.
	sendTo(t, c, plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithTransactionID(xid), dhcpv4.WithBroadcast(true)), "10.0.4.1:67")
	testenv.Serve(t, s, ErrServerClosed, conn)
	got := collect(t, c, xid, 3*time.Second)
	if len(got) != 1 || got[0].MessageType() != dhcpv4.MessageTypeOffer || got[0].YourIPAddr.String() != "10.0.4.100" {
		t.Fatalf("DISCOVER sent after Listen, before Serve: replies %v, want one OFFER of 10.0.4.100", got)
	}
}
