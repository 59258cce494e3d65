package nbp

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/dhcp6"
)

// Identify6 describes the client that sent req, a DHCPv6 Solicit,
// Request, Renew, Rebind or Information-Request (the inner message when
// it was relayed), in the same [Client] type as [Identify]:
//
//   - Arch is the first type of option 61 (ArchSource ArchFromOption61),
//     or else the Arch field of the vendor class;
//   - VendorClass is the first entry of option 16 under enterprise 343,
//     which must be "PXEClient…" or "HTTPClient…";
//   - NDI is option 62; IPXE is set when option 15 holds "iPXE";
//   - MAC and HWType come from a DUID-LL or DUID-LLT client identifier
//     (option 1), and are empty for other DUIDs; DUID holds the whole
//     identifier.
//
// It returns an error wrapping [ErrNotPXE] for a message that is not a
// client request or has no PXE or HTTP vendor class (a client with
// option 61 but no vendor class, as some iPXE builds send, is accepted),
// and an error wrapping [dhcp6.ErrMalformedOption] or
// [dhcp.ErrMalformedOption] for a malformed option. It does not keep or
// modify req.
func Identify6(req *dhcpv6.Message) (Client, error) {
	if req == nil {
		return Client{}, fmt.Errorf("%w: no request", ErrNotPXE)
	}
	switch req.MessageType {
	case dhcpv6.MessageTypeSolicit, dhcpv6.MessageTypeRequest, dhcpv6.MessageTypeRenew,
		dhcpv6.MessageTypeRebind, dhcpv6.MessageTypeInformationRequest, dhcpv6.MessageTypeConfirm:
	default:
		return Client{}, fmt.Errorf("%w: DHCPv6 %s is not a client request", ErrNotPXE, req.MessageType)
	}
	c := Client{V6: true}
	var err error
	for _, o := range req.Options.Get(dhcpv6.OptionVendorClass) {
		vc, err := dhcp6.ParseVendorClass(o.ToBytes())
		if err != nil {
			return Client{}, fmt.Errorf("nbp: %w", err)
		}
		if vc.Class() == "" {
			continue
		}
		if c.VendorClass, err = dhcp.ParseVendorClass(vc.Data[0]); err != nil {
			return Client{}, fmt.Errorf("nbp: option 16: %w", err)
		}
		break
	}
	var archs dhcp6.ArchList
	if o := req.Options.GetOne(dhcpv6.OptionClientArchType); o != nil {
		if archs, err = dhcp6.ParseArchList(o.ToBytes()); err != nil {
			return Client{}, fmt.Errorf("nbp: %w", err)
		}
	}
	if c.VendorClass.Class == "" && archs == nil {
		return Client{}, ErrNotPXE
	}
	if archs != nil {
		c.Arch, c.ArchSource = archs[0], ArchFromOption61
	} else if c.VendorClass.HasArch {
		c.Arch, c.ArchSource = c.VendorClass.Arch, ArchFromVendorClass
	}
	if o := req.Options.GetOne(dhcpv6.OptionNII); o != nil {
		n, err := dhcp6.ParseNII(o.ToBytes())
		if err != nil {
			return Client{}, fmt.Errorf("nbp: %w", err)
		}
		c.NDI, c.HasNDI = dhcp.ClientNDI{Type: n.Type, Major: n.Major, Minor: n.Minor}, true
	}
	for _, o := range req.Options.Get(dhcpv6.OptionUserClass) {
		uc, err := dhcp6.ParseUserClass(o.ToBytes())
		if err != nil {
			return Client{}, fmt.Errorf("nbp: %w", err)
		}
		if uc.Has("iPXE") {
			c.IPXE = true
		}
	}
	if o := req.Options.GetOne(dhcpv6.OptionClientID); o != nil {
		if c.DUID, err = dhcp6.ParseDUID(dhcp6.CodeClientID, o.ToBytes()); err != nil {
			return Client{}, fmt.Errorf("nbp: %w", err)
		}
		c.HasDUID = true
		if mac, ok := c.DUID.MAC(); ok {
			c.MAC, c.HWType = mac, iana.HWTypeEthernet
		}
	}
	c.RaspberryPi = c.HWType == iana.HWTypeEthernet && IsRaspberryPiMAC(c.MAC)
	if c.ArchSource != ArchUnknown {
		c.Firmware = firmwareOf(c.Arch)
		c.HTTP = isHTTPArch(c.Arch)
	}
	if c.VendorClass.IsHTTP() {
		c.HTTP = true
	}
	return c, nil
}

// Decide6 implements [dhcp6.Decider]: it identifies the client with
// [Identify6], chooses with [Policy.Choose], and turns the choice into a
// v6 boot URL (option 59), with the server's address from
// [dhcp6.ArrivalFromContext] in brackets:
//
//   - a TFTP program "ipxe.efi" becomes "tftp://[2001:db8::1]/ipxe.efi";
//   - an http:// or https:// URL without a host ("http://:8080/x")
//     becomes "http://[2001:db8::1]:8080/x"; one with a host is kept;
//   - an iPXE script that is not a URL is fetched over TFTP like a program.
//
// A link-local server address gets its zone escaped ("%25eth0", RFC
// 6874). A Raspberry Pi boot ROM, which speaks no DHCPv6, is uncovered.
// A request that is not a boot request gets an error wrapping both
// [dhcp6.ErrNoBoot] and [ErrNotPXE].
func (p *Policy) Decide6(ctx context.Context, req *dhcpv6.Message) (dhcp6.Boot, error) {
	c, err := Identify6(req)
	if errors.Is(err, ErrNotPXE) {
		return dhcp6.Boot{}, fmt.Errorf("%w: %w", dhcp6.ErrNoBoot, err)
	}
	if err != nil {
		return dhcp6.Boot{}, err
	}
	ch, err := p.Choose(c)
	if err != nil {
		return dhcp6.Boot{}, err
	}
	if ch.Menu != "" {
		return dhcp6.Boot{}, &UncoveredError{Arch: c.Arch, Known: c.ArchSource != ArchUnknown}
	}
	a, _ := dhcp6.ArrivalFromContext(ctx)
	url, err := bootURL6(ch.File, a)
	if err != nil {
		return dhcp6.Boot{}, err
	}
	return dhcp6.Boot{URL: url, HTTP: ch.HTTP}, nil
}

var _ dhcp6.Decider = (*Policy)(nil)

// bootURL6 makes file a URL a v6 client can load.
func bootURL6(file string, a dhcp6.Arrival) (string, error) {
	for _, scheme := range []string{"http://", "https://", "tftp://"} {
		if len(file) < len(scheme) || !strings.EqualFold(file[:len(scheme)], scheme) {
			continue
		}
		if len(file) == len(scheme) || (file[len(scheme)] != ':' && file[len(scheme)] != '/') {
			return file, nil // has a host
		}
		if !a.Local.IsValid() {
			return "", fmt.Errorf("nbp: boot file %q names no host and the server's address is unknown", file)
		}
		return file[:len(scheme)] + dhcp6.URLHost(a.Local) + file[len(scheme):], nil
	}
	if strings.Contains(file, "://") {
		return file, nil
	}
	if !a.Local.IsValid() {
		return "", fmt.Errorf("nbp: TFTP boot file %q needs the server's address, which is unknown", file)
	}
	return "tftp://" + dhcp6.URLHost(a.Local) + "/" + strings.TrimLeft(file, "/"), nil
}
