package main

import (
	"context"
	"io/fs"
	"log/slog"
	"net/netip"
	"strings"

	"github.com/pxekit/pxekit/netboot"
	"github.com/pxekit/pxekit/tftp"
)

// logGenerated is the TFTP server's FileSource: it serves nothing of its
// own (the Boot is the server's FS) but logs each generated configuration
// a client fetches, with the name it asked for and the file it was
// generated as, which the transfer's event does not say.
func logGenerated(b *netboot.Boot, log *slog.Logger) tftp.FileSource {
	return tftp.FileSourceFunc(func(_ context.Context, client netip.AddrPort, name string) (fs.File, error) {
		name = strings.TrimLeft(name, "/")
		if layer, gen := b.Lookup(name); layer == netboot.LayerGenerated {
			f, err := b.Open(name)
			if err == nil {
				st, _ := f.Stat()
				log.Info("generated file", "proto", "tftp", "peer", client.Addr(), "file", name, "as", gen, "bytes", st.Size())
			}
			return f, err
		}
		return nil, fs.ErrNotExist
	})
}
