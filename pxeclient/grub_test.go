package pxeclient

import (
	"encoding/binary"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path"
	"slices"
	"testing"

	"github.com/pxekit/pxekit/bootmenu"
	"github.com/pxekit/pxekit/internal/testenv"
)

// testEFI returns a PE32+ EFI application for machine with the given
// sections (name → raw data), laid out as the PE/COFF specification
// says: DOS header, "PE\0\0", COFF header, optional header, section
// table, section data.
func testEFI(machine uint16, sections ...[2]string) []byte {
	le := binary.LittleEndian
	const peOff, optSize = 0x40, 112 + 16*8
	b := make([]byte, peOff+4+20+optSize+40*len(sections))
	copy(b, "MZ")
	le.PutUint32(b[0x3c:], peOff) // e_lfanew
	copy(b[peOff:], "PE\x00\x00")
	coff := b[peOff+4:]
	le.PutUint16(coff[0:], machine)
	le.PutUint16(coff[2:], uint16(len(sections)))
	le.PutUint16(coff[16:], optSize)
	opt := b[peOff+4+20:]
	le.PutUint16(opt[0:], 0x20b) // PE32+
	le.PutUint16(opt[68:], 10)   // EFI application
	le.PutUint32(opt[108:], 16)  // NumberOfRvaAndSizes
	for i, s := range sections {
		sec := b[peOff+4+20+optSize+40*i:]
		copy(sec, s[0])
		le.PutUint32(sec[16:], uint32(len(s[1]))) // SizeOfRawData
		le.PutUint32(sec[20:], uint32(len(b)))    // PointerToRawData
		b = append(b, s[1]...)
	}
	return b
}

// testGRUB is a GRUB image: a module area with the prefix object (none
// for an empty prefix), an embedded configuration object when config is
// given (as Debian's "normal (memdisk)/grub.cfg"), and GRUB's SBAT.
func testGRUB(machine uint16, prefix string, config ...string) []byte {
	le := binary.LittleEndian
	var objs []byte
	for _, c := range config {
		body := append([]byte(c), 0)
		for len(body)%8 != 0 {
			body = append(body, 0)
		}
		objs = le.AppendUint32(objs, 2) // OBJ_TYPE_CONFIG
		objs = le.AppendUint32(objs, uint32(8+len(body)))
		objs = append(objs, body...)
	}
	if prefix != "" {
		body := append([]byte(prefix), 0)
		for len(body)%8 != 0 {
			body = append(body, 0)
		}
		objs = le.AppendUint32(objs, 3) // OBJ_TYPE_PREFIX
		objs = le.AppendUint32(objs, uint32(8+len(body)))
		objs = append(objs, body...)
	}
	var mods []byte
	mods = le.AppendUint32(mods, 0x676d696d) // "mimg"
	mods = le.AppendUint32(mods, 0)
	mods = le.AppendUint64(mods, 24)
	mods = le.AppendUint64(mods, uint64(24+len(objs)))
	mods = append(mods, objs...)
	return testEFI(machine, [2]string{"mods", string(mods)},
		[2]string{".sbat", "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\ngrub,4,Free Software Foundation,grub,2.12,https://www.gnu.org/software/grub/\n"})
}

// testShim is shim as its SBAT names it.
func testShim(machine uint16) []byte {
	return testEFI(machine, [2]string{".text", "code"},
		[2]string{".sbat", "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\nshim,4,UEFI shim,shim,1,https://github.com/rhboot/shim\n\x00\x00"})
}

