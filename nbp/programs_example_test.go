package nbp_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing/fstest"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/nbp"
)

// A Policy made from what a served tree holds: Debian's pxelinux for BIOS
// clients even when they run iPXE, iPXE's EFI build for UEFI, and the
// iPXE script, over HTTP from whichever address the client reached the
// server at, for UEFI clients that run iPXE.
func ExampleFindPrograms() {
	file := &fstest.MapFile{Data: []byte("program")}
	tree := fstest.MapFS{"pxelinux.0": file, "ldlinux.c32": file, "snponly.efi": file, "boot.ipxe": file}

	p := &nbp.Policy{
		TFTP:        nbp.FindPrograms(tree),
		IPXEScript:  "http://:8080/boot.ipxe",
		IPXEScripts: map[iana.Arch]string{iana.INTEL_X86PC: ""},
	}
	fmt.Println(p.TFTP[iana.INTEL_X86PC], p.TFTP[iana.EFI_X86_64], p.TFTP[iana.EFI_ARM64] == "")

	// The dhcp server tells Decide where the request arrived.
	ctx := dhcp.WithArrival(context.Background(), dhcp.Arrival{InterfaceName: "eth1", Local: netip.MustParseAddr("192.168.20.1")})
	for _, class := range []string{"PXEClient:Arch:00000:UNDI:002001", "PXEClient:Arch:00007:UNDI:003016"} {
		req, _ := dhcpv4.NewDiscovery([]byte{0x52, 0x54, 0, 0x12, 0x34, 0x56},
			dhcpv4.WithOption(dhcpv4.OptClassIdentifier(class)),
			dhcpv4.WithOption(dhcpv4.OptUserClass("iPXE")))
		b, err := p.Decide(ctx, req)
		fmt.Println(b.File, err)
	}
	// Output:
	// pxelinux.0 snponly.efi true
	// pxelinux.0 <nil>
	// http://192.168.20.1:8080/boot.ipxe <nil>
}
