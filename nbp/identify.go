package nbp

import (
	"errors"
	"fmt"
	"net"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/dhcp6"
)

// ErrNotPXE is returned by [Identify] for a request that is not from a PXE
// or UEFI HTTP boot client: its option 60 is missing or does not start
// with "PXEClient" or "HTTPClient" (or it is no request at all, but a
// BOOTREPLY). A proxyDHCP server must stay silent to
// such a request.
var ErrNotPXE = errors.New("nbp: not a PXE or HTTP boot request")

// Firmware is the family of firmware a client boots from.
type Firmware uint8

const (
	// FirmwareOther is any firmware not listed below, and firmware whose
	// architecture is unknown.
	FirmwareOther Firmware = iota
	// FirmwareBIOS is a legacy BIOS PXE ROM (architecture 0, or 20 for
	// BIOS HTTP boot), iPXE on BIOS included.
	FirmwareBIOS
	// FirmwareUEFI is UEFI: the EFI architectures (2, 6–11, the HTTP
	// variants 15–19, RISC-V, MIPS, Sunway).
	FirmwareUEFI
	// FirmwareUBoot is U-Boot (architectures 21–24).
	FirmwareUBoot
	// FirmwareRaspberryPi is a Raspberry Pi's boot ROM, which claims to be
	// an x86 BIOS (architecture 0) and is recognised by its MAC address.
	FirmwareRaspberryPi
)

// String returns "BIOS", "UEFI", "U-Boot", "Raspberry Pi" or "other".
func (f Firmware) String() string {
	switch f {
	case FirmwareBIOS:
		return "BIOS"
	case FirmwareUEFI:
		return "UEFI"
	case FirmwareUBoot:
		return "U-Boot"
	case FirmwareRaspberryPi:
		return "Raspberry Pi"
	}
	return "other"
}

// ArchSource says where [Client.Arch] came from.
type ArchSource uint8

const (
	// ArchUnknown: the request carries neither option 93 nor an Arch
	// field in option 60; Client.Arch is 0 but means nothing.
	ArchUnknown ArchSource = iota
	// ArchFromOption93: the first type in option 93.
	ArchFromOption93
	// ArchFromVendorClass: the Arch field of option 60 (DHCPv6: of
	// option 16), used when option 93 (61) is absent.
	ArchFromVendorClass
	// ArchFromOption61: the first type in DHCPv6 option 61 ([Identify6]).
	ArchFromOption61
)

// String returns "unknown", "option 93", "option 60" or "option 61".
func (s ArchSource) String() string {
	switch s {
	case ArchFromOption61:
		return "option 61"
	case ArchFromOption93:
		return "option 93"
	case ArchFromVendorClass:
		return "option 60"
	}
	return "unknown"
}

// Client describes a booting machine as its DHCP request shows it. The
// zero value describes nothing; Identify fills it.
type Client struct {
	// MAC is the client hardware address (chaddr), a copy.
	MAC net.HardwareAddr
	// HWType is the hardware type (htype), 1 for Ethernet.
	HWType iana.HWType

	// Arch is the processor architecture type (IANA registry), as sent.
	// RFC 4578's table swapped 7 and 9: x86-64 UEFI firmware sends 7
	// (what the registry calls x64 UEFI today) and some sends 9; see
	// [Client.X8664UEFI]. Valid unless ArchSource is ArchUnknown.
	Arch       iana.Arch
	ArchSource ArchSource

	// VendorClass is option 60 decoded: Class is "PXEClient" or
	// "HTTPClient"; HasUNDI, UNDIMajor and UNDIMinor give the UNDI
	// version when the client sent one.
	VendorClass dhcp.VendorClass

	// NDI is option 94, valid when HasNDI is set.
	NDI    dhcp.ClientNDI
	HasNDI bool

	// GUID is option 97, valid when HasGUID is set. Intel boot ROMs, among
	// others, may omit it. See [Client.UUID].
	GUID    dhcp.ClientGUID
	HasGUID bool

	// IPXE is set when the client already runs iPXE: option 77 holds
	// "iPXE" (plain or RFC 3004), or option 175 is present.
	IPXE bool
	// IPXEFeatures are the features iPXE announced in option 175.
	IPXEFeatures dhcp.IPXEFeatureSet

	// Firmware is the firmware family.
	Firmware Firmware
	// HTTP is set for a UEFI HTTP boot client (vendor class
	// "HTTPClient", or an HTTP architecture such as 16 or 19). It must be
	// answered with a URL and with "HTTPClient" in option 60.
	HTTP bool
	// RaspberryPi is set when the MAC address belongs to Raspberry Pi
	// (see [IsRaspberryPiMAC]), whatever firmware the Pi runs.
	RaspberryPi bool

	// V6 is set for a client identified from a DHCPv6 request
	// ([Identify6]).
	V6 bool
	// DUID is the DHCPv6 client identifier (option 1), valid when HasDUID
	// is set.
	DUID    dhcp6.DUID
	HasDUID bool
}

