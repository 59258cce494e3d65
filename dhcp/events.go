package dhcp

import (
	"bytes"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/events"
)

// observe reports e to s.Hook, filled with what req says about its client.
// Callers check s.Hook != nil first, so that a server without a hook pays
// nothing.
func (s *Server) observe(kind events.Kind, req *dhcpv4.DHCPv4, e events.Event) {
	e.Time = time.Now()
	e.Proto = events.ProtoDHCP
	e.Kind = kind
	e.MAC = req.ClientHWAddr
	if e.Type == "" {
		e.Type = msgType(req).String()
	}
	if !e.Addr.IsValid() {
		if a, ok := netip.AddrFromSlice(req.ClientIPAddr.To4()); ok && !a.IsUnspecified() {
			e.Addr = a
		}
	}
	e.Arch, e.Firmware = clientFirmware(req)
	e.Host = string(req.Options.Get(dhcpv4.OptionHostName))
	e.VendorClass = string(req.Options.Get(dhcpv4.OptionClassIdentifier))
	s.Hook.Observe(e)
}

// observeRequest reports a decoded request, and that it came from a boot
// client if it did.
func (s *Server) observeRequest(req *dhcpv4.DHCPv4) {
	s.observe(events.KindRequest, req, events.Event{})
	if isBootClient(req) {
		s.observe(events.KindIdentified, req, events.Event{})
	}
}

// observeReply reports a reply sent.
func (s *Server) observeReply(req, reply *dhcpv4.DHCPv4) {
	e := events.Event{Type: msgType(reply).String(), File: reply.BootFileName}
	if a, ok := netip.AddrFromSlice(reply.YourIPAddr.To4()); ok && !a.IsUnspecified() {
		e.Addr = a
	}
	if e.File == "" {
		e.File = string(reply.Options.Get(dhcpv4.OptionBootfileName))
	}
	s.observe(events.KindReply, req, e)
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
	if p := s.Pool; p != nil {
		sub := p.subnet()
		if gi, ok := netip.AddrFromSlice(req.GatewayIPAddr.To4()); ok && !gi.IsUnspecified() {
			if !sub.Contains(gi) {
				return events.ReasonOtherSegment
			}
		} else if !srv.IsValid() || !sub.Contains(srv) {
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
