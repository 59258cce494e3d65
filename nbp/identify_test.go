package nbp

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/dhcp"
)

// readCapture decodes a DHCPDISCOVER that real firmware sent (see
// testdata/README.md).
func readCapture(t testing.TB, name string) *dhcpv4.DHCPv4 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "captures", name+".bin"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := dhcpv4.FromBytes(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return req
}

// The machine UUID all captures were made with (qemu -uuid
// 12345678-9abc-def0-1122-334455667788). Both iPXE and EDK2 copy the SMBIOS
// bytes into option 97 as stored, first three fields little-endian, and
// pxelinux names the config file after the wire bytes.
const captureUUID = "78563412-bc9a-f0de-1122-334455667788"

// want is the part of a Client a table test checks.
type want struct {
	mac        string
	arch       iana.Arch
	source     ArchSource
	class      string
	undi       [2]uint16 // major, minor
	ndi        dhcp.ClientNDI
	uuid       string
	ipxe       bool
	features   []dhcp.IPXEFeature
	noFeatures []dhcp.IPXEFeature
	firmware   Firmware
	http       bool
	pi         bool
}

func check(t *testing.T, c Client, w want) {
	t.Helper()
	if c.MAC.String() != w.mac {
		t.Errorf("MAC = %v, want %v", c.MAC, w.mac)
	}
	if c.Arch != w.arch || c.ArchSource != w.source {
		t.Errorf("Arch = %d from %v, want %d from %v", c.Arch, c.ArchSource, w.arch, w.source)
	}
	if c.VendorClass.Class != w.class {
		t.Errorf("Class = %q, want %q", c.VendorClass.Class, w.class)
	}
	if w.undi != [2]uint16{} && (!c.VendorClass.HasUNDI || c.VendorClass.UNDIMajor != w.undi[0] || c.VendorClass.UNDIMinor != w.undi[1]) {
		t.Errorf("UNDI = %v %d.%d, want %d.%d", c.VendorClass.HasUNDI, c.VendorClass.UNDIMajor, c.VendorClass.UNDIMinor, w.undi[0], w.undi[1])
	}
	if w.ndi != (dhcp.ClientNDI{}) && (!c.HasNDI || c.NDI != w.ndi) {
		t.Errorf("NDI = %v %v, want %v", c.HasNDI, c.NDI, w.ndi)
	}
	if c.UUID() != w.uuid {
		t.Errorf("UUID() = %q, want %q", c.UUID(), w.uuid)
	}
	if c.IPXE != w.ipxe {
		t.Errorf("IPXE = %v, want %v", c.IPXE, w.ipxe)
	}
	for _, f := range w.features {
		if !c.IPXEFeatures.Has(f) {
			t.Errorf("IPXEFeatures %v lacks %v", c.IPXEFeatures, f)
		}
	}
	for _, f := range w.noFeatures {
		if c.IPXEFeatures.Has(f) {
			t.Errorf("IPXEFeatures %v has %v", c.IPXEFeatures, f)
		}
	}
	if c.Firmware != w.firmware {
		t.Errorf("Firmware = %v, want %v", c.Firmware, w.firmware)
	}
	if c.HTTP != w.http {
		t.Errorf("HTTP = %v, want %v", c.HTTP, w.http)
	}
	if c.RaspberryPi != w.pi {
		t.Errorf("RaspberryPi = %v, want %v", c.RaspberryPi, w.pi)
	}
}

