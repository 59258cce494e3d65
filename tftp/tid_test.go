package tftp

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"
)

// data builds a DATA packet: opcode 3, block number, payload.
func data(block uint16, payload string) []byte {
	return append([]byte{0, opDATA, byte(block >> 8), byte(block)}, payload...)
}

// wantUnknownTID reads a packet and fails unless it is ERROR 5 from from.
func wantUnknownTID(t *testing.T, c *rawClient, from *net.UDPAddr) {
	t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, src, err := c.conn.ReadFromUDP(c.buf)
	if err != nil {
		t.Fatalf("no answer: %v, want ERROR 5", err)
	}
	if code := errorCode(t, c.buf[:n]); code != errUnknownTID {
		t.Errorf("error code %d, want 5 (unknown transfer ID)", code)
	}
	if src.Port != from.Port {
		t.Errorf("ERROR 5 from port %d, want %d", src.Port, from.Port)
	}
}

// fetchRest finishes a lock-step download at blksize 512 whose first
// DATA packet c has received.
func fetchRest(t *testing.T, c *rawClient, first []byte) []byte {
	t.Helper()
	out := append([]byte(nil), first[4:]...)
	p := first
	for want := uint16(2); len(p) == 4+512; want++ {
		c.send(ack(want - 1))
		p = c.mustRecv()
		if binary.BigEndian.Uint16(p) != opDATA || binary.BigEndian.Uint16(p[2:]) != want {
			t.Fatalf("got %x, want DATA %d", p[:min(len(p), 4)], want)
		}
		out = append(out, p[4:]...)
	}
	c.send(ack(binary.BigEndian.Uint16(p[2:])))
	return out
}

// TestUnknownTIDListeningPort sends transfer packets to the listening
// port from a socket that has no transfer: DATA, ACK and OACK get ERROR
// 5, an ERROR packet and an unknown opcode get nothing.
func TestUnknownTIDListeningPort(t *testing.T) {
	addr := startServer(t, &Server{FS: mapFS()})
	c := newRawClient(t, addr)
	for _, p := range [][]byte{ack(1), data(1, "x"), {0, opOACK, 'b', 'l', 'k', 's', 'i', 'z', 'e', 0, '8', 0}} {
		if _, err := c.conn.WriteToUDP(p, c.server); err != nil {
			t.Fatal(err)
		}
		wantUnknownTID(t, c, c.server)
	}
	for _, p := range [][]byte{append([]byte{0, opERROR, 0, 5}, "unknown transfer ID\x00"...), {0, 9, 0, 1}, {0, 0}} {
		if _, err := c.conn.WriteToUDP(p, c.server); err != nil {
			t.Fatal(err)
		}
		if r := c.recv(200 * time.Millisecond); r != nil {
			t.Errorf("packet %x answered with %x, want no answer", p, r)
		}
	}
}

