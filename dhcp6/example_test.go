package dhcp6_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/dhcp6"
	"github.com/pxekit/pxekit/nbp"
)

func ExampleParseVendorClass() {
	// Option 16 as OVMF's PxeBcDxe sends it: enterprise 343, one entry.
	b := append([]byte{0, 0, 1, 0x57, 0, 32}, "PXEClient:Arch:00007:UNDI:003016"...)
	vc, err := dhcp6.ParseVendorClass(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(vc.Enterprise, vc.Class())
	_, err = dhcp6.ParseArchList([]byte{0, 7, 0})
	fmt.Println(err)
	// Output:
	// 343 PXEClient
	// dhcp6: option 61: odd length 3
}

func ExampleDecider() {
	// An nbp.Policy is a dhcp6.Decider: the same choice as for v4, as a
	// v6 URL on the server's address.
	sol, _ := dhcpv6.NewSolicit(net.HardwareAddr{0x52, 0x54, 0, 1, 2, 3}, dhcpv6.WithArchType(iana.EFI_X86_64))
	var d dhcp6.Decider = &nbp.Policy{TFTP: map[iana.Arch]string{iana.EFI_X86_64: "ipxe.efi"}}
	ctx := dhcp6.WithArrival(context.Background(), dhcp6.Arrival{Local: netip.MustParseAddr("2001:db8::1")})
	b, err := d.Decide6(ctx, sol)
	fmt.Println(b.URL, err)
	// Output:
	// tftp://[2001:db8::1]/ipxe.efi <nil>
}
