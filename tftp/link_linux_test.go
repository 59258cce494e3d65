//go:build linux

package tftp

import (
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// TestExchangeLateAnswer: an answer that comes after the wait for it
// timed out, and before the packet is sent again, is read by that next
// exchange at once, not at its deadline. The runtime forgets such a
// packet's readiness when the next wait begins; sockLink.gotLast makes
// that exchange read first. (On Linux the send itself also reports the
// queued packet: freeing the sent datagram wakes the socket's epoll entry
// for write space, and epoll then reports it readable too; the test
// passes without gotLast for that reason, which is an implementation
// detail of the kernel that gotLast does not rely on.)
func TestExchangeLateAnswer(t *testing.T) {
	client, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c, err := net.DialUDP("udp4", nil, client.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	l := newSockLink(c)
	defer l.close()
	if l.spin == nil {
		t.Fatal("no raw reader for a UDP socket")
	}
	var flags atomic.Uint32
	buf := make([]byte, 64)
	got := make([]byte, 64)

	// A block and its ACK, in time.
	go func() {
		client.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, from, err := client.ReadFromUDPAddrPort(got)
		if err == nil {
			client.WriteToUDPAddrPort([]byte("ack0"), from)
		}
	}()
	if n, werr, err := l.exchange([]byte("block0"), buf, time.Now().Add(5*time.Second), &flags); werr != nil || err != nil || string(buf[:n]) != "ack0" {
		t.Fatalf("exchange = %q, %v, %v; want ack0", buf[:n], werr, err)
	}

	// The next block's ACK is late: the wait times out first.
	if _, werr, err := l.exchange([]byte("block1"), buf, time.Now().Add(30*time.Millisecond), &flags); werr != nil || err != errWait {
		t.Fatalf("exchange without an answer: %v, %v; want errWait", werr, err)
	}
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, from, err := client.ReadFromUDPAddrPort(got)
	if err != nil {
		t.Fatal(err)
	}
	client.WriteToUDPAddrPort([]byte("ack1"), from)
	time.Sleep(50 * time.Millisecond) // the runtime's poller sees it come

	// The retransmission's exchange finds the late ACK now, not at its
	// deadline.
	start := time.Now()
	n, werr, err := l.exchange([]byte("block1"), buf, time.Now().Add(3*time.Second), &flags)
	if werr != nil || err != nil || string(buf[:n]) != "ack1" {
		t.Fatalf("exchange after a timeout = %q, %v, %v; want ack1", buf[:n], werr, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the late ACK, queued before the exchange began, was read after %v", d)
	}
}
