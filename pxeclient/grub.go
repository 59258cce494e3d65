package pxeclient

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"path"
	"strings"

	"github.com/pxekit/pxekit/bootmenu"
)

// Loader kinds of [Report.Loader].
const (
	LoaderPXELinux = "pxelinux" // any boot program not recognised below: the pxelinux search
	LoaderIPXE     = "ipxe"     // an iPXE script as the boot file
	LoaderGRUB     = "grub"     // a GRUB EFI image, loaded by the firmware
	LoaderShimGRUB = "shim+grub"
)

// efiLoader is what a boot program is, as far as the loader emulation
// cares: GRUB (with the prefix built into it), shim, or neither.
type efiLoader struct {
	machine    uint16 // COFF machine type: 0x8664, 0xaa64
	grub       bool   // a GRUB module section ("mods", magic "mimg")
	grubPrefix string // GRUB's OBJ_TYPE_PREFIX object, "" if none
	// grubConfig is set when the image embeds a configuration
	// (OBJ_TYPE_CONFIG): Debian's signed images hold "normal
	// (memdisk)/grub.cfg", whose script sources $prefix/grub.cfg.
	grubConfig bool
	shim       bool // an .sbat section whose component is "shim"
}

// Limits of parseEFILoader, far above what real programs use.
const (
	maxPEHeaderOffset = 1 << 16
	maxPESections     = 96
	maxGRUBObjects    = 4096
	maxSBAT           = 64 << 10
)

// parseEFILoader reads the PE/COFF headers of an EFI program (PE/COFF
// specification §2–§4) and the two sections that tell GRUB and shim
// apart: GRUB's module area (struct grub_module_info64 with magic
// "mimg", then grub_module_header objects, OBJ_TYPE_PREFIX = 3 holding
// the prefix) and the SBAT section (CSV, one component per line: shim's
// first after the "sbat" line is "shim", GRUB's "grub"). Anything it
// cannot read leaves the fields zero; it never panics.
func parseEFILoader(b []byte) efiLoader {
	var l efiLoader
	le := binary.LittleEndian
	at := func(off, n uint64) []byte {
		if off > uint64(len(b)) || n > uint64(len(b))-off {
			return nil
		}
		return b[off : off+n]
	}
	dos := at(0, 64)
	if dos == nil || dos[0] != 'M' || dos[1] != 'Z' {
		return l
	}
	pe := uint64(le.Uint32(dos[0x3c:]))
	if pe > maxPEHeaderOffset {
		return l
	}
	hdr := at(pe, 24)
	if hdr == nil || !bytes.Equal(hdr[:4], []byte("PE\x00\x00")) {
		return l
	}
	machine := le.Uint16(hdr[4:])
	nsec := uint64(le.Uint16(hdr[6:]))
	optSize := uint64(le.Uint16(hdr[20:]))
	if nsec > maxPESections {
		return l
	}
	l.machine = machine
	secs := at(pe+24+optSize, nsec*40)
	if secs == nil {
		return l
	}
	for i := range nsec {
		s := secs[i*40 : (i+1)*40]
		name := string(bytes.TrimRight(s[:8], "\x00"))
		size, off := uint64(le.Uint32(s[16:])), uint64(le.Uint32(s[20:]))
		body := at(off, size)
		if body == nil {
			continue
		}
		switch name {
		case "mods", ".mods":
			l.grub, l.grubPrefix, l.grubConfig = grubModules(body)
		case ".sbat":
			l.shim = sbatComponent(body[:min(len(body), maxSBAT)]) == "shim"
		}
	}
	return l
}

// grubModules walks a GRUB module area for its prefix object and an
// embedded configuration.
func grubModules(m []byte) (ok bool, prefix string, config bool) {
	le := binary.LittleEndian
	if len(m) < 24 || le.Uint32(m) != 0x676d696d { // "mimg"
		return false, "", false
	}
	pos, end := le.Uint64(m[8:]), le.Uint64(m[16:])
	end = min(end, uint64(len(m)))
	for range maxGRUBObjects {
		if pos > end || end-pos < 8 {
			break
		}
		typ, n := le.Uint32(m[pos:]), uint64(le.Uint32(m[pos+4:]))
		if n < 8 || n > end-pos {
			break
		}
		switch typ {
		case 2: // OBJ_TYPE_CONFIG
			config = true
		case 3: // OBJ_TYPE_PREFIX
			body := m[pos+8 : pos+n]
			if i := bytes.IndexByte(body, 0); i >= 0 {
				body = body[:i]
			}
			prefix = string(body)
		}
		pos += n
	}
	return true, prefix, config
}

// sbatComponent returns the name of the first component of an SBAT
// section after its "sbat" line: "shim" for shim, "grub" for GRUB.
func sbatComponent(s []byte) string {
	for line := range strings.SplitSeq(string(bytes.TrimRight(s, "\x00")), "\n") {
		name, _, _ := strings.Cut(line, ",")
		if name != "" && name != "sbat" {
			return name
		}
	}
	return ""
}

