package leasetest

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pxekit/pxekit/dhcp"
)

// allocCases run against stores that implement [dhcp.Allocator] (a store
// several servers share); they are skipped for other stores. Their times
// are relative to time.Now, since the store judges expiry by its own
// clock (a database server's on this machine).
var allocCases = []struct {
	name string
	run  func(h *harness, al dhcp.Allocator)
}{
	{"ClaimRace", func(h *harness, al dhcp.Allocator) {
		// 16 clients claim one address at once: exactly one gets it.
		const n = 16
		exp := time.Now().Add(time.Hour).Truncate(time.Second)
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				errs[i] = al.Claim(context.Background(), dhcp.Lease{Addr: addr(1), MAC: mac(100 + i), Expiry: exp}, i%2 == 0)
			})
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won >= 0:
				h.t.Fatalf("clients %d and %d both claimed %v", won, i, addr(1))
			case err == nil:
				won = i
			case !errors.Is(err, dhcp.ErrAddrTaken):
				h.t.Fatalf("client %d: Claim: %v, want nil or ErrAddrTaken", i, err)
			}
		}
		if won < 0 {
			h.t.Fatal("no client claimed the address")
		}
		if won%2 == 0 {
			h.expect("an offer won")
		} else {
			h.expect("a lease won", dhcp.Lease{Addr: addr(1), MAC: mac(100 + won), Expiry: exp})
		}
	}},
	{"ClaimRules", func(h *harness, al dhcp.Allocator) {
		ctx := context.Background()
		now := time.Now().Truncate(time.Second)
		claim := func(what string, l dhcp.Lease, offer bool, want error) {
			h.t.Helper()
			if err := al.Claim(ctx, l, offer); !errors.Is(err, want) || (want == nil) != (err == nil) {
				h.t.Fatalf("%s: Claim(%v for %v, offer %v) = %v, want %v", what, l.Addr, l.MAC, offer, err, want)
			}
		}
		a := dhcp.Lease{Addr: addr(1), MAC: mac(1), Expiry: now.Add(time.Hour), Hostname: "a"}
		claim("free", a, false, nil)
		claim("held by another", dhcp.Lease{Addr: addr(1), MAC: mac(2), Expiry: now.Add(time.Hour)}, false, dhcp.ErrAddrTaken)
		claim("offer over it", dhcp.Lease{Addr: addr(1), MAC: mac(2), Expiry: now.Add(time.Hour)}, true, dhcp.ErrAddrTaken)
		claim("offer to the holder", dhcp.Lease{Addr: addr(1), MAC: mac(1), Expiry: now.Add(10 * time.Second)}, true, nil)
		h.expect("an offer keeps the holder's lease", a)
		renew := a
		renew.Expiry = now.Add(2 * time.Hour)
		claim("renew", renew, false, nil)
		h.expect("renewed", renew)

		// By client identifier: the same MAC with another option 61 is
		// another client.
		c := dhcp.Lease{Addr: addr(2), MAC: mac(3), ClientID: []byte{1, 2, 3}, Expiry: now.Add(time.Hour)}
		claim("with client id", c, false, nil)
		claim("same MAC, other client id", dhcp.Lease{Addr: addr(2), MAC: mac(3), ClientID: []byte{9}, Expiry: now.Add(time.Hour)}, false, dhcp.ErrAddrTaken)
		claim("same MAC, no client id", dhcp.Lease{Addr: addr(2), MAC: mac(3), Expiry: now.Add(time.Hour)}, false, dhcp.ErrAddrTaken)

		// Expired by the store's clock: free.
		old := dhcp.Lease{Addr: addr(3), MAC: mac(4), Expiry: now.Add(-time.Minute)}
		h.save(old)
		claim("expired lease", dhcp.Lease{Addr: addr(3), MAC: mac(5), Expiry: now.Add(time.Hour)}, false, nil)
		offer := dhcp.Lease{Addr: addr(4), MAC: mac(6), Expiry: now.Add(-time.Second)}
		claim("expired offer (stored)", offer, true, nil)
		claim("expired offer", dhcp.Lease{Addr: addr(4), MAC: mac(7), Expiry: now.Add(time.Hour)}, true, nil)

		// Conflicts: a recent one keeps the address from others.
		claim("decline by the holder", dhcp.Lease{Addr: addr(3), MAC: mac(5), Declined: now}, false, nil)
		claim("recent conflict", dhcp.Lease{Addr: addr(3), MAC: mac(8), Expiry: now.Add(time.Hour)}, false, dhcp.ErrAddrTaken)
		h.save(dhcp.Lease{Addr: addr(5), MAC: mac(9), Declined: now.Add(-11 * time.Minute)})
		claim("old conflict", dhcp.Lease{Addr: addr(5), MAC: mac(10), Expiry: now.Add(time.Hour)}, false, nil)

		// Release only the holder's.
		if err := al.Release(ctx, dhcp.Lease{Addr: addr(1), MAC: mac(2)}); err != nil {
			h.t.Fatal(err)
		}
		if l, ok, err := al.Lookup(ctx, mac(1), nil); err != nil || !ok || l.Addr != addr(1) {
			h.t.Fatalf("after another client's Release: Lookup = %v, %v, %v; want its lease of %v", l, ok, err, addr(1))
		}
		if err := al.Release(ctx, dhcp.Lease{Addr: addr(1), MAC: mac(1)}); err != nil {
			h.t.Fatal(err)
		}
		if l, ok, err := al.Lookup(ctx, mac(1), nil); err != nil || ok {
			h.t.Fatalf("after the holder's Release: Lookup = %v, %v, %v; want none", l, ok, err)
		}
		// Lookup finds neither offers, conflicts nor expired leases.
		for _, m := range []net.HardwareAddr{mac(7), mac(5), mac(4)} {
			if l, ok, err := al.Lookup(ctx, m, nil); err != nil || ok {
				h.t.Errorf("Lookup(%v) = %v, %v, %v; want none", m, l, ok, err)
			}
		}
		if l, ok, err := al.Lookup(ctx, mac(3), []byte{1, 2, 3}); err != nil || !ok || l.Addr != addr(2) {
			h.t.Errorf("Lookup by client id = %v, %v, %v; want %v", l, ok, err, addr(2))
		}
	}},
}

// runAllocator runs allocCases as subtests of t.
func runAllocator(t *testing.T, backing Backing) {
	for _, c := range allocCases {
		t.Run(c.name, func(t *testing.T) {
			open := backing(t)
			h := &harness{t: t, open: open}
			h.s = h.reopen(nil)
			t.Cleanup(func() { closeStore(t, h.s) })
			al, ok := h.s.(dhcp.Allocator)
			if !ok {
				t.Skipf("%T is no dhcp.Allocator", h.s)
			}
			c.run(h, al)
		})
	}
}
