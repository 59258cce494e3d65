package dhcp6

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pxekit/pxekit/dhcp"
)

// ErrNoAddrs is returned (wrapped) when a [Pool] has no free address for
// a client; its IA_NA is answered with status NoAddrsAvail.
var ErrNoAddrs = errors.New("dhcp6: no address available")

// ErrNoBinding is returned (wrapped) by a renewal of an address the
// client does not hold and cannot be given; its IA_NA is answered with
// status NoBinding (Renew) or the address with lifetimes 0 (Rebind).
var ErrNoBinding = errors.New("dhcp6: no binding")

// Pool is the IA_NA address pool of a stateful [Server] (RFC 8415 §6.2):
// a range of addresses in an on-link prefix, the lifetimes handed out,
// and the lease store. Set its fields before the server starts and do
// not change them afterwards; its state is safe for concurrent use.
//
// A lease belongs to one identity association of one client: the pair
// of the client's DUID (option 1) and the IAID of its IA_NA. Addresses
// are chosen by a hash of that pair, probing forward past addresses in
// use, so a client gets the same address back after it released it, its
// lease expired or the server lost its state, as long as nobody else
// took it; an address the client asks for (an IAADDR in its Solicit or
// Request) is given when it is free.
//
// # Persistence
//
// Leases go through the [dhcp.LeaseStore] interface with the same rule as
// DHCPv4's: a lease is saved, durably, before the Reply that grants it
// (Request, Renew, Rebind, a Rapid Commit Solicit) is sent, and a Reply
// is not sent when the save fails, so a crash never makes the server
// give one address to two clients. An Advertise is only held, for
// OfferHold, not stored. A [dhcp.Lease] of a v6 lease holds the address,
// the client's MAC when known ([Lease6.MAC]), the valid lifetime's end as
// Expiry, and IAID and DUID as ClientID (the 4 IAID bytes, then the
// DUID). [dhcp.FileStore] stores them as it stores v4 leases; use a file
// of its own for them.
//
// A declined address (Decline: the client found it in use, RFC 8415
// §18.3.8) is stored as a conflict ([dhcp.Lease.Declined]) and given to
// nobody for DeclineHold.
type Pool struct {
	// Prefix is the link's prefix: addresses come from it, and Confirm
	// (RFC 8415 §18.3.3) answers NotOnLink for addresses outside it.
	Prefix netip.Prefix

	// First and Last delimit the dynamic range, both included; both
	// must lie in Prefix. Zero: the whole prefix but its first 256
	// addresses, left for routers and servers numbered by hand (the
	// server's own address among them), and its last 128, the reserved
	// subnet anycast addresses of RFC 2526. A prefix longer than /120
	// needs First and Last.
	First, Last netip.Addr

	// PreferredLifetime and ValidLifetime are given with each address
	// (RFC 8415 §21.6). Zero: 45 minutes and one hour. T1 and T2 of
	// the IA_NA are half and four fifths of the preferred lifetime, as
	// RFC 8415 §21.4 recommends.
	PreferredLifetime, ValidLifetime time.Duration

	// OfferHold is how long an advertised address is kept for the
	// client's Request. Zero: 10 seconds.
	OfferHold time.Duration

	// DeclineHold is how long a declined address is given to nobody.
	// Zero: one hour.
	DeclineHold time.Duration

	// NoRapidCommit makes the server ignore Rapid Commit (option 14):
	// a Solicit that carries it gets an Advertise like any other. By
	// default such a Solicit gets a Reply with the lease at once (RFC
	// 8415 §18.3.1).
	NoRapidCommit bool

	// DNS servers, sent as option 23 (RFC 3646) when not empty.
	DNS []netip.Addr

	// Store keeps the leases across restarts; nil keeps them in memory.
	Store dhcp.LeaseStore

	mu        sync.Mutex
	loaded    bool
	first     netip.Addr
	last      netip.Addr
	byAddr    map[netip.Addr]*binding
	byKey     map[string]*binding
	lastSweep time.Time
}

// binding is an address held for a client identity association, or a
// declined address (key "" and declined set).
type binding struct {
	key      string // IAID + DUID
	addr     netip.Addr
	mac      net.HardwareAddr
	expiry   time.Time // end of the valid lifetime, or of the offer hold
	offered  bool      // advertised (or being saved), not stored yet
	declined time.Time
}

