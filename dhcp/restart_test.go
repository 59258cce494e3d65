package dhcp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/pxekit/pxekit/internal/testenv"
)

const helperEnv = "PXEKIT_DHCP_HELPER_LEASES"

// TestHelperDHCPServer is not a test: it is the server process that
// TestKillRestart starts (and kills) in a namespace, running the test
// binary again with helperEnv naming the lease file.
func TestHelperDHCPServer(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process for TestKillRestart")
	}
	s := &Server{Pool: &Pool{
		First: netip.MustParseAddr("10.0.0.100"), Last: netip.MustParseAddr("10.0.0.250"),
		LeaseTime: time.Hour, Store: &FileStore{Path: path},
	}}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		s.Close()
	}()
	if err := s.ListenAndServe("0.0.0.0:67"); !errors.Is(err, ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// relay plays a DHCP relay agent at giaddr: it sends requests to the
// server and dispatches the replies, which come back to port 67, by xid.
type relay struct {
	c       *net.UDPConn
	giaddr  net.IP
	server  netip.AddrPort
	mu      sync.Mutex
	waiting map[dhcpv4.TransactionID]chan *dhcpv4.DHCPv4
}

func (r *relay) run() {
	buf := make([]byte, 2048)
	for {
		n, _, err := r.c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		m, err := parseMessage(buf[:n], dhcpv4.OpcodeBootReply)
		if err != nil {
			continue
		}
		r.mu.Lock()
		ch := r.waiting[m.TransactionID]
		r.mu.Unlock()
		if ch != nil {
			select {
			case ch <- m:
			default:
			}
		}
	}
}

// exchange sends m and waits up to d for a reply.
func (r *relay) exchange(m *dhcpv4.DHCPv4, d time.Duration) *dhcpv4.DHCPv4 {
	ch := make(chan *dhcpv4.DHCPv4, 1)
	r.mu.Lock()
	r.waiting[m.TransactionID] = ch
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.waiting, m.TransactionID)
		r.mu.Unlock()
	}()
	m.GatewayIPAddr = r.giaddr
	b, _ := AppendMessage(nil, m, 0)
	if _, err := r.c.WriteToUDPAddrPort(b, r.server); err != nil {
		return nil
	}
	select {
	case rep := <-ch:
		return rep
	case <-time.After(d):
		return nil
	}
}

// TestKillRestart hands out leases from a server process that it kills
// with SIGKILL twice mid-stream and restarts on the same lease file.
// Every ACKed lease must be in the file afterwards and come back to its
// client, and no address may be ACKed to two clients.
func TestKillRestart(t *testing.T) {
	srv, cl := testenv.NewNetNS(t), testenv.NewNetNS(t)
	testenv.Veth(t, srv, netip.MustParsePrefix("10.0.0.1/24"), cl, netip.MustParsePrefix("10.0.0.2/24"))
	leases := filepath.Join(t.TempDir(), "leases")

	var cur atomic.Pointer[exec.Cmd]
	start := func() {
		cmd := srv.Command(context.Background(), os.Args[0], "-test.run=^TestHelperDHCPServer$")
		cmd.Env = append(os.Environ(), helperEnv+"="+leases)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cur.Store(cmd)
	}
	kill := func(sig os.Signal) {
		cmd := cur.Load()
		cmd.Process.Signal(sig)
		cmd.Wait()
	}
	start()
	t.Cleanup(func() { kill(os.Kill) })

	r := &relay{c: listenIn(t, cl, "10.0.0.2:67", ""), giaddr: net.IPv4(10, 0, 0, 2),
		server: netip.MustParseAddrPort("10.0.0.1:67"), waiting: map[dhcpv4.TransactionID]chan *dhcpv4.DHCPv4{}}
	go r.run()

	const clients = 120
	var (
		mu    sync.Mutex
		acked = map[string]string{} // mac → address
		count atomic.Int32
	)
	// lease obtains a lease for client i, retrying through restarts.
	lease := func(i int, xidBase byte) (string, error) {
		hw := net.HardwareAddr{2, 0, 0, 0, byte(i >> 8), byte(i)}
		for try := range 100 {
			xid := dhcpv4.TransactionID{xidBase, byte(i >> 8), byte(i), byte(try)}
			d, _ := dhcpv4.New(dhcpv4.WithMessageType(dhcpv4.MessageTypeDiscover), dhcpv4.WithHwAddr(hw), dhcpv4.WithTransactionID(xid))
			offer := r.exchange(d, 200*time.Millisecond)
			if offer == nil {
				continue
			}
			q, _ := dhcpv4.New(dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest), dhcpv4.WithHwAddr(hw), dhcpv4.WithTransactionID(xid),
				dhcpv4.WithOption(dhcpv4.OptServerIdentifier(offer.ServerIdentifier())),
				dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(offer.YourIPAddr)))
			ack := r.exchange(q, 200*time.Millisecond)
			if ack == nil || ack.MessageType() != dhcpv4.MessageTypeAck {
				continue
			}
			return ack.YourIPAddr.String(), nil
		}
		return "", fmt.Errorf("client %d: no lease after 100 tries", i)
	}

	var wg sync.WaitGroup
	next := atomic.Int32{}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= clients {
					return
				}
				a, err := lease(i, 1)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked[net.HardwareAddr{2, 0, 0, 0, byte(i >> 8), byte(i)}.String()] = a
				mu.Unlock()
				count.Add(1)
			}
		}()
	}
	for _, at := range []int32{30, 75} {
		for count.Load() < at {
			time.Sleep(time.Millisecond)
		}
		kill(os.Kill) // mid-stream: other clients are between DISCOVER and REQUEST
		start()
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	owner := map[string]string{}
	for m, a := range acked {
		if o, dup := owner[a]; dup {
			t.Errorf("address %s ACKed to %s and %s", a, o, m)
		}
		owner[a] = m
	}
	kill(syscall.SIGTERM)
	stored, err := (&FileStore{Path: leases}).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	inFile := map[string]string{}
	for _, l := range stored {
		inFile[l.MAC.String()] = l.Addr.String()
	}
	for m, a := range acked {
		if inFile[m] != a {
			t.Errorf("client %s was ACKed %s; the lease file says %q", m, a, inFile[m])
		}
	}
	if len(stored) != clients {
		t.Errorf("lease file holds %d leases, want %d", len(stored), clients)
	}
	// After one more restart every client gets its address back.
	start()
	for i := 0; i < clients; i += 7 {
		a, err := lease(i, 2)
		m := net.HardwareAddr{2, 0, 0, 0, byte(i >> 8), byte(i)}.String()
		if err != nil || a != acked[m] {
			t.Errorf("client %s after restart: %s, %v; want %s", m, a, err, acked[m])
		}
	}
}
