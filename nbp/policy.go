package nbp

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/dhcp"
)

// ErrUncovered is wrapped by the error a [Policy] returns for a client it
// has no boot program for (see [UncoveredError]).
var ErrUncovered = errors.New("nbp: no boot program for this client")

// ErrChainLoop is returned by a [Policy] that would give a client already
// running iPXE an iPXE program again, which it would load, and which would
// ask again, forever. Set [Policy.IPXEScript] to break the loop.
var ErrChainLoop = errors.New("nbp: client runs iPXE and would be given iPXE again; set Policy.IPXEScript")

// UncoveredError reports a client whose architecture a [Policy] does not
// cover. It unwraps to [ErrUncovered].
type UncoveredError struct {
	// Arch is the client's architecture, meaningful when Known is set.
	Arch  iana.Arch
	Known bool
	// HTTP is set when the client asked for UEFI HTTP boot.
	HTTP bool
}

// Error returns a message such as "nbp: no HTTP boot program for
// architecture 19 (EFI ARM64 boot from HTTP)".
func (e *UncoveredError) Error() string {
	if !e.Known {
		return "nbp: client sent no architecture (option 93 or Arch in option 60)"
	}
	kind := "TFTP"
	if e.HTTP {
		kind = "HTTP"
	}
	return fmt.Sprintf("nbp: no %s boot program for architecture %d (%s)", kind, uint16(e.Arch), e.Arch)
}

// Unwrap returns [ErrUncovered].
func (e *UncoveredError) Unwrap() error { return ErrUncovered }

// Choice is what a client should load.
type Choice struct {
	// File is the boot file: a TFTP path, or a URL.
	File string
	// HTTP marks a UEFI HTTP boot answer: File is an http or https URL and
	// the reply must carry "HTTPClient" in option 60.
	HTTP bool
	// IPXEScript marks File as an iPXE script, given to a client that
	// already runs iPXE instead of an iPXE program.
	IPXEScript bool
	// Menu, when set, is the text of a one-entry PXE boot menu the reply
	// must carry (option 43 sub-options 9 and 10). A Raspberry Pi's boot
	// ROM ignores offers without "Raspberry Pi Boot".
	Menu string
}

// RaspberryPiMenu is the boot menu text a Raspberry Pi's boot ROM looks
// for in option 43.
const RaspberryPiMenu = "Raspberry Pi Boot"

// Policy maps a [Client] to a [Choice]. It is data: a few tables with
// defaults, each entry overridable. The zero value uses the defaults and
// covers BIOS, x86-64 UEFI and ARM64 UEFI over TFTP; UEFI HTTP boot needs
// HTTPBase or HTTP entries. A Policy is safe for concurrent use as long
// as nobody modifies it.
//
// The choice, in order:
//
//  1. A Raspberry Pi boot ROM gets RaspberryPi (default "bootcode.bin")
//     and the menu [RaspberryPiMenu].
//  2. A client that already runs iPXE gets the script of its architecture
//     from IPXEScripts, or else IPXEScript, when either is set.
//  3. A UEFI HTTP boot client gets the URL for its architecture from HTTP,
//     or else HTTPBase joined with [DefaultHTTP]'s program name.
//  4. Any other client gets the TFTP program for its architecture from
//     TFTP, or else from [DefaultTFTP]. An iPXE client whose program is
//     iPXE itself gets [ErrChainLoop].
//
// An architecture found nowhere, or mapped to "", is an
// [UncoveredError].
//
// A URL in HTTP, HTTPBase or IPXEScript may leave its host out, as in
// "http://:8080/boot.ipxe": [Policy.Decide] then puts in the server's
// address on the client's segment, which the dhcp server tells it
// ([dhcp.ArrivalFromContext]), so that one Policy serves every interface
// of a machine.
type Policy struct {
	// TFTP maps architectures to the boot program that PXE clients load
	// over TFTP. Entries override [DefaultTFTP]; an entry with an empty
	// name removes the architecture.
	TFTP map[iana.Arch]string

	// HTTP maps HTTP boot architectures (16, 19 …) to the absolute URL of
	// their boot program. Entries override the defaults made from
	// HTTPBase; an empty URL removes the architecture. A value that is not
	// an http:// or https:// URL is an error when a client needs it, since
	// UEFI HTTP boot firmware rejects anything else.
	HTTP map[iana.Arch]string

	// HTTPBase, such as "http://192.168.10.1:8080/", prefixes the
	// [DefaultHTTP] program names. Empty: only HTTP entries cover HTTP
	// boot clients.
	HTTPBase string

	// IPXEScript is what a client that already runs iPXE gets instead of
	// a boot program: usually the URL of an iPXE script. Empty: such a
	// client gets the program of its architecture, unless that program is
	// iPXE (then [ErrChainLoop]).
	IPXEScript string

	// IPXEScripts overrides IPXEScript per architecture. An entry with
	// an empty script makes iPXE clients of that architecture get their
	// boot program like other clients: a pxelinux.0 named for BIOS then
	// boots pxelinux on an iPXE ROM too, instead of the script. (A
	// program that is iPXE itself still gets [ErrChainLoop].)
	IPXEScripts map[iana.Arch]string

	// RaspberryPi is the boot file named to a Raspberry Pi's boot ROM.
	// Empty means "bootcode.bin".
	RaspberryPi string

	// Base holds the fields that [Policy.Decide] copies into every
	// decision (next server, pxelinux options 209–211, proxy style);
	// Decide sets File, HTTP and Menu from the choice.
	Base dhcp.Boot
}

