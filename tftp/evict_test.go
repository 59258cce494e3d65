package tftp

import (
	"context"
	"encoding/binary"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/internal/testenv"
)

// newRawClientFrom is newRawClient with its socket on the loopback
// address ip, so that tests can play several client hosts.
func newRawClientFrom(t testing.TB, addr string, ip net.IP) *rawClient {
	t.Helper()
	c := newRawClient(t, addr)
	c.conn.Close()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c.conn = conn
	return c
}

// TestEvictStalled fills every transfer slot with requests that are never
// acknowledged (timeout=255, as a flood sends them, from another host): a
// real client's request is served at once, in the place of the oldest
// stalled transfer, whose client gets an error packet. A stalled
// transfer younger than EvictAfter keeps its slot.
func TestEvictStalled(t *testing.T) {
	bin := testenv.NeedCommand(t, "tftp")[0]
	dir := t.TempDir()
	sum := randomFile(t, dir, "kernel", 300_000, 7)
	hook := newCountingHook()
	log, logs := newLogger()
	const slots = 8
	addr := startServer(t, &Server{FS: os.DirFS(dir), Hook: hook, Logger: log, MaxTransfers: slots})
	var flood []*rawClient
	for range slots {
		c := newRawClientFrom(t, addr, net.IPv4(127, 0, 0, 2))
		c.sendRRQ("kernel", "octet", "tsize", "0", "timeout", "255")
		options(t, c.mustRecv())
		flood = append(flood, c)
	}
	filled := time.Now()
	young := newRawClientFrom(t, addr, net.IPv4(127, 0, 0, 3))
	young.sendRRQ("kernel", "octet")
	if p := young.recv(200 * time.Millisecond); p != nil && time.Since(filled) < EvictAfter {
		t.Fatalf("a request %v after the slots filled was answered (%x): stalled transfers younger than EvictAfter were evicted", time.Since(filled), p[:4])
	}
	time.Sleep(time.Until(filled.Add(EvictAfter + 100*time.Millisecond)))

	host, port := splitHostPort(t, addr)
	out := filepath.Join(t.TempDir(), "out")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	start := time.Now()
	b, err := exec.CommandContext(ctx, bin, tftpHPAArgs("octet")(host, port, "kernel", out)...).CombinedOutput()
	took := time.Since(start)
	if err != nil {
		t.Fatalf("tftp-hpa with the slots full of stalled transfers: %v\n%s", err, b)
	}
	if got := fileSHA(t, out); got != sum {
		t.Fatalf("tftp-hpa got sha256 %s, want %s", got, sum)
	}
	// tftp-hpa waits 5 s before it sends a dropped request again.
	t.Logf("tftp-hpa fetched 300 kB in %v with the slots full", took)
	if took > 3*time.Second {
		t.Errorf("tftp-hpa took %v with the slots full of stalled transfers, want its first request served", took)
	}

	// The oldest stalled transfer was ended with an error packet.
	gotErr := false
	for !gotErr {
		p := flood[0].recv(2 * time.Second)
		if p == nil {
			break
		}
		gotErr = binary.BigEndian.Uint16(p) == opERROR
	}
	if !gotErr {
		t.Error("the evicted client got no error packet")
	}
	var evicted, ok int
	for range 2 {
		switch tr := hook.wait(t); tr.Outcome {
		case OutcomeEvicted:
			evicted++
			if tr.Client.Addr().String() != "127.0.0.2" {
				t.Errorf("evicted %v, want a flood transfer", tr.Client)
			}
		case OutcomeOK:
			ok++
		default:
			t.Errorf("transfer %v: outcome %v", tr.Client, tr.Outcome)
		}
	}
	if evicted != 1 || ok != 1 {
		t.Errorf("%d evicted, %d ok; want 1, 1", evicted, ok)
	}
	if !strings.Contains(logs.String(), "evicted") {
		t.Errorf("no log line for the eviction:\n%s", logs)
	}
}

// TestNoEvictProgressing: transfers whose clients acknowledged a block are
// never evicted, however long they wait; a new client is dropped.
func TestNoEvictProgressing(t *testing.T) {
	hook := newCountingHook()
	const slots = 4
	addr := startServer(t, &Server{FS: mapFS(), Hook: hook, MaxTransfers: slots})
	for range slots {
		c := newRawClientFrom(t, addr, net.IPv4(127, 0, 0, 2))
		c.sendRRQ("boot/vmlinuz", "octet", "blksize", "512")
		options(t, c.mustRecv())
		c.send(ack(0))
		if p := c.mustRecv(); binary.BigEndian.Uint16(p) != opDATA || binary.BigEndian.Uint16(p[2:]) != 1 {
			t.Fatalf("after ACK 0: %x, want DATA 1", p[:4])
		}
		c.send(ack(1)) // then nothing more
	}
	time.Sleep(EvictAfter + 200*time.Millisecond)
	b := newRawClient(t, addr)
	for try := range 3 {
		b.sendRRQ("pxelinux.0", "octet")
		if p := b.recv(300 * time.Millisecond); p != nil {
			t.Fatalf("try %d: a new client was answered (%x) with every slot held by a transfer that progressed", try, p[:4])
		}
	}
	select {
	case tr := <-hook.c:
		t.Fatalf("a progressing transfer ended: %v %v", tr.Client, tr.Outcome)
	default:
	}
}
