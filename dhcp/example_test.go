package dhcp_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/pxekit/pxekit/dhcp"
)

// A proxyDHCP OFFER for a UEFI PXE client: no address, the boot file, and
// what PXE ROMs insist on (option 60 echoed, option 43 discovery control).
func ExampleNewReply() {
	req, _ := dhcpv4.New(
		dhcpv4.WithMessageType(dhcpv4.MessageTypeDiscover),
		dhcpv4.WithHwAddr(net.HardwareAddr{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}),
		dhcpv4.WithBroadcast(true),
		dhcpv4.WithGeneric(dhcpv4.OptionClassIdentifier, []byte("PXEClient:Arch:00007:UNDI:003016")),
	)
	boot := &dhcp.Boot{File: "ipxe.efi"}
	offer, err := dhcp.NewReply(req, dhcpv4.MessageTypeOffer, netip.MustParseAddr("10.0.0.1"), boot, dhcp.BootInReply)
	if err != nil {
		fmt.Println(err)
		return
	}
	wire, _ := dhcp.AppendMessage(nil, offer, dhcp.MinMessageSize)
	fmt.Println(offer.MessageType(), offer.YourIPAddr, offer.ServerIPAddr, offer.BootFileName)
	fmt.Printf("60=%s 43=% x broadcast=%v bytes=%d\n", offer.ClassIdentifier(),
		offer.Options.Get(dhcpv4.OptionVendorSpecificInformation), offer.IsBroadcast(), len(wire))
	// Output:
	// OFFER 0.0.0.0 10.0.0.1 ipxe.efi
	// 60=PXEClient 43=06 01 08 ff broadcast=true bytes=300
}

// A proxyDHCP server on loopback, asked for its boot file the way a PXE
// client that already has an address asks on port 4011 (here: any port,
// naming the server in option 54).
func ExampleServer() {
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	s := &dhcp.Server{Decider: dhcp.StaticBoot(dhcp.Boot{File: "undionly.kpxe"})}
	go s.Serve(conn)
	defer s.Close()

	client, _ := net.ListenPacket("udp4", "127.0.0.1:0")
	defer client.Close()
	req, _ := dhcpv4.New(
		dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest),
		dhcpv4.WithHwAddr(net.HardwareAddr{0x52, 0x54, 0x00, 0, 0, 1}),
		dhcpv4.WithClientIP(net.IPv4(127, 0, 0, 1)),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(127, 0, 0, 1))),
		dhcpv4.WithGeneric(dhcpv4.OptionClassIdentifier, []byte("PXEClient:Arch:00000:UNDI:002001")),
	)
	b, _ := dhcp.AppendMessage(nil, req, 0)
	client.WriteTo(b, conn.LocalAddr())

	buf := make([]byte, 1500)
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := client.ReadFrom(buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	ack, _ := dhcpv4.FromBytes(buf[:n])
	fmt.Println(ack.MessageType(), ack.BootFileName, ack.ClassIdentifier())
	_ = s.Shutdown(context.Background())
	// Output:
	// ACK undionly.kpxe PXEClient
}

// A full DHCP server's pool with a lease file and one reservation.
func ExamplePool() {
	s := &dhcp.Server{
		Pool: &dhcp.Pool{
			First:        netip.MustParseAddr("192.168.10.100"),
			Last:         netip.MustParseAddr("192.168.10.199"),
			Subnet:       netip.MustParsePrefix("192.168.10.0/24"),
			Routers:      []netip.Addr{netip.MustParseAddr("192.168.10.1")},
			LeaseTime:    12 * time.Hour,
			Reservations: map[string]netip.Addr{"52:54:00:12:34:56": netip.MustParseAddr("192.168.10.10")},
			Store:        &dhcp.FileStore{Path: "/var/lib/pxekit/dhcp.leases"},
		},
		Decider: dhcp.StaticBoot(dhcp.Boot{File: "pxelinux.0", ConfigFile: "pxelinux.cfg/default"}),
	}
	fmt.Println(s.Pool.First, "-", s.Pool.Last)
	// s.ListenAndServe(":67") would serve it.
	// Output: 192.168.10.100 - 192.168.10.199
}
