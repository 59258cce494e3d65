package tftp

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// startServer runs srv on a loopback port and returns its address. The
// server is closed when the test ends.
func startServer(t testing.TB, srv *Server) string {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveOn(t, srv, conn)
}

func serveOn(t testing.TB, srv *Server, conn net.PacketConn) string {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(conn) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return conn.LocalAddr().String()
}

// randomFile writes n pseudo-random bytes to dir/name and returns their
// sha256.
func randomFile(t testing.TB, dir, name string, n int, seed uint64) string {
	t.Helper()
	b := randomBytes(n, seed)
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return sha(b)
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func fileSHA(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha(b)
}

// rawClient is a hand-driven TFTP client for tests that need to see or
// misbehave at the packet level. Packets are built field by field below.
type rawClient struct {
	t      testing.TB
	conn   *net.UDPConn
	server *net.UDPAddr // the listening port
	peer   *net.UDPAddr // the transfer's port (TID), once known
	buf    []byte
}

func newRawClient(t testing.TB, addr string) *rawClient {
	t.Helper()
	sa, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawClient{t: t, conn: c, server: sa, buf: make([]byte, 70000)}
}

// rrq builds a read request: opcode 1, name NUL, mode NUL, then option
// name NUL value NUL pairs.
func rrq(name, mode string, opts ...string) []byte {
	b := []byte{0, opRRQ}
	b = append(append(b, name...), 0)
	b = append(append(b, mode...), 0)
	for _, o := range opts {
		b = append(append(b, o...), 0)
	}
	return b
}

// ack builds an ACK: opcode 4, block number.
func ack(block uint16) []byte {
	return []byte{0, opACK, byte(block >> 8), byte(block)}
}

func (c *rawClient) sendRRQ(name, mode string, opts ...string) {
	c.t.Helper()
	if _, err := c.conn.WriteToUDP(rrq(name, mode, opts...), c.server); err != nil {
		c.t.Fatal(err)
	}
}

// send sends b to the transfer port.
func (c *rawClient) send(b []byte) {
	c.t.Helper()
	if _, err := c.conn.WriteToUDP(b, c.peer); err != nil {
		c.t.Fatal(err)
	}
}

// recv waits up to d for a packet, remembers its source as the transfer
// port and returns it; nil on timeout.
func (c *rawClient) recv(d time.Duration) []byte {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(d))
	n, from, err := c.conn.ReadFromUDP(c.buf)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		c.t.Fatal(err)
	}
	if c.peer == nil {
		c.peer = from
	}
	return append([]byte(nil), c.buf[:n]...)
}

func (c *rawClient) mustRecv() []byte {
	c.t.Helper()
	p := c.recv(5 * time.Second)
	if p == nil {
		c.t.Fatal("no packet from server within 5s")
	}
	return p
}

// options decodes an OACK into a map, failing the test if p is not one.
func options(t testing.TB, p []byte) map[string]string {
	t.Helper()
	if len(p) < 2 || binary.BigEndian.Uint16(p) != opOACK {
		t.Fatalf("got packet %x, want OACK", p)
	}
	m := map[string]string{}
	f := bytes.Split(p[2:], []byte{0})
	for i := 0; i+1 < len(f); i += 2 {
		m[string(f[i])] = string(f[i+1])
	}
	return m
}

// fetch runs a whole lock-step download and returns the bytes.
func (c *rawClient) fetch(blksize int) []byte {
	c.t.Helper()
	return c.fetchFrom(1, blksize)
}

// fetchFrom runs a lock-step download from block want on (an OACK is
// acknowledged while want is 1) and returns the bytes.
func (c *rawClient) fetchFrom(want uint16, blksize int) []byte {
	c.t.Helper()
	var out []byte
	for {
		p := c.mustRecv()
		op := binary.BigEndian.Uint16(p)
		if op == opOACK && want == 1 {
			c.send(ack(0))
			continue
		}
		if op != opDATA {
			c.t.Fatalf("got %x, want DATA", p[:min(len(p), 40)])
		}
		blk := binary.BigEndian.Uint16(p[2:])
		if blk == want {
			out = append(out, p[4:]...)
			want++
		}
		c.send(ack(blk))
		if blk == want-1 && len(p)-4 < blksize {
			return out
		}
	}
}

