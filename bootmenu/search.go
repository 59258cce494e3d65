package bootmenu

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/pxekit/pxekit/internal/pxelinux"
)

// SearchClient identifies a PXE client for [SearchPath]: what pxelinux names
// its configuration files after.
type SearchClient struct {
	// ConfigFile is the file named by DHCP option 209 (pxelinux.configfile),
	// tried first; "" if the server sent none.
	ConfigFile string
	// UUID is the client machine identifier, the 16 bytes of DHCP option 97
	// after its type byte; nil or another length if the client sent none.
	// A UUID pxelinux does not accept (see [SearchPath]) is not listed.
	UUID []byte
	// HardwareType is the ARP hardware type (DHCP htype); 0 means 1,
	// Ethernet.
	HardwareType uint8
	// MAC is the client hardware address (chaddr).
	MAC net.HardwareAddr
	// IP is the client's IPv4 address (yiaddr); the zero Addr if unknown.
	IP netip.Addr
}

// Client is the former name of [SearchClient].
//
// Deprecated: use SearchClient; Client read as nbp.Client's namesake.
type Client = SearchClient

// SearchPath returns the configuration file names pxelinux tries for c, in
// order, relative to its path prefix, as pxelinux(1) documents them: the
// option 209 file if any, then under "pxelinux.cfg/" the UUID in lower-case
// 8-4-4-4-12 form, the ARP type and MAC address in lower-case hex with
// dashes ("01-88-99-aa-bb-cc-dd"), the IPv4 address as eight upper-case hex
// digits and then shortened one digit at a time ("C0A8025B", "C0A8025", …,
// "C"), and finally "default".
//
// The UUID is printed byte by byte in the order received, as pxelinux
// does, without the mixed-endian swap some tools apply. pxelinux skips a
// UUID whose byte 6 (where the version nibble is) is below 0x10 or 0xf0
// and above, the nil UUID among them, and so does SearchPath; it is the
// rule of dhcp.ClientGUID.PXELinuxAccepts, kept in one place for both.
func SearchPath(c SearchClient) []string {
	const dir = "pxelinux.cfg/"
	var out []string
	if c.ConfigFile != "" {
		out = append(out, c.ConfigFile)
	}
	if pxelinux.AcceptsUUID(c.UUID) {
		h := hex.EncodeToString(c.UUID)
		out = append(out, dir+h[0:8]+"-"+h[8:12]+"-"+h[12:16]+"-"+h[16:20]+"-"+h[20:32])
	}
	if len(c.MAC) > 0 {
		ht := c.HardwareType
		if ht == 0 {
			ht = 1
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s%02x", dir, ht)
		for _, x := range c.MAC {
			fmt.Fprintf(&b, "-%02x", x)
		}
		out = append(out, b.String())
	}
	if c.IP.Is4() || c.IP.Is4In6() {
		a := c.IP.Unmap().As4()
		h := strings.ToUpper(hex.EncodeToString(a[:]))
		for n := len(h); n > 0; n-- {
			out = append(out, dir+h[:n])
		}
	}
	return append(out, dir+"default")
}

// GRUBSearchPath returns the configuration files GRUB's normal mode
// tries, in order, when its prefix is on a TFTP device ("(tftp)/grub",
// or "/grub" in a GRUB the firmware loaded over TFTP):
// grub_net_search_config_file of GRUB 2.06 and later
// (grub-core/net/net.c), called from grub_try_normal_prefix
// (grub-core/normal/main.c) unless feature_net_search_cfg is "n". Under
// prefix it tries "grub.cfg-" followed by
//
//   - the UUID in lower-case 8-4-4-4-12 form, when c.UUID is 16 bytes:
//     GRUB reads it from option 97 of the DHCP ACK the firmware received
//     (net_<if>_clientuuid), so it is there only when the server echoed
//     the client's option 97; unlike pxelinux, GRUB tries any UUID, the
//     nil UUID too;
//   - "01-" and the MAC address in lower-case hex with dashes (always
//     type 01, whatever c.HardwareType says);
//   - the IPv4 address as eight upper-case hex digits, then shortened
//     one digit at a time down to one,
//
// and then prefix/grub.cfg itself. Option 209 (c.ConfigFile) plays no
// part. Over HTTP, or when the prefix is on a disk, GRUB reads only
// prefix/grub.cfg. A GRUB image with an embedded configuration runs
// that instead and searches nothing: Debian's signed images embed
// "normal (memdisk)/grub.cfg", whose script sources prefix/grub.cfg.
// Red Hat's GRUB tries $fw_path (the boot file's directory) before
// $prefix; this list does not.
func GRUBSearchPath(prefix string, c SearchClient) []string {
	base := strings.TrimSuffix(prefix, "/") + "/grub.cfg"
	var out []string
	if len(c.UUID) == 16 {
		h := hex.EncodeToString(c.UUID)
		out = append(out, base+"-"+h[0:8]+"-"+h[8:12]+"-"+h[12:16]+"-"+h[16:20]+"-"+h[20:32])
	}
	if len(c.MAC) > 0 {
		var b strings.Builder
		b.WriteString(base + "-01")
		for _, x := range c.MAC {
			fmt.Fprintf(&b, "-%02x", x)
		}
		out = append(out, b.String())
	}
	if c.IP.Is4() || c.IP.Is4In6() {
		a := c.IP.Unmap().As4()
		h := strings.ToUpper(hex.EncodeToString(a[:]))
		for n := len(h); n > 0; n-- {
			out = append(out, base+"-"+h[:n])
		}
	}
	return append(out, base)
}
