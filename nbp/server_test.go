package nbp

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/internal/testenv"
	"golang.org/x/sys/unix"
)

// udpIn opens a UDP socket in ns with SO_REUSEADDR and SO_BROADCAST,
// bound to device dev when set.
func udpIn(t *testing.T, ns *testenv.NetNS, addr, dev string) *net.UDPConn {
	t.Helper()
	var c net.PacketConn
	err := ns.Do(func() (err error) {
		lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = errors.Join(
					unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1),
					unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_BROADCAST, 1))
				if dev != "" && serr == nil {
					serr = unix.BindToDevice(int(fd), dev)
				}
			})
			return errors.Join(err, serr)
		}}
		c, err = lc.ListenPacket(context.Background(), "udp4", addr)
		return err
	})
	if err != nil {
		t.Fatalf("listen %s in %s: %v", addr, ns.Name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.UDPConn)
}

// TestPolicyBehindServer replays the DHCPDISCOVERs that real firmware sent
// (the captured bytes, unchanged) to a proxyDHCP dhcp.Server whose Decider
// is a Policy, across a veth pair between two network namespaces, and
// checks the OFFERs: the boot file and option 60 each firmware needs, and
// silence to a request that is not a boot request.
func TestPolicyBehindServer(t *testing.T) {
	srvNS, cliNS := testenv.NewNetNS(t), testenv.NewNetNS(t)
	_, cliIf := testenv.Veth(t, srvNS, netip.MustParsePrefix("10.0.9.1/24"), cliNS, netip.MustParsePrefix("10.0.9.2/24"))

	s := &dhcp.Server{Decider: &Policy{
		HTTPBase:   "http://10.0.9.1/",
		IPXEScript: "http://10.0.9.1/boot.ipxe",
	}}
	conn := udpIn(t, srvNS, "0.0.0.0:67", "")
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(conn) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-errc; !errors.Is(err, dhcp.ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	cl := udpIn(t, cliNS, "0.0.0.0:68", cliIf)
	bcast := netip.MustParseAddrPort("255.255.255.255:67")

	// exchange sends raw and returns the replies with its xid.
	exchange := func(t *testing.T, raw []byte, tries int) []*dhcpv4.DHCPv4 {
		t.Helper()
		req, err := dhcpv4.FromBytes(raw)
		if err != nil {
			t.Fatal(err)
		}
		var got []*dhcpv4.DHCPv4
		buf := make([]byte, 2048)
		for try := 0; try < tries && len(got) == 0; try++ { // the link may take a moment to come up
			if _, err := cl.WriteToUDPAddrPort(raw, bcast); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(400 * time.Millisecond)
			for {
				cl.SetReadDeadline(deadline)
				n, _, err := cl.ReadFromUDPAddrPort(buf)
				if err != nil {
					break
				}
				m, err := dhcpv4.FromBytes(buf[:n])
				if err == nil && m.OpCode == dhcpv4.OpcodeBootReply && m.TransactionID == req.TransactionID {
					got = append(got, m)
				}
			}
		}
		return got
	}

	for _, tt := range []struct {
		capture, file, class string
	}{
		{"ovmf-pxe", "syslinux.efi", "PXEClient"},
		{"aavmf-pxe", "grubnetaa64.efi", "PXEClient"},
		{"ovmf-http", "http://10.0.9.1/ipxe.efi", "HTTPClient"},
		{"aavmf-http", "http://10.0.9.1/grubnetaa64.efi", "HTTPClient"},
		{"ipxe-bios-e1000", "http://10.0.9.1/boot.ipxe", "PXEClient"},
		{"ovmf-ipxe-virtio", "http://10.0.9.1/boot.ipxe", "PXEClient"},
	} {
		t.Run(tt.capture, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "captures", tt.capture+".bin"))
			if err != nil {
				t.Fatal(err)
			}
			replies := exchange(t, raw, 10)
			if len(replies) != 1 {
				t.Fatalf("got %d replies, want 1 OFFER", len(replies))
			}
			r := replies[0]
			if r.MessageType() != dhcpv4.MessageTypeOffer {
				t.Errorf("message type %v, want OFFER", r.MessageType())
			}
			if got := string(r.Options.Get(dhcpv4.OptionBootfileName)); got != tt.file {
				t.Errorf("option 67 = %q, want %q", got, tt.file)
			}
			if got := r.ClassIdentifier(); got != tt.class {
				t.Errorf("option 60 = %q, want %q", got, tt.class)
			}
			if !r.YourIPAddr.IsUnspecified() {
				t.Errorf("proxy OFFER hands out address %v", r.YourIPAddr)
			}
		})
	}

	t.Run("not a boot request", func(t *testing.T) {
		mac, _ := net.ParseMAC("00:11:22:33:44:55")
		req, err := dhcpv4.NewDiscovery(mac, dhcpv4.WithOption(dhcpv4.OptClassIdentifier("MSFT 5.0")))
		if err != nil {
			t.Fatal(err)
		}
		if got := exchange(t, req.ToBytes(), 2); len(got) != 0 {
			t.Errorf("proxy answered a non-PXE DISCOVER: %v", got[0])
		}
	})
}
