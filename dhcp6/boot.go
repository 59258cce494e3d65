package dhcp6

import (
	"context"
	"errors"
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv6"
)

// ErrNoBoot is wrapped by a [Decider]'s error for a request that is not
// from a boot client: a server stays silent to it.
var ErrNoBoot = errors.New("dhcp6: not a boot request")

// Boot is what a v6 boot client is told: option 59, and option 60 when
// Params is set.
type Boot struct {
	// URL is the boot file URL (option 59), such as
	// "tftp://[2001:db8::1]/ipxe.efi" or "http://[2001:db8::1]:8080/x".
	URL string
	// Params are the boot file parameters (option 60); nil for none.
	Params []string
	// HTTP marks an answer to a UEFI HTTP boot client: the reply echoes
	// vendor class "HTTPClient" (option 16, enterprise 343), which such
	// firmware requires.
	HTTP bool
}

// Decider chooses the [Boot] answer for a DHCPv6 request (the innermost
// message when it was relayed). ctx carries the [Arrival]. An error
// wrapping [ErrNoBoot] means "not a boot client"; a server answers such a
// request without boot options, or not at all in stateless boot mode.
// *nbp.Policy implements it.
type Decider interface {
	Decide6(ctx context.Context, req *dhcpv6.Message) (Boot, error)
}

// DeciderFunc adapts a function to [Decider].
type DeciderFunc func(ctx context.Context, req *dhcpv6.Message) (Boot, error)

// Decide6 calls f.
func (f DeciderFunc) Decide6(ctx context.Context, req *dhcpv6.Message) (Boot, error) {
	return f(ctx, req)
}

// Arrival says where a request reached the server: the interface and the
// server's address there that boot URLs should name.
type Arrival struct {
	// Interface is the arrival interface's index, 0 when unknown.
	Interface int
	// InterfaceName is its name, "" when unknown.
	InterfaceName string
	// Local is the server's address for URLs: a global or ULA address of
	// the arrival interface when it has one, else its link-local address
	// with the zone set. Invalid when unknown.
	Local netip.Addr
}

type arrivalKey struct{}

// WithArrival returns a copy of ctx that carries a.
func WithArrival(ctx context.Context, a Arrival) context.Context {
	return context.WithValue(ctx, arrivalKey{}, a)
}

// ArrivalFromContext returns the [Arrival] in ctx, and false when there
// is none.
func ArrivalFromContext(ctx context.Context) (Arrival, bool) {
	a, ok := ctx.Value(arrivalKey{}).(Arrival)
	return a, ok
}

// URLHost returns a as the host part of a URL: in brackets, with a zone
// escaped as RFC 6874 asks ("[fe80::1%25eth0]").
func URLHost(a netip.Addr) string {
	if a.Is4() {
		return a.String()
	}
	s := a.WithZone("").String()
	if z := a.Zone(); z != "" {
		s += "%25" + z
	}
	return "[" + s + "]"
}
