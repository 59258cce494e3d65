package pgstore_test

import (
	"context"
	"crypto/rand"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/pgstore/internal/pgtest"
)

// request sends a REQUEST for mac to dst: with ciaddr set for RENEWING
// (unicast to the server) or REBINDING (broadcast), with requested set
// and no ciaddr for INIT-REBOOT. It returns the ACK or NAK, nil when
// none came within a second.
func (l *lab) request(ctx context.Context, mac net.HardwareAddr, ciaddr, requested netip.Addr, dst netip.Addr) *dhcpv4.DHCPv4 {
	var xid dhcpv4.TransactionID
	rand.Read(xid[:])
	ch := make(chan *dhcpv4.DHCPv4, 8)
	l.mu.Lock()
	l.waiting[xid] = ch
	l.mu.Unlock()
	defer func() { l.mu.Lock(); delete(l.waiting, xid); l.mu.Unlock() }()
	mods := []dhcpv4.Modifier{dhcpv4.WithTransactionID(xid), dhcpv4.WithHwAddr(mac),
		dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest)}
	if ciaddr.IsValid() {
		mods = append(mods, dhcpv4.WithClientIP(ciaddr.AsSlice()))
	}
	if requested.IsValid() {
		mods = append(mods, dhcpv4.WithBroadcast(true), dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(requested.AsSlice())))
	}
	req, _ := dhcpv4.New(mods...)
	if _, err := l.conn.WriteToUDPAddrPort(req.ToBytes(), netip.AddrPortFrom(dst, 67)); err != nil {
		l.t.Fatal(err)
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	for {
		select {
		case m := <-ch:
			if mt := m.MessageType(); mt == dhcpv4.MessageTypeAck || mt == dhcpv4.MessageTypeNak {
				return m
			}
		case <-t.C:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// TestDatabaseDownRenew: with PostgreSQL stopped, a server still
// acknowledges the RENEW (unicast), REBIND (broadcast) and INIT-REBOOT
// of leases it committed itself, from memory and for their time left
// only (no longer than the hour they were given, less the slack), and
// counts each in Stats.FromMemory and StoreErrors; it stays silent to a
// client whose lease its peer gave (it cannot prove it), and offers
// nothing new. When the database is back, the same RENEW extends the
// lease in the database again.
func TestDatabaseDownRenew(t *testing.T) {
	l := newLab(t)
	pg := pgtest.Start(t)
	url := pg.NewDB(t)
	stA, stB := open(t, url), open(t, url)
	t.Cleanup(func() { stA.Close(); stB.Close() })
	a := l.server(netip.MustParsePrefix("10.0.18.1/24"), stA, dhcp.Split{Index: 0, N: 2})
	l.server(netip.MustParsePrefix("10.0.18.2/24"), stB, dhcp.Split{Index: 1, N: 2})
	mine := bucketOf(0, 0, 3)   // a's clients
	theirs := bucketOf(1, 0, 1) // b's
	var rs []result
	for _, i := range append(mine, theirs...) {
		r := l.dora(t.Context(), clientMAC(i), 10*time.Second)
		if r.err != nil {
			t.Fatalf("client %d: %v", i, r.err)
		}
		rs = append(rs, r)
	}
	checkLeases(t, stA, rs)
	// The renewing clients' replies are unicast to their addresses.
	for _, r := range rs {
		l.clients.MustRun(t, "ip", "addr", "add", r.addr.String()+"/32", "dev", l.cdev)
	}

	pg.Stop()
	broadcast := netip.MustParseAddr("255.255.255.255")
	cases := []struct {
		name              string
		r                 result
		ciaddr, requested netip.Addr
		dst               netip.Addr
		want              bool
	}{
		{"RENEW of a's lease", rs[0], rs[0].addr, netip.Addr{}, a.addr, true},
		{"REBIND of a's lease", rs[1], rs[1].addr, netip.Addr{}, broadcast, true},
		{"INIT-REBOOT of a's lease", rs[2], netip.Addr{}, rs[2].addr, broadcast, true},
		{"RENEW of b's lease sent to a", rs[3], rs[3].addr, netip.Addr{}, a.addr, false},
	}
	for _, c := range cases {
		got := l.request(t.Context(), c.r.mac, c.ciaddr, c.requested, c.dst)
		switch {
		case !c.want && got != nil && got.ServerIdentifier().Equal(a.addr.AsSlice()):
			t.Errorf("%s, database down: a answered %v", c.name, got.MessageType())
		case c.want && got == nil:
			t.Errorf("%s, database down: no answer", c.name)
		case c.want && got.MessageType() != dhcpv4.MessageTypeAck:
			t.Errorf("%s, database down: %v, want ACK", c.name, got.MessageType())
		case c.want:
			lt := got.IPAddressLeaseTime(0)
			if y, _ := netip.AddrFromSlice(got.YourIPAddr.To4()); y != c.r.addr {
				t.Errorf("%s: ACK of %v, want %v", c.name, y, c.r.addr)
			}
			// Given an hour a few seconds ago; confirmed for what is left
			// less the 10 s slack, never extended.
			if lt > time.Hour-10*time.Second || lt < time.Hour-2*time.Minute {
				t.Errorf("%s: lease time %v, want the time left of the hour less 10 s", c.name, lt)
			}
			if t1 := got.IPAddressRenewalTime(0); t1 != lt/2/time.Second*time.Second && t1 != lt/2 {
				t.Errorf("%s: T1 %v, want half of %v", c.name, t1, lt)
			}
			t.Logf("%s, database down: ACK %v for %v", c.name, c.r.addr, lt)
		}
	}
	if r := l.dora(t.Context(), clientMAC(mine[0]+5000), 2*time.Second); r.err == nil {
		t.Errorf("database down: new client got %v", r.addr)
	}
	st := a.srv.Stats()
	if st.FromMemory != 3 {
		t.Errorf("Stats().FromMemory = %d, want 3", st.FromMemory)
	}
	if st.StoreErrors < 3 {
		t.Errorf("Stats().StoreErrors = %d, want at least the 3 answered from memory", st.StoreErrors)
	}

	pg.Restart(t)
	waitUntil(t, "a RENEW extended in the database again", 15*time.Second, func() bool {
		got := l.request(t.Context(), rs[0].mac, rs[0].addr, netip.Addr{}, a.addr)
		return got != nil && got.MessageType() == dhcpv4.MessageTypeAck && got.IPAddressLeaseTime(0) == time.Hour
	})
	after, ok, err := stA.Lookup(t.Context(), rs[0].mac, nil)
	if err != nil || !ok || after.Addr != rs[0].addr {
		t.Fatalf("after the database is back: Lookup = %v, %v, %v", after, ok, err)
	}
	checkLeases(t, stA, rs)
}
