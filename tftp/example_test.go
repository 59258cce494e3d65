package tftp_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"strings"
	"testing/fstest"

	pintftp "github.com/pin/tftp/v3"
	"github.com/pxekit/pxekit/tftp"
)

// Serve an in-memory file system on a loopback port and download from it.
func ExampleServer() {
	srv := &tftp.Server{FS: fstest.MapFS{
		"pxelinux.cfg/default": {Data: []byte("DEFAULT local\n")},
	}}
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.Serve(conn)
	defer srv.Shutdown(context.Background())

	// Any TFTP client works; this one is pin/tftp's.
	c, _ := pintftp.NewClient(conn.LocalAddr().String())
	wt, err := c.Receive("/pxelinux.cfg/default", "octet")
	if err != nil {
		panic(err)
	}
	var b bytes.Buffer
	wt.WriteTo(&b)
	fmt.Print(b.String())
	// Output: DEFAULT local
}

// Generate pxelinux.cfg/01-<mac> per client; every other name comes from FS.
func ExampleFileSourceFunc() {
	srv := &tftp.Server{
		FS: fstest.MapFS{"pxelinux.0": {Data: []byte("nbp")}},
		Files: tftp.FileSourceFunc(func(ctx context.Context, client netip.AddrPort, name string) (fs.File, error) {
			mac, ok := strings.CutPrefix(name, "pxelinux.cfg/01-")
			if !ok {
				return nil, fs.ErrNotExist // not ours: FS is asked next
			}
			menu := fmt.Sprintf("DEFAULT install\n# for %s at %s\n", mac, client.Addr())
			return tftp.BytesFile(name, []byte(menu)), nil
		}),
	}
	conn, _ := net.ListenPacket("udp4", "127.0.0.1:0")
	go srv.Serve(conn)
	defer srv.Close()

	c, _ := pintftp.NewClient(conn.LocalAddr().String())
	wt, err := c.Receive("pxelinux.cfg/01-52-54-00-12-34-56", "octet")
	if err != nil {
		panic(err)
	}
	var b bytes.Buffer
	wt.WriteTo(&b)
	fmt.Print(b.String())
	// Output:
	// DEFAULT install
	// # for 52-54-00-12-34-56 at 127.0.0.1
}

func ExampleCleanPath() {
	for _, name := range []string{"/boot/vmlinuz", `EFI\BOOT\grubx64.efi`, "::ldlinux.c32", "../etc/shadow"} {
		p, err := tftp.CleanPath(name)
		fmt.Printf("%q -> %q %v\n", name, p, err)
	}
	// Output:
	// "/boot/vmlinuz" -> "boot/vmlinuz" <nil>
	// "EFI\\BOOT\\grubx64.efi" -> "EFI/BOOT/grubx64.efi" <nil>
	// "::ldlinux.c32" -> "ldlinux.c32" <nil>
	// "../etc/shadow" -> "" tftp: access violation: "../etc/shadow" leaves the root
}
