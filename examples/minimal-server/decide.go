package main

import (
	"io/fs"

	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/nbp"
)

// bootPolicy is the boot policy of the server: the boot programs found in
// (or named for) the tree, and the iPXE script for iPXE clients.
func bootPolicy(o options, fsys, fallback fs.FS, gen *menus, httpBase string) (*nbp.Policy, error) {
	progs := nbp.FindPrograms(fsys)
	setEFI := func(p string) { progs[iana.EFI_X86_64], progs[iana.EFI_BC] = p, p }
	switch {
	case fallback != nil:
		// Programs the image lacks come from this machine; an image
		// without an EFI program of its own gets iPXE, which reads the
		// iPXE script.
		if progs[iana.INTEL_X86PC] == "" {
			progs[iana.INTEL_X86PC] = nbp.FindPrograms(fallback)[iana.INTEL_X86PC]
		}
		if progs[iana.EFI_X86_64] == "" {
			setEFI(nbp.FindProgram(fallback, "snponly.efi", "ipxe.efi"))
		}
	case o.root == "" && o.iso == "":
		// The default tree's menus are iPXE and pxelinux (BIOS) ones.
		setEFI(nbp.FindProgram(fsys, "snponly.efi", "ipxe.efi"))
	}
	look := layers{fsys, fallback}
	if o.biosBoot != "" {
		if err := checkProgram(look, "bios-boot", o.biosBoot); err != nil {
			return nil, err
		}
		progs[iana.INTEL_X86PC] = o.biosBoot
	}
	if o.efiBoot != "" {
		if err := checkProgram(look, "efi-boot", o.efiBoot); err != nil {
			return nil, err
		}
		setEFI(o.efiBoot)
	}

	p := &nbp.Policy{TFTP: progs}
	if httpBase != "" {
		// UEFI HTTP boot gets an iPXE EFI build, which then asks for the
		// script as iPXE; Debian's signed GRUB stops at its prompt when
		// HTTP-booted without a configuration.
		if e := nbp.FindProgram(look, "snponly.efi", "ipxe.efi"); e != "" {
			p.HTTP = map[iana.Arch]string{iana.EFI_X86_64_HTTP: httpBase + e}
		}
		p.HTTPBase = httpBase
	}
	if _, err := fs.Stat(fsys, genIPXE); err == nil || gen.has(genIPXE) {
		p.IPXEScript = httpBase + genIPXE
		// A program named on the command line that is not iPXE wins over
		// the script for iPXE clients of its firmware family.
		p.IPXEScripts = map[iana.Arch]string{}
		if o.biosBoot != "" && !nbp.IsIPXEProgram(o.biosBoot) {
			p.IPXEScripts[iana.INTEL_X86PC] = ""
		}
		if o.efiBoot != "" && !nbp.IsIPXEProgram(o.efiBoot) {
			p.IPXEScripts[iana.EFI_X86_64], p.IPXEScripts[iana.EFI_BC] = "", ""
		}
	}
	return p, nil
}
