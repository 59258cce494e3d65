package dhcp

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// ErrPoolExhausted is logged when a full DHCP server has no free address
// for a client; the client gets no offer.
var ErrPoolExhausted = errors.New("dhcp: address pool exhausted")

// StoreError is returned when the [LeaseStore] of a [Pool] fails. The
// request it served is not acknowledged; the client's retry tries the store
// again.
type StoreError struct {
	Op   string // "save" or "delete"
	Addr netip.Addr
	Err  error
}

func (e *StoreError) Error() string {
	return fmt.Sprintf("dhcp: lease store: %s %v: %v", e.Op, e.Addr, e.Err)
}

func (e *StoreError) Unwrap() error { return e.Err }

// Lease is an address bound to a client until Expiry. The client is the
// one that sent ClientID as option 61 (RFC 2131 §4.2) when ClientID is
// not empty, else the one with hardware address MAC.
type Lease struct {
	Addr     netip.Addr
	MAC      net.HardwareAddr // the client's chaddr
	ClientID []byte           // option 61 of the client's requests, if it sent one
	Expiry   time.Time
	Hostname string // option 12 of the client's last request, if any

	// Declined, when not zero, makes this record no lease but a known
	// address conflict: at that time the client MAC declined Addr
	// (DHCPDECLINE, RFC 2131 §4.4.1: another host answered ARP for it).
	// See [Pool] for how long a conflict lasts.
	Declined time.Time
}

// LeaseStore keeps the leases of a [Pool] across restarts. Save must make
// the lease durable before it returns, because the server sends its ACK
// only afterwards: that is what guarantees that a crash never makes it give
// one address to two machines. Implementations must be safe for concurrent
// use; concurrent Saves are where an implementation can batch its writes.
type LeaseStore interface {
	// Load returns every lease saved and not deleted since. A Load that
	// recovered from damage returns the leases it could read together
	// with a [*LeaseFileDamage] error (or one that wraps it), which the
	// Pool accepts; any other error stops the server.
	Load(ctx context.Context) ([]Lease, error)
	// Save adds l, replacing any lease for the same address.
	Save(ctx context.Context, l Lease) error
	// Delete removes the lease for addr, if any.
	Delete(ctx context.Context, addr netip.Addr) error
}

