package pxeclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// memFetcher returns a fetcher over files, a map from URL or TFTP path to
// content, that records every name asked for.
func memFetcher(t testing.TB, files map[string]string, base string) (*fetcher, *[]string) {
	p, _ := ProfileByName("ipxe-efi")
	rep := &Report{Server: netip.MustParseAddr("192.0.2.1"), Addr: netip.MustParsePrefix("192.0.2.7/24")}
	var asked []string
	f := &fetcher{
		c: &Client{Profile: p, MAC: net.HardwareAddr{2, 0, 0, 0, 0, 9}}, ctx: context.Background(), rep: rep,
		fetch: func(name string, w io.Writer) error {
			asked = append(asked, name)
			b, ok := files[name]
			if !ok {
				return fmt.Errorf("%w: %s", ErrNotFound, name)
			}
			_, err := io.WriteString(w, b)
			return err
		},
	}
	if base != "" {
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		f.base = u
	}
	return f, &asked
}

func TestLoadIPXE(t *testing.T) {
	const h = "http://192.0.2.1/"
	for _, tc := range []struct {
		name    string
		files   map[string]string
		kernel  string
		initrds []string
		err     error // want errors.Is; nil: success
	}{
		{
			name: "rendered menu takes --default",
			files: map[string]string{h + "boot.ipxe": "#!ipxe\ngoto menu0\n\n:menu0\nmenu Boot\nitem e1-a A\nitem e2-b B\nchoose --timeout 5000 --default e2-b selected || exit\ngoto ${selected}\n" +
				"\n:e1-a\nkernel " + h + "a/vmlinuz || goto menu0\nboot || goto menu0\n" +
				"\n:e2-b\nkernel " + h + "b/vmlinuz console=ttyS0 BOOTIF=01-${mac:hexhyp} || goto menu0\ninitrd " + h + "b/initrd.gz || goto menu0\nboot || goto menu0\n",
				h + "a/vmlinuz": "A", h + "b/vmlinuz": "B", h + "b/initrd.gz": "I"},
			kernel: h + "b/vmlinuz", initrds: []string{h + "b/initrd.gz"},
		},
		{
			name: "choose without default takes the first item, relative names",
			files: map[string]string{h + "boot.ipxe": "#!ipxe\nmenu\nitem --gap -- Linux\nitem one One\nitem two Two\nchoose sel\ngoto ${sel}\n:two\nexit\n:one\nkernel k1\ninitrd --name i.img i1\ninitrd i2\nboot\n",
				h + "k1": "k", h + "i1": "1", h + "i2": "2"},
			kernel: h + "k1", initrds: []string{h + "i1", h + "i2"},
		},
		{
			name: "chain to a script, names relative to it",
			files: map[string]string{h + "boot.ipxe": "#!ipxe\ndhcp\nchain --autofree sub/next.ipxe || shell\n",
				h + "sub/next.ipxe": "#!ipxe\nset base ${next-server}\nkernel http://${base}/sub/vmlinuz\nimgfetch initrd.img\nboot\n",
				h + "sub/vmlinuz":   "k", h + "sub/initrd.img": "i"},
			kernel: h + "sub/vmlinuz", initrds: []string{h + "sub/initrd.img"},
		},
		{
			name:   "chain to a program",
			files:  map[string]string{h + "boot.ipxe": "#!ipxe\nchain " + h + "grubx64.efi\n", h + "grubx64.efi": "MZ"},
			kernel: h + "grubx64.efi",
		},
		{
			name:   "isset, iseq, || and &&",
			files:  map[string]string{h + "boot.ipxe": "#!ipxe\nisset ${nothing} && exit\niseq ${platform} efi || exit\nset x 1\niseq ${x} 1 && goto ok || exit\n:ok\nkernel k\nboot\n", h + "k": "k"},
			kernel: h + "k",
		},
		{
			name:  "exit boots nothing",
			files: map[string]string{h + "boot.ipxe": "#!ipxe\nprompt --timeout 2000 Press a key && shell\nexit\n"},
			err:   ErrNoKernel,
		},
		{
			name:  "boot without kernel",
			files: map[string]string{h + "boot.ipxe": "#!ipxe\nboot\n"},
			err:   ErrNoKernel,
		},
		{
			name:  "missing kernel",
			files: map[string]string{h + "boot.ipxe": "#!ipxe\nkernel nothere || goto x\n:x\nboot\n"},
			err:   ErrNotFound,
		},
		{
			name:  "endless loop is bounded",
			files: map[string]string{h + "boot.ipxe": "#!ipxe\n:a\ngoto a\n"},
			err:   nil, // checked below by message
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := memFetcher(t, tc.files, h)
			err := f.load(h+"boot.ipxe", []byte(tc.files[h+"boot.ipxe"]))
			if strings.HasPrefix(tc.name, "endless") {
				if err == nil || !strings.Contains(err.Error(), "steps") {
					t.Fatalf("load = %v, want a step-limit error", err)
				}
				return
			}
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("load = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if f.rep.Stage != StageLoaded || f.rep.Kernel != tc.kernel || strings.Join(f.rep.Initrds, " ") != strings.Join(tc.initrds, " ") {
				t.Errorf("load: stage %q kernel %q initrds %q; want %q, %q, %q", f.rep.Stage, f.rep.Kernel, f.rep.Initrds, StageLoaded, tc.kernel, tc.initrds)
			}
		})
	}
}

