package dhcp

import (
	"bytes"
	"net"
	"net/netip"
	"strconv"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// NewReply builds the reply of type mt (OFFER, ACK, NAK) to req, sent by
// the server whose identifier (option 54) is serverID, carrying the boot
// decision b when b is not nil. It sets what RFC 2131 §4.3.1 and the PXE
// specification ask of every reply and leaves addresses and lease options
// to the caller (full DHCP adds yiaddr, 1, 3, 6, 51):
//
//   - op, htype, xid, the flags (the broadcast bit as the client set it),
//     giaddr and chaddr from the request; options 82 (RFC 3046 §2.2) and
//     61 (RFC 6842) echoed.
//   - for a boot decision: option 60 "PXEClient" (or "HTTPClient" when
//     b.HTTP), option 97 echoed, siaddr and option 66, the file field
//     (when the name fits) and option 67, option 43 with discovery control
//     8 and an optional menu (PXE clients only), options 209, 210, 211.
//
// via says where the client gets its boot file: [BootInReply] for every
// reply but one, [BootAtPXEPort] for the proxyDHCP OFFER of a decision
// whose [Boot.ProxyStyle] is [ProxyBINL].
//
// NewReply does not modify req. The reply may share no memory with it.
func NewReply(req *dhcpv4.DHCPv4, mt dhcpv4.MessageType, serverID netip.Addr, b *Boot, via BootVia) (*dhcpv4.DHCPv4, error) {
	ra := new(replyAlloc)
	r := &ra.d
	*r = dhcpv4.DHCPv4{
		OpCode:        dhcpv4.OpcodeBootReply,
		HWType:        req.HWType,
		TransactionID: req.TransactionID,
		Flags:         req.Flags,
		ClientIPAddr:  net.IP(ra.ips[0:4:4]),
		YourIPAddr:    net.IP(ra.ips[4:8:8]),
		ServerIPAddr:  net.IP(ra.ips[8:12:12]),
		GatewayIPAddr: net.IP(ra.ips[12:16:16]),
		Options:       make(dhcpv4.Options, 16),
	}
	copy(r.GatewayIPAddr, req.GatewayIPAddr.To4())
	n := copy(ra.hw[:], req.ClientHWAddr)
	r.ClientHWAddr = net.HardwareAddr(ra.hw[:n:n])
	ra.arena = ra.buf[:0]
	ra.set(dhcpv4.OptionDHCPMessageType, byte(mt))
	if serverID.Is4() {
		a := serverID.As4()
		ra.set(dhcpv4.OptionServerIdentifier, a[:]...)
	}
	for _, c := range [...]dhcpv4.OptionCode{dhcpv4.OptionRelayAgentInformation, dhcpv4.OptionClientIdentifier} {
		if v, ok := req.Options[c.Code()]; ok {
			ra.set(c, v...)
		}
	}
	if b == nil || mt == dhcpv4.MessageTypeNak {
		return r, nil
	}
	if err := ra.addBoot(req, serverID, b, via == BootAtPXEPort); err != nil {
		return nil, err
	}
	return r, nil
}

// BootVia says where a reply sends a PXE client for its boot file (see
// [NewReply]).
type BootVia uint8

const (
	// BootInReply puts the boot decision in the reply itself: siaddr,
	// the file field and options 66, 67 and 43.
	BootInReply BootVia = iota
	// BootAtPXEPort leaves siaddr, the file field and options 66, 67 and
	// 43 out (options 60, 97 and 209–211 stay): what EDK2 calls a BINL
	// offer, after which the client asks the server on port 4011 (PXE
	// 2.1 §2.2.4) for its boot file. A proxyDHCP server uses it for the
	// OFFER of a decision whose ProxyStyle is [ProxyBINL].
	BootAtPXEPort
)

// String returns "in-reply" or "at-pxe-port".
func (v BootVia) String() string {
	switch v {
	case BootInReply:
		return "in-reply"
	case BootAtPXEPort:
		return "at-pxe-port"
	}
	return "BootVia(" + strconv.Itoa(int(v)) + ")"
}

// replyAlloc is a reply with the backing arrays of its fields and option
// values, so that building one costs a handful of allocations.
type replyAlloc struct {
	d     dhcpv4.DHCPv4
	ips   [16]byte
	hw    [16]byte
	buf   [384]byte
	arena []byte
}

// set stores option c with value v, copied into the arena.
func (ra *replyAlloc) set(c dhcpv4.OptionCode, v ...byte) {
	start := len(ra.arena)
	ra.arena = append(ra.arena, v...)
	ra.d.Options[c.Code()] = ra.arena[start:len(ra.arena):len(ra.arena)]
}

// setString stores option c with value v, copied into the arena.
func (ra *replyAlloc) setString(c dhcpv4.OptionCode, v string) {
	start := len(ra.arena)
	ra.arena = append(ra.arena, v...)
	ra.d.Options[c.Code()] = ra.arena[start:len(ra.arena):len(ra.arena)]
}

// setValue stores option c encoded by v into ra's arena. It is generic,
// not an interface method, so that v is not boxed.
func setValue[T appender](ra *replyAlloc, c dhcpv4.OptionCode, v T) error {
	start := len(ra.arena)
	out, err := v.AppendBinary(ra.arena)
	if err != nil {
		return err
	}
	ra.arena = out
	ra.d.Options[c.Code()] = out[start:len(out):len(out)]
	return nil
}

// addBoot adds the options of boot decision b to reply r.
func (ra *replyAlloc) addBoot(req *dhcpv4.DHCPv4, serverID netip.Addr, b *Boot, atPXEPort bool) error {
	r := &ra.d
	class := ClassPXEClient
	if b.HTTP {
		class = ClassHTTPClient
	}
	ra.setString(dhcpv4.OptionClassIdentifier, class)
	if v, ok := req.Options[dhcpv4.OptionClientMachineIdentifier.Code()]; ok {
		ra.set(dhcpv4.OptionClientMachineIdentifier, v...)
	}
	if !atPXEPort && b.File != "" {
		if !b.HTTP {
			next := b.NextServer
			if !next.IsValid() {
				next = serverID
			}
			if next.Is4() {
				a := next.As4()
				copy(r.ServerIPAddr, a[:])
			}
			name := b.ServerName
			if name == "" && next.Is4() && requested(req, dhcpv4.OptionTFTPServerName) {
				name = next.String()
			}
			if name != "" {
				if err := setValue(ra, dhcpv4.OptionTFTPServerName, TFTPServerName(name)); err != nil {
					return err
				}
				if len(name) < lenSname {
					r.ServerHostName = name
				}
			}
		}
		if err := setValue(ra, dhcpv4.OptionBootfileName, BootFileName(b.File)); err != nil {
			return err
		}
		if len(b.File) < lenFile {
			r.BootFileName = b.File
		}
	}
	if !b.HTTP && !atPXEPort {
		// A proxy offer without option 43 is what EDK2 calls a BINL offer:
		// the client asks port 4011 for its file.
		if err := setValue(ra, dhcpv4.OptionVendorSpecificInformation, pxeVendorOptions(b)); err != nil {
			return err
		}
	}
	if b.ConfigFile != "" {
		if err := setValue(ra, dhcpv4.OptionPXELinuxConfigFile, PXELinuxConfigFile(b.ConfigFile)); err != nil {
			return err
		}
	}
	if b.PathPrefix != "" {
		if err := setValue(ra, dhcpv4.OptionPXELinuxPathPrefix, PXELinuxPathPrefix(b.PathPrefix)); err != nil {
			return err
		}
	}
	if b.RebootTime > 0 {
		rt, _ := PXELinuxRebootTimeOf(b.RebootTime)
		if err := setValue(ra, dhcpv4.OptionPXELinuxRebootTime, rt); err != nil {
			return err
		}
	}
	if (b.ConfigFile != "" || b.PathPrefix != "" || b.RebootTime > 0) && requested(req, dhcpv4.OptionPXELinuxMagicString) {
		// RFC 5071 §4: old pxelinux versions want the magic echoed.
		ra.set(dhcpv4.OptionPXELinuxMagicString, 0xf1, 0x00, 0x74, 0x7e)
	}
	return nil
}

type appender interface {
	AppendBinary([]byte) ([]byte, error)
}

// isBootClient reports whether req comes from a PXE or UEFI HTTP boot
// client (option 60 starts with "PXEClient" or "HTTPClient").
func isBootClient(req *dhcpv4.DHCPv4) bool {
	v := req.Options[dhcpv4.OptionClassIdentifier.Code()]
	return bytes.HasPrefix(v, []byte(ClassPXEClient)) || bytes.HasPrefix(v, []byte(ClassHTTPClient))
}

// pxeVendorOptions returns option 43 for b: discovery control 8 (boot the
// file of this reply without boot server discovery, PXE 2.1 §2.4), and a
// one-entry menu with a prompt of no wait when b.Menu is set.
func pxeVendorOptions(b *Boot) PXEVendorOptions {
	o := PXEVendorOptions{DiscoveryControl: PXEDiscoveryBootFile, HasDiscoveryControl: true}
	if b.Menu != "" {
		o.BootMenu = []PXEMenuItem{{Type: 0, Description: b.Menu}}
		o.MenuPrompt, o.HasMenuPrompt = PXEMenuPrompt{Timeout: 0, Prompt: b.Menu}, true
	}
	return o
}
