package main

import (
	"embed"
	"fmt"
	"strings"

	"github.com/pxekit/pxekit/netboot"
)

// defaultFiles is what the server serves when it is started without -root
// and -iso: an iPXE menu and a pxelinux menu, both offering "boot from
// local disk" and a shell.
//
//go:embed default
var defaultFiles embed.FS

// describePrograms lists the boot programs of this machine for the
// start-up message, the syslinux BIOS modules as one item.
func describePrograms(p *netboot.FilesFS) string {
	var out []string
	mods := 0
	for _, n := range p.Names() {
		if strings.HasSuffix(n, ".c32") {
			mods++
			continue
		}
		src, _ := p.Path(n)
		out = append(out, n+" ("+src+")")
	}
	if mods > 0 {
		out = append(out, fmt.Sprintf("%d syslinux BIOS modules (/usr/lib/syslinux/modules/bios)", mods))
	}
	return strings.Join(out, ", ")
}
