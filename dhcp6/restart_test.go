package dhcp6

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

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/internal/testenv"
)

const helperEnv = "PXEKIT_DHCP6_HELPER"

// TestHelperDHCP6Server is not a test: it is the stateful server process
// that TestKillRestart6 starts (and kills) in a namespace, running the
// test binary again with helperEnv set to "LEASEFILE,INTERFACE".
func TestHelperDHCP6Server(t *testing.T) {
	v := os.Getenv(helperEnv)
	if v == "" {
		t.Skip("helper process for TestKillRestart6")
	}
	var path, iface string
	for i := len(v) - 1; i >= 0; i-- {
		if v[i] == ',' {
			path, iface = v[:i], v[i+1:]
			break
		}
	}
	s := &Server{Interface: iface, ServerAddr: netip.MustParseAddr("2001:db8:16::1"), Pool: &Pool{
		Prefix: netip.MustParsePrefix("2001:db8:16::/64"),
		First:  netip.MustParseAddr("2001:db8:16::100"), Last: netip.MustParseAddr("2001:db8:16::1ff"),
		Store: &dhcp.FileStore{Path: path},
	}}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		s.Close()
	}()
	if err := s.ListenAndServe(""); !errors.Is(err, ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// client6 sends DHCPv6 messages by unicast to the server and dispatches
// the replies by transaction ID.
type client6 struct {
	c       net.PacketConn
	server  net.Addr
	mu      sync.Mutex
	waiting map[dhcpv6.TransactionID]chan *dhcpv6.Message
}

func (c *client6) run() {
	buf := make([]byte, 2048)
	for {
		n, _, err := c.c.ReadFrom(buf)
		if err != nil {
			return
		}
		m, err := dhcpv6.MessageFromBytes(buf[:n])
		if err != nil {
			continue
		}
		c.mu.Lock()
		ch := c.waiting[m.TransactionID]
		c.mu.Unlock()
		if ch != nil {
			select {
			case ch <- m:
			default:
			}
		}
	}
}

func (c *client6) exchange(m *dhcpv6.Message, d time.Duration) *dhcpv6.Message {
	ch := make(chan *dhcpv6.Message, 1)
	c.mu.Lock()
	c.waiting[m.TransactionID] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.waiting, m.TransactionID)
		c.mu.Unlock()
	}()
	if _, err := c.c.WriteTo(m.ToBytes(), c.server); err != nil {
		return nil
	}
	select {
	case r := <-ch:
		return r
	case <-time.After(d):
		return nil
	}
}

// TestKillRestart6 hands out IA_NA leases (Solicit, Advertise, Request,
// Reply) from a server process that it kills with SIGKILL twice
// mid-stream and restarts on the same lease file. Every address a Reply
// granted must be in the file afterwards and come back to its client,
// and no address may be granted to two clients.
func TestKillRestart6(t *testing.T) {
	testenv.NeedCommand(t, "sysctl")
	srv, cli, srvIf, cliIf := v6Segment(t)
	cli.MustRun(t, "ip", "-6", "addr", "add", "2001:db8:16::2/64", "dev", cliIf, "nodad")
	leases := filepath.Join(t.TempDir(), "leases6")

	var cur atomic.Pointer[exec.Cmd]
	start := func() {
		cmd := srv.Command(context.Background(), os.Args[0], "-test.run=^TestHelperDHCP6Server$")
		cmd.Env = append(os.Environ(), helperEnv+"="+leases+","+srvIf)
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

	conn, err := cli.ListenPacket("udp6", "[2001:db8:16::2]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := &client6{c: conn, server: &net.UDPAddr{IP: net.ParseIP("2001:db8:16::1"), Port: 547},
		waiting: map[dhcpv6.TransactionID]chan *dhcpv6.Message{}}
	go c.run()

	const clients = 120
	mac := func(i int) net.HardwareAddr { return net.HardwareAddr{2, 0, 0, 0, byte(i >> 8), byte(i)} }
	// lease obtains a lease for client i, retrying through restarts;
	// rapid asks with Rapid Commit.
	lease := func(i int, rapid bool) (string, error) {
		for range 100 {
			// A DUID-LL: NewSolicit's DUID-LLT holds the time, a new
			// client identity every second.
			mods := []dhcpv6.Modifier{dhcpv6.WithIAID([4]byte{0, 0, 0, 1}),
				dhcpv6.WithClientID(&dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: mac(i)})}
			if rapid {
				mods = append(mods, dhcpv6.WithRapidCommit)
			}
			sol, err := dhcpv6.NewSolicit(mac(i), mods...)
			if err != nil {
				return "", err
			}
			adv := c.exchange(sol, 200*time.Millisecond)
			if adv == nil {
				continue
			}
			rep := adv
			if !rapid {
				req, err := dhcpv6.NewRequestFromAdvertise(adv)
				if err != nil {
					continue
				}
				if rep = c.exchange(req, 200*time.Millisecond); rep == nil {
					continue
				}
			}
			if rep.MessageType != dhcpv6.MessageTypeReply {
				continue
			}
			ia := rep.Options.OneIANA()
			if ia == nil || ia.Options.OneAddress() == nil {
				continue
			}
			return ia.Options.OneAddress().IPv6Addr.String(), nil
		}
		return "", fmt.Errorf("client %d: no lease after 100 tries", i)
	}

	var (
		mu    sync.Mutex
		acked = map[string]string{} // MAC → address
		count atomic.Int32
		wg    sync.WaitGroup
		next  atomic.Int32
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= clients {
					return
				}
				a, err := lease(i, false)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked[mac(i).String()] = a
				mu.Unlock()
				count.Add(1)
			}
		}()
	}
	for _, at := range []int32{30, 75} {
		for count.Load() < at {
			time.Sleep(time.Millisecond)
		}
		kill(os.Kill) // mid-stream: other clients are between Solicit and Request
		start()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	owner := map[string]string{}
	for m, a := range acked {
		if o, dup := owner[a]; dup {
			t.Errorf("address %s granted to %s and %s", a, o, m)
		}
		owner[a] = m
	}
	kill(syscall.SIGTERM)
	stored, err := (&dhcp.FileStore{Path: leases}).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	inFile := map[string]string{}
	for _, l := range stored {
		inFile[l.MAC.String()] = l.Addr.String()
	}
	for m, a := range acked {
		if inFile[m] != a {
			t.Errorf("client %s was granted %s; the lease file says %q", m, a, inFile[m])
		}
	}
	if len(stored) != clients {
		t.Errorf("lease file holds %d leases, want %d", len(stored), clients)
	}
	// After one more restart every client gets its address back, with
	// Rapid Commit.
	start()
	for i := 0; i < clients; i += 7 {
		a, err := lease(i, true)
		if m := mac(i).String(); err != nil || a != acked[m] {
			t.Errorf("client %s after restart: %s, %v; want %s", m, a, err, acked[m])
		}
	}
}
