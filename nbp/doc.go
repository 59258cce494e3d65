// Package nbp identifies PXE and UEFI HTTP boot clients from their DHCP
// requests and chooses the network boot program (NBP) each one loads.
//
// The DHCP request is all a boot server knows about a machine. [Identify]
// turns it into a [Client]: the MAC address, the processor architecture
// (option 93, or the Arch field of option 60), the vendor class
// (PXEClient, HTTPClient) and UNDI version, the network interface (option
// 94), the machine GUID (option 97, rendered as pxelinux names its
// per-machine config file), whether the client is already iPXE (option 77
// or 175) and which iPXE features it has, the firmware family (BIOS, UEFI,
// U-Boot, the Raspberry Pi boot ROM) and whether it boots over HTTP. A
// request that is not a boot request returns [ErrNotPXE].
//
// A [Policy] maps a Client to a [Choice]: a TFTP boot program, an HTTP(S)
// URL for UEFI HTTP boot, or, for a client that already runs iPXE, an iPXE
// script instead of iPXE again, which breaks the chain-load loop. Its
// defaults cover the common architectures; every entry can be overridden,
// and an architecture it does not cover is an error ([ErrUncovered]),
// never a guess. A Policy plugs straight into the dhcp package's
// responders as a [dhcp.Decider]. [FindPrograms] fills its TFTP table
// from the boot programs a served tree holds under well-known names.
//
// DHCPv6 clients are the same [Client]: [Identify6] reads option 61
// (architecture), 16 (vendor class under enterprise 343), 15 (user class
// "iPXE"), 62 and the DUID, and [Policy.Decide6] (a [dhcp6.Decider])
// makes the same choice into a v6 boot URL with the server's address in
// brackets: "tftp://[2001:db8::1]/ipxe.efi".
//
// The package reads DHCP messages decoded by github.com/insomniacslk/dhcp
// and the typed options of package [github.com/pxekit/pxekit/dhcp]; it
// opens no socket, and its only file system access is [FindPrograms] and
// [FindProgram] looking up names in the fs.FS they are given.
// Building replies is the dhcp package's job, and serving the programs is
// the tftp package's.
package nbp