// TestUnknownTIDRateLimited: a flood of stray ACKs from one address gets
// at most the client's log allowance of answers.
func TestUnknownTIDRateLimited(t *testing.T) {
	addr := startServer(t, &Server{FS: mapFS(), LogBurst: 5, LogInterval: time.Hour})
	c := newRawClient(t, addr)
	for range 100 {
		if _, err := c.conn.WriteToUDP(ack(1), c.server); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for c.recv(300*time.Millisecond) != nil {
		n++
	}
	if n != 5 {
		t.Errorf("%d answers to 100 stray ACKs, want 5 (LogBurst)", n)
	}
}

// TestUnknownTIDSinglePort: with every transfer on the listening port, a
// stray ACK from a foreign port gets ERROR 5 and the running transfer
// goes on.
func TestUnknownTIDSinglePort(t *testing.T) {
	hook := newCountingHook()
	addr := startServer(t, &Server{FS: mapFS(), SinglePort: true, Hook: hook})
	a := newRawClient(t, addr)
	a.sendRRQ("pxelinux.0", "octet")
	first := a.mustRecv()
	if binary.BigEndian.Uint16(first) != opDATA {
		t.Fatalf("got %x, want DATA 1", first[:4])
	}
	b := newRawClient(t, addr)
	if _, err := b.conn.WriteToUDP(ack(1), b.server); err != nil {
		t.Fatal(err)
	}
	wantUnknownTID(t, b, b.server)
	// a goes on where it was.
	got := fetchRest(t, a, first)
	if want := mapFS()["pxelinux.0"].Data; string(got) != string(want) {
		t.Fatalf("a got %d bytes, want the %d of pxelinux.0", len(got), len(want))
	}
	if tr := hook.wait(t); tr.Outcome != OutcomeOK {
		t.Errorf("a's transfer: %v, want ok", tr.Outcome)
	}
	// After the transfer, a's late ACK is a stray one too.
	a.conn.WriteToUDP(ack(10), a.server)
	wantUnknownTID(t, a, a.server)
}

// TestForeignPacketAtTransferPort: a transfer's socket is connected to
// its client, so the kernel does not deliver a foreign packet to it; it
// answers with ICMP port unreachable, which a connected sender sees as
// ECONNREFUSED, and the transfer is not disturbed.
func TestForeignPacketAtTransferPort(t *testing.T) {
	hook := newCountingHook()
	addr := startServer(t, &Server{FS: mapFS(), Hook: hook})
	a := newRawClient(t, addr)
	a.sendRRQ("pxelinux.0", "octet")
	first := a.mustRecv()
	intruder, err := net.DialUDP("udp4", nil, a.peer)
	if err != nil {
		t.Fatal(err)
	}
	defer intruder.Close()
	if _, err := intruder.Write(ack(1)); err != nil {
		t.Fatal(err)
	}
	intruder.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := intruder.Read(make([]byte, 100)); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("foreign packet at the transfer port: read returned %v, want ECONNREFUSED (ICMP port unreachable)", err)
	}
	got := fetchRest(t, a, first)
	if want := mapFS()["pxelinux.0"].Data; string(got) != string(want) {
		t.Fatalf("got %d bytes, want the %d of pxelinux.0", len(got), len(want))
	}
	if tr := hook.wait(t); tr.Outcome != OutcomeOK || tr.Sent != int64(len(mapFS()["pxelinux.0"].Data)/512+1) {
		t.Errorf("transfer: %v with %d packets sent, want ok without retransmissions", tr.Outcome, tr.Sent)
	}
}

// recordConn is a net.PacketConn that records what is written to it.
type recordConn struct {
	net.PacketConn
	mu  sync.Mutex
	out []netip.AddrPort
}

func (c *recordConn) WriteTo(b []byte, a net.Addr) (int, error) {
	c.mu.Lock()
	c.out = append(c.out, udpAddrPort(a))
	c.mu.Unlock()
	return len(b), nil
}

// TestUnknownTIDNotToBroadcast: stray packets from or to broadcast and
// multicast addresses, or from port 0, are not answered. The kernel drops
// most such packets before they reach a socket, so the listener is driven
// directly.
func TestUnknownTIDNotToBroadcast(t *testing.T) {
	tests := []struct {
		peer, dst string
		answer    bool
	}{
		{"192.0.2.1:1234", "192.0.2.10", true},
		{"192.0.2.1:1234", "", true},
		{"[2001:db8::1]:1234", "2001:db8::2", true},
		{"255.255.255.255:1234", "192.0.2.10", false},
		{"224.0.0.1:1234", "192.0.2.10", false},
		{"[ff02::1]:1234", "2001:db8::2", false},
		{"0.0.0.0:1234", "192.0.2.10", false},
		{"192.0.2.1:0", "192.0.2.10", false},
		{"192.0.2.1:1234", "255.255.255.255", false},
		{"192.0.2.1:1234", "224.0.0.9", false},
	}
	for _, tc := range tests {
		rc := &recordConn{}
		l := &listener{s: &Server{}, conn: rc, single: true, active: map[netip.AddrPort]*session{}}
		var dst netip.Addr
		if tc.dst != "" {
			dst = netip.MustParseAddr(tc.dst)
		}
		l.handle(ack(1), netip.MustParseAddrPort(tc.peer), dst)
		if got := len(rc.out) == 1; got != tc.answer {
			t.Errorf("stray ACK from %s to %q: answered %v, want %v", tc.peer, tc.dst, got, tc.answer)
		}
	}
}
