package main

import (
	"context"
	"io/fs"
	"log/slog"
	"path"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/nbp"
)

// decider is the boot policy of the server: nbp.Policy with the boot
// programs found in (or named for) the tree, and the iPXE script for iPXE
// clients. A boot program named on the command line that is not iPXE wins
// over the script for clients of its firmware family, so "-bios-boot
// pxelinux.0" boots pxelinux even on QEMU's iPXE ROM.
type decider struct {
	script, plain *nbp.Policy
	biosNamed     bool // -bios-boot names a program that is not iPXE
	efiNamed      bool // -efi-boot names a program that is not iPXE
	log           *slog.Logger
}

func newDecider(fsys fs.FS, gen *menus, bios, efi, arm64 string, biosSet, efiSet bool, httpBase string, log *slog.Logger) *decider {
	tftpTable := map[iana.Arch]string{
		iana.INTEL_X86PC: bios,
		iana.EFI_X86_64:  efi,
		iana.EFI_BC:      efi,
		iana.EFI_ARM64:   arm64,
	}
	plain := &nbp.Policy{TFTP: tftpTable}
	if httpBase != "" {
		// UEFI HTTP boot gets an iPXE EFI build, which then asks for the
		// script as iPXE; Debian's signed GRUB stops at its prompt when
		// HTTP-booted without a configuration.
		if p := findProgram(fsys, []string{"snponly.efi", "ipxe.efi"}); p != "" {
			plain.HTTP = map[iana.Arch]string{iana.EFI_X86_64_HTTP: httpBase + p}
		}
		plain.HTTPBase = httpBase
	}
	script := *plain
	if _, err := fs.Stat(fsys, genIPXE); err == nil || gen.has(genIPXE) {
		script.IPXEScript = genIPXE
		if httpBase != "" {
			script.IPXEScript = httpBase + genIPXE
		}
	}
	return &decider{
		script:    &script,
		plain:     plain,
		biosNamed: biosSet && !isIPXEBuild(bios),
		efiNamed:  efiSet && !isIPXEBuild(efi),
		log:       log,
	}
}

// isIPXEBuild reports whether a boot program is an iPXE build, by name.
func isIPXEBuild(name string) bool {
	switch path.Base(name) {
	case "undionly.kpxe", "undionly.kkpxe", "ipxe.pxe", "ipxe.efi", "snponly.efi", "ipxe.lkrn":
		return true
	}
	return false
}

// Decide implements dhcp.Decider.
func (d *decider) Decide(ctx context.Context, req *dhcpv4.DHCPv4) (dhcp.Boot, error) {
	c, err := nbp.Identify(req)
	if err != nil {
		return d.plain.Decide(ctx, req) // the same error, wrapped as dhcp wants it
	}
	p := d.script
	if c.IPXE && (c.Firmware == nbp.FirmwareBIOS && d.biosNamed || c.X8664UEFI() && d.efiNamed) {
		p = d.plain
	}
	b, err := p.Decide(ctx, req)
	if err != nil {
		d.log.Info("no boot answer", "mac", c.MAC.String(), "client", c.String(), "err", err)
		return b, err
	}
	d.log.Info("boot decision", "mac", c.MAC.String(), "client", c.String(), "file", b.File)
	return b, nil
}