// windowClient is a minimal RFC 7440 receiver written for these tests,
// because no packaged client here both speaks windowsize and survives
// packet loss well enough to check the server under loss. It asks for
// blksize and windowsize, accepts blocks in order, ACKs the last in-order
// block after each full window, on a gap, and on its own timeout, and
// returns the file.
func windowClient(conn *net.UDPConn, server *net.UDPAddr, name string, blksize, window int, timeout time.Duration) ([]byte, error) {
	req := rrq(name, "octet", "blksize", strconv.Itoa(blksize), "windowsize", strconv.Itoa(window))
	buf := make([]byte, blksize+64)
	var out []byte
	var peer *net.UDPAddr
	next := uint16(1) // next block wanted
	inWindow := 0
	started := false
	retries := 0
	deadline := time.Now().Add(60 * time.Second)
	sendAck := func(b uint16) error {
		_, err := conn.WriteToUDP(ack(b), peer)
		return err
	}
	if _, err := conn.WriteToUDP(req, server); err != nil {
		return nil, err
	}
	for time.Now().Before(deadline) {
		conn.SetReadDeadline(time.Now().Add(timeout))
		n, from, err := conn.ReadFromUDP(buf)
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				return nil, err
			}
			retries++
			if retries > 50 {
				return nil, errors.New("windowClient: too many timeouts")
			}
			if !started {
				if _, err := conn.WriteToUDP(req, server); err != nil {
					return nil, err
				}
				continue
			}
			if err := sendAck(next - 1); err != nil {
				return nil, err
			}
			inWindow = 0
			continue
		}
		if peer == nil {
			peer = from
		} else if from.Port != peer.Port {
			continue
		}
		p := buf[:n]
		switch binary.BigEndian.Uint16(p) {
		case opOACK:
			if !started {
				if w, ok := oackValue(p[2:], "windowsize"); ok {
					window = w // the server may grant less (RFC 7440 §3)
				}
				started = true
				retries = 0
				if err := sendAck(0); err != nil {
					return nil, err
				}
			}
		case opDATA:
			started = true
			blk := binary.BigEndian.Uint16(p[2:])
			if blk != next {
				// Out of order: ask for the window again from next,
				// once per window.
				if inWindow >= 0 {
					inWindow = -1
					if err := sendAck(next - 1); err != nil {
						return nil, err
					}
				}
				continue
			}
			retries = 0
			out = append(out, p[4:]...)
			next++
			if inWindow < 0 {
				inWindow = 0
			}
			inWindow++
			if n-4 < blksize {
				// Last block: ACK it, and again if the server repeats it.
				if err := sendAck(blk); err != nil {
					return nil, err
				}
				conn.SetReadDeadline(time.Now().Add(3 * timeout))
				for {
					n, _, err := conn.ReadFromUDP(buf)
					if err != nil {
						return out, nil
					}
					if n >= 4 && binary.BigEndian.Uint16(buf) == opDATA {
						sendAck(binary.BigEndian.Uint16(buf[2:]))
					}
				}
			}
			if inWindow == window {
				inWindow = 0
				if err := sendAck(blk); err != nil {
					return nil, err
				}
			}
		case opERROR:
			code, msg, _ := parseError(p)
			return nil, &ClientError{Code: code, Message: msg}
		}
	}
	return nil, errors.New("windowClient: took longer than 60s")
}

// countingHook records finished transfers.
type countingHook struct {
	mu   sync.Mutex
	done []Transfer
	c    chan Transfer
}

func newCountingHook() *countingHook { return &countingHook{c: make(chan Transfer, 100)} }

func (h *countingHook) TransferDone(t *Transfer) {
	h.mu.Lock()
	h.done = append(h.done, *t)
	h.mu.Unlock()
	select {
	case h.c <- *t:
	default:
	}
}

func (h *countingHook) wait(t testing.TB) Transfer {
	t.Helper()
	select {
	case tr := <-h.c:
		return tr
	case <-time.After(15 * time.Second):
		t.Fatal("no transfer reported within 15s")
		return Transfer{}
	}
}
