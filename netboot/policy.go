package netboot

import (
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"strings"

	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/nbp"
)

// PolicyOptions adjust [Boot.Policy].
type PolicyOptions struct {
	// BIOS and EFI name the boot programs for BIOS and x86-64 UEFI
	// clients, overriding the choice; each must be a regular file that
	// the Boot serves. A program that is not iPXE also wins over the iPXE
	// script for iPXE clients of its firmware family, so "pxelinux.0"
	// boots pxelinux even on QEMU's iPXE ROM.
	BIOS, EFI string

	// HTTPImage names a disk image that the Boot serves, such as the
	// ISO image itself, to hand to x86-64 UEFI HTTP boot clients instead
	// of iPXE: they get Options.HTTPBase joined with this name. The
	// firmware downloads the whole image into memory, registers it as a
	// RAM disk and boots it as a CD or disk (UEFI 2.x, HTTP Boot with a
	// RAM disk; EDK2 HttpBootDxe) that stays allocated, so a client needs
	// the image's size in RAM on top of what its boot needs, and an ISO
	// image must hold an El Torito boot image
	// for EFI (an EFI system partition with EFI/BOOT/BOOTX64.EFI):
	// isofs's FS.BootImages tells. The name must end in ".iso" or ".img",
	// the two kinds of RAM disk firmware knows by name (the HTTP
	// [FileServer] also sends "application/vnd.efi-iso" for .iso), and
	// needs Options.HTTPBase. The image boots without iPXE, so per-machine
	// plans ([Options.Machine]) do not reach these clients. Empty: HTTP
	// boot clients get iPXE.
	HTTPImage string
}

// Policy returns the boot program choice for clients of b, made over the
// same file system that b serves, so that no client is offered a file it
// cannot fetch:
//
//   - BIOS gets the tree's pxelinux.0, lpxelinux.0 or undionly.kpxe, else
//     the first of those in Options.Programs;
//   - x86-64 UEFI gets the tree's signed shim ([Boot.Shim]:
//     bootnetx64.efi, shimx64.efi, or an image's EFI/boot/bootx64.efi
//     signed by Microsoft's UEFI CA), which a machine with Secure Boot
//     on accepts, else the tree's own EFI program (GRUB, syslinux,
//     iPXE), else iPXE from Options.Programs (snponly.efi, ipxe.efi),
//     which reads the generated iPXE script;
//   - ARM64 UEFI gets the tree's shim or GRUB;
//   - UEFI HTTP boot (x86-64) gets the URL under Options.HTTPBase of the
//     disk image named by [PolicyOptions.HTTPImage], else of the tree's
//     signed shim, else of an iPXE EFI build when one is served;
//   - UEFI HTTP boot on ARM64 gets the URL of the ARM64 UEFI program
//     (the tree's shim or GRUB);
//   - a client that already runs iPXE gets the iPXE script (the tree's
//     boot.ipxe or the generated one), over HTTP when Options.HTTPBase is
//     set.
//
// [Boot.SecureBoot] says which of these a machine with Secure Boot
// enforcing refuses. An architecture with nothing served is left uncovered (the client gets
// no boot file and tries its next boot device) rather than offered a
// default name that would fail.
func (b *Boot) Policy(opts *PolicyOptions) (*nbp.Policy, error) {
	var o PolicyOptions
	if opts != nil {
		o = *opts
	}
	progs := nbp.FindPrograms(b.tree)
	setEFI := func(p string) { progs[iana.EFI_X86_64], progs[iana.EFI_BC] = p, p }
	if b.shim != "" {
		setEFI(b.shim)
	}
	if b.programs != nil {
		if progs[iana.INTEL_X86PC] == "" {
			progs[iana.INTEL_X86PC] = nbp.FindPrograms(b.programs)[iana.INTEL_X86PC]
		}
		if progs[iana.EFI_X86_64] == "" {
			setEFI(nbp.FindProgram(b.programs, "snponly.efi", "ipxe.efi"))
		}
	}
	for flag, name := range map[string]string{"BIOS": o.BIOS, "EFI": o.EFI} {
		if name == "" {
			continue
		}
		st, err := fs.Stat(b, name)
		if err != nil {
			return nil, fmt.Errorf("netboot: %s boot program %s: %w", flag, name, err)
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("netboot: %s boot program %s: not a regular file", flag, name)
		}
	}
	if o.BIOS != "" {
		progs[iana.INTEL_X86PC] = o.BIOS
	}
	if o.EFI != "" {
		setEFI(o.EFI)
	}

	if o.HTTPImage != "" {
		if err := b.checkHTTPImage(o.HTTPImage); err != nil {
			return nil, err
		}
	}

	p := &nbp.Policy{TFTP: progs, HTTP: map[iana.Arch]string{}}
	for a := range nbp.DefaultHTTP() {
		p.HTTP[a] = "" // uncovered unless served
	}
	if b.httpBase != "" {
		if b.shim != "" {
			p.HTTP[iana.EFI_X86_64_HTTP] = b.httpBase + b.shim
		} else if e := nbp.FindProgram(b, "snponly.efi", "ipxe.efi"); e != "" {
			p.HTTP[iana.EFI_X86_64_HTTP] = b.httpBase + e
		}
		if o.HTTPImage != "" {
			p.HTTP[iana.EFI_X86_64_HTTP] = b.httpBase + escapePath(strings.TrimLeft(o.HTTPImage, "/"))
		}
		// ARM64 HTTP boot gets the same program as ARM64 PXE (the tree's
		// shim or GRUB), by URL.
		if a := progs[iana.EFI_ARM64]; a != "" {
			p.HTTP[iana.EFI_ARM64_HTTP] = b.httpBase + escapePath(a)
		}
		p.HTTPBase = b.httpBase
	}
	if isFile(b, IPXEScript) {
		p.IPXEScript = b.httpBase + IPXEScript
		p.IPXEScripts = map[iana.Arch]string{}
		if o.BIOS != "" && !nbp.IsIPXEProgram(o.BIOS) {
			p.IPXEScripts[iana.INTEL_X86PC] = ""
		}
		if o.EFI != "" && !nbp.IsIPXEProgram(o.EFI) {
			p.IPXEScripts[iana.EFI_X86_64], p.IPXEScripts[iana.EFI_BC] = "", ""
		}
	}
	return p, nil
}

// checkHTTPImage reports why name cannot be handed to UEFI HTTP boot
// clients as a RAM disk image.
func (b *Boot) checkHTTPImage(name string) error {
	if b.httpBase == "" {
		return fmt.Errorf("netboot: HTTP boot image %s: no HTTP (Options.HTTPBase is empty)", name)
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".iso", ".img":
	default:
		return fmt.Errorf("netboot: HTTP boot image %s: firmware boots only .iso and .img names as RAM disks", name)
	}
	st, err := fs.Stat(b, strings.TrimLeft(name, "/"))
	if err != nil {
		return fmt.Errorf("netboot: HTTP boot image %s: %w", name, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("netboot: HTTP boot image %s: not a regular file", name)
	}
	return nil
}

// escapePath escapes each element of the slash-separated name for a URL
// path.
func escapePath(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}
