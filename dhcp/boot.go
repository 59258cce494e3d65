package dhcp

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// ErrNoBoot is returned by a [Decider] that does not want to boot a client.
// A proxyDHCP server then stays silent to that client; a full DHCP server
// still leases it an address, without boot options.
var ErrNoBoot = errors.New("dhcp: no boot answer for this client")

// Boot is the boot decision for one client: what the reply tells the
// firmware to load, and from where. The zero value boots nothing; a reply
// built from it carries no boot file.
//
// # Strategy per firmware family
//
// Firmware differs in what it accepts from a proxyDHCP server, so the reply
// covers every family at once where it can and offers knobs where it cannot:
//
//   - BIOS PXE ROMs (Intel/UNDI, option 93 arch 0) and iPXE: the proxy OFFER
//     carries siaddr, the file field, option 67 and option 43 with discovery
//     control 8 ("boot the file from the offer, no boot server discovery").
//     Such ROMs load the file without a second exchange, and some of them
//     never send a REQUEST at all when a plain DHCP offer and a proxy offer
//     arrive together, so the file must be in the OFFER.
//   - UEFI PXE (arch 6, 7, 9, 10, 11; EDK2/OVMF, AAVMF and vendor firmware):
//     the same OFFER works for EDK2, but some vendor firmware ignores a proxy
//     offer whose option 43 says "skip discovery" and sends a REQUEST to port
//     4011 of the proxy server instead. The server therefore always answers
//     REQUESTs on port 4011 (proxy mode) with an ACK carrying the same
//     decision, whatever [Boot.ProxyStyle] says. For firmware that mistrusts
//     a file in the proxy offer, [ProxyBINL] sends it to port 4011 first.
//   - UEFI HTTP boot (option 60 "HTTPClient", arch 15, 16, 19 …): the client
//     rejects any offer that does not echo "HTTPClient" in option 60, and
//     wants a URL as boot file; set [Boot.HTTP] and put the URL in
//     [Boot.File]. No option 43 is sent, siaddr stays zero.
//   - Raspberry Pi (its boot ROM sends "PXEClient:Arch:00000:UNDI:002001"):
//     it ignores offers whose option 43 lacks a boot menu entry reading
//     "Raspberry Pi Boot"; set [Boot.Menu] to that text, which adds option
//     43 sub-options 9 (menu) and 10 (prompt, no wait).
//   - pxelinux / syslinux.efi: set [Boot.ConfigFile] and [Boot.PathPrefix]
//     (options 209, 210), sent when the file is a syslinux program or they
//     are set. syslinux.efi runs a second DHCP exchange with only options
//     53, 57 and 55 and no PXE vendor class; the server remembers recent
//     boot clients by MAC for a minute (see Server.RememberFor) and
//     answers such a bare request from such a MAC with the remembered
//     decision instead of dropping it. A request that looks like an
//     operating system's DHCP client (its own vendor class, a host name,
//     a client identifier, asking for domain search or classless routes)
//     is never answered from memory.
type Boot struct {
	// NextServer is the TFTP server's address, sent in siaddr. The zero
	// value means the address the server answers from. Ignored when HTTP
	// is set.
	NextServer netip.Addr

	// ServerName is option 66 (TFTP server name). Empty means the dotted
	// form of the next-server address; it is sent only when the client
	// asks for option 66 or a name is set.
	ServerName string

	// File is the boot file: a TFTP path such as "pxelinux.0", or a URL
	// for UEFI HTTP boot (and for iPXE, which accepts URLs too). It goes
	// into the file field when it fits (127 bytes) and always into option
	// 67.
	File string

	// HTTP marks a UEFI HTTP boot answer: option 60 carries "HTTPClient"
	// instead of "PXEClient" and File must be a URL.
	HTTP bool

	// ConfigFile and PathPrefix are pxelinux options 209 and 210, sent
	// when non-empty. RebootTime is option 211, sent when positive.
	ConfigFile string
	PathPrefix string
	RebootTime time.Duration

	// Menu, when non-empty, adds a one-entry PXE boot menu with this text
	// (option 43 sub-options 9 and 10, no prompt wait). A Raspberry Pi
	// needs it to read "Raspberry Pi Boot".
	Menu string

	// ProxyStyle selects how a proxyDHCP OFFER on port 67 points the
	// client at its file; the port-4011 ACK always carries the file.
	ProxyStyle ProxyStyle
}

// ProxyStyle says what a proxyDHCP OFFER on port 67 carries. See [Boot].
type ProxyStyle uint8

const (
	// ProxyDirect (the zero value) puts siaddr, the file and option 43
	// discovery control 8 into the OFFER, so the client boots without a
	// second exchange; clients that still ask on port 4011 get an ACK with
	// the same decision. It suits BIOS PXE ROMs, iPXE, EDK2 (OVMF, AAVMF).
	ProxyDirect ProxyStyle = iota

	// ProxyBINL leaves the file and siaddr out of the OFFER, which only
	// echoes PXEClient, so the client sends a DHCPREQUEST to port 4011 of
	// this server and gets the file in the ACK (the PXE specification's
	// "BINL" path). It suits firmware that ignores a file in a proxy offer.
	ProxyBINL
)

// String returns "direct" or "binl".
func (s ProxyStyle) String() string {
	switch s {
	case ProxyDirect:
		return "direct"
	case ProxyBINL:
		return "binl"
	}
	return "ProxyStyle(" + strconv.Itoa(int(s)) + ")"
}

// A Decider makes the boot decision for a request. The server calls it
// once per DISCOVER, REQUEST or INFORM from a client that identifies as a
// PXE or HTTP boot client (option 60), possibly from several goroutines at
// once. An error means "no boot answer": with [ErrNoBoot] the client is not
// a boot client (proxy mode stays silent; full mode leases an address
// without boot options); with any other error (no boot program for the
// client's architecture) a proxyDHCP server stays silent and logs it at
// debug level, and a full DHCP server still leases an address, without
// boot options, and says so at info level once per client (per MAC and
// hour). Decide must not keep or modify req. The
// server's ctx carries the request's [Arrival]: [ArrivalFromContext] says
// which interface it came in on and the server's address there.
type Decider interface {
	Decide(ctx context.Context, req *dhcpv4.DHCPv4) (Boot, error)
}

// DeciderFunc adapts a function to a [Decider].
type DeciderFunc func(ctx context.Context, req *dhcpv4.DHCPv4) (Boot, error)

// Decide calls f(ctx, req).
func (f DeciderFunc) Decide(ctx context.Context, req *dhcpv4.DHCPv4) (Boot, error) {
	return f(ctx, req)
}

// StaticBoot returns a [Decider] that gives every boot client b.
func StaticBoot(b Boot) Decider {
	return DeciderFunc(func(context.Context, *dhcpv4.DHCPv4) (Boot, error) { return b, nil })
}