// Lease6 is one address lease of a [Pool], as [Pool.Leases] lists it.
type Lease6 struct {
	Addr   netip.Addr
	IAID   [4]byte
	DUID   []byte           // the client's DUID, wire form
	MAC    net.HardwareAddr // from a DUID-LL/LLT or a relay's option 79 (RFC 6939); nil when unknown
	Expiry time.Time        // end of the valid lifetime
}

func (p *Pool) preferred() time.Duration {
	if p.PreferredLifetime > 0 {
		return p.PreferredLifetime
	}
	if p.ValidLifetime > 0 && p.ValidLifetime < 45*time.Minute {
		return p.ValidLifetime * 3 / 4
	}
	return 45 * time.Minute
}

func (p *Pool) valid() time.Duration {
	v := p.ValidLifetime
	if v <= 0 {
		v = time.Hour
	}
	if pr := p.preferred(); v < pr {
		v = pr
	}
	return v
}

func (p *Pool) hold() time.Duration {
	if p.OfferHold > 0 {
		return p.OfferHold
	}
	return 10 * time.Second
}

func (p *Pool) declineHold() time.Duration {
	if p.DeclineHold > 0 {
		return p.DeclineHold
	}
	return time.Hour
}

// t1t2 returns T1 and T2 for an IA_NA (RFC 8415 §21.4).
func (p *Pool) t1t2() (time.Duration, time.Duration) {
	pr := p.preferred()
	return pr / 2, pr * 4 / 5
}

// iaKey is the binding key of an identity association.
func iaKey(iaid [4]byte, duid []byte) string {
	return string(iaid[:]) + string(duid)
}

// check validates the fields and computes the range.
func (p *Pool) check() error {
	if !p.Prefix.IsValid() || !p.Prefix.Addr().Is6() || p.Prefix.Addr().Is4In6() {
		return fmt.Errorf("dhcp6: Pool.Prefix %v: want an IPv6 prefix", p.Prefix)
	}
	pfx := p.Prefix.Masked()
	first, last := p.First, p.Last
	if !first.IsValid() && !last.IsValid() {
		if pfx.Bits() > 120 {
			return fmt.Errorf("dhcp6: Pool.Prefix %v is too small for the default range; set First and Last", pfx)
		}
		hi, lo := u128(pfx.Addr())
		first = from128(add128(hi, lo, 256))
		lhi, llo := u128(lastOf(pfx))
		last = from128(sub128(lhi, llo, 128))
	}
	if !first.IsValid() || !last.IsValid() || !pfx.Contains(first) || !pfx.Contains(last) || first.Compare(last) > 0 {
		return fmt.Errorf("dhcp6: Pool range %v-%v: want First <= Last, both in %v", p.First, p.Last, pfx)
	}
	p.first, p.last = first, last
	return nil
}

// load checks the fields and reads the store, once.
func (p *Pool) load(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.loaded {
		return nil
	}
	if err := p.check(); err != nil {
		return err
	}
	p.byAddr = make(map[netip.Addr]*binding)
	p.byKey = make(map[string]*binding)
	if p.Store != nil {
		ls, err := p.Store.Load(ctx)
		var damage *dhcp.LeaseFileDamage
		if err != nil && !errors.As(err, &damage) {
			return fmt.Errorf("dhcp6: lease store: %w", err)
		}
		for _, l := range ls {
			if !l.Addr.Is6() || l.Addr.Is4In6() || !p.Prefix.Contains(l.Addr) {
				continue
			}
			b := &binding{addr: l.Addr, mac: l.MAC}
			if !l.Declined.IsZero() {
				b.declined = l.Declined
			} else {
				if len(l.ClientID) < 4+3 {
					continue
				}
				b.key, b.expiry = string(l.ClientID), l.Expiry
				if old := p.byKey[b.key]; old != nil && old.expiry.After(b.expiry) {
					continue
				} else if old != nil {
					delete(p.byAddr, old.addr)
				}
				p.byKey[b.key] = b
			}
			p.byAddr[l.Addr] = b
		}
	}
	p.loaded = true
	return nil
}

