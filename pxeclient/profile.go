package pxeclient

import (
	"embed"
	"errors"
	"fmt"
	"time"
)

// The DHCPDISCOVERs that real firmware sent, copied from
// nbp/testdata/captures (nbp/testdata/README.md says how they were made).
//
//go:embed profiles/*.bin
var captures embed.FS

// Option is one DHCP option as it appears on the wire.
type Option struct {
	Code  uint8
	Value []byte
}

// ErrMalformed is returned by [ParseRequest] for a message that is not a
// well-formed BOOTP request with DHCP options.
var ErrMalformed = errors.New("pxeclient: malformed DHCP message")

// Request is the part of a captured client message that a [Profile]
// replays: the header fields a firmware sets and its options in wire order.
type Request struct {
	HType uint8
	HLen  uint8
	// Flags is the BOOTP flags field (0x8000: the broadcast bit).
	Flags uint16
	// Options are the DHCP options in the order the firmware sent them,
	// without Pad and End.
	Options []Option
}

// ParseRequest decodes a BOOTP request (the UDP payload, op 1, with the
// DHCP magic cookie). The returned options do not share memory with b.
func ParseRequest(b []byte) (Request, error) {
	const hdr = 236
	if len(b) < hdr+4 || b[0] != 1 {
		return Request{}, fmt.Errorf("%w: short or not a request", ErrMalformed)
	}
	if b[hdr] != 99 || b[hdr+1] != 130 || b[hdr+2] != 83 || b[hdr+3] != 99 {
		return Request{}, fmt.Errorf("%w: no magic cookie", ErrMalformed)
	}
	r := Request{HType: b[1], HLen: b[2], Flags: uint16(b[10])<<8 | uint16(b[11])}
	if r.HLen > 16 {
		return Request{}, fmt.Errorf("%w: hlen %d", ErrMalformed, r.HLen)
	}
	opts := b[hdr+4:]
	for len(opts) > 0 {
		code := opts[0]
		if code == 0 {
			opts = opts[1:]
			continue
		}
		if code == 255 {
			return r, nil
		}
		if len(opts) < 2 || len(opts) < 2+int(opts[1]) {
			return Request{}, fmt.Errorf("%w: option %d overruns the message", ErrMalformed, code)
		}
		v := append([]byte(nil), opts[2:2+int(opts[1])]...)
		r.Options = append(r.Options, Option{Code: code, Value: v})
		opts = opts[2+int(opts[1]):]
	}
	return Request{}, fmt.Errorf("%w: no End option", ErrMalformed)
}

// Option returns the value of the first option with the given code.
func (r Request) Option(code uint8) ([]byte, bool) {
	for _, o := range r.Options {
		if o.Code == code {
			return o.Value, true
		}
	}
	return nil, false
}

// TFTPHabits is how a firmware asks for its boot program over TFTP.
type TFTPHabits struct {
	// Blksize and Windowsize are the RFC 2348 and RFC 7440 options it
	// asks for; 0 leaves the option out.
	Blksize, Windowsize int
	// Tsize sends "tsize 0" (RFC 2349) with the read request.
	Tsize bool
	// Probe first sends a read request with tsize=0 (and the block and
	// window sizes), reads the OACK, aborts the transfer with an ERROR and
	// then asks again without tsize, as EDK2's PXE does to learn the size.
	Probe bool
}

// Profile is the behaviour of one boot firmware. The zero value is not
// useful; use the profiles of [Profiles] or build one from [ParseRequest].
// A Profile is read-only once in use and safe to share between clients.
type Profile struct {
	// Name is a short name such as "ovmf-pxe".
	Name string
	// Firmware describes the firmware the profile was captured from.
	Firmware string
	// Discover is the captured DHCPDISCOVER: header flags and options in
	// order. Clients replay it with their own MAC (options 61 and chaddr)
	// and transaction ID, and their own UUID (option 97) when they have one.
	Discover Request
	// Retransmit is the time to wait for an answer after each
	// transmission of a DISCOVER or REQUEST; its length is the number of
	// transmissions.
	Retransmit []time.Duration
	// OfferWait is how long the firmware keeps collecting offers after
	// the first one when that one does not name a boot file (waiting for a
	// proxyDHCP offer).
	OfferWait time.Duration
	// Proxy4011 is true when the firmware, given a proxyDHCP offer, asks
	// the proxy server again with a REQUEST to its port 4011 and boots what
	// that ACK names; false when it boots the file of the proxy offer (and
	// goes to port 4011 only when that offer names no file).
	Proxy4011 bool
	// HTTP is true for UEFI HTTP boot: the boot file is a URL and only
	// offers that echo "HTTPClient" in option 60 count.
	HTTP bool
	// IPXE is true for iPXE, which fetches http:// boot files itself and
	// treats a "#!ipxe" boot file as its configuration.
	IPXE bool
	// TFTP is how it loads the boot program.
	TFTP TFTPHabits
	// Loader is how the loaded boot program (pxelinux) fetches its
	// configuration over TFTP.
	Loader TFTPHabits
	// TFTPTimeout is the wait for each TFTP packet before retransmitting,
	// TFTPRetries how many retransmissions the firmware makes before it
	// gives up on a transfer.
	TFTPTimeout time.Duration
	TFTPRetries int
}

