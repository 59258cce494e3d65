// Package leasetest is a conformance suite for implementations of
// [dhcp.LeaseStore], after the idea of Kea's generic lease-manager tests:
// one table of behaviours run against every store. A store's own test
// calls [Run] with a function that creates a fresh, empty backing (a
// file, a database schema) and returns how to open a store on it.
//
//	func TestConformance(t *testing.T) {
//		leasetest.Run(t, func(t *testing.T) func() dhcp.LeaseStore {
//			path := filepath.Join(t.TempDir(), "leases")
//			return func() dhcp.LeaseStore { return &dhcp.FileStore{Path: path} }
//		})
//	}
//
// Every call of the returned open function must give a store on the same
// backing: the suite uses a second call to check that a restart keeps
// everything. A store that implements io.Closer is closed before it is
// reopened and at the end of each case.
package leasetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pxekit/pxekit/dhcp"
)

// Backing creates a fresh, empty backing for one case and returns a
// function that opens a store on it.
type Backing func(t *testing.T) (open func() dhcp.LeaseStore)

// Run runs every case of the suite as a subtest of t. The cases for a
// store that several servers share (Claim, Release and Lookup of
// [dhcp.Allocator]) are skipped when the store is not one.
func Run(t *testing.T, backing Backing) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			open := backing(t)
			h := &harness{t: t, open: open}
			h.s = h.reopen(nil)
			t.Cleanup(func() { closeStore(t, h.s) })
			c.run(h)
		})
	}
	runAllocator(t, backing)
}

type harness struct {
	t    *testing.T
	open func() dhcp.LeaseStore
	s    dhcp.LeaseStore
}

func closeStore(t *testing.T, s dhcp.LeaseStore) {
	if c, ok := s.(io.Closer); ok && s != nil {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
}

// reopen closes old (if not nil) and opens a new store on the backing.
func (h *harness) reopen(old dhcp.LeaseStore) dhcp.LeaseStore {
	h.t.Helper()
	if old != nil {
		closeStore(h.t, old)
	}
	s := h.open()
	if s == nil {
		h.t.Fatal("open returned a nil store")
	}
	return s
}

func (h *harness) save(l dhcp.Lease) {
	h.t.Helper()
	if err := h.s.Save(context.Background(), l); err != nil {
		h.t.Fatalf("Save(%v): %v", l.Addr, err)
	}
}

func (h *harness) del(a netip.Addr) {
	h.t.Helper()
	if err := h.s.Delete(context.Background(), a); err != nil {
		h.t.Fatalf("Delete(%v): %v", a, err)
	}
}

func (h *harness) load() []dhcp.Lease {
	h.t.Helper()
	ls, err := h.s.Load(context.Background())
	if err != nil {
		h.t.Fatalf("Load: %v", err)
	}
	slices.SortFunc(ls, func(a, b dhcp.Lease) int { return a.Addr.Compare(b.Addr) })
	return ls
}

// expect checks that Load returns exactly want (in any order).
func (h *harness) expect(what string, want ...dhcp.Lease) {
	h.t.Helper()
	got := h.load()
	want = slices.Clone(want)
	slices.SortFunc(want, func(a, b dhcp.Lease) int { return a.Addr.Compare(b.Addr) })
	if len(got) != len(want) {
		h.t.Fatalf("%s: Load = %d leases %v, want %d %v", what, len(got), addrs(got), len(want), addrs(want))
	}
	for i := range got {
		if d := diff(got[i], want[i]); d != "" {
			h.t.Errorf("%s: Load lease %v: %s", what, want[i].Addr, d)
		}
	}
}

func addrs(ls []dhcp.Lease) []netip.Addr {
	out := make([]netip.Addr, len(ls))
	for i, l := range ls {
		out[i] = l.Addr
	}
	return out
}

// sameTime compares at the second: stores may keep less precision than
// time.Time (the lease file keeps Unix seconds).
func sameTime(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() == b.IsZero()
	}
	return a.Unix() == b.Unix()
}

func diff(got, want dhcp.Lease) string {
	switch {
	case got.Addr != want.Addr:
		return fmt.Sprintf("Addr = %v, want %v", got.Addr, want.Addr)
	case !bytes.Equal(got.MAC, want.MAC):
		return fmt.Sprintf("MAC = %v, want %v", got.MAC, want.MAC)
	case !bytes.Equal(got.ClientID, want.ClientID):
		return fmt.Sprintf("ClientID = %x, want %x", got.ClientID, want.ClientID)
	case !sameTime(got.Expiry, want.Expiry):
		return fmt.Sprintf("Expiry = %v, want %v", got.Expiry, want.Expiry)
	case got.Hostname != want.Hostname:
		return fmt.Sprintf("Hostname = %q, want %q", got.Hostname, want.Hostname)
	case !sameTime(got.Declined, want.Declined):
		return fmt.Sprintf("Declined = %v, want %v", got.Declined, want.Declined)
	}
	return ""
}

var base = time.Unix(1_900_000_000, 0)

func addr(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 77, byte(i >> 8), byte(i)}) }

func mac(i int) net.HardwareAddr { return net.HardwareAddr{0x52, 0x54, 0, 0x77, byte(i >> 8), byte(i)} }

func lease(i int) dhcp.Lease {
	return dhcp.Lease{Addr: addr(i), MAC: mac(i), Expiry: base.Add(time.Duration(i) * time.Minute)}
}