// Pool is the address pool of a full DHCP server: a range of addresses,
// static reservations by MAC, the options handed out with a lease, and the
// lease store. Set its fields before the server starts and do not change
// them afterwards; its state is safe for concurrent use.
//
// A client is identified by its client identifier (option 61) when it
// sends one, as RFC 2131 §4.2 asks, and by its hardware address (chaddr)
// otherwise: a machine whose firmware sends no option 61 and whose
// operating system sends one is two clients, with two leases, as with
// dnsmasq and ISC dhcpd. Reservations are by hardware address.
//
// A declined address (DHCPDECLINE: the client found it in use) is a known
// conflict, stored in the lease store like a lease, so that it survives a
// restart. It lasts until the address is seen free, by this rule: the
// address is offered to nobody while any other address is free, and
// when none is, the conflict declined longest ago, at least 10 minutes
// ago, is offered as a last resort; the client that gets it probes it (RFC 2131 §4.4.1) and either
// keeps it, and the conflict ends when its lease is stored, or declines
// it again, and the conflict starts over. Offers are held briefly (OfferHold)
// without being stored, and when no address is free the oldest offer not
// yet requested goes to the next client; a lease is stored before its ACK
// is sent. Expired and released leases stay associated with their client,
// which gets the same address back, until another client needs the
// address; addresses are handed out round robin, so the address of a
// departed client is reused as late as possible.
type Pool struct {
	// First and Last delimit the dynamic range, both included.
	First, Last netip.Addr

	// Subnet is the client's subnet (option 1). The zero value means the
	// subnet of the served interface that holds the range, as dnsmasq
	// does: when the [Server] has an Interface, its address and prefix
	// (a range outside every subnet of that interface is an error at
	// start, naming the interface and its prefixes); without one, the
	// first interface that is up and holds the range; failing that, the
	// /24 around First. The interfaces are looked up when Serve starts,
	// in the network namespace of the goroutine that calls it. Requests
	// arriving on an interface (or through a relay) without an address
	// in the subnet are not answered.
	Subnet netip.Prefix

	// Routers and DNS are sent as options 3 and 6 when non-empty. There
	// is no default router: a lease carries none unless asked, since the
	// server cannot know which host routes for the segment.
	Routers []netip.Addr
	DNS     []netip.Addr

	// Domain is the domain name, option 15, sent when non-empty.
	Domain string

	// Search is the domain search list, option 119 (RFC 3397), sent when
	// non-empty.
	Search DomainSearch

	// NTP lists NTP servers, option 42, sent when non-empty.
	NTP []netip.Addr

	// MTU is the interface MTU, option 26 (at least 68), sent when not
	// zero.
	MTU uint16

	// Routes are classless static routes, option 121 (RFC 3442), sent
	// when non-empty. A client that takes option 121 ignores option 3
	// (§5), so when Routers is set and Routes has no default route
	// (0.0.0.0/0), option 121 also carries the default route through
	// Routers[0]; option 3 is sent as well, for clients without 121.
	Routes ClasslessRoutes

	// LeaseTime is the lease duration (option 51); zero means one hour.
	LeaseTime time.Duration

	// OfferHold is how long an address offered to a client is kept for it
	// while it has not sent its REQUEST; zero means 10 seconds. A client
	// answers an OFFER within a second or two (RFC 2131 §4.4.1 has it
	// collect offers briefly, then REQUEST one), so a short hold costs
	// real clients nothing, while every DISCOVER holds an address for
	// OfferHold: with a long hold, a burst of DISCOVERs from made-up MACs
	// would keep a whole pool on offer. When no address is free, the
	// oldest offer not yet requested is given to the new client anyway.
	OfferHold time.Duration

	// Reservations maps MAC addresses, in net.HardwareAddr.String form
	// ("52:54:00:12:34:56"), to fixed addresses in Subnet, inside or
	// outside the range.
	Reservations map[string]netip.Addr

	// Store persists leases; nil keeps them in memory only.
	Store LeaseStore

	once    sync.Once
	initErr error
	sub     netip.Prefix // the subnet in use, set by init
	mu      sync.Mutex
	byAddr  map[netip.Addr]*binding
	// conflicts holds the declined addresses and when they were declined.
	conflicts map[netip.Addr]time.Time
	byMAC     map[string]*binding   // by client key (see client)
	resv      map[netip.Addr]string // reserved address → MAC (string of the bytes)
	resvMAC   map[string]netip.Addr // MAC → reserved address
	extra     []extraOption         // encoded options beyond 1, 3, 6, 15, set by init
	first     uint32
	size      uint32
	cursor    uint32
	now       func() time.Time
}

type bindState uint8

const (
	stateOffered bindState = iota
	stateBound
	stateReleased
)

type binding struct {
	addr     netip.Addr
	mac      string // the client key (see client)
	hw       string // string(hardware address bytes)
	state    bindState
	expiry   time.Time // lease end, offer hold end, or decline hold end
	hostname string
}

const (
	scanMax          = 1 << 16
	conflictRetry    = 10 * time.Minute // see Pool: conflicts are retried no sooner
	defaultOfferHold = 10 * time.Second
)

func (p *Pool) subnet() netip.Prefix {
	if p.sub.IsValid() {
		return p.sub
	}
	if p.Subnet.IsValid() {
		return p.Subnet.Masked()
	}
	pfx, _ := p.First.Prefix(24)
	return pfx
}

func (p *Pool) offerHold() time.Duration {
	if p.OfferHold > 0 {
		return p.OfferHold
	}
	return defaultOfferHold
}

func (p *Pool) leaseTime() time.Duration {
	if p.LeaseTime > 0 {
		return p.LeaseTime
	}
	return time.Hour
}

