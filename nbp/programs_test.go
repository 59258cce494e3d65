package nbp

import (
	"context"
	"net/netip"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/dhcp"
)

func TestFindPrograms(t *testing.T) {
	file := &fstest.MapFile{Data: []byte("program")}
	tests := []struct {
		name string
		fsys fstest.MapFS
		want map[iana.Arch]string
	}{
		{"empty", fstest.MapFS{}, map[iana.Arch]string{0: "", 7: "", 9: "", 11: ""}},
		{"preference at the top", fstest.MapFS{
			"undionly.kpxe": file, "lpxelinux.0": file, "pxelinux.0": file,
			"ipxe.efi": file, "syslinux.efi": file, "grubx64.efi": file,
			"grubnetaa64.efi": file, "grubaa64.efi": file,
		}, map[iana.Arch]string{0: "pxelinux.0", 7: "grubx64.efi", 9: "grubx64.efi", 11: "grubaa64.efi"}},
		// Debian's netboot tree: shim and GRUB under debian-installer/.
		{"debian netboot tree", fstest.MapFS{
			"pxelinux.0":                             file,
			"debian-installer/amd64/pxelinux.0":      file,
			"debian-installer/amd64/bootnetx64.efi":  file,
			"debian-installer/amd64/grubx64.efi":     file,
			"debian-installer/arm64/bootnetaa64.efi": file,
		}, map[iana.Arch]string{0: "pxelinux.0", 7: "debian-installer/amd64/bootnetx64.efi", 9: "debian-installer/amd64/bootnetx64.efi", 11: "debian-installer/arm64/bootnetaa64.efi"}},
		// shim under its own name wins over GRUB beside it.
		{"shimx64", fstest.MapFS{
			"grubx64.efi": file, "shimx64.efi": file, "grubaa64.efi": file, "shimaa64.efi": file,
		}, map[iana.Arch]string{0: "", 7: "shimx64.efi", 9: "shimx64.efi", 11: "shimaa64.efi"}},
		// The top of the tree wins over a preferred name further down.
		{"top first", fstest.MapFS{"snponly.efi": file, "boot/grubx64.efi": file},
			map[iana.Arch]string{0: "", 7: "snponly.efi", 9: "snponly.efi", 11: ""}},
		// A directory of a program's name is no program.
		{"directory", fstest.MapFS{"pxelinux.0/x": file, "boot/undionly.kpxe": file},
			map[iana.Arch]string{0: "boot/undionly.kpxe", 7: "", 9: "", 11: ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FindPrograms(tt.fsys)
			want := map[iana.Arch]string{}
			for a, f := range tt.want {
				want[a] = f
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("FindPrograms: (-want +got)\n%s", d)
			}
		})
	}
	if got := FindProgram(fstest.MapFS{"ipxe.efi": file, "efi/boot/snponly.efi": file}, "snponly.efi", "ipxe.efi"); got != "ipxe.efi" {
		t.Errorf("FindProgram(snponly.efi, ipxe.efi) = %q, want ipxe.efi (the top of the tree first)", got)
	}
}

// TestIPXEScripts checks that a per-architecture entry overrides
// IPXEScript, and that an empty one gives iPXE clients of that
// architecture their program.
func TestIPXEScripts(t *testing.T) {
	p := &Policy{
		TFTP:        map[iana.Arch]string{iana.INTEL_X86PC: "pxelinux.0", iana.EFI_X86_64: "snponly.efi"},
		IPXEScript:  "boot.ipxe",
		IPXEScripts: map[iana.Arch]string{iana.INTEL_X86PC: "", iana.EFI_ARM64: "arm64.ipxe"},
	}
	tests := []struct {
		client Client
		want   Choice
		err    error
	}{
		{Client{Arch: iana.INTEL_X86PC, ArchSource: ArchFromOption93, IPXE: true}, Choice{File: "pxelinux.0"}, nil},
		{Client{Arch: iana.INTEL_X86PC, ArchSource: ArchFromOption93}, Choice{File: "pxelinux.0"}, nil},
		{Client{Arch: iana.EFI_X86_64, ArchSource: ArchFromOption93, IPXE: true}, Choice{File: "boot.ipxe", IPXEScript: true}, nil},
		{Client{Arch: iana.EFI_ARM64, ArchSource: ArchFromOption93, IPXE: true}, Choice{File: "arm64.ipxe", IPXEScript: true}, nil},
		// Without an architecture the per-architecture table does not apply.
		{Client{IPXE: true}, Choice{File: "boot.ipxe", IPXEScript: true}, nil},
	}
	for _, tt := range tests {
		got, err := p.Choose(tt.client)
		if got != tt.want || err != tt.err {
			t.Errorf("Choose(%v) = %+v, %v; want %+v, %v", tt.client, got, err, tt.want, tt.err)
		}
	}
	// An empty entry does not make iPXE load iPXE again.
	p.TFTP[iana.INTEL_X86PC] = "undionly.kpxe"
	if _, err := p.Choose(Client{Arch: iana.INTEL_X86PC, ArchSource: ArchFromOption93, IPXE: true}); err != ErrChainLoop {
		t.Errorf("Choose(iPXE BIOS, program undionly.kpxe, no script) error = %v, want ErrChainLoop", err)
	}
}

// TestDecideCompletesURL checks that Decide puts the server's address on
// the client's segment into URLs without a host, and fails without it.
func TestDecideCompletesURL(t *testing.T) {
	req := readCapture(t, "ipxe-bios-e1000") // QEMU's iPXE ROM
	p := &Policy{IPXEScript: "http://:8080/boot.ipxe"}
	ctx := dhcp.WithArrival(context.Background(), dhcp.Arrival{Local: netip.MustParseAddr("10.0.2.1")})
	b, err := p.Decide(ctx, req)
	if err != nil || b.File != "http://10.0.2.1:8080/boot.ipxe" {
		t.Errorf("Decide(arrival 10.0.2.1) = %q, %v; want http://10.0.2.1:8080/boot.ipxe", b.File, err)
	}
	if b, err := p.Decide(context.Background(), req); err == nil {
		t.Errorf("Decide(no arrival) = %q, nil; want an error", b.File)
	}
	p.IPXEScript = "http://10.9.9.9:8080/boot.ipxe"
	if b, err := p.Decide(ctx, req); err != nil || b.File != p.IPXEScript {
		t.Errorf("Decide(URL with host) = %q, %v; want %q unchanged", b.File, err, p.IPXEScript)
	}
}