// DefaultTFTP returns the TFTP boot programs a [Policy] uses when its TFTP
// table has no entry, as a new map: BIOS (0) gets pxelinux.0, x86-64 UEFI
// (7, and 9 for firmware that follows RFC 4578's swapped table) gets
// syslinux.efi, ARM64 UEFI (11) gets grubnetaa64.efi.
func DefaultTFTP() map[iana.Arch]string {
	m := make(map[iana.Arch]string)
	for _, a := range []iana.Arch{iana.INTEL_X86PC, iana.EFI_X86_64, iana.EFI_BC, iana.EFI_ARM64} {
		m[a], _ = defaultTFTP(a)
	}
	return m
}

func defaultTFTP(a iana.Arch) (string, bool) {
	switch a {
	case iana.INTEL_X86PC:
		return "pxelinux.0", true
	case iana.EFI_X86_64, iana.EFI_BC:
		return "syslinux.efi", true
	case iana.EFI_ARM64:
		return "grubnetaa64.efi", true
	}
	return "", false
}

// DefaultHTTP returns the program names a [Policy] joins to its HTTPBase
// for UEFI HTTP boot clients, as a new map: x86-64 (16) gets ipxe.efi,
// ARM64 (19) gets grubnetaa64.efi.
func DefaultHTTP() map[iana.Arch]string {
	m := make(map[iana.Arch]string)
	for _, a := range []iana.Arch{iana.EFI_X86_64_HTTP, iana.EFI_ARM64_HTTP} {
		m[a], _ = defaultHTTP(a)
	}
	return m
}

func defaultHTTP(a iana.Arch) (string, bool) {
	switch a {
	case iana.EFI_X86_64_HTTP:
		return "ipxe.efi", true
	case iana.EFI_ARM64_HTTP:
		return "grubnetaa64.efi", true
	}
	return "", false
}

// Choose returns what c should load. See [Policy] for the order of the
// rules. A nil *Policy behaves as the zero Policy.
func (p *Policy) Choose(c Client) (Choice, error) {
	if p == nil {
		p = &Policy{}
	}
	if c.Firmware == FirmwareRaspberryPi {
		f := p.RaspberryPi
		if f == "" {
			f = "bootcode.bin"
		}
		return Choice{File: f, Menu: RaspberryPiMenu}, nil
	}
	if c.IPXE {
		script := p.IPXEScript
		if s, ok := p.IPXEScripts[c.Arch]; ok && c.ArchSource != ArchUnknown {
			script = s
		}
		if script != "" {
			return Choice{File: script, IPXEScript: true}, nil
		}
	}
	if c.ArchSource == ArchUnknown {
		return Choice{}, &UncoveredError{HTTP: c.HTTP}
	}
	if c.HTTP {
		url, ok := p.HTTP[c.Arch]
		if !ok && p.HTTPBase != "" {
			if name, ok := defaultHTTP(c.Arch); ok {
				url = joinURL(p.HTTPBase, name)
			}
		}
		if url == "" {
			return Choice{}, &UncoveredError{Arch: c.Arch, Known: true, HTTP: true}
		}
		if !isHTTPURL(url) {
			return Choice{}, fmt.Errorf("nbp: HTTP boot file %q for architecture %d is not an http:// or https:// URL", url, uint16(c.Arch))
		}
		return Choice{File: url, HTTP: true}, nil
	}
	file, ok := p.TFTP[c.Arch]
	if !ok {
		file, _ = defaultTFTP(c.Arch)
	}
	if file == "" {
		return Choice{}, &UncoveredError{Arch: c.Arch, Known: true}
	}
	if c.IPXE && IsIPXEProgram(file) {
		return Choice{}, ErrChainLoop
	}
	return Choice{File: file}, nil
}

