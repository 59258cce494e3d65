package nbp

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/dhcp6"
)

var mac6 = net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56}

// solicit6 builds a Solicit as OVMF's PxeBcDxe/HttpBootDxe or iPXE send
// it: client ID DUID-LLT from mac6, option 61, 16 (enterprise 343) and
// 15 as given.
func solicit6(t *testing.T, arch []iana.Arch, class string, user string) *dhcpv6.Message {
	t.Helper()
	m, err := dhcpv6.NewSolicit(mac6)
	if err != nil {
		t.Fatal(err)
	}
	if arch != nil {
		m.AddOption(dhcpv6.OptClientArchType(arch...))
	}
	if class != "" {
		m.AddOption(&dhcpv6.OptVendorClass{EnterpriseNumber: 343, Data: [][]byte{[]byte(class)}})
	}
	if user != "" {
		m.AddOption(&dhcpv6.OptUserClass{UserClasses: [][]byte{[]byte(user)}})
	}
	m.AddOption(&dhcpv6.OptNetworkInterfaceID{Typ: 1, Major: 3, Minor: 16})
	// Through the wire and back, as the server sees it.
	got, err := dhcpv6.MessageFromBytes(m.ToBytes())
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestIdentify6(t *testing.T) {
	cases := []struct {
		name               string
		arch               []iana.Arch
		class, user        string
		wantArch           iana.Arch
		wantSrc            ArchSource
		wantHTTP, wantIPXE bool
		wantFirmware       Firmware
	}{
		{"OVMF PXEv6", []iana.Arch{iana.EFI_X86_64}, "PXEClient:Arch:00007:UNDI:003016", "", iana.EFI_X86_64, ArchFromOption61, false, false, FirmwareUEFI},
		{"OVMF HTTPv6", []iana.Arch{iana.EFI_X86_64_HTTP}, "HTTPClient:Arch:00016:UNDI:003016", "", iana.EFI_X86_64_HTTP, ArchFromOption61, true, false, FirmwareUEFI},
		{"HTTP by class only", []iana.Arch{iana.EFI_X86_64}, "HTTPClient", "", iana.EFI_X86_64, ArchFromOption61, true, false, FirmwareUEFI},
		{"iPXE BIOS", []iana.Arch{iana.INTEL_X86PC}, "PXEClient:Arch:00000:UNDI:002001", "iPXE", iana.INTEL_X86PC, ArchFromOption61, false, true, FirmwareBIOS},
		{"arch from class", nil, "PXEClient:Arch:00011:UNDI:003000", "", iana.EFI_ARM64, ArchFromVendorClass, false, false, FirmwareUEFI},
		{"arch only", []iana.Arch{iana.EFI_ARM64}, "", "iPXE", iana.EFI_ARM64, ArchFromOption61, false, true, FirmwareUEFI},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Identify6(solicit6(t, tc.arch, tc.class, tc.user))
			if err != nil {
				t.Fatalf("Identify6: %v", err)
			}
			if !c.V6 || c.Arch != tc.wantArch || c.ArchSource != tc.wantSrc || c.HTTP != tc.wantHTTP || c.IPXE != tc.wantIPXE || c.Firmware != tc.wantFirmware {
				t.Errorf("Identify6 = %+v, want arch %d from %v, HTTP %v, iPXE %v, %v", c, tc.wantArch, tc.wantSrc, tc.wantHTTP, tc.wantIPXE, tc.wantFirmware)
			}
			if c.MAC.String() != mac6.String() || !c.HasDUID || !c.HasNDI || c.NDI.Minor != 16 {
				t.Errorf("Identify6 MAC %v DUID %v NDI %+v", c.MAC, c.HasDUID, c.NDI)
			}
		})
	}
}

func TestIdentify6NotPXE(t *testing.T) {
	plain := solicit6(t, nil, "", "")
	other := solicit6(t, nil, "", "")
	other.AddOption(&dhcpv6.OptVendorClass{EnterpriseNumber: 311, Data: [][]byte{[]byte("PXEClient")}})
	adv, _ := dhcpv6.NewAdvertiseFromSolicit(solicit6(t, []iana.Arch{7}, "PXEClient", ""))
	for name, m := range map[string]*dhcpv6.Message{"plain": plain, "enterprise 311": other, "advertise": adv, "nil": nil} {
		if _, err := Identify6(m); !errors.Is(err, ErrNotPXE) {
			t.Errorf("%s: Identify6 err = %v, want ErrNotPXE", name, err)
		}
	}
}