// Leases returns the leases held (not offers, nor conflicts), in no
// particular order.
func (p *Pool) Leases() []Lease6 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Lease6
	for _, b := range p.byKey {
		if b.offered {
			continue
		}
		l := Lease6{Addr: b.addr, DUID: []byte(b.key[4:]), MAC: b.mac, Expiry: b.expiry}
		copy(l.IAID[:], b.key)
		out = append(out, l)
	}
	return out
}

// freeFor reports whether a may go to key at now.
func (p *Pool) freeFor(a netip.Addr, key string, now time.Time) bool {
	if a.Compare(p.first) < 0 || a.Compare(p.last) > 0 {
		return false
	}
	b := p.byAddr[a]
	switch {
	case b == nil:
		return true
	case !b.declined.IsZero():
		return now.Sub(b.declined) >= p.declineHold()
	case b.key == key:
		return true
	default:
		return !now.Before(b.expiry)
	}
}

// pick chooses an address for key: want when it is free for key, else
// the one the hash of key finds. Called with p.mu held.
func (p *Pool) pick(key string, want netip.Addr, now time.Time) (netip.Addr, error) {
	if want.IsValid() && p.freeFor(want, key, now) {
		return want, nil
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	sum := h.Sum64()
	fhi, flo := u128(p.first)
	lhi, llo := u128(p.last)
	dhi, dlo := sub128u(lhi, llo, fhi, flo)
	size, huge := dlo+1, dhi > 0 || dlo == ^uint64(0)
	tries := uint64(4096)
	off := sum
	if !huge {
		off = sum % size
		tries = min(tries, size)
	}
	for i := range tries {
		o := off + i
		if !huge && o >= size {
			o -= size
		}
		a := from128(add128(fhi, flo, o))
		if p.freeFor(a, key, now) {
			return a, nil
		}
	}
	return netip.Addr{}, ErrNoAddrs
}

// take binds a to key (dropping key's old binding and a's expired one)
// in state offered until expiry. Called with p.mu held.
func (p *Pool) take(key string, a netip.Addr, mac net.HardwareAddr, expiry time.Time) *binding {
	if old := p.byKey[key]; old != nil && old.addr != a {
		if p.byAddr[old.addr] == old {
			delete(p.byAddr, old.addr)
		}
	}
	if old := p.byAddr[a]; old != nil && old.key != key && old.key != "" && p.byKey[old.key] == old {
		delete(p.byKey, old.key)
	}
	b := &binding{key: key, addr: a, mac: mac, expiry: expiry, offered: true}
	if old := p.byKey[key]; old != nil && old.addr == a && !old.offered {
		// Renewing a stored lease: it stays a lease while it is saved.
		b.offered = false
		b.expiry = later(old.expiry, expiry)
	}
	p.byKey[key] = b
	p.byAddr[a] = b
	return b
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// sweep drops offers whose hold has passed, at most once per hold.
// Called with p.mu held.
func (p *Pool) sweep(now time.Time) {
	if now.Sub(p.lastSweep) < p.hold() {
		return
	}
	p.lastSweep = now
	for a, b := range p.byAddr {
		if b.offered && !now.Before(b.expiry) {
			delete(p.byAddr, a)
			if p.byKey[b.key] == b {
				delete(p.byKey, b.key)
			}
		}
	}
}

// advertise holds an address for key (an Advertise: nothing stored).
func (p *Pool) advertise(key string, mac net.HardwareAddr, want netip.Addr, now time.Time) (netip.Addr, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweep(now)
	if b := p.byKey[key]; b != nil && !want.IsValid() {
		want = b.addr
	}
	a, err := p.pick(key, want, now)
	if err != nil {
		return a, err
	}
	if b := p.byKey[key]; b != nil && b.addr == a && !b.offered {
		return a, nil // the client's lease, expired or not
	}
	p.take(key, a, mac, now.Add(p.hold()))
	return a, nil
}

// commit grants key an address and saves the lease before it returns.
// With renew, it grants only want (an address the client holds, or one
// free for it) and fails with ErrNoBinding otherwise; want invalid
// means any address, as for a Request.
func (p *Pool) commit(ctx context.Context, key string, mac net.HardwareAddr, want netip.Addr, renew bool, now time.Time) (netip.Addr, error) {
	p.mu.Lock()
	if renew && want.IsValid() && !p.freeFor(want, key, now) {
		p.mu.Unlock()
		return netip.Addr{}, fmt.Errorf("%w for %v", ErrNoBinding, want)
	}
	if b := p.byKey[key]; b != nil && !want.IsValid() {
		want = b.addr
	}
	a, err := p.pick(key, want, now)
	if err != nil {
		p.mu.Unlock()
		return a, err
	}
	if mac == nil {
		if old := p.byKey[key]; old != nil {
			mac = old.mac
		}
	}
	exp := now.Add(p.valid())
	b := p.take(key, a, mac, now.Add(p.hold()))
	p.mu.Unlock()

	if p.Store != nil {
		err := p.Store.Save(ctx, dhcp.Lease{Addr: a, MAC: mac, ClientID: []byte(key), Expiry: exp})
		if err != nil {
			return netip.Addr{}, &dhcp.StoreError{Op: "save", Addr: a, Err: err}
		}
	}
	p.mu.Lock()
	if p.byKey[key] == b {
		b.offered, b.expiry = false, exp
	}
	p.mu.Unlock()
	return a, nil
}

// release ends key's lease of a; ErrNoBinding when key holds no such
// lease.
func (p *Pool) release(ctx context.Context, key string, a netip.Addr) error {
	p.mu.Lock()
	b := p.byKey[key]
	if b == nil || b.addr != a {
		p.mu.Unlock()
		return ErrNoBinding
	}
	stored := !b.offered
	delete(p.byKey, key)
	if p.byAddr[a] == b {
		delete(p.byAddr, a)
	}
	p.mu.Unlock()
	if stored && p.Store != nil {
		if err := p.Store.Delete(ctx, a); err != nil {
			return &dhcp.StoreError{Op: "delete", Addr: a, Err: err}
		}
	}
	return nil
}

// decline records a as a conflict reported by key; ErrNoBinding when key
// holds no lease of a.
func (p *Pool) decline(ctx context.Context, key string, a netip.Addr, now time.Time) error {
	p.mu.Lock()
	b := p.byKey[key]
	if b == nil || b.addr != a {
		p.mu.Unlock()
		return ErrNoBinding
	}
	delete(p.byKey, key)
	c := &binding{addr: a, mac: b.mac, declined: now}
	p.byAddr[a] = c
	p.mu.Unlock()
	if p.Store != nil {
		if err := p.Store.Save(ctx, dhcp.Lease{Addr: a, MAC: b.mac, Declined: now}); err != nil {
			return &dhcp.StoreError{Op: "save", Addr: a, Err: err}
		}
	}
	return nil
}

// 128-bit arithmetic on addresses.

func u128(a netip.Addr) (hi, lo uint64) {
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

func from128(hi, lo uint64) netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	return netip.AddrFrom16(b)
}

func add128(hi, lo, n uint64) (uint64, uint64) {
	l := lo + n
	if l < lo {
		hi++
	}
	return hi, l
}

func sub128(hi, lo, n uint64) (uint64, uint64) {
	l := lo - n
	if l > lo {
		hi--
	}
	return hi, l
}

// sub128u returns (ahi,alo) - (bhi,blo).
func sub128u(ahi, alo, bhi, blo uint64) (uint64, uint64) {
	l := alo - blo
	h := ahi - bhi
	if l > alo {
		h--
	}
	return h, l
}

// lastOf returns the last address of p.
func lastOf(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As16()
	bits := p.Bits()
	for i := range 16 {
		switch {
		case bits >= 8:
			bits -= 8
		case bits > 0:
			b[i] |= 0xff >> bits
			bits = 0
		default:
			b[i] = 0xff
		}
	}
	return netip.AddrFrom16(b)
}

// CheckPool reports what is wrong with p's fields (the prefix and the
// range), as the first Serve would; nil when they are usable. It does
// not read the store.
func CheckPool(p *Pool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.check()
}

// Range returns the first and last address handed out, once the fields
// have been checked ([CheckPool] or Serve); invalid before.
func (p *Pool) Range() (first, last netip.Addr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.first, p.last
}