// init checks the configuration and loads the stored leases, once,
// without looking at interfaces (a zero Subnet is the /24 around First).
func (p *Pool) init(ctx context.Context) error {
	return p.initOn(ctx, "", false)
}

// initOn is init for a server on interface iface ("" for all); with
// lookup, a zero Subnet is taken from the interfaces (see Pool.Subnet).
func (p *Pool) initOn(ctx context.Context, iface string, lookup bool) error {
	p.once.Do(func() { p.initErr = p.load(ctx, iface, lookup) })
	return p.initErr
}

func (p *Pool) load(ctx context.Context, iface string, lookup bool) error {
	if !p.First.Is4() || !p.Last.Is4() || p.Last.Less(p.First) {
		return fmt.Errorf("dhcp: pool range %v-%v is not an IPv4 range", p.First, p.Last)
	}
	if !p.Subnet.IsValid() && lookup {
		sub, err := InterfaceSubnet(iface, p.First, p.Last)
		switch {
		case err == nil:
			p.sub = sub
		case iface != "":
			return err
		}
	}
	sub := p.subnet()
	p.sub = sub
	if !sub.Contains(p.First) || !sub.Contains(p.Last) {
		return fmt.Errorf("dhcp: pool range %v-%v outside subnet %v", p.First, p.Last, sub)
	}
	if p.now == nil {
		p.now = time.Now
	}
	if err := p.encodeOptions(); err != nil {
		return err
	}
	p.first = u32(p.First)
	p.size = u32(p.Last) - p.first + 1
	if p.allocator() != nil {
		// Servers sharing the range start their scans apart.
		p.cursor = rand.Uint32N(p.size)
	}
	p.byAddr = make(map[netip.Addr]*binding)
	p.byMAC = make(map[string]*binding)
	p.conflicts = make(map[netip.Addr]time.Time)
	p.resv = make(map[netip.Addr]string)
	p.resvMAC = make(map[string]netip.Addr)
	for m, a := range p.Reservations {
		hw, err := net.ParseMAC(m)
		if err != nil {
			return fmt.Errorf("dhcp: reservation %q: %w", m, err)
		}
		if !sub.Contains(a) {
			return fmt.Errorf("dhcp: reservation %s → %v outside subnet %v", m, a, sub)
		}
		if other, dup := p.resv[a]; dup && other != string(hw) {
			return fmt.Errorf("dhcp: address %v reserved twice", a)
		}
		p.resv[a] = string(hw)
		p.resvMAC[string(hw)] = a
	}
	if p.Store == nil {
		return nil
	}
	leases, err := p.Store.Load(ctx)
	if _, damaged := errors.AsType[*LeaseFileDamage](err); err != nil && !damaged {
		return fmt.Errorf("dhcp: loading leases: %w", err)
	}
	for _, l := range leases {
		if !l.Declined.IsZero() && l.Addr.Is4() && sub.Contains(l.Addr) {
			p.conflicts[l.Addr] = l.Declined
			continue
		}
		if !l.Addr.Is4() || len(l.MAC) == 0 || !sub.Contains(l.Addr) {
			continue // another pool's, in a shared store
		}
		c := clientFor(l.MAC, l.ClientID)
		b := &binding{addr: l.Addr, mac: c.key, hw: c.hw, state: stateBound, expiry: l.Expiry, hostname: l.Hostname}
		if old := p.byMAC[b.mac]; old != nil && old.expiry.After(b.expiry) {
			p.byAddr[b.addr] = b // keep the address taken, the newer lease wins the MAC
			continue
		}
		p.byAddr[b.addr] = b
		p.byMAC[b.mac] = b
	}
	return nil
}

