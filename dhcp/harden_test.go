package dhcp

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/pxekit/pxekit/internal/testenv"
)

// captureConn is a PacketConn that keeps what is written to it.
type captureConn struct {
	mu  sync.Mutex
	out [][]byte
}

func (c *captureConn) ReadFrom(b []byte) (int, net.Addr, error) { return 0, nil, net.ErrClosed }
func (c *captureConn) WriteTo(b []byte, _ net.Addr) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out = append(c.out, bytes.Clone(b))
	return len(b), nil
}
func (c *captureConn) Close() error                     { return nil }
func (c *captureConn) LocalAddr() net.Addr              { return &net.UDPAddr{IP: net.IPv4zero, Port: ServerPort} }
func (c *captureConn) SetDeadline(time.Time) error      { return nil }
func (c *captureConn) SetReadDeadline(time.Time) error  { return nil }
func (c *captureConn) SetWriteDeadline(time.Time) error { return nil }
func (c *captureConn) last() []byte                     { c.mu.Lock(); defer c.mu.Unlock(); return c.out[len(c.out)-1] }
func (c *captureConn) count() int                       { c.mu.Lock(); defer c.mu.Unlock(); return len(c.out) }

// logRecorder is a slog.Handler that keeps the records at or above min.
type logRecorder struct {
	mu  sync.Mutex
	min slog.Level
	rec []slog.Record
}

func (h *logRecorder) Enabled(_ context.Context, l slog.Level) bool { return l >= h.min }
func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rec = append(h.rec, r.Clone())
	return nil
}
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecorder) WithGroup(string) slog.Handler      { return h }

// lines returns the messages logged at level l, and their number.
func (h *logRecorder) lines(l slog.Level) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.rec {
		if r.Level == l {
			out = append(out, r.Message)
		}
	}
	return out
}

// exchange answers req as the server does for a datagram (respond) and
// returns the reply sent, or nil.
func exchange(t *testing.T, s *Server, c *captureConn, req *dhcpv4.DHCPv4) *dhcpv4.DHCPv4 {
	t.Helper()
	b, err := AppendMessage(nil, req, 0)
	if err != nil {
		t.Fatal(err)
	}
	req, err = ParseRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	n := c.count()
	s.respond(t.Context(), &serverConn{conn: c}, req, in67, testSrv, nil, nil)
	if c.count() == n {
		return nil
	}
	r, err := parseMessage(c.last(), dhcpv4.OpcodeBootReply)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// doraVia runs DISCOVER and REQUEST for hw through exchange and returns
// the OFFER and the answer to the REQUEST (nil when none).
func doraVia(t *testing.T, s *Server, c *captureConn, hw net.HardwareAddr) (offer, ack *dhcpv4.DHCPv4) {
	t.Helper()
	offer = exchange(t, s, c, plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(hw)))
	if offer == nil || offer.MessageType() != dhcpv4.MessageTypeOffer {
		t.Fatalf("DISCOVER from %v: reply %v, want OFFER", hw, offer)
	}
	return offer, exchange(t, s, c, selecting(t, hw, offer))
}

func selecting(t *testing.T, hw net.HardwareAddr, offer *dhcpv4.DHCPv4) *dhcpv4.DHCPv4 {
	return plainRequest(t, dhcpv4.MessageTypeRequest, dhcpv4.WithHwAddr(hw),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(offer.ServerIdentifier())),
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(offer.YourIPAddr)))
}

func isAck(r *dhcpv4.DHCPv4) bool { return r != nil && r.MessageType() == dhcpv4.MessageTypeAck }

// flakyStore is a LeaseStore whose writes fail while fail is set.
type flakyStore struct {
	mu     sync.Mutex
	fail   bool
	leases map[netip.Addr]Lease
}

var errFlaky = errors.New("flaky store: no space")

func (f *flakyStore) Load(context.Context) ([]Lease, error) { return nil, nil }
func (f *flakyStore) Save(_ context.Context, l Lease) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return errFlaky
	}
	if f.leases == nil {
		f.leases = map[netip.Addr]Lease{}
	}
	f.leases[l.Addr] = l
	return nil
}
func (f *flakyStore) Delete(_ context.Context, a netip.Addr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return errFlaky
	}
	delete(f.leases, a)
	return nil
}
func (f *flakyStore) set(fail bool) { f.mu.Lock(); f.fail = fail; f.mu.Unlock() }