func TestIdentify6Malformed(t *testing.T) {
	m := solicit6(t, []iana.Arch{7}, "", "")
	m.AddOption(&dhcpv6.OptVendorClass{EnterpriseNumber: 343, Data: [][]byte{[]byte("PXEClient:Arch:xyz")}})
	if _, err := Identify6(m); err == nil {
		t.Errorf("Identify6 with a bad Arch field in option 16 = nil error")
	}
}

func TestDecide6URLs(t *testing.T) {
	global := dhcp6.WithArrival(context.Background(), dhcp6.Arrival{Local: netip.MustParseAddr("2001:db8::1")})
	ll := dhcp6.WithArrival(context.Background(), dhcp6.Arrival{Local: netip.MustParseAddr("fe80::1%eth0")})
	p := &Policy{
		TFTP:       map[iana.Arch]string{iana.EFI_X86_64: "/efi/ipxe.efi"},
		HTTP:       map[iana.Arch]string{iana.EFI_X86_64_HTTP: "http://:8080/ipxe.efi", iana.EFI_ARM64_HTTP: "http://boot.example/grub.efi"},
		IPXEScript: "http://:8080/boot.ipxe",
	}
	cases := []struct {
		name     string
		ctx      context.Context
		req      *dhcpv6.Message
		want     string
		wantHTTP bool
	}{
		{"PXE tftp", global, solicit6(t, []iana.Arch{7}, "PXEClient:Arch:00007:UNDI:003016", ""), "tftp://[2001:db8::1]/efi/ipxe.efi", false},
		{"PXE link-local", ll, solicit6(t, []iana.Arch{7}, "PXEClient", ""), "tftp://[fe80::1%25eth0]/efi/ipxe.efi", false},
		{"HTTP hostless", global, solicit6(t, []iana.Arch{16}, "HTTPClient", ""), "http://[2001:db8::1]:8080/ipxe.efi", true},
		{"HTTP with host", global, solicit6(t, []iana.Arch{19}, "HTTPClient", ""), "http://boot.example/grub.efi", true},
		{"iPXE script", global, solicit6(t, []iana.Arch{7}, "", "iPXE"), "http://[2001:db8::1]:8080/boot.ipxe", false},
		{"BIOS default", global, solicit6(t, []iana.Arch{0}, "PXEClient", ""), "tftp://[2001:db8::1]/pxelinux.0", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := p
			if tc.name == "BIOS default" {
				q = nil
			}
			b, err := q.Decide6(tc.ctx, tc.req)
			if err != nil || b.URL != tc.want || b.HTTP != tc.wantHTTP {
				t.Errorf("Decide6 = %+v, %v; want URL %q HTTP %v", b, err, tc.want, tc.wantHTTP)
			}
		})
	}
	if _, err := p.Decide6(context.Background(), solicit6(t, []iana.Arch{7}, "PXEClient", "")); err == nil {
		t.Errorf("Decide6 without an arrival address = nil error")
	}
	if _, err := p.Decide6(global, solicit6(t, nil, "", "")); !errors.Is(err, dhcp6.ErrNoBoot) || !errors.Is(err, ErrNotPXE) {
		t.Errorf("Decide6 of a plain Solicit = %v, want ErrNoBoot and ErrNotPXE", err)
	}
}

// FuzzIdentify6 parses arbitrary bytes as a DHCPv6 message and
// identifies it: no panic.
func FuzzIdentify6(f *testing.F) {
	m, _ := dhcpv6.NewSolicit(mac6)
	m.AddOption(dhcpv6.OptClientArchType(7))
	m.AddOption(&dhcpv6.OptVendorClass{EnterpriseNumber: 343, Data: [][]byte{[]byte("PXEClient:Arch:00007:UNDI:003016")}})
	m.AddOption(&dhcpv6.OptUserClass{UserClasses: [][]byte{[]byte("iPXE")}})
	f.Add(m.ToBytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, err := dhcpv6.MessageFromBytes(b)
		if err != nil {
			return
		}
		c, err := Identify6(msg)
		if err == nil {
			_ = c.String()
		}
		a := dhcp6.WithArrival(context.Background(), dhcp6.Arrival{Local: netip.MustParseAddr("2001:db8::1")})
		_, _ = (&Policy{}).Decide6(a, msg)
	})
}
