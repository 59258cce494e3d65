package nbp

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/dhcp"
)

func TestPolicyDefaultsOnCaptures(t *testing.T) {
	p := &Policy{HTTPBase: "http://10.0.0.1:8080/boot"}
	tests := []struct {
		capture string
		want    Choice
		err     error
	}{
		// iPXE with no script configured gets the ordinary program
		// (pxelinux.0 and syslinux.efi are not iPXE).
		{"ipxe-bios-e1000", Choice{File: "pxelinux.0"}, nil},
		{"ipxe-bios-virtio", Choice{File: "pxelinux.0"}, nil},
		{"ovmf-ipxe-virtio", Choice{File: "syslinux.efi"}, nil},
		{"ovmf-pxe", Choice{File: "syslinux.efi"}, nil},
		{"ovmf-http", Choice{File: "http://10.0.0.1:8080/boot/ipxe.efi", HTTP: true}, nil},
		{"aavmf-pxe", Choice{File: "grubnetaa64.efi"}, nil},
		{"aavmf-http", Choice{File: "http://10.0.0.1:8080/boot/grubnetaa64.efi", HTTP: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.capture, func(t *testing.T) {
			c, err := Identify(readCapture(t, tt.capture))
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Choose(c)
			if got != tt.want || !errors.Is(err, tt.err) {
				t.Errorf("Choose(%v) = %+v, %v; want %+v, %v", c, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestPolicyRules(t *testing.T) {
	bios := Client{Arch: iana.INTEL_X86PC, ArchSource: ArchFromOption93, Firmware: FirmwareBIOS}
	efi9 := Client{Arch: iana.EFI_BC, ArchSource: ArchFromOption93, Firmware: FirmwareUEFI}
	ipxeEFI := Client{Arch: iana.EFI_X86_64, ArchSource: ArchFromOption93, Firmware: FirmwareUEFI, IPXE: true}
	pi := Client{Arch: iana.INTEL_X86PC, ArchSource: ArchFromOption93, Firmware: FirmwareRaspberryPi, RaspberryPi: true}
	httpX64 := Client{Arch: iana.EFI_X86_64_HTTP, ArchSource: ArchFromOption93, Firmware: FirmwareUEFI, HTTP: true}
	arm32 := Client{Arch: iana.EFI_ARM32, ArchSource: ArchFromOption93, Firmware: FirmwareUEFI}
	noArch := Client{}

	tests := []struct {
		name   string
		policy *Policy
		client Client
		want   Choice
		err    error
	}{
		{"nil policy bios", nil, bios, Choice{File: "pxelinux.0"}, nil},
		{"arch 9 is x86-64", &Policy{}, efi9, Choice{File: "syslinux.efi"}, nil},
		{"override", &Policy{TFTP: map[iana.Arch]string{iana.INTEL_X86PC: "undionly.kpxe"}}, bios, Choice{File: "undionly.kpxe"}, nil},
		{"override keeps other defaults", &Policy{TFTP: map[iana.Arch]string{iana.INTEL_X86PC: "undionly.kpxe"}}, efi9, Choice{File: "syslinux.efi"}, nil},
		{"removed by empty entry", &Policy{TFTP: map[iana.Arch]string{iana.EFI_BC: ""}}, efi9, Choice{}, ErrUncovered},
		{"uncovered arch", &Policy{}, arm32, Choice{}, ErrUncovered},
		{"added arch", &Policy{TFTP: map[iana.Arch]string{iana.EFI_ARM32: "grubarm.efi"}}, arm32, Choice{File: "grubarm.efi"}, nil},
		{"no arch", &Policy{}, noArch, Choice{}, ErrUncovered},
		{"ipxe script", &Policy{IPXEScript: "http://10.0.0.1/boot.ipxe"}, ipxeEFI, Choice{File: "http://10.0.0.1/boot.ipxe", IPXEScript: true}, nil},
		{"ipxe script for ipxe without arch", &Policy{IPXEScript: "boot.ipxe"}, Client{IPXE: true}, Choice{File: "boot.ipxe", IPXEScript: true}, nil},
		{"chain-load loop", &Policy{TFTP: map[iana.Arch]string{iana.EFI_X86_64: "ipxe.efi"}}, ipxeEFI, Choice{}, ErrChainLoop},
		{"loop broken by script", &Policy{TFTP: map[iana.Arch]string{iana.EFI_X86_64: "ipxe.efi"}, IPXEScript: "s.ipxe"}, ipxeEFI, Choice{File: "s.ipxe", IPXEScript: true}, nil},
		{"non-ipxe client gets ipxe", &Policy{TFTP: map[iana.Arch]string{iana.INTEL_X86PC: "undionly.kpxe"}, IPXEScript: "s.ipxe"}, bios, Choice{File: "undionly.kpxe"}, nil},
		{"raspberry pi", &Policy{}, pi, Choice{File: "bootcode.bin", Menu: RaspberryPiMenu}, nil},
		{"raspberry pi file", &Policy{RaspberryPi: "rpi/bootcode.bin"}, pi, Choice{File: "rpi/bootcode.bin", Menu: RaspberryPiMenu}, nil},
		{"http without base", &Policy{}, httpX64, Choice{}, ErrUncovered},
		{"http entry", &Policy{HTTP: map[iana.Arch]string{iana.EFI_X86_64_HTTP: "https://boot.example/grubx64.efi"}}, httpX64, Choice{File: "https://boot.example/grubx64.efi", HTTP: true}, nil},
		{"http base without slash", &Policy{HTTPBase: "http://h"}, httpX64, Choice{File: "http://h/ipxe.efi", HTTP: true}, nil},
		{"http entry removed", &Policy{HTTPBase: "http://h/", HTTP: map[iana.Arch]string{iana.EFI_X86_64_HTTP: ""}}, httpX64, Choice{}, ErrUncovered},
	}
	for _, tt := range []struct {
		name string
		p    *Policy
	}{
		{"http entry not a URL", &Policy{HTTP: map[iana.Arch]string{iana.EFI_X86_64_HTTP: "ipxe.efi"}}},
		{"base not a URL", &Policy{HTTPBase: "/srv/http"}},
		{"tftp URL", &Policy{HTTP: map[iana.Arch]string{iana.EFI_X86_64_HTTP: "tftp://h/ipxe.efi"}}},
		{"no host", &Policy{HTTPBase: "http:///x"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.p.Choose(httpX64)
			if err == nil || !strings.Contains(err.Error(), "not an http") {
				t.Errorf("Choose = %+v, %v; want a not-a-URL error", got, err)
			}
		})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.policy.Choose(tt.client)
			if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Errorf("Choose = %+v, %v; want %+v, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestUncoveredError(t *testing.T) {
	_, err := (&Policy{}).Choose(Client{Arch: iana.EFI_ARM64_HTTP, ArchSource: ArchFromOption93, HTTP: true})
	var ue *UncoveredError
	if !errors.As(err, &ue) || ue.Arch != iana.EFI_ARM64_HTTP || !ue.HTTP {
		t.Fatalf("error %v, want *UncoveredError for arch 19", err)
	}
	if got, want := err.Error(), "nbp: no HTTP boot program for architecture 19 (EFI ARM64 boot from HTTP)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	_, err = (&Policy{}).Choose(Client{})
	if got := err.Error(); !strings.Contains(got, "no architecture") {
		t.Errorf("Error() = %q", got)
	}
}

func TestIsIPXEProgram(t *testing.T) {
	for name, want := range map[string]bool{
		"undionly.kpxe": true, "ipxe.kkpxe": true, "x/undionly.kkkpxe": true, "ipxe.pxe": true,
		"ipxe.efi": true, "snponly.efi": true, "http://h/ipxe-arm64.efi?x=1": true, "IPXE.EFI": true, "ipxe.lkrn": true,
		"pxelinux.0": false, "syslinux.efi": false, "grubnetx64.efi": false, "boot.ipxe": false, "lpxelinux.0": false,
	} {
		if got := IsIPXEProgram(name); got != want {
			t.Errorf("IsIPXEProgram(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestDefaultTables(t *testing.T) {
	if m := DefaultTFTP(); len(m) != 4 || m[iana.EFI_X86_64] != "syslinux.efi" || m[iana.EFI_BC] != "syslinux.efi" || m[0] != "pxelinux.0" {
		t.Errorf("DefaultTFTP() = %v", m)
	}
	if m := DefaultHTTP(); len(m) != 2 || m[iana.EFI_X86_64_HTTP] != "ipxe.efi" {
		t.Errorf("DefaultHTTP() = %v", m)
	}
	// The maps are copies.
	DefaultTFTP()[0] = "x"
	if DefaultTFTP()[0] != "pxelinux.0" {
		t.Error("DefaultTFTP shares its map")
	}
}

// TestPolicyAsDecider plugs a Policy into the dhcp package's reply builder,
// as the responders use it, and checks the replies to real firmware.
func TestPolicyAsDecider(t *testing.T) {
	var dec dhcp.Decider = &Policy{
		HTTPBase:   "http://192.168.10.1/",
		IPXEScript: "http://192.168.10.1/boot.ipxe",
		Base:       dhcp.Boot{ConfigFile: "pxelinux.cfg/default"},
	}
	srv := netip.MustParseAddr("192.168.10.1")
	tests := []struct {
		capture string
		file    string
		class   string
	}{
		{"ovmf-pxe", "syslinux.efi", "PXEClient"},
		{"ipxe-bios-e1000", "http://192.168.10.1/boot.ipxe", "PXEClient"},
		{"ovmf-http", "http://192.168.10.1/ipxe.efi", "HTTPClient"},
		{"aavmf-http", "http://192.168.10.1/grubnetaa64.efi", "HTTPClient"},
	}
	for _, tt := range tests {
		t.Run(tt.capture, func(t *testing.T) {
			req := readCapture(t, tt.capture)
			b, err := dec.Decide(t.Context(), req)
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			if b.File != tt.file || b.ConfigFile != "pxelinux.cfg/default" {
				t.Errorf("Decide = %+v, want file %q and the Base config file", b, tt.file)
			}
			reply, err := dhcp.NewReply(req, dhcpv4.MessageTypeOffer, srv, &b, dhcp.BootInReply)
			if err != nil {
				t.Fatalf("NewReply: %v", err)
			}
			if got := string(reply.Options.Get(dhcpv4.OptionBootfileName)); got != tt.file {
				t.Errorf("reply option 67 = %q, want %q", got, tt.file)
			}
			if got := reply.ClassIdentifier(); got != tt.class {
				t.Errorf("reply option 60 = %q, want %q", got, tt.class)
			}
		})
	}

	// A Raspberry Pi gets the boot menu its ROM looks for.
	pi := request(t, "dc:a6:32:00:00:01", vc("PXEClient:Arch:00000:UNDI:002001"), dhcp.WithClientArchs(iana.INTEL_X86PC))
	b, err := dec.Decide(context.Background(), pi)
	if err != nil || b.Menu != RaspberryPiMenu || b.File != "bootcode.bin" {
		t.Fatalf("Decide(pi) = %+v, %v", b, err)
	}
	reply, err := dhcp.NewReply(pi, dhcpv4.MessageTypeOffer, srv, &b, dhcp.BootInReply)
	if err != nil {
		t.Fatal(err)
	}
	vo, err := dhcp.ParsePXEVendorOptions(reply.Options.Get(dhcpv4.OptionVendorSpecificInformation))
	if err != nil || len(vo.BootMenu) != 1 || !strings.HasPrefix(vo.BootMenu[0].Description, RaspberryPiMenu) {
		t.Errorf("reply option 43 = %+v, %v; want the Raspberry Pi menu", vo, err)
	}

	// Not a boot client: ErrNoBoot for the server, ErrNotPXE for us.
	_, err = dec.Decide(context.Background(), request(t, "00:11:22:33:44:55", vc("MSFT 5.0")))
	if !errors.Is(err, dhcp.ErrNoBoot) || !errors.Is(err, ErrNotPXE) {
		t.Errorf("Decide(windows) error = %v, want ErrNoBoot and ErrNotPXE", err)
	}
	// Uncovered: an error that is not ErrNoBoot.
	_, err = dec.Decide(context.Background(), request(t, "00:11:22:33:44:55", vc("PXEClient:Arch:00010:UNDI:003000")))
	if !errors.Is(err, ErrUncovered) || errors.Is(err, dhcp.ErrNoBoot) {
		t.Errorf("Decide(arm32) error = %v, want ErrUncovered", err)
	}
	// A nil *Policy decides with the defaults.
	var np *Policy
	if b, err := np.Decide(context.Background(), readCapture(t, "ovmf-pxe")); err != nil || b.File != "syslinux.efi" {
		t.Errorf("nil Policy Decide = %+v, %v", b, err)
	}
}