func TestLoadMenu(t *testing.T) {
	for _, tc := range []struct {
		name, cfg string
		files     map[string]string // TFTP paths under prefix "boot/"
		asked     []string          // every name fetched after the configuration
		err       error
	}{
		{
			name:  "DEFAULT label with initrd= list",
			cfg:   "DEFAULT linux\nLABEL rescue\n KERNEL r\nLABEL linux\n KERNEL vmlinuz\n APPEND initrd=a.img,b.img quiet\n",
			asked: []string{"boot/vmlinuz", "boot/a.img", "boot/b.img"},
		},
		{
			name:  "ONTIMEOUT beats MENU DEFAULT, INCLUDE fetched",
			cfg:   "UI menu.c32\nONTIMEOUT two\nINCLUDE pxelinux.cfg/entries.cfg\n",
			files: map[string]string{"boot/pxelinux.cfg/entries.cfg": "LABEL one\n MENU DEFAULT\n LINUX /k1\nLABEL two\n LINUX k2\n INITRD i2\n"},
			asked: []string{"boot/pxelinux.cfg/entries.cfg", "boot/k2", "boot/i2"},
		},
		{
			name:  "DEFAULT as a command line",
			cfg:   "DEFAULT vmlinuz initrd=initrd.gz console=ttyS0\n",
			asked: []string{"boot/vmlinuz", "boot/initrd.gz"},
		},
		{
			name:  "MENU DEFAULT in a submenu",
			cfg:   "UI menu.c32\nMENU BEGIN tools\n LABEL mem\n  KERNEL memtest\n LABEL live\n  MENU DEFAULT\n  KERNEL live/vmlinuz\n  INITRD live/initrd\nMENU END\n",
			asked: []string{"boot/live/vmlinuz", "boot/live/initrd"},
		},
		{
			name: "local boot",
			cfg:  "DEFAULT local\nLABEL local\n LOCALBOOT 0\n",
			err:  ErrNoKernel,
		},
		{
			name:  "GRUB default by index",
			cfg:   "set default=1\nset timeout=5\nmenuentry 'A' { linux /a/vmlinuz\n }\nmenuentry 'B' {\n linux (tftp)/b/vmlinuz ro\n initrd /b/initrd.gz\n}\n",
			asked: []string{"/b/vmlinuz", "/b/initrd.gz"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range tc.files {
				files[k] = v
			}
			for _, n := range []string{"boot/vmlinuz", "boot/a.img", "boot/b.img", "/k1", "boot/k2", "boot/i2", "boot/initrd.gz", "boot/live/vmlinuz", "boot/live/initrd", "/b/vmlinuz", "/b/initrd.gz"} {
				files[n] = "x" + n
			}
			f, asked := memFetcher(t, files, "")
			f.prefix = "boot/"
			name := "pxelinux.cfg/default"
			if strings.HasPrefix(tc.name, "GRUB") {
				name = "grub/grub.cfg"
			}
			err := f.load(name, []byte(tc.cfg))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("load = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if got := strings.Join(*asked, " "); got != strings.Join(tc.asked, " ") {
				t.Errorf("load fetched %q, want %q", *asked, tc.asked)
			}
			if f.rep.Stage != StageLoaded {
				t.Errorf("stage %q, want %q", f.rep.Stage, StageLoaded)
			}
			var kinds []string
			for _, file := range f.rep.Files {
				kinds = append(kinds, file.Kind)
				if want := CRC32C([]byte(files[file.Name])); file.CRC32C != want || file.Bytes != int64(len(files[file.Name])) {
					t.Errorf("%s: %d bytes crc %08x, want %d and %08x", file.Name, file.Bytes, file.CRC32C, len(files[file.Name]), want)
				}
			}
			if kinds[len(kinds)-1] == KindConfig || !strings.Contains(strings.Join(kinds, " "), KindKernel) {
				t.Errorf("file kinds %q: want the kernel, then initrds", kinds)
			}
		})
	}
}

// FuzzIPXE runs arbitrary scripts: they must end (within the step bound)
// without a panic, loading only files that exist.
func FuzzIPXE(f *testing.F) {
	f.Add("#!ipxe\nmenu\nitem a A\nchoose x\ngoto ${x}\n:a\nkernel k\ninitrd i\nboot\n")
	f.Add("#!ipxe\n:l\nisset ${ip} && goto l || exit\n")
	f.Add("#!ipxe\nchain s.ipxe\n")
	f.Add("#!ipxe\nset a ${b\nchoose --default\nitem --key\nkernel --name\n")
	f.Fuzz(func(t *testing.T, script string) {
		const h = "http://192.0.2.1/"
		fe, _ := memFetcher(t, map[string]string{h + "k": "k", h + "i": "i", h + "s.ipxe": script}, h)
		_ = fe.load(h+"boot.ipxe", []byte(script))
	})
}
