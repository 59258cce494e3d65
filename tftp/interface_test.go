package tftp

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pxekit/pxekit/internal/testenv"
)

// TestInterface serves one of two segments: a server namespace with a
// veth to each of two client namespaces, Server.Interface naming the
// first. A client on the first segment gets the file; one on the second,
// sending to the server's address there, gets no answer. Both ways of
// starting a server are checked: Serve on a socket bound to 0.0.0.0
// (requests filtered by arrival interface) and ListenAndServe (its
// socket bound to the interface).
func TestInterface(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("served\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srvNS := testenv.NewNetNS(t)
	nsA, nsB := testenv.NewNetNS(t), testenv.NewNetNS(t)
	ifA, _ := testenv.Veth(t, srvNS, netip.MustParsePrefix("10.77.1.1/24"), nsA, netip.MustParsePrefix("10.77.1.2/24"))
	testenv.Veth(t, srvNS, netip.MustParsePrefix("10.77.2.1/24"), nsB, netip.MustParsePrefix("10.77.2.2/24"))

	ask := func(t *testing.T, ns *testenv.NetNS, server string) []byte {
		t.Helper()
		pc, err := ns.ListenPacket("udp4", ":0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		c := pc.(*net.UDPConn)
		sa := net.UDPAddrFromAddrPort(netip.MustParseAddrPort(server))
		if _, err := c.WriteToUDP(rrq("f", "octet"), sa); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 600)
		c.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))
		n, from, err := c.ReadFromUDP(buf)
		if err != nil {
			return nil
		}
		if binary.BigEndian.Uint16(buf) == opDATA {
			c.WriteToUDP(ack(1), from)
		}
		return buf[:n]
	}
	check := func(t *testing.T, port string) {
		var p []byte
		for try := 0; try < 4 && p == nil; try++ { // the first may beat the bind
			p = ask(t, nsA, "10.77.1.1:"+port)
		}
		if p == nil || binary.BigEndian.Uint16(p) != opDATA || string(p[4:]) != "served\n" {
			t.Errorf("client on %s: got %q, want the file", ifA, p)
		}
		if p := ask(t, nsB, "10.77.2.1:"+port); p != nil {
			t.Errorf("client on the other segment got an answer: %q", p)
		}
	}

	t.Run("Serve", func(t *testing.T) {
		conn, err := srvNS.ListenPacket("udp4", "0.0.0.0:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &Server{FS: os.DirFS(dir), Interface: ifA}
		done := make(chan error, 1)
		go func() { done <- srvNS.Do(func() error { return srv.Serve(conn) }) }()
		defer func() {
			srv.Close()
			if err := <-done; !errors.Is(err, ErrServerClosed) {
				t.Errorf("Serve = %v", err)
			}
		}()
		_, port, _ := net.SplitHostPort(conn.LocalAddr().String())
		check(t, port)
	})
	t.Run("ListenAndServe", func(t *testing.T) {
		srv := &Server{FS: os.DirFS(dir), Interface: ifA}
		done := make(chan error, 1)
		go func() { done <- srvNS.Do(func() error { return srv.ListenAndServe(":6969") }) }()
		defer func() {
			srv.Close()
			if err := <-done; !errors.Is(err, ErrServerClosed) {
				t.Errorf("ListenAndServe = %v", err)
			}
		}()
		check(t, "6969")
	})
	t.Run("unknown interface", func(t *testing.T) {
		conn, err := srvNS.ListenPacket("udp4", "0.0.0.0:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &Server{FS: os.DirFS(dir), Interface: "nonexistent0"}
		if err := srvNS.Do(func() error { return srv.Serve(conn) }); err == nil || errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve with an unknown interface = %v, want an error naming it", err)
		}
	})
}
