package netboot_test

import (
	"fmt"
	"log"
	"os"
	"strings"
	"testing/fstest"

	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/isofs"
	"github.com/pxekit/pxekit/netboot"
	"github.com/pxekit/pxekit/tftp"
)

// A whole boot server for an ISO image: DHCP (proxyDHCP), TFTP and HTTP
// over one overlay of the image, its generated menus and this machine's
// boot programs.
func Example_server() {
	f, err := os.Open("debian-live.iso")
	if err != nil {
		log.Fatal(err)
	}
	img, err := isofs.Open(f)
	if err != nil {
		log.Fatal(err)
	}
	programs, _ := netboot.Files(netboot.DebianPrograms())
	boot, err := netboot.New(img, &netboot.Options{Programs: programs, HTTPBase: "http://192.0.2.1:8080/", Timeout: 5e9})
	if err != nil {
		log.Fatal(err)
	}
	policy, err := boot.Policy(nil)
	if err != nil {
		log.Fatal(err)
	}
	go (&dhcp.Server{Decider: boot.Decider(policy)}).ListenAndServe(":67")
	go (&tftp.Server{FS: boot}).ListenAndServe(":69")
	log.Fatal(netboot.HTTPServer(&netboot.FileServer{FS: boot}).ListenAndServe())
}

// The overlay answers each name from one layer: the tree first, then the
// generated configurations (pxelinux's under every name pxelinux asks
// for), then the boot programs.
func ExampleBoot_Lookup() {
	tree := fstest.MapFS{
		"isolinux/isolinux.cfg": {Data: []byte("DEFAULT live\nTIMEOUT 50\nLABEL live\n  KERNEL /live/vmlinuz\n  APPEND initrd=/live/initrd.img boot=live\n")},
		"live/vmlinuz":          {Data: []byte("kernel")},
		"live/initrd.img":       {Data: []byte("initrd")},
	}
	programs := fstest.MapFS{"pxelinux.0": {Data: []byte("pxelinux")}}
	boot, err := netboot.New(tree, &netboot.Options{Programs: programs})
	if err != nil {
		log.Fatal(err)
	}
	for _, name := range []string{"live/vmlinuz", "pxelinux.cfg/01-52-54-00-12-34-56", "boot.ipxe", "pxelinux.0", "ipxe.efi"} {
		layer, gen := boot.Lookup(name)
		fmt.Println(strings.TrimSpace(name + " " + layer.String() + " " + gen))
	}
	// Output:
	// live/vmlinuz tree
	// pxelinux.cfg/01-52-54-00-12-34-56 generated pxelinux.cfg/default
	// boot.ipxe generated boot.ipxe
	// pxelinux.0 programs
	// ipxe.efi none
}
