package nbp

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
)

// TestCaptures6 checks that the DHCPv6 messages captured from real
// firmware (testdata/captures6, made by capture6.sh) are what the README
// says: Solicits that insomniacslk's dhcpv6 decodes, with the client
// architecture, vendor class and user class each firmware sends. They are
// seeds for the DHCPv6 decoders and the source of v6 client profiles.
func TestCaptures6(t *testing.T) {
	for _, tc := range []struct {
		file   string
		arch   iana.Arch // 0xffff: no option 61
		vendor string    // option 16 data for enterprise 343, "" for none
		ipxe   bool      // user class "iPXE"
		duid   []byte    // DUID-UUID (type 4) bytes after the type
	}{
		// EDK2 copies the SMBIOS UUID as stored (first fields little-endian).
		{"ovmf-pxe6-1.bin", 0xffff, "", false, edk2UUID},
		{"ovmf-pxe6-2.bin", iana.EFI_X86_64, "PXEClient:Arch:00007:UNDI:003000", false, edk2UUID},
		{"ovmf-http6-1.bin", iana.EFI_X86_64_HTTP, "HTTPClient:Arch:00016:UNDI:003000", false, edk2UUID},
		{"ovmf-http6-2.bin", 0xffff, "", false, edk2UUID},
		// iPXE sends the UUID in RFC 4122 order.
		{"ipxe-bios-e1000-v6-1.bin", iana.INTEL_X86PC, "PXEClient:Arch:00000:UNDI:002001", true, ipxeUUID},
		{"ovmf-ipxe-virtio-v6-1.bin", iana.EFI_X86_64, "PXEClient:Arch:00007:UNDI:003010", true, ipxeUUID},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "captures6", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			d, err := dhcpv6.FromBytes(b)
			if err != nil {
				t.Fatalf("dhcpv6.FromBytes: %v", err)
			}
			m, ok := d.(*dhcpv6.Message)
			if !ok || m.MessageType != dhcpv6.MessageTypeSolicit {
				t.Fatalf("message %v, want a Solicit", d.Type())
			}
			if !bytes.Equal(b, m.ToBytes()) {
				t.Errorf("re-encoded message differs:\n got % x\nwant % x", m.ToBytes(), b)
			}
			duid := m.Options.ClientID()
			if duid == nil || duid.DUIDType() != dhcpv6.DUID_UUID || !bytes.Equal(duid.ToBytes()[2:], tc.duid) {
				t.Errorf("client ID %v, want DUID-UUID % x", duid, tc.duid)
			}
			archs := m.Options.ArchTypes()
			switch {
			case tc.arch == 0xffff && len(archs) != 0:
				t.Errorf("arch %v, want no option 61", archs)
			case tc.arch != 0xffff && (len(archs) != 1 || archs[0] != tc.arch):
				t.Errorf("arch %v, want %v", archs, tc.arch)
			}
			var vendor string
			if v := m.Options.VendorClass(343); len(v) > 0 {
				vendor = string(v[0])
			}
			if vendor != tc.vendor {
				t.Errorf("vendor class %q, want %q", vendor, tc.vendor)
			}
			ipxe := false
			for _, u := range m.Options.UserClasses() {
				ipxe = ipxe || string(u) == "iPXE"
			}
			if ipxe != tc.ipxe {
				t.Errorf("user class iPXE %v, want %v", ipxe, tc.ipxe)
			}
		})
	}
}

var (
	edk2UUID = []byte{0x78, 0x56, 0x34, 0x12, 0xbc, 0x9a, 0xf0, 0xde, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}
	ipxeUUID = []byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}
)
