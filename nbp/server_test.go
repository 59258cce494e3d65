package nbp

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/internal/testenv"
)

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
	testenv.Serve(t, s, dhcp.ErrServerClosed, srvNS.ListenBroadcastUDP(t, "0.0.0.0:67", ""))
	cl := cliNS.ListenBroadcastUDP(t, "0.0.0.0:68", cliIf)
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