// TestStoreFailureLoudAndRecovered checks that a failing store leaves the
// REQUEST unacknowledged, is logged at Error level and counted, and that
// the next REQUEST after the store works again is acknowledged.
func TestStoreFailureLoudAndRecovered(t *testing.T) {
	st := &flakyStore{}
	s, _ := newFullServer(t, &Pool{Store: st})
	logs := &logRecorder{min: slog.LevelWarn} // dhcpd's default level
	s.Logger = slog.New(logs)
	c := &captureConn{}

	if _, ack := doraVia(t, s, c, mac(1)); !isAck(ack) {
		t.Fatalf("store working: %v, want ACK", ack)
	}
	st.set(true)
	offer, ack := doraVia(t, s, c, mac(2))
	if isAck(ack) {
		t.Fatalf("store failing: got an ACK without a durable lease")
	}
	if n := len(logs.lines(slog.LevelError)); n != 1 {
		t.Errorf("store failing: %d Error lines, want 1", n)
	}
	if st := s.Stats(); st.StoreErrors != 1 {
		t.Errorf("Stats().StoreErrors = %d, want 1", st.StoreErrors)
	}
	if n := len(s.Pool.Leases()); n != 1 {
		t.Errorf("%d leases in the pool, want 1 (no lease without the store)", n)
	}
	st.set(false)
	if ack := exchange(t, s, c, selecting(t, mac(2), offer)); !isAck(ack) {
		t.Fatalf("store working again: REQUEST answered %v, want ACK", ack)
	}
	if _, ack := doraVia(t, s, c, mac(3)); !isAck(ack) {
		t.Fatalf("store working again: new client answered %v, want ACK", ack)
	}
	if len(st.leases) != 3 {
		t.Errorf("store holds %d leases, want 3", len(st.leases))
	}
}

// TestFileStoreFullDisk serves leases from a FileStore on a 64 KiB tmpfs,
// fills the file system, checks that no ACK is sent and that the failure
// is logged and counted, frees the space and checks that ACKs come back
// and that the file holds every ACKed lease.
func TestFileStoreFullDisk(t *testing.T) {
	testenv.NeedRoot(t)
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		testenv.Unavailable(t, "mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	path := filepath.Join(dir, "leases")
	s, _ := newFullServer(t, &Pool{First: netip.MustParseAddr("10.0.0.10"), Last: netip.MustParseAddr("10.0.0.250"), Store: &FileStore{Path: path}})
	logs := &logRecorder{min: slog.LevelWarn}
	s.Logger = slog.New(logs)
	c := &captureConn{}

	acked := map[string]string{}
	for i := range 5 {
		_, ack := doraVia(t, s, c, mac(i))
		if !isAck(ack) {
			t.Fatalf("client %d before the disk is full: %v, want ACK", i, ack)
		}
		acked[mac(i).String()] = ack.YourIPAddr.String()
	}

	// Fill the file system.
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	for len(chunk) > 1 { // and the last bytes of the last page
		if _, err := f.Write(chunk); err != nil {
			chunk = chunk[:len(chunk)/2]
		}
	}
	f.Close()

	// Appends still fit in the lease file's last page for a while; the
	// first REQUEST whose lease needs a new page must fail, and so must
	// every later one.
	i := 5
	for ; i < 200; i++ {
		_, ack := doraVia(t, s, c, mac(i))
		if !isAck(ack) {
			break
		}
		acked[mac(i).String()] = ack.YourIPAddr.String()
	}
	if i == 200 {
		t.Fatal("the disk is full but every REQUEST was ACKed")
	}
	var failed []net.HardwareAddr
	var offers []*dhcpv4.DHCPv4
	for j := i; j < i+5; j++ {
		offer, ack := doraVia(t, s, c, mac(j))
		if isAck(ack) {
			t.Fatalf("client %d on a full disk: got an ACK", j)
		}
		failed, offers = append(failed, mac(j)), append(offers, offer)
	}
	t.Logf("%d leases ACKed before the disk ran out", i)
	if n := len(logs.lines(slog.LevelError)); n == 0 {
		t.Errorf("full disk: nothing logged at Error level")
	}
	if st := s.Stats(); st.StoreErrors != uint64(len(failed)+1) {
		t.Errorf("full disk: Stats().StoreErrors = %d, want %d", st.StoreErrors, len(failed)+1)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for j, hw := range failed { // the clients retry their REQUEST
		ack := exchange(t, s, c, selecting(t, hw, offers[j]))
		if !isAck(ack) {
			t.Fatalf("client %v after space returned: %v, want ACK", hw, ack)
		}
		acked[hw.String()] = ack.YourIPAddr.String()
	}
	if _, ack := doraVia(t, s, c, mac(300)); !isAck(ack) {
		t.Fatalf("new client after space returned: %v, want ACK", ack)
	} else {
		acked[mac(300).String()] = ack.YourIPAddr.String()
	}
	if w := logs.lines(slog.LevelWarn); !strings.Contains(strings.Join(w, "\n"), "works again") {
		t.Errorf("recovery not logged; warnings: %q", w)
	}
	stored, err := (&FileStore{Path: path}).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, l := range stored {
		got[l.MAC.String()] = l.Addr.String()
	}
	for m, a := range acked {
		if got[m] != a {
			t.Errorf("%s was ACKed %s; the file says %q", m, a, got[m])
		}
	}
}