// isHTTPURL reports whether s starts with http:// or https:// (any case)
// and names a host.
func isHTTPURL(s string) bool {
	l := strings.ToLower(s)
	for _, p := range []string{"http://", "https://"} {
		if strings.HasPrefix(l, p) && len(s) > len(p) && s[len(p)] != '/' {
			return true
		}
	}
	return false
}

func joinURL(base, name string) string {
	if strings.HasSuffix(base, "/") {
		return base + name
	}
	return base + "/" + name
}

// IsIPXEProgram reports whether the boot file name looks like an iPXE
// binary, judged by the names iPXE's build gives them: *.kpxe, *.kkpxe,
// *.kkkpxe, ipxe.pxe, undionly.pxe, ipxe.lkrn, snp.efi, snponly.efi, and
// any *.efi whose name contains "ipxe". Paths and URLs are judged by their
// last element.
func IsIPXEProgram(file string) bool {
	if i := strings.IndexAny(file, "?#"); i >= 0 {
		file = file[:i]
	}
	base := strings.ToLower(path.Base(file))
	switch {
	case strings.HasSuffix(base, ".kpxe"), strings.HasSuffix(base, ".kkpxe"), strings.HasSuffix(base, ".kkkpxe"):
		return true
	case base == "ipxe.pxe", base == "undionly.pxe", base == "ipxe.lkrn", base == "snp.efi", base == "snponly.efi":
		return true
	case strings.HasSuffix(base, ".efi") && strings.Contains(base, "ipxe"):
		return true
	}
	return false
}

// Decide implements [dhcp.Decider], so that a *Policy plugs straight into
// the dhcp responders: it identifies the client, chooses, and returns
// Base with File, HTTP and Menu set from the choice. A chosen http:// or
// https:// URL without a host ("http://:8080/x") gets the server's
// address from [dhcp.ArrivalFromContext](ctx); without one it is an
// error. A request that is not a boot request gets an error wrapping both
// [dhcp.ErrNoBoot] and [ErrNotPXE]; a malformed one, or one the policy
// does not cover, gets the error of [Identify] or [Policy.Choose].
func (p *Policy) Decide(ctx context.Context, req *dhcpv4.DHCPv4) (dhcp.Boot, error) {
	c, err := Identify(req)
	if errors.Is(err, ErrNotPXE) {
		return dhcp.Boot{}, fmt.Errorf("%w: %w", dhcp.ErrNoBoot, err)
	}
	if err != nil {
		return dhcp.Boot{}, err
	}
	ch, err := p.Choose(c)
	if err != nil {
		return dhcp.Boot{}, err
	}
	if ch.File, err = completeURL(ctx, ch.File); err != nil {
		return dhcp.Boot{}, err
	}
	var b dhcp.Boot
	if p != nil {
		b = p.Base
	}
	b.File, b.HTTP = ch.File, ch.HTTP
	if ch.Menu != "" {
		b.Menu = ch.Menu
	}
	return b, nil
}

var _ dhcp.Decider = (*Policy)(nil)

// completeURL puts the server's address on the client's segment into an
// http:// or https:// URL that has a port but no host.
func completeURL(ctx context.Context, file string) (string, error) {
	for _, scheme := range []string{"http://", "https://"} {
		if len(file) <= len(scheme) || !strings.EqualFold(file[:len(scheme)], scheme) || file[len(scheme)] != ':' {
			continue
		}
		a, ok := dhcp.ArrivalFromContext(ctx)
		if !ok || !a.Local.IsValid() {
			return "", fmt.Errorf("nbp: boot file %q names no host and the server's address is unknown", file)
		}
		return file[:len(scheme)] + a.Local.String() + file[len(scheme):], nil
	}
	return file, nil
}