// UUID returns the client's GUID as pxelinux names its per-machine
// configuration file (pxelinux.cfg/<UUID>), or "" when the request had no
// option 97. See [dhcp.ClientGUID.UUID]; pxelinux looks for that file only
// when [dhcp.ClientGUID.PXELinuxAccepts] says so.
func (c Client) UUID() string {
	if !c.HasGUID {
		return ""
	}
	return c.GUID.UUID()
}

// X8664UEFI reports whether the client is x86-64 UEFI firmware booting
// over PXE: architecture 7, or 9 as some firmware sends after RFC 4578's
// swapped table.
func (c Client) X8664UEFI() bool {
	return c.ArchSource != ArchUnknown && (c.Arch == iana.EFI_X86_64 || c.Arch == iana.EFI_BC)
}

// String summarises the client, such as "52:54:00:12:34:56 arch 7 (EFI
// x86-64) UEFI PXEClient iPXE".
func (c Client) String() string {
	s := c.MAC.String()
	if c.ArchSource != ArchUnknown {
		s += fmt.Sprintf(" arch %d (%s)", uint16(c.Arch), c.Arch)
	}
	s += " " + c.Firmware.String() + " " + c.VendorClass.Class
	if c.HTTP {
		s += " HTTP"
	}
	if c.IPXE {
		s += " iPXE"
	}
	return s
}

