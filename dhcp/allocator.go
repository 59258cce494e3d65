package dhcp

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"
)

// ErrAddrTaken is returned (possibly wrapped) by [Allocator.Claim] when the
// address is held by another client in the shared store.
var ErrAddrTaken = errors.New("dhcp: address held by another client")

// An Allocator is a [LeaseStore] that several servers share, each with
// its own [Pool] over the same range: the store, not the pool's memory,
// decides who gets an address. A [Pool] whose Store implements Allocator
// uses it as follows:
//
//   - every OFFER is first claimed in the store as an offer, held for
//     [Pool.OfferHold]; an address another server holds is skipped (the
//     pool remembers it as taken for OfferHold and tries the next one,
//     up to 64 per DISCOVER);
//   - every ACK is sent only after Claim stored the lease; an address
//     that another client took in between gets a NAK;
//   - a DECLINE is claimed as a conflict record, and a RELEASE, or the
//     end of a client's previous lease, removes only that client's record
//     (Release), never another's;
//   - a DISCOVER or a REQUEST from a client this server has no record of
//     (its lease came from a peer, which may be down) is looked up in the
//     store (Lookup), so the client keeps its address;
//   - when the store fails on a REQUEST for a lease this server holds in
//     memory with time left, the ACK confirms that lease for its time
//     left (less a slack of 10 s for the servers' and the store's clocks,
//     and only if 30 s remain), extending nothing, and the failure is
//     counted and logged all the same (see Pool.provable for why that
//     is safe).
//
// The free-address search stays in each pool's memory (scanning from a
// random place in the range, so that servers rarely race for the same
// address); only the claim of one address is a write to the store. Store
// errors on a DISCOVER make it unanswered, counted and logged like any
// store failure: a server that cannot reach its store offers nothing.
type Allocator interface {
	LeaseStore

	// Claim stores l for its client (l.ClientID when set, else l.MAC)
	// only if l.Addr is free for that client: no record, or a record of
	// the same client, or an offer or lease whose Expiry has passed by the
	// store's clock, or a conflict (Declined) older than 10 minutes. With
	// offer set, l is an offer held until l.Expiry, which Load does not
	// return; an offer never shortens the same client's unexpired lease.
	// A Lease with Declined set is stored as a conflict. When the address
	// is not free Claim stores nothing and returns an error wrapping
	// [ErrAddrTaken]. Claims of one address by several servers at once
	// are decided by the store: exactly one succeeds.
	Claim(ctx context.Context, l Lease, offer bool) error

	// Release removes the record of l.Addr if it belongs to l's client;
	// a record of another client is kept.
	Release(ctx context.Context, l Lease) error

	// Lookup returns the client's lease (not an offer, not a conflict)
	// with the latest Expiry that has not expired by the store's clock;
	// ok is false when there is none.
	Lookup(ctx context.Context, mac net.HardwareAddr, clientID []byte) (l Lease, ok bool, err error)
}

// maxClaims bounds the addresses one DISCOVER tries to claim.
const maxClaims = 64

// takenKey is the client key of an address held by another server's
// client (see Pool.markTaken): longer than any chaddr and unlike
// cidPrefix, so it is no client's key.
const takenKey = "\x00held in the shared store\x00"

// allocator returns p.Store as an Allocator, nil when it is not one.
func (p *Pool) allocator() Allocator {
	a, _ := p.Store.(Allocator)
	return a
}

// hasBinding reports whether client c has an address (offered, bound or
// released) in p's memory.
func (p *Pool) hasBinding(c client) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.byMAC[c.key]
	return b != nil && p.byAddr[b.addr] == b
}

// markTaken records that a is held by a client of another server, until
// now plus the offer hold, and drops c's offer of a. It also moves the
// scan's cursor to a random place: the cursor met a peer's addresses,
// and a peer scanning just ahead in the same direction hands out the
// addresses this one would try next, so that following it costs a
// refused claim (a write to the store) per DISCOVER and, with the peer
// as fast, the DISCOVER's 64 tries (ErrPoolExhausted on a nearly empty
// pool).
func (p *Pool) markTaken(a netip.Addr, c client, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b := p.byAddr[a]; b != nil && p.byMAC[b.mac] == b {
		delete(p.byMAC, b.mac)
	}
	p.byAddr[a] = &binding{addr: a, mac: takenKey, state: stateBound, expiry: now.Add(p.offerHold())}
	if p.size > 0 {
		p.cursor = rand.Uint32N(p.size)
	}
}

// offerShared picks an address for client c as offer does and claims it
// as an offer in the shared store al.
func (p *Pool) offerShared(ctx context.Context, al Allocator, c client, requested netip.Addr, now time.Time) (netip.Addr, error) {
	if !requested.IsValid() && !p.hasBinding(c) {
		l, ok, err := al.Lookup(ctx, net.HardwareAddr(c.hw), clientID(c.key))
		if err != nil {
			return netip.Addr{}, &StoreError{Op: "lookup", Err: err}
		}
		if ok && p.subnet().Contains(l.Addr) {
			requested = l.Addr // its lease from a peer server
		}
	}
	for range maxClaims {
		a, err := p.offer(c, requested, now)
		if err != nil {
			return a, err
		}
		l := Lease{Addr: a, MAC: net.HardwareAddr(c.hw), ClientID: clientID(c.key), Expiry: now.Add(p.offerHold())}
		err = al.Claim(ctx, l, true)
		if err == nil {
			return a, nil
		}
		if !errors.Is(err, ErrAddrTaken) {
			p.forgetOffer(c)
			return netip.Addr{}, &StoreError{Op: "offer", Addr: a, Err: err}
		}
		p.markTaken(a, c, now)
		requested = netip.Addr{}
	}
	return netip.Addr{}, ErrPoolExhausted
}

// lookupShared reports whether the shared store al holds an unexpired
// lease of a for client c (a lease this server has no record of).
func (p *Pool) lookupShared(ctx context.Context, al Allocator, a netip.Addr, c client) (bool, error) {
	l, ok, err := al.Lookup(ctx, net.HardwareAddr(c.hw), clientID(c.key))
	if err != nil {
		return false, &StoreError{Op: "lookup", Addr: a, Err: err}
	}
	return ok && l.Addr == a, nil
}

// Renewing while the shared store is down.
const (
	// provableSlack is taken off the time left of a lease confirmed
	// from memory, for the difference between this server's clock
	// (which wrote the lease's expiry) and the store's (which judges it).
	provableSlack = 10 * time.Second
	// provableMin is the least time left worth acknowledging.
	provableMin = 30 * time.Second
)

// provable returns the lease to acknowledge from memory when the shared
// store failed to extend a lease: was, what this client held on the
// address before the attempt. It is a lease this pool committed (or
// loaded from the store) and still holds, with at least provableMin
// left after provableSlack; the lease returned keeps its expiry less
// the slack, so the ACK extends nothing.
//
// That is safe with several servers: the store holds the client's row
// for the address until that expiry, and a claim by any other client
// fails until then by the store's own clock (see [Allocator.Claim]), so
// no server can give the address away while the client uses it. Only
// the client itself ends the row earlier (RELEASE or DECLINE, possibly
// through a peer), after which it does not renew. A client that got its
// lease from a peer is not in this pool's memory and is not answered.
func (p *Pool) provable(was binding, now time.Time) (Lease, bool) {
	if p.allocator() == nil || was.mac == "" || was.state != stateBound {
		return Lease{}, false
	}
	end := was.expiry.Add(-provableSlack)
	if end.Sub(now) < provableMin {
		return Lease{}, false
	}
	l := was.lease()
	l.Expiry = end
	return l, true
}
