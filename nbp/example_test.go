package nbp_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/nbp"
)

// Identify a DHCPDISCOVER that OVMF's UEFI PXE sent (captured in QEMU).
func ExampleIdentify() {
	b, err := os.ReadFile("testdata/captures/ovmf-pxe.bin")
	if err != nil {
		fmt.Println(err)
		return
	}
	req, err := dhcpv4.FromBytes(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := nbp.Identify(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("MAC:", c.MAC)
	fmt.Println("arch:", uint16(c.Arch), c.Arch, "from", c.ArchSource)
	fmt.Println("firmware:", c.Firmware, "HTTP:", c.HTTP, "iPXE:", c.IPXE)
	fmt.Printf("UNDI: %d.%d\n", c.VendorClass.UNDIMajor, c.VendorClass.UNDIMinor)
	fmt.Println("pxelinux UUID:", c.UUID())
	// Output:
	// MAC: 52:54:00:00:00:07
	// arch: 7 EFI x86-64 from option 93
	// firmware: UEFI HTTP: false iPXE: false
	// UNDI: 3.0
	// pxelinux UUID: 78563412-bc9a-f0de-1122-334455667788
}

// A request that is not from a boot firmware is reported with ErrNotPXE;
// a proxyDHCP server stays silent to it.
func ExampleIdentify_notPXE() {
	mac, _ := net.ParseMAC("00:11:22:33:44:55")
	req, _ := dhcpv4.NewDiscovery(mac, dhcpv4.WithOption(dhcpv4.OptClassIdentifier("MSFT 5.0")))
	_, err := nbp.Identify(req)
	fmt.Println(errors.Is(err, nbp.ErrNotPXE))
	// Output:
	// true
}

// A Policy with overrides: BIOS clients get undionly.kpxe, clients that
// already run iPXE get a script (which breaks the chain-load loop), UEFI
// HTTP boot clients get URLs under an HTTP base.
func ExamplePolicy() {
	p := &nbp.Policy{
		TFTP:       map[iana.Arch]string{iana.INTEL_X86PC: "undionly.kpxe"},
		HTTPBase:   "http://192.168.10.1/",
		IPXEScript: "http://192.168.10.1/boot.ipxe",
	}
	for _, name := range []string{"aavmf-pxe", "ovmf-http", "ipxe-bios-e1000"} {
		b, err := os.ReadFile("testdata/captures/" + name + ".bin")
		if err != nil {
			fmt.Println(err)
			return
		}
		req, _ := dhcpv4.FromBytes(b)
		c, err := nbp.Identify(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		ch, err := p.Choose(c)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: %s (HTTP %v, iPXE script %v)\n", name, ch.File, ch.HTTP, ch.IPXEScript)
	}

	// An architecture the policy does not cover is an error, not a guess.
	_, err := p.Choose(nbp.Client{Arch: iana.EFI_ARM32, ArchSource: nbp.ArchFromOption93})
	fmt.Println(err)
	// Output:
	// aavmf-pxe: grubnetaa64.efi (HTTP false, iPXE script false)
	// ovmf-http: http://192.168.10.1/ipxe.efi (HTTP true, iPXE script false)
	// ipxe-bios-e1000: http://192.168.10.1/boot.ipxe (HTTP false, iPXE script true)
	// nbp: no TFTP boot program for architecture 10 (EFI ARM32)
}

// A *Policy is a dhcp.Decider: give it to a dhcp.Server.
func ExamplePolicy_Decide() {
	srv := &dhcp.Server{Decider: &nbp.Policy{Base: dhcp.Boot{ConfigFile: "pxelinux.cfg/default"}}}
	b, _ := os.ReadFile("testdata/captures/ipxe-bios-virtio.bin")
	req, _ := dhcpv4.FromBytes(b)
	boot, err := srv.Decider.Decide(context.Background(), req)
	fmt.Println(boot.File, boot.ConfigFile, err)
	// Output:
	// pxelinux.0 pxelinux.cfg/default <nil>
}