// TestIdentifyCaptures identifies the DHCPDISCOVERs captured from real
// firmware in QEMU.
// TestUUIDAsPXELinuxNamesIt checks Client.UUID against the config file name
// that Debian's pxelinux.0 itself asked for over TFTP, booted through iPXE
// in QEMU with the same DHCPDISCOVER (capture.sh pxelinux-uuid), and that
// PXELinuxAccepts agrees with whether pxelinux tried a UUID file at all.
func TestUUIDAsPXELinuxNamesIt(t *testing.T) {
	for _, tt := range []struct {
		name     string
		accepted bool
	}{
		{"pxelinux-uuid", true},
		{"pxelinux-uuid-skipped", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Identify(readCapture(t, tt.name))
			if err != nil {
				t.Fatal(err)
			}
			txt, err := os.ReadFile(filepath.Join("testdata", "captures", tt.name+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			asked := strings.Fields(string(txt))
			if len(asked) == 0 {
				t.Fatal("pxelinux asked for no file")
			}
			if got := c.GUID.PXELinuxAccepts(); got != tt.accepted {
				t.Errorf("PXELinuxAccepts() = %v, want %v", got, tt.accepted)
			}
			if tt.accepted && asked[0] != c.UUID() {
				t.Errorf("UUID() = %q; pxelinux asked for pxelinux.cfg/%s", c.UUID(), asked[0])
			}
			if !tt.accepted && slices.Contains(asked, c.UUID()) {
				t.Errorf("pxelinux asked for %s although PXELinuxAccepts() is false", c.UUID())
			}
			// The MAC file comes next, in pxelinux's "01-" form.
			if want := "01-" + strings.ReplaceAll(c.MAC.String(), ":", "-"); !slices.Contains(asked, want) {
				t.Errorf("pxelinux did not ask for %s: %v", want, asked)
			}
		})
	}
}

func TestIdentifyCaptures(t *testing.T) {
	ipxeBIOS := []dhcp.IPXEFeature{dhcp.IPXEFeatureHTTP, dhcp.IPXEFeatureTFTP, dhcp.IPXEFeatureDNS, dhcp.IPXEFeaturePXE, dhcp.IPXEFeatureBzImage, dhcp.IPXEFeatureISCSI, dhcp.IPXEFeatureMenu}
	tests := []struct {
		name string
		want want
	}{
		{"ipxe-bios-e1000", want{mac: "52:54:00:00:00:01", arch: iana.INTEL_X86PC, source: ArchFromOption93, class: "PXEClient", undi: [2]uint16{2, 1}, ndi: dhcp.ClientNDI{Type: 1, Major: 2, Minor: 1}, uuid: captureUUID, ipxe: true, features: ipxeBIOS, noFeatures: []dhcp.IPXEFeature{dhcp.IPXEFeatureHTTPS, dhcp.IPXEFeatureEFI}, firmware: FirmwareBIOS}},
		{"ipxe-bios-virtio", want{mac: "52:54:00:00:00:02", arch: iana.INTEL_X86PC, source: ArchFromOption93, class: "PXEClient", undi: [2]uint16{2, 1}, ndi: dhcp.ClientNDI{Type: 1, Major: 2, Minor: 1}, uuid: captureUUID, ipxe: true, features: ipxeBIOS, firmware: FirmwareBIOS}},
		{"ovmf-ipxe-virtio", want{mac: "52:54:00:00:00:03", arch: iana.EFI_X86_64, source: ArchFromOption93, class: "PXEClient", undi: [2]uint16{3, 10}, ndi: dhcp.ClientNDI{Type: 1, Major: 3, Minor: 10}, uuid: captureUUID, ipxe: true, features: []dhcp.IPXEFeature{dhcp.IPXEFeatureEFI, dhcp.IPXEFeatureHTTP}, noFeatures: []dhcp.IPXEFeature{dhcp.IPXEFeaturePXE, dhcp.IPXEFeatureBzImage}, firmware: FirmwareUEFI}},
		{"ovmf-pxe", want{mac: "52:54:00:00:00:07", arch: iana.EFI_X86_64, source: ArchFromOption93, class: "PXEClient", undi: [2]uint16{3, 0}, ndi: dhcp.ClientNDI{Type: 1, Major: 3}, uuid: captureUUID, firmware: FirmwareUEFI}},
		{"ovmf-http", want{mac: "52:54:00:00:00:04", arch: iana.EFI_X86_64_HTTP, source: ArchFromOption93, class: "HTTPClient", undi: [2]uint16{3, 0}, ndi: dhcp.ClientNDI{Type: 1, Major: 3}, uuid: captureUUID, firmware: FirmwareUEFI, http: true}},
		{"aavmf-pxe", want{mac: "52:54:00:00:00:05", arch: iana.EFI_ARM64, source: ArchFromOption93, class: "PXEClient", undi: [2]uint16{3, 0}, ndi: dhcp.ClientNDI{Type: 1, Major: 3}, uuid: captureUUID, firmware: FirmwareUEFI}},
		{"aavmf-http", want{mac: "52:54:00:00:00:06", arch: iana.EFI_ARM64_HTTP, source: ArchFromOption93, class: "HTTPClient", undi: [2]uint16{3, 0}, ndi: dhcp.ClientNDI{Type: 1, Major: 3}, uuid: captureUUID, firmware: FirmwareUEFI, http: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Identify(readCapture(t, tt.name))
			if err != nil {
				t.Fatalf("Identify: %v", err)
			}
			check(t, c, tt.want)
		})
	}
}

// request builds a DHCPDISCOVER with the given MAC and options, as a test
// stand-in for firmware we cannot run here.
func request(t *testing.T, mac string, mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	t.Helper()
	hw, err := net.ParseMAC(mac)
	if err != nil {
		t.Fatal(err)
	}
	req, err := dhcpv4.NewDiscovery(hw, mods...)
	if err != nil {
		t.Fatal(err)
	}
	// Round-trip through the wire format, as a server would see it.
	req, err = dhcpv4.FromBytes(req.ToBytes())
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func vc(s string) dhcpv4.Modifier { return dhcpv4.WithOption(dhcpv4.OptClassIdentifier(s)) }

func TestIdentifyQuirks(t *testing.T) {
	guid := dhcp.ClientGUID{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00}
	tests := []struct {
		name string
		req  *dhcpv4.DHCPv4
		want want
	}{
		{
			// x86-64 UEFI firmware that follows RFC 4578's original table
			// and sends 9.
			"arch 9", request(t, "00:11:22:33:44:55", vc("PXEClient:Arch:00009:UNDI:003016"), dhcp.WithClientArchs(iana.EFI_BC), dhcp.WithClientGUID(guid)),
			want{mac: "00:11:22:33:44:55", arch: 9, source: ArchFromOption93, class: "PXEClient", undi: [2]uint16{3, 16}, uuid: "11223344-5566-7788-99aa-bbccddeeff00", firmware: FirmwareUEFI},
		},
		{
			// An Intel BIOS ROM: no option 97, no user class.
			"intel rom without 97", request(t, "a0:36:9f:00:00:01", vc("PXEClient:Arch:00000:UNDI:002001"), dhcp.WithClientArchs(iana.INTEL_X86PC), dhcp.WithClientNDI(dhcp.ClientNDI{Type: 1, Major: 2, Minor: 1})),
			want{mac: "a0:36:9f:00:00:01", arch: 0, source: ArchFromOption93, class: "PXEClient", undi: [2]uint16{2, 1}, ndi: dhcp.ClientNDI{Type: 1, Major: 2, Minor: 1}, firmware: FirmwareBIOS},
		},
		{
			// No option 93: the Arch field of option 60 stands in.
			"arch from option 60", request(t, "00:11:22:33:44:56", vc("PXEClient:Arch:00011:UNDI:003000")),
			want{mac: "00:11:22:33:44:56", arch: iana.EFI_ARM64, source: ArchFromVendorClass, class: "PXEClient", undi: [2]uint16{3, 0}, firmware: FirmwareUEFI},
		},
		{
			// Option 93 wins over option 60 when they disagree.
			"93 over 60", request(t, "00:11:22:33:44:57", vc("PXEClient:Arch:00000:UNDI:002001"), dhcp.WithClientArchs(iana.EFI_X86_64)),
			want{mac: "00:11:22:33:44:57", arch: iana.EFI_X86_64, source: ArchFromOption93, class: "PXEClient", undi: [2]uint16{2, 1}, firmware: FirmwareUEFI},
		},
		{
			"no architecture", request(t, "00:11:22:33:44:58", vc("PXEClient")),
			want{mac: "00:11:22:33:44:58", class: "PXEClient", firmware: FirmwareOther},
		},
		{
			// A Raspberry Pi 4 boot ROM: arch 0, Pi OUI.
			"raspberry pi 4", request(t, "dc:a6:32:01:02:03", vc("PXEClient:Arch:00000:UNDI:002001"), dhcp.WithClientArchs(iana.INTEL_X86PC)),
			want{mac: "dc:a6:32:01:02:03", arch: 0, source: ArchFromOption93, class: "PXEClient", undi: [2]uint16{2, 1}, firmware: FirmwareRaspberryPi, pi: true},
		},
		{
			// A Pi 3 (old OUI) without option 93.
			"raspberry pi 3", request(t, "b8:27:eb:01:02:03", vc("PXEClient:Arch:00000:UNDI:002001")),
			want{mac: "b8:27:eb:01:02:03", arch: 0, source: ArchFromVendorClass, class: "PXEClient", undi: [2]uint16{2, 1}, firmware: FirmwareRaspberryPi, pi: true},
		},
		{
			// A Pi running UEFI firmware (arch 11) is a UEFI client that
			// happens to be a Pi.
			"raspberry pi uefi", request(t, "e4:5f:01:01:02:03", vc("PXEClient:Arch:00011:UNDI:003000"), dhcp.WithClientArchs(iana.EFI_ARM64)),
			want{mac: "e4:5f:01:01:02:03", arch: 11, source: ArchFromOption93, class: "PXEClient", undi: [2]uint16{3, 0}, firmware: FirmwareUEFI, pi: true},
		},
		{
			// iPXE announcing itself with an RFC 3004 user class only.
			"ipxe rfc 3004", request(t, "00:11:22:33:44:59", vc("PXEClient:Arch:00007:UNDI:003016"), dhcp.WithClientArchs(iana.EFI_X86_64), dhcpv4.WithUserClass("iPXE", true)),
			want{mac: "00:11:22:33:44:59", arch: 7, source: ArchFromOption93, class: "PXEClient", undi: [2]uint16{3, 16}, ipxe: true, firmware: FirmwareUEFI},
		},
		{
			// Option 175 alone marks iPXE, with its features.
			"ipxe 175 only", request(t, "00:11:22:33:44:5a", vc("PXEClient:Arch:00000:UNDI:002001"), dhcp.WithClientArchs(0),
				dhcp.WithIPXEOptions(dhcp.IPXEOptions{Options: []dhcp.SubOption{{Code: byte(dhcp.IPXEFeatureHTTPS), Data: []byte{1}}}})),
			want{mac: "00:11:22:33:44:5a", arch: 0, source: ArchFromOption93, class: "PXEClient", undi: [2]uint16{2, 1}, ipxe: true, features: []dhcp.IPXEFeature{dhcp.IPXEFeatureHTTPS}, noFeatures: []dhcp.IPXEFeature{dhcp.IPXEFeatureHTTP}, firmware: FirmwareBIOS},
		},
		{
			// A user class other than iPXE is not iPXE.
			"other user class", request(t, "00:11:22:33:44:5b", vc("PXEClient:Arch:00000:UNDI:002001"), dhcpv4.WithUserClass("gPXEx", false)),
			want{mac: "00:11:22:33:44:5b", arch: 0, source: ArchFromVendorClass, class: "PXEClient", undi: [2]uint16{2, 1}, firmware: FirmwareBIOS},
		},
		{
			"u-boot arm64", request(t, "02:00:00:00:00:01", vc("PXEClient:Arch:00022:UNDI:003000"), dhcp.WithClientArchs(iana.UBOOT_ARM64)),
			want{mac: "02:00:00:00:00:01", arch: 22, source: ArchFromOption93, class: "PXEClient", undi: [2]uint16{3, 0}, firmware: FirmwareUBoot},
		},
		{
			// An HTTP architecture marks HTTP boot even with a PXEClient
			// class.
			"http arch", request(t, "02:00:00:00:00:02", vc("PXEClient:Arch:00016:UNDI:003000"), dhcp.WithClientArchs(iana.EFI_X86_64_HTTP)),
			want{mac: "02:00:00:00:00:02", arch: 16, source: ArchFromOption93, class: "PXEClient", undi: [2]uint16{3, 0}, firmware: FirmwareUEFI, http: true},
		},
		{
			"riscv64", request(t, "02:00:00:00:00:03", vc("PXEClient:Arch:00027:UNDI:003000"), dhcp.WithClientArchs(iana.EFI_RISCV64)),
			want{mac: "02:00:00:00:00:03", arch: 27, source: ArchFromOption93, class: "PXEClient", undi: [2]uint16{3, 0}, firmware: FirmwareUEFI},
		},
		{
			"powerpc", request(t, "02:00:00:00:00:04", vc("PXEClient:Arch:00012:UNDI:003000"), dhcp.WithClientArchs(iana.PPC_OPEN_FIRMWARE)),
			want{mac: "02:00:00:00:00:04", arch: 12, source: ArchFromOption93, class: "PXEClient", undi: [2]uint16{3, 0}, firmware: FirmwareOther},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Identify(tt.req)
			if err != nil {
				t.Fatalf("Identify: %v", err)
			}
			check(t, c, tt.want)
		})
	}
}

func TestIdentifyNotPXE(t *testing.T) {
	for name, req := range map[string]*dhcpv4.DHCPv4{
		"nil":           nil,
		"no option 60":  request(t, "00:11:22:33:44:55", dhcp.WithClientArchs(iana.EFI_X86_64)),
		"windows":       request(t, "00:11:22:33:44:55", vc("MSFT 5.0")),
		"udhcpc":        request(t, "00:11:22:33:44:55", vc("udhcp 1.36.1")),
		"prefix only":   request(t, "00:11:22:33:44:55", vc("PXEClientX")),
		"syslinux.efi2": request(t, "00:11:22:33:44:55", dhcpv4.WithRequestedOptions(dhcpv4.OptionBootfileName)),
		// dnsmasq's OFFER carries "PXEClient" but is a reply.
		"dnsmasq offer": readCapture(t, "pxelinux-uuid-dnsmasq-offer"),
	} {
		t.Run(name, func(t *testing.T) {
			c, err := Identify(req)
			if !errors.Is(err, ErrNotPXE) {
				t.Fatalf("Identify = %v, %v; want ErrNotPXE", c, err)
			}
		})
	}
}

func TestIdentifyMalformed(t *testing.T) {
	base := []dhcpv4.Modifier{vc("PXEClient:Arch:00000:UNDI:002001")}
	for name, mod := range map[string]dhcpv4.Modifier{
		"option 60 arch":  vc("PXEClient:Arch:0:UNDI:002001"),
		"option 60 undi":  vc("HTTPClient:Arch:00016:UNDI:3"),
		"option 93 odd":   dhcpv4.WithGeneric(dhcpv4.OptionClientSystemArchitectureType, []byte{0, 7, 0}),
		"option 93 empty": dhcpv4.WithGeneric(dhcpv4.OptionClientSystemArchitectureType, []byte{}),
		"option 94 short": dhcpv4.WithGeneric(dhcpv4.OptionClientNetworkInterfaceIdentifier, []byte{1, 2}),
		"option 97 short": dhcpv4.WithGeneric(dhcpv4.OptionClientMachineIdentifier, make([]byte, 16)),
		"option 97 type":  dhcpv4.WithGeneric(dhcpv4.OptionClientMachineIdentifier, append([]byte{2}, make([]byte, 16)...)),
		"option 175":      dhcpv4.WithGeneric(dhcpv4.OptionEtherboot, []byte{0x13, 5, 1}),
	} {
		t.Run(name, func(t *testing.T) {
			c, err := Identify(request(t, "00:11:22:33:44:55", append(base, mod)...))
			if !errors.Is(err, dhcp.ErrMalformedOption) || errors.Is(err, ErrNotPXE) {
				t.Fatalf("Identify = %v, %v; want a malformed option error", c, err)
			}
			var oe *dhcp.OptionError
			if !errors.As(err, &oe) {
				t.Fatalf("error %v carries no *dhcp.OptionError", err)
			}
		})
	}
}

func TestIdentifyKeepsNoReference(t *testing.T) {
	req := readCapture(t, "ovmf-pxe")
	c, err := Identify(req)
	if err != nil {
		t.Fatal(err)
	}
	req.ClientHWAddr[0] = 0xff
	if c.MAC[0] != 0x52 {
		t.Errorf("Client.MAC shares memory with the request")
	}
}

func TestClientString(t *testing.T) {
	c, err := Identify(readCapture(t, "ovmf-ipxe-virtio"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.String(), "52:54:00:00:00:03 arch 7 (EFI x86-64) UEFI PXEClient iPXE"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if !c.X8664UEFI() {
		t.Error("X8664UEFI() = false for arch 7")
	}
	if (Client{Arch: 9, ArchSource: ArchFromOption93}).X8664UEFI() != true || (Client{Arch: 11, ArchSource: ArchFromOption93}).X8664UEFI() {
		t.Error("X8664UEFI wrong for 9 or 11")
	}
	for f, s := range map[Firmware]string{FirmwareOther: "other", FirmwareBIOS: "BIOS", FirmwareUEFI: "UEFI", FirmwareUBoot: "U-Boot", FirmwareRaspberryPi: "Raspberry Pi"} {
		if f.String() != s {
			t.Errorf("Firmware(%d).String() = %q, want %q", f, f.String(), s)
		}
	}
}

func TestIsRaspberryPiMAC(t *testing.T) {
	for mac, want := range map[string]bool{
		"b8:27:eb:00:00:01": true, "dc:a6:32:00:00:01": true, "e4:5f:01:00:00:01": true,
		"28:cd:c1:00:00:01": true, "d8:3a:dd:00:00:01": true, "2c:cf:67:00:00:01": true,
		"b8:27:ec:00:00:01": false, "52:54:00:00:00:01": false,
		"b8:27:eb:00:00:00:00:01": false,
	} {
		hw, err := net.ParseMAC(mac)
		if err != nil {
			t.Fatal(err)
		}
		if got := IsRaspberryPiMAC(hw); got != want {
			t.Errorf("IsRaspberryPiMAC(%s) = %v, want %v", mac, got, want)
		}
	}
}

func TestArchSourceString(t *testing.T) {
	for s, want := range map[ArchSource]string{ArchUnknown: "unknown", ArchFromOption93: "option 93", ArchFromVendorClass: "option 60"} {
		if s.String() != want {
			t.Errorf("ArchSource(%d).String() = %q, want %q", s, s.String(), want)
		}
	}
}