// pxeSchedule is the PXE specification's DHCP retransmission schedule
// (PXE 2.1 §2.2.1: 4, 8, 16 and 32 seconds), which EDK2 follows.
var pxeSchedule = []time.Duration{4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second}

// pxelinuxLoader is how pxelinux 6 asks for its files: tsize and a block
// size that fits an Ethernet frame.
var pxelinuxLoader = TFTPHabits{Blksize: 1408, Tsize: true}

// edk2TFTPTimeout is EDK2 PxeBcDxe's MTFTP timeout (PXEBC_MTFTP_TIMEOUT,
// 4 s, with PXEBC_MTFTP_RETRIES 6). The iPXE profiles wait 1 s, an
// approximation of iPXE's adaptive retry timer.
const edk2TFTPTimeout = 4 * time.Second

var profileDefs = []struct {
	name, file, firmware string
	http, ipxe, p4011    bool
	tftp                 TFTPHabits
	tftpTimeout          time.Duration
}{
	{"bios-ipxe", "ipxe-bios-e1000.bin", "iPXE option ROM (BIOS) under SeaBIOS", false, true, true, TFTPHabits{Blksize: 1432, Tsize: true}, time.Second},
	{"ipxe-efi", "ovmf-ipxe-virtio.bin", "iPXE EFI driver under OVMF (x86-64)", false, true, true, TFTPHabits{Blksize: 1432, Tsize: true}, time.Second},
	{"ovmf-pxe", "ovmf-pxe.bin", "EDK2 UEFI PXE, OVMF (x86-64)", false, false, false, TFTPHabits{Blksize: 1468, Windowsize: 4, Tsize: true, Probe: true}, edk2TFTPTimeout},
	{"aavmf-pxe", "aavmf-pxe.bin", "EDK2 UEFI PXE, AAVMF (arm64)", false, false, false, TFTPHabits{Blksize: 1468, Windowsize: 4, Tsize: true, Probe: true}, edk2TFTPTimeout},
	{"ovmf-http", "ovmf-http.bin", "EDK2 UEFI HTTP boot, OVMF (x86-64)", true, false, false, TFTPHabits{}, edk2TFTPTimeout},
	{"aavmf-http", "aavmf-http.bin", "EDK2 UEFI HTTP boot, AAVMF (arm64)", true, false, false, TFTPHabits{}, edk2TFTPTimeout},
}

// Profiles returns the built-in firmware profiles, newly allocated on each
// call: "bios-ipxe", "ipxe-efi", "ovmf-pxe", "aavmf-pxe", "ovmf-http" and
// "aavmf-http". Their DISCOVERs are the captured ones; iPXE profiles go to
// port 4011 after a proxy offer, the EDK2 ones boot the proxy offer's file.
func Profiles() []*Profile {
	out := make([]*Profile, 0, len(profileDefs))
	for _, d := range profileDefs {
		b, err := captures.ReadFile("profiles/" + d.file)
		if err != nil {
			panic("pxeclient: embedded capture missing: " + err.Error()) // build-time constant
		}
		req, err := ParseRequest(b)
		if err != nil {
			panic("pxeclient: embedded capture " + d.file + ": " + err.Error())
		}
		p := &Profile{
			Name: d.name, Firmware: d.firmware, Discover: req,
			Retransmit: pxeSchedule, OfferWait: 2 * time.Second,
			Proxy4011: d.p4011, HTTP: d.http, IPXE: d.ipxe,
			TFTP: d.tftp, Loader: pxelinuxLoader, TFTPTimeout: d.tftpTimeout, TFTPRetries: 6,
		}
		if d.ipxe {
			// iPXE loads its own next files (and pxelinux, if chained,
			// asks with its own habits).
			p.Loader = pxelinuxLoader
		}
		out = append(out, p)
	}
	return out
}

// ProfileByName returns the built-in profile with the given name.
func ProfileByName(name string) (*Profile, bool) {
	for _, p := range Profiles() {
		if p.Name == name {
			return p, true
		}
	}
	return nil, false
}

// Scaled returns a copy of p with every timeout multiplied by f, for tests
// that cannot wait 4 s for a retransmission.
func (p *Profile) Scaled(f float64) *Profile {
	q := *p
	q.Retransmit = make([]time.Duration, len(p.Retransmit))
	for i, d := range p.Retransmit {
		q.Retransmit[i] = time.Duration(float64(d) * f)
	}
	q.OfferWait = time.Duration(float64(p.OfferWait) * f)
	q.TFTPTimeout = time.Duration(float64(p.TFTPTimeout) * f)
	return &q
}
