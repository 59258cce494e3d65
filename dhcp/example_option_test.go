package dhcp_test

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/pxekit/pxekit/dhcp"
)

// Decode the PXE options of a request as typed values.
func ExampleParseVendorClass() {
	v, err := dhcp.ParseVendorClass([]byte("PXEClient:Arch:00007:UNDI:003016"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(v.Class, v.IsPXE(), uint16(v.Arch), v.Arch)
	fmt.Printf("UNDI %d.%d\n", v.UNDIMajor, v.UNDIMinor)

	_, err = dhcp.ParseVendorClass([]byte("PXEClient:Arch:7"))
	fmt.Println(err)
	// Output:
	// PXEClient true 7 EFI x86-64
	// UNDI 3.16
	// dhcp: option 60: Arch field "7" in "PXEClient:Arch:7" is not five decimal digits up to 65535
}

// Build a reply with the typed options composed with insomniacslk's own
// modifiers.
func ExampleWithPXEVendorOptions() {
	mac, _ := net.ParseMAC("dc:a6:32:00:00:01")
	reply, err := dhcpv4.New(
		dhcpv4.WithHwAddr(mac),
		dhcpv4.WithMessageType(dhcpv4.MessageTypeOffer),
		dhcp.WithVendorClass(dhcp.VendorClass{Class: dhcp.ClassPXEClient}),
		dhcp.WithBootFileName("bootcode.bin"),
		dhcp.WithPXEVendorOptions(dhcp.PXEVendorOptions{
			DiscoveryControl:    dhcp.PXEDiscoveryBootFile,
			HasDiscoveryControl: true,
			BootMenu:            []dhcp.PXEMenuItem{{Type: 0, Description: "Raspberry Pi Boot"}},
			MenuPrompt:          dhcp.PXEMenuPrompt{Timeout: 0, Prompt: "PXE"},
			HasMenuPrompt:       true,
		}),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("60: %s\n", reply.ClassIdentifier())
	fmt.Printf("43: % x\n", reply.Options.Get(dhcpv4.OptionVendorSpecificInformation))
	o, _ := dhcp.ParsePXEVendorOptions(reply.Options.Get(dhcpv4.OptionVendorSpecificInformation))
	fmt.Println(o)
	// Output:
	// 60: PXEClient
	// 43: 06 01 08 09 14 00 00 11 52 61 73 70 62 65 72 72 79 20 50 69 20 42 6f 6f 74 0a 04 00 50 58 45 ff
	// [discovery control 0x8; menu type 0 "Raspberry Pi Boot"; prompt 0s "PXE"]
}

// Option 97 as the pxelinux config file name, and option 93.
func ExampleClientGUID_UUID() {
	g, err := dhcp.ParseClientGUID([]byte{0, 0x78, 0x56, 0x34, 0x12, 0xbc, 0x9a, 0xf0, 0xde, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("pxelinux.cfg/" + g.UUID())

	a, _ := dhcp.ParseClientArchs([]byte{0, 11})
	fmt.Println(a)
	// Output:
	// pxelinux.cfg/78563412-bc9a-f0de-1122-334455667788
	// 11 (EFI ARM64)
}

// Which features does an iPXE client have? (Option 175 as iPXE 1.0.0 in
// QEMU's BIOS ROM sends it.)
func ExampleParseIPXEOptions() {
	o, err := dhcp.ParseIPXEOptions([]byte{
		177, 5, 1, 0x80, 0x86, 0x10, 0x0e, // bus ID: PCI 8086:100e
		235, 3, 1, 0, 0, // version 1.0.0
		0x17, 1, 1, 0x13, 1, 1, 0x15, 1, 1, 0x21, 1, 1, // DNS, HTTP, TFTP, PXE
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	maj, min, patch, _ := o.Version()
	fmt.Printf("iPXE %d.%d.%d: %v\n", maj, min, patch, o.Features())
	fmt.Println("HTTPS:", o.Features().Has(dhcp.IPXEFeatureHTTPS))
	// Output:
	// iPXE 1.0.0: HTTP,TFTP,DNS,PXE
	// HTTPS: false
}

// Boot servers in option 43 sub-option 8.
func ExamplePXEVendorOptions_bootServers() {
	o := dhcp.PXEVendorOptions{BootServers: []dhcp.PXEBootServer{
		{Type: 0x8000, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.1")}},
	}}
	b, err := o.MarshalBinary()
	fmt.Printf("% x %v\n", b, err)
	// Output:
	// 08 07 80 00 01 0a 00 00 01 ff <nil>
}
