package dhcp

import (
	"context"
	"net/netip"
)

// Arrival says where a request reached a [Server]: the interface it came
// in on and the server's own address there. The Server puts it into the
// context it passes to [Decider.Decide] (see [ArrivalFromContext]), so
// that a Decider can hand out URLs that point at the server's address on
// the client's segment, such as the base of [Boot] files served over
// HTTP, on a machine with several interfaces.
type Arrival struct {
	// Interface is the index of the interface the request arrived on,
	// 0 when unknown (a conn without IP_PKTINFO, see [Server.Serve]).
	Interface int
	// InterfaceName is the name of that interface, "" when unknown.
	InterfaceName string
	// Local is the address the server answers from, which becomes siaddr
	// and option 54 of the reply: [Server.ServerAddr] when set, else the
	// request's unicast destination or the server's address on the
	// arrival interface (for a relayed request, the interface towards the
	// relay). It is invalid when the server cannot tell.
	Local netip.Addr
	// Port is the local port the request arrived on: 67, or 4011 for a
	// PXE boot server request.
	Port int
}

type arrivalKey struct{}

// WithArrival returns a copy of ctx that carries a. The Server calls it
// for every request; it is exported so that tests of a [Decider] can
// play the server.
func WithArrival(ctx context.Context, a Arrival) context.Context {
	return context.WithValue(ctx, arrivalKey{}, a)
}

// ArrivalFromContext returns the [Arrival] of the request being decided,
// and false when ctx does not come from a [Server] (or [WithArrival]).
func ArrivalFromContext(ctx context.Context) (Arrival, bool) {
	a, ok := ctx.Value(arrivalKey{}).(Arrival)
	return a, ok
}
