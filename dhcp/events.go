package dhcp

import (
	"bytes"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/events"
)

// clientEvent returns an event with what req says about its client:
// MAC, message type, address (ciaddr, or else the requested address of a
// REQUEST, option 50: the one a DHCP server offered, which is how a
// proxyDHCP server learns it), architecture, firmware family, host name
// and vendor class. It is built once per request, and only with a Hook.
func clientEvent(req *dhcpv4.DHCPv4) events.Event {
	e := events.Event{Proto: events.ProtoDHCP, MAC: req.ClientHWAddr, Type: msgType(req).String()}
	if a, ok := netip.AddrFromSlice(req.ClientIPAddr.To4()); ok && !a.IsUnspecified() {
		e.Addr = a
	} else if msgType(req) == dhcpv4.MessageTypeRequest {
		if a, ok := netip.AddrFromSlice(req.Options.Get(dhcpv4.OptionRequestedIPAddress)); ok && a.Is4() && !a.IsUnspecified() {
			e.Addr = a
		}
	}
	e.Arch, e.Firmware = clientFirmware(req)
	if h := req.Options.Get(dhcpv4.OptionHostName); len(h) > 0 {
		e.Host = string(h)
	}
	if v := req.Options.Get(dhcpv4.OptionClassIdentifier); len(v) > 0 {
		e.VendorClass = string(v)
	}
	return e
}

// emit stamps e with the time and kind and reports it to s.Hook.
func (s *Server) emit(e events.Event, kind events.Kind) {
	e.Time, e.Kind = time.Now(), kind
	s.Hook.Observe(e)
}

// ignored is ev for a request that failed with err.
func ignored(ev events.Event, err error) events.Event {
	ev.Reason, ev.Err = events.ReasonError, err
	return ev
}

// replyEvent is ev for the reply sent: its type, boot file or URL, and
// the address given, if any.
func replyEvent(ev events.Event, reply *dhcpv4.DHCPv4) events.Event {
	ev.Type, ev.File = msgType(reply).String(), reply.BootFileName
	if a, ok := netip.AddrFromSlice(reply.YourIPAddr.To4()); ok && !a.IsUnspecified() {
		ev.Addr = a
	}
	if ev.File == "" {
		if f := reply.Options.Get(dhcpv4.OptionBootfileName); len(f) > 0 {
			ev.File = string(f)
		}
	}
	return ev
}

// clientFirmware names the architecture of option 93 and the firmware
// family: "ipxe" for iPXE (user class "iPXE"), "uefi-http" for an HTTP boot
// client, "bios" for architecture 0, "uefi" for the other architectures,
// "" for a client that sends no option 93.
func clientFirmware(req *dhcpv4.DHCPv4) (arch, firmware string) {
	o := req.Options.Get(dhcpv4.OptionClientSystemArchitectureType)
	if o == nil {
		return "", ""
	}
	a, err := FirstClientArch(o)
	if err != nil {
		return "", ""
	}
	arch = a.String()
	switch {
	case UserClassHas(req.Options.Get(dhcpv4.OptionUserClassInformation), "iPXE"):
		firmware = "ipxe"
	case bytes.HasPrefix(req.Options.Get(dhcpv4.OptionClassIdentifier), []byte(ClassHTTPClient)):
		firmware = "uefi-http"
	case a == iana.INTEL_X86PC:
		firmware = "bios"
	default:
		firmware = "uefi"
	}
	return arch, firmware
}

// ignoreReason says why handle left req unanswered without an error. It
// repeats handle's cheap checks rather than threading a reason through it,
// and is only called when a Hook is set.
func (s *Server) ignoreReason(req *dhcpv4.DHCPv4, in inbound, srv netip.Addr) string {
	mt := msgType(req)
	sid := optAddr(req, dhcpv4.OptionServerIdentifier)
	if s.full() {
		if s.poolFor(req, in, srv) == nil {
			return events.ReasonOtherSegment
		}
		if mt == dhcpv4.MessageTypeRelease || mt == dhcpv4.MessageTypeDecline {
			return events.ReasonNoReply
		}
		return events.ReasonOtherServer
	}
	switch mt {
	case dhcpv4.MessageTypeDiscover:
		if in.port == PXEPort {
			return events.ReasonOtherServer
		}
	case dhcpv4.MessageTypeRequest, dhcpv4.MessageTypeInform:
		if in.port != PXEPort && (!sid.IsValid() || sid != srv) {
			return events.ReasonOtherServer
		}
	default:
		return events.ReasonNoReply
	}
	if !isBootClient(req) {
		return events.ReasonNotBoot
	}
	return events.ReasonNoBoot
}