func TestParseEFILoader(t *testing.T) {
	for _, tt := range []struct {
		name string
		b    []byte
		want efiLoader
	}{
		{"GRUB", testGRUB(0x8664, "/grub"), efiLoader{machine: 0x8664, grub: true, grubPrefix: "/grub"}},
		{"GRUB with a device", testGRUB(0xaa64, "(tftp,10.0.0.9)/boot/grub"), efiLoader{machine: 0xaa64, grub: true, grubPrefix: "(tftp,10.0.0.9)/boot/grub"}},
		{"GRUB without a prefix", testGRUB(0x8664, ""), efiLoader{machine: 0x8664, grub: true}},
		{"GRUB with an embedded configuration", testGRUB(0x8664, "/grub", "normal (memdisk)/grub.cfg\n"), efiLoader{machine: 0x8664, grub: true, grubPrefix: "/grub", grubConfig: true}},
		{"shim", testShim(0xaa64), efiLoader{machine: 0xaa64, shim: true}},
		{"another EFI program", testEFI(0x8664, [2]string{".text", "x"}), efiLoader{machine: 0x8664}},
		{"not PE", []byte("\x7fELF and more bytes than a DOS header holds, surely more than sixty-four"), efiLoader{}},
		{"truncated", testGRUB(0x8664, "/grub")[:300], efiLoader{machine: 0x8664}},
		{"empty", nil, efiLoader{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseEFILoader(tt.b); got != tt.want {
				t.Errorf("parseEFILoader = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestParseEFILoaderDebian reads Debian's signed GRUB and shim and the
// installer's netboot GRUBs (packages grub-efi-amd64-signed,
// shim-signed, debian-installer-12-netboot-amd64 and -arm64, which
// .ci/run installs): all of Debian's GRUBs embed a configuration.
func TestParseEFILoaderDebian(t *testing.T) {
	for _, tt := range []struct {
		file string
		want efiLoader
	}{
		{"/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed", efiLoader{machine: 0x8664, grub: true, grubPrefix: "/grub", grubConfig: true}},
		{"/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64/grubx64.efi", efiLoader{machine: 0x8664, grub: true, grubPrefix: "/debian-installer/amd64/grub", grubConfig: true}},
		{"/usr/lib/debian-installer/images/12/arm64/text/debian-installer/arm64/grubaa64.efi", efiLoader{machine: 0xaa64, grub: true, grubPrefix: "/debian-installer/arm64/grub", grubConfig: true}},
		{"/usr/lib/shim/shimx64.efi.signed", efiLoader{machine: 0x8664, shim: true}},
	} {
		b, err := os.ReadFile(tt.file)
		if err != nil {
			testenv.Unavailable(t, "%v", err)
			continue
		}
		if got := parseEFILoader(b); got != tt.want {
			t.Errorf("parseEFILoader(%s) = %+v, want %+v", tt.file, got, tt.want)
		}
	}
}

func FuzzEFILoader(f *testing.F) {
	f.Add(testGRUB(0x8664, "/grub"))
	f.Add(testGRUB(0xaa64, ""))
	f.Add(testGRUB(0x8664, "/grub", "normal (memdisk)/grub.cfg\n"))
	f.Add(testShim(0x8664))
	f.Add(testEFI(0x8664))
	f.Add([]byte("MZ"))
	f.Fuzz(func(t *testing.T, b []byte) {
		l := parseEFILoader(b)
		if len(l.grubPrefix) > len(b) {
			t.Fatalf("prefix of %d bytes from %d", len(l.grubPrefix), len(b))
		}
	})
}

func TestSibling(t *testing.T) {
	for _, tt := range [][3]string{
		{"shimx64.efi", "grubx64.efi", "grubx64.efi"},
		{"EFI/boot/bootx64.efi", "grubx64.efi", "EFI/boot/grubx64.efi"},
		{"/efi/shimaa64.efi", "grubaa64.efi", "/efi/grubaa64.efi"},
		{"http://10.0.0.1:8080/EFI/boot/bootx64.efi?x=1", "grubx64.efi", "http://10.0.0.1:8080/EFI/boot/grubx64.efi"},
	} {
		if got := sibling(tt[0], tt[1]); got != tt[2] {
			t.Errorf("sibling(%q, %q) = %q, want %q", tt[0], tt[1], got, tt[2])
		}
	}
}

// TestGRUBSearch: where GRUB looks for its configuration, by prefix and
// by how it was loaded.
func TestGRUBSearch(t *testing.T) {
	mac := net.HardwareAddr{0x52, 0x54, 0, 0x17, 0, 1}
	uuid := []byte{0xb8, 0x94, 0x59, 0x08, 0xd6, 0xa6, 0x41, 0xa9, 0x61, 0x1d, 0x74, 0xa6, 0xab, 0x80, 0xb8, 0x3d}
	sc := bootmenu.SearchClient{UUID: uuid, MAC: mac, IP: netip.MustParseAddr("10.77.0.100")}
	search := func(dir string) []string { return bootmenu.GRUBSearchPath(dir, sc) }
	for _, tt := range []struct {
		name, prefix, file string
		embedded           bool   // the image embeds a configuration
		base               string // the boot program's HTTP base, "" for TFTP
		want               []string
		server             string // TFTP server override
		wantBase           string // HTTP base after, "" for TFTP
		err                bool
	}{
		{name: "Debian's grubnetx64.efi over TFTP", prefix: "/grub", file: "grubx64.efi", want: []string{
			"/grub/grub.cfg-b8945908-d6a6-41a9-611d-74a6ab80b83d", "/grub/grub.cfg-01-52-54-00-17-00-01",
			"/grub/grub.cfg-0A4D0064", "/grub/grub.cfg-0A4D006", "/grub/grub.cfg-0A4D00", "/grub/grub.cfg-0A4D0",
			"/grub/grub.cfg-0A4D", "/grub/grub.cfg-0A4", "/grub/grub.cfg-0A", "/grub/grub.cfg-0", "/grub/grub.cfg"}},
		{name: "Debian's signed image: its embedded script sources grub.cfg", prefix: "/grub", file: "grubx64.efi", embedded: true, want: []string{"/grub/grub.cfg"}},
		{name: "no prefix: the boot file's directory", prefix: "", file: "EFI/boot/grubx64.efi", want: search("/EFI/boot")},
		{name: "tftp device with a server", prefix: "(tftp,10.77.0.9)/boot/grub", file: "grubx64.efi", want: search("/boot/grub"), server: "10.77.0.9"},
		{name: "tftp device", prefix: "(tftp)/debian-installer/amd64/grub", file: "grubx64.efi", want: search("/debian-installer/amd64/grub")},
		{name: "HTTP boot: grub.cfg only, from the server's root", prefix: "/grub", file: "http://10.77.0.1:8080/efi/grubx64.efi",
			base: "http://10.77.0.1:8080/efi/", want: []string{"/grub/grub.cfg"}, wantBase: "http://10.77.0.1:8080/"},
		{name: "HTTP boot without a prefix", prefix: "", file: "http://10.77.0.1:8080/efi/grubx64.efi",
			base: "http://10.77.0.1:8080/efi/", want: []string{"/efi/grub.cfg"}, wantBase: "http://10.77.0.1:8080/"},
		{name: "http device from TFTP", prefix: "(http,10.77.0.9:8080)/grub", file: "grubx64.efi", want: []string{"/grub/grub.cfg"}, wantBase: "http://10.77.0.9:8080/"},
		{name: "a disk", prefix: "(hd0,gpt2)/boot/grub", file: "grubx64.efi", err: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := memFetcher(t, nil, tt.base)
			names, lists, err := f.grubSearch(efiLoader{grub: true, grubPrefix: tt.prefix, grubConfig: tt.embedded, machine: 0x8664}, tt.file, tt.base != "", sc)
			if tt.err {
				if err == nil {
					t.Errorf("grubSearch(%q) = %q, want an error", tt.prefix, names)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(names, tt.want) {
				t.Errorf("grubSearch(%q, %q) =\n%q\nwant\n%q", tt.prefix, tt.file, names, tt.want)
			}
			dir := path.Dir(tt.want[len(tt.want)-1])
			if want := []string{dir + "/x86_64-efi/command.lst", dir + "/x86_64-efi/fs.lst", dir + "/x86_64-efi/crypto.lst", dir + "/x86_64-efi/terminal.lst"}; !slices.Equal(lists, want) {
				t.Errorf("module lists %q, want %q", lists, want)
			}
			if got := f.server.String(); tt.server != "" && got != tt.server {
				t.Errorf("TFTP server %s, want %s", got, tt.server)
			}
			var base string
			if f.base != nil {
				base = f.base.String()
			}
			if base != tt.wantBase {
				t.Errorf("HTTP base %q, want %q", base, tt.wantBase)
			}
			if f.loader == nil || *f.loader != grubTFTP || f.prefix != "/" {
				t.Errorf("fetcher not set up as GRUB: loader %v prefix %q", f.loader, f.prefix)
			}
			// Kernels named from the root go where GRUB sends them.
			u, _, p, err := f.resolve("/install/vmlinuz", f.base)
			if err != nil {
				t.Fatal(err)
			}
			if f.base != nil {
				if want, _ := url.Parse(tt.wantBase + "install/vmlinuz"); u.String() != want.String() {
					t.Errorf("kernel at %s, want %s", u, want)
				}
			} else if p != "/install/vmlinuz" {
				t.Errorf("kernel at TFTP %q, want /install/vmlinuz", p)
			}
		})
	}
}
