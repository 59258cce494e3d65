package tftp

import (
	"encoding/binary"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLogFlood sends 5,000 bad read requests from one client address
// (malformed ones, mail mode, and requests over the client's transfer
// limit) and checks that the log holds a bounded number of lines, and a
// summary of what was suppressed.
func TestLogFlood(t *testing.T) {
	log, lb := newLogger()
	const interval = time.Second
	srv := &Server{FS: mapFS(), Logger: log, MaxClientTransfers: 1, LogInterval: interval}
	addr := startServer(t, srv)
	hold := newRawClient(t, addr)
	hold.sendRRQ("boot/vmlinuz", "octet", "tsize", "0")
	options(t, hold.mustRecv()) // holds 127.0.0.1's only transfer slot

	const flood = 5000
	bad := [][]byte{
		{0, opRRQ, 'x'}, // opcode 1, a name without its NUL
		rrq("pxelinux.0", "mail"),
		rrq("pxelinux.0", "octet"), // over the per-client limit: dropped
	}
	clients := make([]*rawClient, 4)
	for i := range clients {
		clients[i] = newRawClient(t, addr)
	}
	// Every 100 packets, wait until the server has read them all: a
	// malformed request from a new loopback address (127.0.0.2, .3, ...)
	// is answered by the listening socket, after the packets before it.
	syncs := 0
	sync := func() {
		syncs++
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, byte(syncs>>8), byte(1+syncs))})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		sc := &rawClient{t: t, conn: c, server: clients[0].server, buf: make([]byte, 1500)}
		if _, err := c.WriteToUDP(bad[0], sc.server); err != nil {
			t.Fatal(err)
		}
		if p := sc.mustRecv(); errorCode(t, p) != errIllegalOperation {
			t.Fatalf("sync: got %x, want ERROR 4", p)
		}
	}
	start := time.Now()
	for i := range flood {
		c := clients[i%len(clients)]
		if _, err := c.conn.WriteToUDP(bad[i%len(bad)], c.server); err != nil {
			t.Fatal(err)
		}
		if i%100 == 99 {
			sync()
		}
	}
	elapsed := time.Since(start)

	// Each of the three messages passes DefaultLogBurst lines per
	// interval begun, and one summary per interval ended; the syncs log
	// one line each; the held transfer one when it ends.
	windows := int(elapsed/interval) + 2
	limit := windows*len(bad)*(DefaultLogBurst+1) + syncs + 1
	countLines := func() int { return strings.Count(lb.String(), "\n") }
	if n := countLines(); n > limit {
		t.Errorf("%d log lines from a flood of %d bad requests in %v, want at most %d", n, flood, elapsed, limit)
	}

	// The summaries come when the intervals end, without further
	// packets.
	summary := regexp.MustCompile(`msg="(tftp: [^"]*): lines suppressed" client=127\.0\.0\.1 suppressed=(\d+)`)
	line := regexp.MustCompile(`msg="tftp: (malformed request|mail mode refused|request dropped: transfer limit reached)" peer=127\.0\.0\.1:`)
	var found map[string]int
	total, passed := 0, 0
	for deadline := time.Now().Add(interval + 5*time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		found = map[string]int{}
		total = 0
		text := lb.String()
		for _, m := range summary.FindAllStringSubmatch(text, -1) {
			n, _ := strconv.Atoi(m[2])
			found[m[1]] += n
			total += n
		}
		if passed = len(line.FindAllStringIndex(text, -1)); total+passed == flood {
			break
		}
	}
	for _, msg := range []string{"tftp: malformed request", "tftp: mail mode refused", "tftp: request dropped: transfer limit reached"} {
		if found[msg] == 0 {
			t.Errorf("no summary of suppressed %q lines", msg)
		}
	}
	// Every bad request is a line or counted in a summary (but the
	// kernel may have dropped a few).
	if total+passed < flood*9/10 || total+passed > flood {
		t.Errorf("%d lines logged and %d counted as suppressed, want %d in all", passed, total, flood)
	}
	if t.Failed() {
		t.Logf("log:\n%s", lb.String()[:min(len(lb.String()), 4000)])
	}

	// Error replies are limited alike: the malformed requests that got
	// an answer are at most the allowance of the intervals begun.
	replies := 0
	for _, c := range clients {
		for {
			p := c.recv(50 * time.Millisecond)
			if p == nil {
				break
			}
			if binary.BigEndian.Uint16(p) == opERROR {
				replies++
			}
		}
	}
	if max := windows * 2 * DefaultLogBurst; replies > max {
		t.Errorf("%d error replies to the flood, want at most %d", replies, max)
	}
}
