package dhcp6

import (
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/events"
)

// clientEvent returns an event of [events.ProtoDHCP] with what msg says
// about its client: its MAC (see clientMAC), message type, architecture
// (option 61) and firmware family ("ipxe" for user class "iPXE",
// "uefi-http" for vendor class "HTTPClient", "bios" for architecture 0,
// "uefi" for the others), and vendor class. boot reports whether msg
// came from a boot client (option 61, or a PXE or HTTP vendor class).
// It is built only with a Hook.
func clientEvent(msg *dhcpv6.Message, relayMAC net.HardwareAddr, peer netip.Addr) (e events.Event, boot bool) {
	e = events.Event{Proto: events.ProtoDHCP, Type: msg.MessageType.String()}
	var duid []byte
	if cid := msg.Options.ClientID(); cid != nil {
		duid = cid.ToBytes()
	}
	e.MAC = clientMAC(duid, relayMAC, peer)
	class := ""
	if o := msg.Options.GetOne(dhcpv6.OptionCode(CodeVendorClass)); o != nil {
		if v, err := ParseVendorClass(o.ToBytes()); err == nil {
			class = v.Class()
			if len(v.Data) > 0 {
				e.VendorClass = string(v.Data[0])
			}
		}
	}
	ipxe := false
	if o := msg.Options.GetOne(dhcpv6.OptionCode(CodeUserClass)); o != nil {
		if u, err := ParseUserClass(o.ToBytes()); err == nil {
			ipxe = u.Has("iPXE")
		}
	}
	var arch iana.Arch
	hasArch := false
	if o := msg.Options.GetOne(dhcpv6.OptionCode(CodeArchList)); o != nil {
		if l, err := ParseArchList(o.ToBytes()); err == nil && len(l) > 0 {
			arch, hasArch = l[0], true
			e.Arch = arch.String()
		}
	}
	switch {
	case !hasArch && class == "":
		return e, false
	case ipxe:
		e.Firmware = "ipxe"
	case class == "HTTPClient":
		e.Firmware = "uefi-http"
	case hasArch && arch == iana.INTEL_X86PC:
		e.Firmware = "bios"
	default:
		e.Firmware = "uefi"
	}
	return e, true
}

// replyEvent is ev for the reply sent: its type, boot file URL (option
// 59) and the first address it gives (IA_NA), if any.
func replyEvent(ev events.Event, reply *dhcpv6.Message) events.Event {
	ev.Type, ev.File = reply.MessageType.String(), reply.Options.BootFileURL()
	for _, ia := range reply.Options.IANA() {
		for _, a := range ia.Options.Addresses() {
			if addr, ok := netip.AddrFromSlice(a.IPv6Addr); ok && a.ValidLifetime > 0 {
				ev.Addr = addr
				return ev
			}
		}
	}
	return ev
}

// emit stamps e with the time and kind and reports it to s.Hook.
func (s *Server) emit(e events.Event, kind events.Kind) {
	e.Time, e.Kind = time.Now(), kind
	s.Hook.Observe(e)
}