// Identify describes the client that sent req, a DHCPDISCOVER, REQUEST or
// INFORM from a PXE or UEFI HTTP boot client.
//
// It returns an error wrapping [ErrNotPXE] when req is not a BOOTREQUEST
// or when option 60 is missing or names another vendor class, and an error wrapping
// [dhcp.ErrMalformedOption] when option 60, 93, 94, 97 or 175 is
// malformed. It does not keep or modify req, and it allocates only the
// copy of the MAC address and what an unusual option 60 needs.
func Identify(req *dhcpv4.DHCPv4) (Client, error) {
	if req == nil {
		return Client{}, fmt.Errorf("%w: no request", ErrNotPXE)
	}
	if req.OpCode != dhcpv4.OpcodeBootRequest {
		return Client{}, fmt.Errorf("%w: a BOOTREPLY, not a request", ErrNotPXE)
	}
	o := req.Options
	vc, ok := o[dhcpv4.OptionClassIdentifier.Code()]
	if !ok {
		return Client{}, ErrNotPXE
	}
	var c Client
	var err error
	if c.VendorClass, err = dhcp.ParseVendorClass(vc); err != nil {
		return Client{}, fmt.Errorf("nbp: %w", err)
	}
	if !c.VendorClass.IsPXE() && !c.VendorClass.IsHTTP() {
		return Client{}, ErrNotPXE
	}
	c.HWType = req.HWType
	if len(req.ClientHWAddr) > 0 {
		c.MAC = append(net.HardwareAddr(nil), req.ClientHWAddr...)
	}

	if b, ok := o[dhcpv4.OptionClientSystemArchitectureType.Code()]; ok {
		if c.Arch, err = dhcp.FirstClientArch(b); err != nil {
			return Client{}, fmt.Errorf("nbp: %w", err)
		}
		c.ArchSource = ArchFromOption93
	} else if c.VendorClass.HasArch {
		c.Arch, c.ArchSource = c.VendorClass.Arch, ArchFromVendorClass
	}
	if b, ok := o[dhcpv4.OptionClientNetworkInterfaceIdentifier.Code()]; ok {
		if c.NDI, err = dhcp.ParseClientNDI(b); err != nil {
			return Client{}, fmt.Errorf("nbp: %w", err)
		}
		c.HasNDI = true
	}
	if b, ok := o[dhcpv4.OptionClientMachineIdentifier.Code()]; ok {
		if c.GUID, err = dhcp.ParseClientGUID(b); err != nil {
			return Client{}, fmt.Errorf("nbp: %w", err)
		}
		c.HasGUID = true
	}
	if b, ok := o[dhcpv4.OptionUserClassInformation.Code()]; ok && dhcp.UserClassHas(b, "iPXE") {
		c.IPXE = true
	}
	if b, ok := o[dhcpv4.OptionEtherboot.Code()]; ok {
		if c.IPXEFeatures, err = dhcp.IPXEFeaturesOf(b); err != nil {
			return Client{}, fmt.Errorf("nbp: %w", err)
		}
		c.IPXE = true
	}

	c.RaspberryPi = c.HWType == iana.HWTypeEthernet && IsRaspberryPiMAC(c.MAC)
	if c.ArchSource != ArchUnknown {
		c.Firmware = firmwareOf(c.Arch)
		c.HTTP = isHTTPArch(c.Arch)
	}
	if c.VendorClass.IsHTTP() {
		c.HTTP = true
	}
	if c.RaspberryPi && c.ArchSource != ArchUnknown && c.Arch == iana.INTEL_X86PC && !c.IPXE {
		c.Firmware = FirmwareRaspberryPi
	}
	return c, nil
}

// firmwareOf maps an architecture type to its firmware family.
func firmwareOf(a iana.Arch) Firmware {
	switch a {
	case iana.INTEL_X86PC, iana.NEC_PC98, iana.INTEL_X86PC_HTTP:
		return FirmwareBIOS
	case iana.EFI_ITANIUM, iana.EFI_IA32, iana.EFI_X86_64, iana.EFI_XSCALE, iana.EFI_BC,
		iana.EFI_ARM32, iana.EFI_ARM64,
		iana.EFI_X86_HTTP, iana.EFI_X86_64_HTTP, iana.EFI_BC_HTTP, iana.EFI_ARM32_HTTP, iana.EFI_ARM64_HTTP,
		iana.EFI_RISCV32, iana.EFI_RISCV32_HTTP, iana.EFI_RISCV64, iana.EFI_RISCV64_HTTP,
		iana.EFI_RISCV128, iana.EFI_RISCV128_HTTP,
		iana.EFI_MIPS32, iana.EFI_MIPS64, iana.EFI_SUNWAY32, iana.EFI_SUNWAY64:
		return FirmwareUEFI
	case iana.UBOOT_ARM32, iana.UBOOT_ARM64, iana.UBOOT_ARM32_HTTP, iana.UBOOT_ARM64_HTTP:
		return FirmwareUBoot
	}
	return FirmwareOther
}

// isHTTPArch reports whether a is one of the "boot from HTTP"
// architecture types.
func isHTTPArch(a iana.Arch) bool {
	switch a {
	case iana.EFI_X86_HTTP, iana.EFI_X86_64_HTTP, iana.EFI_BC_HTTP, iana.EFI_ARM32_HTTP,
		iana.EFI_ARM64_HTTP, iana.INTEL_X86PC_HTTP, iana.UBOOT_ARM32_HTTP, iana.UBOOT_ARM64_HTTP,
		iana.EFI_RISCV32_HTTP, iana.EFI_RISCV64_HTTP, iana.EFI_RISCV128_HTTP:
		return true
	}
	return false
}
