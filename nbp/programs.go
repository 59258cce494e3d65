package nbp

import (
	"io/fs"
	"path"
	"slices"

	"github.com/insomniacslk/dhcp/iana"
)

// Well-known boot program names per firmware family, in order of
// preference, as the packages of Debian and others install them.
var (
	biosPrograms  = []string{"pxelinux.0", "lpxelinux.0", "undionly.kpxe"}
	x8664Programs = []string{"bootnetx64.efi", "shimx64.efi", "grubx64.efi", "grubnetx64.efi", "syslinux.efi", "ipxe.efi", "snponly.efi"}
	arm64Programs = []string{"bootnetaa64.efi", "shimaa64.efi", "grubaa64.efi", "grubnetaa64.efi"}
)

// programDirs are where FindProgram looks, in order: the top of the tree,
// then where Debian's netboot trees and ISO images keep boot programs.
var programDirs = []string{".", "debian-installer/amd64", "debian-installer/arm64", "boot", "efi/boot"}

// FindPrograms returns a table for [Policy.TFTP] with the boot programs
// that fsys holds under well-known names, the first found of:
//
//   - BIOS (architecture 0): pxelinux.0, lpxelinux.0, undionly.kpxe;
//   - x86-64 UEFI (7, and 9): bootnetx64.efi or shimx64.efi (shim, the
//     only program that firmware with Secure Boot and Microsoft's keys
//     accepts), grubx64.efi, grubnetx64.efi, syslinux.efi, ipxe.efi,
//     snponly.efi;
//   - ARM64 UEFI (11): bootnetaa64.efi or shimaa64.efi (shim),
//     grubaa64.efi, grubnetaa64.efi.
//
// Each is looked for as [FindProgram] does. An architecture for which
// fsys has none maps to "", which a Policy takes as not covered (rather
// than falling back to [DefaultTFTP]'s names, which fsys lacks). The
// paths are names in fsys, which the TFTP server serves from its root.
func FindPrograms(fsys fs.FS) map[iana.Arch]string {
	x8664 := FindProgram(fsys, x8664Programs...)
	return map[iana.Arch]string{
		iana.INTEL_X86PC: FindProgram(fsys, biosPrograms...),
		iana.EFI_X86_64:  x8664,
		iana.EFI_BC:      x8664,
		iana.EFI_ARM64:   FindProgram(fsys, arm64Programs...),
	}
}

// ProgramDirs returns the directories [FindProgram] looks in, in order,
// as a new slice.
func ProgramDirs() []string { return slices.Clone(programDirs) }

// FindProgram returns the path of the first of names that is a regular
// file in fsys, looked for at the top of fsys, then in
// debian-installer/amd64, debian-installer/arm64, boot and efi/boot (the
// top of the tree first for every name, then the next directory), or ""
// when there is none.
func FindProgram(fsys fs.FS, names ...string) string {
	for _, dir := range programDirs {
		for _, n := range names {
			p := path.Join(dir, n)
			if st, err := fs.Stat(fsys, p); err == nil && st.Mode().IsRegular() {
				return p
			}
		}
	}
	return ""
}