var cases = []struct {
	name string
	run  func(h *harness)
}{
	{"Empty", func(h *harness) { h.expect("new store") }},
	{"SaveLoad", func(h *harness) {
		a := lease(1)
		b := lease(2)
		b.ClientID = []byte{1, 0x52, 0x54, 0, 0x77, 0, 2}
		b.Hostname = "node-2"
		c := lease(3)
		c.MAC = net.HardwareAddr{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16} // 16-byte chaddr
		h.save(a)
		h.save(b)
		h.save(c)
		h.expect("after three saves", a, b, c)
	}},
	{"Replace", func(h *harness) {
		a := lease(1)
		h.save(a)
		a2 := dhcp.Lease{Addr: a.Addr, MAC: mac(9), Expiry: base.Add(time.Hour), Hostname: "renamed"}
		h.save(a2)
		h.expect("after replacing", a2)
		a3 := a2
		a3.Hostname = ""
		a3.Expiry = base.Add(2 * time.Hour)
		h.save(a3) // a renew that drops the hostname
		h.expect("after renew", a3)
	}},
	{"Delete", func(h *harness) {
		a, b := lease(1), lease(2)
		h.save(a)
		h.save(b)
		h.del(a.Addr)
		h.expect("after delete", b)
		h.del(a.Addr) // deleting what is gone is no error
		h.del(addr(99))
		h.expect("after deleting absent", b)
		h.save(a) // an address deleted can be saved again
		h.expect("after saving again", a, b)
	}},
	{"Expired", func(h *harness) {
		// A store keeps an expired lease: the pool decides what expiry
		// means (the client gets the same address back).
		old := lease(1)
		old.Expiry = time.Now().Add(-48 * time.Hour).Truncate(time.Second)
		h.save(old)
		h.expect("expired lease", old)
	}},
	{"Decline", func(h *harness) {
		d := dhcp.Lease{Addr: addr(5), MAC: mac(5), Declined: base}
		h.save(d)
		h.expect("conflict", d)
		h.s = h.reopen(h.s)
		h.expect("conflict after restart", d)
		l := lease(5) // the conflict ends when a lease is stored
		h.save(l)
		h.expect("lease over conflict", l)
		h.save(d)
		h.del(d.Addr)
		h.expect("conflict deleted")
	}},
	{"Restart", func(h *harness) {
		var want []dhcp.Lease
		for i := 1; i <= 50; i++ {
			l := lease(i)
			if i%7 == 0 {
				// A conflict record is an address, a MAC and a time.
				l = dhcp.Lease{Addr: l.Addr, MAC: l.MAC, Declined: base.Add(-time.Duration(i) * time.Second)}
			}
			if i%5 == 0 && l.Declined.IsZero() {
				l.Hostname = fmt.Sprintf("h%d", i)
			}
			h.save(l)
			want = append(want, l)
		}
		for i := 10; i <= 20; i++ {
			h.del(addr(i))
		}
		want = slices.DeleteFunc(want, func(l dhcp.Lease) bool {
			return l.Addr.Compare(addr(10)) >= 0 && l.Addr.Compare(addr(20)) <= 0
		})
		h.s = h.reopen(h.s)
		h.expect("after restart", want...)
		h.s = h.reopen(h.s)
		h.expect("after second restart", want...)
		h.save(lease(15))
		h.s = h.reopen(h.s)
		h.expect("after save and restart", append(want, lease(15))...)
	}},
	{"ConcurrentWriters", func(h *harness) {
		const writers, each = 8, 40
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Go(func() {
				for j := range each {
					i := w*each + j + 1
					if err := h.s.Save(context.Background(), lease(i)); err != nil {
						errs <- fmt.Errorf("Save(%v): %w", addr(i), err)
						return
					}
					if j%4 == 3 {
						if err := h.s.Delete(context.Background(), addr(i)); err != nil {
							errs <- fmt.Errorf("Delete(%v): %w", addr(i), err)
							return
						}
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			h.t.Fatal(err)
		}
		var want []dhcp.Lease
		for i := 1; i <= writers*each; i++ {
			if (i-1)%each%4 != 3 {
				want = append(want, lease(i))
			}
		}
		h.expect("after concurrent writers", want...)
		h.s = h.reopen(h.s)
		h.expect("after concurrent writers and restart", want...)
	}},
	{"CanceledContext", func(h *harness) {
		// A write under a canceled context either fails with an error
		// that wraps the cancellation, or completes: never a success that
		// is not stored, nor a failure that is.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		a := lease(1)
		err := h.s.Save(ctx, a)
		var want []dhcp.Lease
		switch {
		case err == nil:
			want = append(want, a)
		case !errors.Is(err, context.Canceled):
			h.t.Errorf("Save under canceled context: %v, want nil or one wrapping context.Canceled", err)
		}
		h.expect("after canceled save", want...)
		h.save(a)
		err = h.s.Delete(ctx, a.Addr)
		switch {
		case err == nil:
			want = nil
		case !errors.Is(err, context.Canceled):
			h.t.Errorf("Delete under canceled context: %v, want nil or one wrapping context.Canceled", err)
		default:
			want = []dhcp.Lease{a}
		}
		h.expect("after canceled delete", want...)
		h.s = h.reopen(h.s)
		h.expect("after canceled writes and restart", want...)
	}},
}