// shimSecondStage is the program shim loads from its own directory
// (shim's DEFAULT_LOADER) on machine.
func shimSecondStage(machine uint16) string {
	if machine == 0xaa64 {
		return "grubaa64.efi"
	}
	return "grubx64.efi"
}

// grubDevice splits a GRUB prefix such as "(tftp,10.0.0.1)/boot/grub"
// into its device ("tftp,10.0.0.1", "" when the prefix has none: GRUB
// then uses the device it was loaded from) and its directory, which
// starts with "/".
func grubDevice(prefix string) (device, dir string) {
	if strings.HasPrefix(prefix, "(") {
		if i := strings.LastIndexByte(prefix, ')'); i >= 0 {
			device, prefix = prefix[1:i], prefix[i+1:]
		}
	}
	dir = path.Clean("/" + prefix)
	return device, dir
}

// ErrNotGRUB is returned (wrapped) when shim's second stage is not a GRUB
// image, the only second stage the client can follow.
var ErrNotGRUB = errors.New("pxeclient: not a GRUB image")

// grubTFTP is how GRUB's tftp module asks for files: "blksize 1024 tsize
// 0" (grub-core/net/tftp.c, tftp_open).
var grubTFTP = TFTPHabits{Blksize: 1024, Tsize: true}

// sibling returns name's neighbour file in the same directory: a TFTP
// path or a URL.
func sibling(name, file string) string {
	if u, err := url.Parse(name); err == nil && u.Scheme != "" {
		u.Path = path.Join(path.Dir(u.Path), file)
		u.RawPath, u.RawQuery, u.Fragment = "", "", ""
		return u.String()
	}
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i+1] + file
	}
	return file
}

// grubLists are the files GRUB's normal mode reads from
// $prefix/<platform>/ before its configuration (grub_normal_execute:
// read_command_list, read_fs_list, read_crypto_list,
// read_terminal_list); a network GRUB finds none unless the server
// serves them.
var grubLists = []string{"command.lst", "fs.lst", "crypto.lst", "terminal.lst"}

// grubPlatform is GRUB's platform directory for the machine type.
func grubPlatform(machine uint16) string {
	if machine == 0xaa64 {
		return "arm64-efi"
	}
	return "x86_64-efi"
}

// grubSearch sets f up as GRUB l reads files (paths from the root of the
// device, GRUB's TFTP habits) and returns the configuration names GRUB
// tries and the module lists its normal mode reads (see grubLists). A
// GRUB without an embedded configuration searches as
// grub_try_normal_prefix does: under a TFTP prefix
// [bootmenu.GRUBSearchPath], else prefix/grub.cfg alone. One with an
// embedded configuration, as Debian's signed images are, enters normal
// mode with it, which makes no search: Debian's sources
// $prefix/x86_64-efi/grub.cfg if "[ -e ]" finds it, which over TFTP and
// HTTP it cannot (GRUB's network file systems list no directories, so
// the test sends nothing), and else $prefix/grub.cfg. The prefix is the
// one built into the image; without one GRUB uses the directory it was
// loaded from (grubFile's). A prefix without a device is on the device
// GRUB came from: HTTP when it came by URL (isURL), else TFTP.
func (f *fetcher) grubSearch(l efiLoader, grubFile string, isURL bool, c bootmenu.SearchClient) (names, lists []string, err error) {
	prefix := l.grubPrefix
	device, dir := grubDevice(prefix)
	if prefix == "" {
		p := grubFile
		if u, err := url.Parse(grubFile); err == nil && u.Scheme != "" {
			p = u.Path
		}
		dir = path.Clean("/" + path.Dir(p))
	}
	proto, host, _ := strings.Cut(device, ",")
	switch {
	case proto == "" && isURL, proto == "http":
		base := url.URL{Scheme: "http", Host: f.rep.Server.String(), Path: "/"}
		if f.base != nil {
			base.Scheme, base.Host = f.base.Scheme, f.base.Host
		}
		if host != "" {
			base.Host = host
		}
		f.base = &base
	case proto == "", proto == "tftp":
		f.base = nil
		if a, err := netip.ParseAddr(host); err == nil && a.Is4() {
			f.server = a
		}
	default:
		return nil, nil, fmt.Errorf("pxeclient: GRUB prefix %q is not on the network", prefix)
	}
	f.prefix, f.loader = "/", &grubTFTP
	for _, n := range grubLists {
		lists = append(lists, path.Join(dir, grubPlatform(l.machine), n))
	}
	if f.base != nil || l.grubConfig {
		return []string{path.Join(dir, "grub.cfg")}, lists, nil
	}
	return bootmenu.GRUBSearchPath(dir, c), lists, nil
}

// grubLists asks for GRUB's module lists, as its normal mode does when
// it starts; a list that is missing is no error (none is served
// usually), one found is recorded as a KindConfig file.
func (f *fetcher) grubLists(names []string) error {
	for _, n := range names {
		file, err := f.get(n, KindConfig, io.Discard, maxConfigSize)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("config %s: %w", file.Name, err)
		}
	}
	return nil
}
