package dhcp

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/internal/testenv"
)

// TestDhclientSubnetFromInterface is TestSubnetFromInterface's lease for
// ISC dhclient: a range that is not a /24 served on an interface holding
// a /16, without Pool.Subnet, gives dhclient the /16 with the router and
// both DNS servers, and an address ending in .0 that is a host address
// there.
func TestDhclientSubnetFromInterface(t *testing.T) {
	srv, cl := testenv.NewNetNS(t), testenv.NewNetNS(t)
	sif, ifc := testenv.Veth(t, srv, netip.MustParsePrefix("10.98.0.1/16"), cl, netip.MustParsePrefix("10.98.0.2/16"))
	cl.MustRun(t, "ip", "addr", "flush", "dev", ifc)
	pool := &Pool{First: netip.MustParseAddr("10.98.1.0"), Last: netip.MustParseAddr("10.98.255.254"),
		Routers: []netip.Addr{netip.MustParseAddr("10.98.0.1")},
		DNS:     []netip.Addr{netip.MustParseAddr("10.98.0.53"), netip.MustParseAddr("10.98.0.54")}}
	s := &Server{Interface: sif, Pool: pool}
	// Serve runs in the namespace: it finds the pool's subnet there.
	errc := serveInNS(t, srv, s)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if err := <-errc; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})

	c := startDhclient(t, cl, ifc)
	bound, _ := c.wait(0, 30*time.Second, "BOUND")
	for _, want := range []string{"ip=10.98.1.0 ", "mask=255.255.0.0 ", "routers=10.98.0.1 ", "dns=10.98.0.53 10.98.0.54 "} {
		if !strings.Contains(bound, want) {
			t.Errorf("dhclient BOUND event %q lacks %q", bound, want)
		}
	}
	if l := pool.Leases(); len(l) != 1 || l[0].Addr != addr(bound) {
		t.Errorf("leases: %v, want dhclient's %v", l, addr(bound))
	}
}