// Leases returns a snapshot of the bound, unexpired leases of this pool's
// clients (with a shared [Allocator] store: those this server knows of).
func (p *Pool) Leases() []Lease {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Lease
	now := time.Now()
	if p.now != nil {
		now = p.now()
	}
	for _, b := range p.byAddr {
		if b.state == stateBound && b.expiry.After(now) && b.mac != takenKey {
			out = append(out, b.lease())
		}
	}
	return out
}

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func addrOf(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func (p *Pool) inRange(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	v := u32(a) - p.first
	return v < p.size
}

// free reports whether b (possibly nil) no longer holds its address
// against other clients. p.mu is held.
func (b *binding) free(now time.Time) bool {
	return b == nil || b.state == stateReleased || !b.expiry.After(now)
}

// assignable reports whether a may be given to client c. p.mu is held.
func (p *Pool) assignable(a netip.Addr, c client, now time.Time) bool {
	mac := c.key
	if r, ok := p.resv[a]; ok {
		return r == c.hw
	}
	if !p.inRange(a) {
		return false
	}
	b := p.byAddr[a]
	if _, bad := p.conflicts[a]; bad {
		// Only to the client it was offered to as a last resort.
		return b != nil && b.mac == mac && b.state == stateOffered && !b.free(now)
	}
	return b == nil || b.mac == mac || b.free(now)
}

// offer picks an address for client c (RFC 2131 §4.3.1) and holds it.
func (p *Pool) offer(c client, requested netip.Addr, now time.Time) (netip.Addr, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	mac := c.key
	pick := p.resvMAC[c.hw]
	if pick.IsValid() {
		if b := p.byAddr[pick]; b != nil && b.mac != mac && !b.free(now) {
			return netip.Addr{}, fmt.Errorf("dhcp: reserved address %v is leased to %v", pick, net.HardwareAddr(b.hw))
		}
	} else if b := p.byMAC[mac]; b != nil && p.byAddr[b.addr] == b && p.assignable(b.addr, c, now) {
		pick = b.addr
	} else if requested.IsValid() && p.assignable(requested, c, now) {
		pick = requested
	} else {
		// Scan from a rotating cursor, at most scanMax addresses per
		// DISCOVER so that a nearly full large pool costs bounded time;
		// the next DISCOVER goes on where this one stopped. The cursor
		// hands out the address given out longest ago first, which
		// leaves a departed client's address free longest for its return.
		n := min(p.size, scanMax)
		var oldest *binding // the oldest offer held for another client
		for i := uint32(0); i < n; i++ {
			a := addrOf(p.first + (p.cursor+i)%p.size)
			if p.assignable(a, c, now) {
				pick = a
				p.cursor = (p.cursor + i + 1) % p.size
				break
			}
			if b := p.byAddr[a]; b != nil && b.state == stateOffered && (oldest == nil || b.expiry.Before(oldest.expiry)) {
				if _, reserved := p.resv[a]; !reserved {
					oldest = b
				}
			}
		}
		if !pick.IsValid() {
			p.cursor = (p.cursor + n) % p.size
			if a := p.oldestConflict(now); a.IsValid() {
				// No free address: test a known conflict again.
				p.bind(a, c, stateOffered, now.Add(p.offerHold()), "")
				return a, nil
			}
			if oldest == nil {
				return netip.Addr{}, ErrPoolExhausted
			}
			// No free address: an offer nobody has requested yet is
			// worth less than this client. Its holder's REQUEST, if it
			// comes, gets a NAK and starts over.
			pick = oldest.addr
		}
	}
	b := p.byAddr[pick]
	if b != nil && b.mac == mac && b.state == stateBound && b.expiry.After(now) {
		return pick, nil // already bound: keep the lease, offer it again
	}
	p.bind(pick, c, stateOffered, now.Add(p.offerHold()), "")
	return pick, nil
}

// bind records that a belongs to client c. p.mu is held. It returns the
// address c held before, if different and still recorded.
func (p *Pool) bind(a netip.Addr, c client, st bindState, expiry time.Time, host string) (prev netip.Addr) {
	mac := c.key
	if old := p.byMAC[mac]; old != nil && old.addr != a && p.byAddr[old.addr] == old {
		delete(p.byAddr, old.addr)
		if old.state == stateBound {
			prev = old.addr
		}
	}
	b := p.byAddr[a]
	if b == nil || b.mac != mac {
		if b != nil && p.byMAC[b.mac] == b {
			delete(p.byMAC, b.mac)
		}
		b = &binding{addr: a, mac: mac, hw: c.hw}
		p.byAddr[a] = b
	}
	b.state, b.expiry, b.hw = st, expiry, c.hw
	if host != "" {
		b.hostname = host
	}
	p.byMAC[mac] = b
	return prev
}

// commit binds a to client c for a lease time and stores the lease. ok
// is false when a cannot be given to c (the caller NAKs).
func (p *Pool) commit(ctx context.Context, a netip.Addr, c client, host string, now time.Time, needRecord bool) (l Lease, ok bool, err error) {
	mac := c.key
	p.mu.Lock()
	b := p.byAddr[a]
	if needRecord && (b == nil || b.mac != mac) {
		p.mu.Unlock()
		return Lease{}, false, nil
	}
	if !p.assignable(a, c, now) {
		p.mu.Unlock()
		return Lease{}, false, nil
	}
	expiry := now.Add(p.leaseTime())
	var was binding // what mac held on a before, to restore if the store fails
	if b != nil && b.mac == mac {
		was = *b
	}
	prev := p.bind(a, c, stateBound, expiry, host)
	l = p.byAddr[a].lease()
	p.mu.Unlock()
	if p.Store != nil {
		err := error(nil)
		if al := p.allocator(); al != nil {
			// Shared: the lease first, conditionally; then the client's
			// previous address, only if it is still the client's.
			err = al.Claim(ctx, l, false)
			if err == nil && prev.IsValid() {
				err = al.Release(ctx, Lease{Addr: prev, MAC: l.MAC, ClientID: l.ClientID})
			}
		} else {
			if prev.IsValid() {
				err = p.Store.Delete(ctx, prev)
			}
			if err == nil {
				err = p.Store.Save(ctx, l)
			}
		}
		if err != nil {
			// Not durable, so not a lease: what mac held before stays,
			// or the address stays offered to mac for its retries.
			p.mu.Lock()
			if nb := p.byAddr[a]; nb != nil && nb.mac == mac && nb.state == stateBound && nb.expiry.Equal(expiry) {
				if was.mac != "" {
					nb.state, nb.expiry = was.state, was.expiry
				} else {
					nb.state, nb.expiry = stateOffered, now.Add(p.offerHold())
				}
			}
			p.mu.Unlock()
			if errors.Is(err, ErrAddrTaken) {
				// Another server's client holds it: NAK.
				p.markTaken(a, c, now)
				return Lease{}, false, nil
			}
			serr := &StoreError{Op: "save", Addr: a, Err: err}
			if l, ok := p.provable(was, now); ok {
				return l, true, serr // see provable: ACK the time left, say the store failed
			}
			return Lease{}, false, serr
		}
	}
	p.mu.Lock()
	delete(p.conflicts, a) // the client keeps it: the address is free of conflict
	p.mu.Unlock()
	return l, true, nil
}

// known reports whether client c holds a binding for a (any state but
// declined), whether another client holds a, and whether c is known
// with another address.
func (p *Pool) known(a netip.Addr, c client) (mine, other, elsewhere bool) {
	mac := c.key
	p.mu.Lock()
	defer p.mu.Unlock()
	if m := p.byMAC[mac]; m != nil && m.addr != a && p.byAddr[m.addr] == m && m.state == stateBound {
		elsewhere = true
	}
	b := p.byAddr[a]
	if b == nil {
		return false, false, elsewhere
	}
	if b.mac == mac {
		return true, false, false
	}
	return false, !b.free(p.now()), elsewhere
}

// forgetOffer drops an offer made to client c that it turned down.
func (p *Pool) forgetOffer(c client) {
	mac := c.key
	p.mu.Lock()
	defer p.mu.Unlock()
	if b := p.byMAC[mac]; b != nil && b.state == stateOffered {
		delete(p.byMAC, mac)
		if p.byAddr[b.addr] == b {
			delete(p.byAddr, b.addr)
		}
	}
}

// release ends the lease of client c on a (DHCPRELEASE) or, with
// decline, records a known conflict on a (DHCPDECLINE), in the store too.
func (p *Pool) release(ctx context.Context, a netip.Addr, c client, decline bool, now time.Time) error {
	mac := c.key
	p.mu.Lock()
	b := p.byAddr[a]
	if b == nil || b.mac != mac {
		p.mu.Unlock()
		return nil
	}
	if decline {
		// The address belongs to nobody (RFC 2131 §4.3.3).
		delete(p.byAddr, a)
		if p.byMAC[mac] == b {
			delete(p.byMAC, mac)
		}
		p.conflicts[a] = now
	} else {
		b.state, b.expiry = stateReleased, now
	}
	p.mu.Unlock()
	if p.Store == nil {
		return nil
	}
	al := p.allocator()
	if decline {
		d := Lease{Addr: a, MAC: net.HardwareAddr(b.hw), ClientID: clientID(b.mac), Declined: now}
		var err error
		if al != nil {
			err = al.Claim(ctx, d, false)
			if errors.Is(err, ErrAddrTaken) {
				return nil // another client's now: its conflict is not ours to record
			}
		} else {
			err = p.Store.Save(ctx, d)
		}
		if err != nil {
			return &StoreError{Op: "save", Addr: a, Err: err}
		}
		return nil
	}
	if al != nil {
		if err := al.Release(ctx, Lease{Addr: a, MAC: net.HardwareAddr(b.hw), ClientID: clientID(b.mac)}); err != nil {
			return &StoreError{Op: "delete", Addr: a, Err: err}
		}
		return nil
	}
	if err := p.Store.Delete(ctx, a); err != nil {
		return &StoreError{Op: "delete", Addr: a, Err: err}
	}
	return nil
}

// oldestConflict returns the known conflict declined longest ago that no
// client holds an offer or lease on; invalid when there is none. p.mu is
// held.
func (p *Pool) oldestConflict(now time.Time) netip.Addr {
	var pick netip.Addr
	var at time.Time
	for a, t := range p.conflicts {
		if !p.inRange(a) {
			continue
		}
		if _, reserved := p.resv[a]; reserved || now.Sub(t) < conflictRetry {
			continue
		}
		if b := p.byAddr[a]; b != nil && !b.free(now) {
			continue
		}
		if !pick.IsValid() || t.Before(at) || t.Equal(at) && a.Less(pick) {
			pick, at = a, t
		}
	}
	return pick
}

// client identifies a client of a [Pool]: key is its client identifier
// (option 61) when it sent one, else its hardware address; hw is its
// hardware address. Both are strings of the bytes.
type client struct {
	key string
	hw  string
}

// cidPrefix starts the key of a client identified by option 61. It is
// longer than any chaddr (16 bytes), so that no hardware address can be
// mistaken for a client identifier.
const cidPrefix = "\x00client-identifier\x00"

// clientFor returns the client with hardware address hw and client
// identifier cid (option 61, empty when not sent).
func clientFor(hw net.HardwareAddr, cid []byte) client {
	if len(cid) > 0 {
		return client{key: cidPrefix + string(cid), hw: string(hw)}
	}
	return client{key: string(hw), hw: string(hw)}
}

// clientID returns the option 61 of client key k, nil for a client
// identified by its hardware address.
func clientID(k string) []byte {
	if id, ok := strings.CutPrefix(k, cidPrefix); ok {
		return []byte(id)
	}
	return nil
}

// lease returns b as a Lease.
func (b *binding) lease() Lease {
	return Lease{Addr: b.addr, MAC: net.HardwareAddr(b.hw), ClientID: clientID(b.mac), Expiry: b.expiry, Hostname: b.hostname}
}
