package dhcp

import (
	"net"
	"net/netip"
	"strings"

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
// proxy leaves siaddr, file and options 66, 67, 43 out when b.ProxyStyle is
// ProxyBINL, for an OFFER that sends the client to port 4011.
//
// NewReply does not modify req. The reply may share no memory with it.
func NewReply(req *dhcpv4.DHCPv4, mt dhcpv4.MessageType, serverID netip.Addr, b *Boot, proxy bool) (*dhcpv4.DHCPv4, error) {
	r := &dhcpv4.DHCPv4{
		OpCode:        dhcpv4.OpcodeBootReply,
		HWType:        req.HWType,
		TransactionID: req.TransactionID,
		Flags:         req.Flags,
		ClientIPAddr:  net.IPv4zero,
		YourIPAddr:    net.IPv4zero,
		ServerIPAddr:  net.IPv4zero,
		GatewayIPAddr: ip4(req.GatewayIPAddr),
		ClientHWAddr:  append(net.HardwareAddr(nil), req.ClientHWAddr...),
		Options:       make(dhcpv4.Options, 12),
	}
	r.Options[dhcpv4.OptionDHCPMessageType.Code()] = []byte{byte(mt)}
	if serverID.Is4() {
		a := serverID.As4()
		r.Options[dhcpv4.OptionServerIdentifier.Code()] = a[:]
	}
	for _, c := range [...]dhcpv4.OptionCode{dhcpv4.OptionRelayAgentInformation, dhcpv4.OptionClientIdentifier} {
		if v := req.Options.Get(c); v != nil {
			r.Options[c.Code()] = append([]byte(nil), v...)
		}
	}
	if b == nil || mt == dhcpv4.MessageTypeNak {
		return r, nil
	}
	if err := addBoot(r, req, serverID, b, proxy && mt == dhcpv4.MessageTypeOffer); err != nil {
		return nil, err
	}
	return r, nil
}

// addBoot adds the options of boot decision b to reply r.
func addBoot(r, req *dhcpv4.DHCPv4, serverID netip.Addr, b *Boot, proxyOffer bool) error {
	class := ClassPXEClient
	if b.HTTP {
		class = ClassHTTPClient
	}
	r.Options[dhcpv4.OptionClassIdentifier.Code()] = []byte(class)
	if v := req.Options.Get(dhcpv4.OptionClientMachineIdentifier); v != nil {
		r.Options[dhcpv4.OptionClientMachineIdentifier.Code()] = append([]byte(nil), v...)
	}
	if !(proxyOffer && b.ProxyStyle == ProxyBINL) && b.File != "" {
		if !b.HTTP {
			next := b.NextServer
			if !next.IsValid() {
				next = serverID
			}
			if next.Is4() {
				a := next.As4()
				r.ServerIPAddr = net.IP(a[:])
			}
			name := b.ServerName
			if name == "" && next.Is4() && req.IsOptionRequested(dhcpv4.OptionTFTPServerName) {
				name = next.String()
			}
			if name != "" {
				if err := setOpt(r, dhcpv4.OptionTFTPServerName, TFTPServerName(name)); err != nil {
					return err
				}
				if len(name) < lenSname {
					r.ServerHostName = name
				}
			}
		}
		if err := setOpt(r, dhcpv4.OptionBootfileName, BootFileName(b.File)); err != nil {
			return err
		}
		if len(b.File) < lenFile {
			r.BootFileName = b.File
		}
	}
	if !b.HTTP && !(proxyOffer && b.ProxyStyle == ProxyBINL) {
		// A proxy offer without option 43 is what EDK2 calls a BINL offer:
		// the client asks port 4011 for its file.
		v, err := pxeVendorOptions(b)
		if err != nil {
			return err
		}
		r.Options[dhcpv4.OptionVendorSpecificInformation.Code()] = v
	}
	if b.ConfigFile != "" {
		if err := setOpt(r, dhcpv4.OptionPXELinuxConfigFile, PXELinuxConfigFile(b.ConfigFile)); err != nil {
			return err
		}
	}
	if b.PathPrefix != "" {
		if err := setOpt(r, dhcpv4.OptionPXELinuxPathPrefix, PXELinuxPathPrefix(b.PathPrefix)); err != nil {
			return err
		}
	}
	if b.RebootTime > 0 {
		rt, _ := PXELinuxRebootTimeOf(b.RebootTime)
		if err := setOpt(r, dhcpv4.OptionPXELinuxRebootTime, rt); err != nil {
			return err
		}
	}
	if (b.ConfigFile != "" || b.PathPrefix != "" || b.RebootTime > 0) && req.IsOptionRequested(dhcpv4.OptionPXELinuxMagicString) {
		// RFC 5071 §4: old pxelinux versions want the magic echoed.
		r.Options[dhcpv4.OptionPXELinuxMagicString.Code()] = []byte{0xf1, 0x00, 0x74, 0x7e}
	}
	return nil
}

type appender interface {
	AppendBinary([]byte) ([]byte, error)
}

func setOpt(r *dhcpv4.DHCPv4, c dhcpv4.OptionCode, v appender) error {
	b, err := v.AppendBinary(nil)
	if err != nil {
		return err
	}
	r.Options[c.Code()] = b
	return nil
}

// isBootClient reports whether req comes from a PXE or UEFI HTTP boot
// client (option 60 starts with "PXEClient" or "HTTPClient").
func isBootClient(req *dhcpv4.DHCPv4) bool {
	v := string(req.Options.Get(dhcpv4.OptionClassIdentifier))
	return strings.HasPrefix(v, ClassPXEClient) || strings.HasPrefix(v, ClassHTTPClient)
}

func ip4(ip net.IP) net.IP {
	if v := ip.To4(); v != nil {
		return append(net.IP(nil), v...)
	}
	return net.IPv4zero
}

// pxeVendorOptions returns option 43 for b: discovery control 8 (boot the
// file of this reply without boot server discovery, PXE 2.1 §2.4), and a
// one-entry menu with a prompt of no wait when b.Menu is set.
func pxeVendorOptions(b *Boot) ([]byte, error) {
	o := PXEVendorOptions{DiscoveryControl: PXEDiscoveryBootFile, HasDiscoveryControl: true}
	if b.Menu != "" {
		o.BootMenu = []PXEMenuItem{{Type: 0, Description: b.Menu}}
		o.MenuPrompt, o.HasMenuPrompt = PXEMenuPrompt{Timeout: 0, Prompt: b.Menu}, true
	}
	return o.AppendBinary(make([]byte, 0, 8+2*len(b.Menu)))
}
