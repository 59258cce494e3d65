package pgstore_test

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/pgstore/internal/pgtest"
)

// TestPurge: Purge deletes the rows that hold no address any more (an
// offer past its hold, a lease expired longer ago than keep, a conflict
// older than 10 minutes), oldest first and at most limit per call, and
// keeps every other row.
func TestPurge(t *testing.T) {
	pg := pgtest.Start(t)
	url := pg.NewDB(t)
	st := open(t, url)
	t.Cleanup(func() { st.Close() })
	ctx := t.Context()
	now := time.Now()
	mac := func(i byte) net.HardwareAddr { return net.HardwareAddr{2, 0, 0, 0, 0, i} }
	addr := func(i byte) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, 18, i}) }
	type row struct {
		n       byte
		offer   bool
		expiry  time.Duration // from now
		decline time.Duration // from now; 0: not a conflict
		gone    bool          // Purge deletes it
	}
	rows := []row{
		{n: 1, offer: true, expiry: -time.Second, gone: true},       // offer past its hold
		{n: 2, offer: true, expiry: time.Minute},                    // offer held
		{n: 3, expiry: -2 * time.Hour, gone: true},                  // lease expired 2 h ago
		{n: 4, expiry: -10 * time.Minute},                           // lease expired 10 min ago: kept for its client
		{n: 5, expiry: time.Hour},                                   // lease
		{n: 6, decline: -20 * time.Minute, gone: true},              // old conflict
		{n: 7, decline: -time.Minute},                               // recent conflict
		{n: 8, offer: true, expiry: -3 * time.Hour, gone: true},     // the oldest
		{n: 9, expiry: -90 * time.Minute, gone: true},               // lease expired 1.5 h ago
		{n: 10, offer: true, expiry: -time.Millisecond, gone: true}, // just ended
	}
	for _, r := range rows {
		l := dhcp.Lease{Addr: addr(r.n), MAC: mac(r.n), Expiry: now.Add(r.expiry)}
		if r.decline != 0 {
			l.Expiry, l.Declined = time.Time{}, now.Add(r.decline)
		}
		if err := st.Claim(ctx, l, r.offer); err != nil {
			t.Fatalf("Claim %v: %v", l.Addr, err)
		}
	}
	left := func() []netip.Addr {
		t.Helper()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		rs, _ := conn.Query(ctx, `SELECT host(addr) FROM pxekit_leases ORDER BY addr`)
		as, err := pgx.CollectRows(rs, func(r pgx.CollectableRow) (netip.Addr, error) {
			var s string
			if err := r.Scan(&s); err != nil {
				return netip.Addr{}, err
			}
			return netip.ParseAddr(s)
		})
		if err != nil {
			t.Fatal(err)
		}
		return as
	}

	// Bounded: 6 rows have ended; batches of 4 take the oldest first.
	n, err := st.Purge(ctx, time.Hour, 4)
	if err != nil || n != 4 {
		t.Fatalf("Purge(1h, 4) = %d, %v; want 4 rows", n, err)
	}
	after := left()
	for _, oldest := range []byte{8, 3, 9, 6} { // 3 h, 2 h, 1.5 h, 20 min ago
		if slices.Contains(after, addr(oldest)) {
			t.Errorf("first batch kept %v, one of the 4 oldest ended rows; left %v", addr(oldest), after)
		}
	}
	n, err = st.Purge(ctx, time.Hour, 4)
	if err != nil || n != 2 {
		t.Fatalf("second Purge(1h, 4) = %d, %v; want the 2 ended rows left", n, err)
	}
	if n, err := st.Purge(ctx, time.Hour, 4); err != nil || n != 0 {
		t.Fatalf("third Purge = %d, %v; want 0", n, err)
	}
	var want []netip.Addr
	for _, r := range rows {
		if !r.gone {
			want = append(want, addr(r.n))
		}
	}
	slices.SortFunc(want, netip.Addr.Compare)
	if got := left(); !slices.Equal(got, want) {
		t.Errorf("rows left %v, want %v", got, want)
	}
	// The lease expired 10 minutes ago goes with a shorter keep.
	if n, err := st.Purge(ctx, 5*time.Minute, 0); err != nil || n != 1 {
		t.Errorf("Purge(5m) = %d, %v; want the lease expired 10 min ago", n, err)
	}
	// The held offer still keeps its address from another client.
	if err := st.Claim(ctx, dhcp.Lease{Addr: addr(2), MAC: mac(99), Expiry: now.Add(time.Minute)}, true); err == nil {
		t.Error("the held offer of 10.0.18.2 was purged: another client claimed it")
	}
}

// TestPurgeEvery: the periodic purge removes an offer whose hold ended
// without being asked, and stops with its context.
func TestPurgeEvery(t *testing.T) {
	pg := pgtest.Start(t)
	url := pg.NewDB(t)
	st := open(t, url)
	t.Cleanup(func() { st.Close() })
	a := netip.MustParseAddr("10.0.18.9")
	if err := st.Claim(t.Context(), dhcp.Lease{Addr: a, MAC: net.HardwareAddr{2, 0, 0, 0, 0, 9}, Expiry: time.Now().Add(500 * time.Millisecond)}, true); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { st.PurgeEvery(ctx, time.Second, time.Hour, 10, nil); close(done) }()
	waitUntil(t, "the ended offer purged", 10*time.Second, func() bool {
		conn, err := pgx.Connect(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var c int
		conn.QueryRow(t.Context(), `SELECT count(*) FROM pxekit_leases`).Scan(&c)
		return c == 0
	})
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("PurgeEvery did not return after its context ended")
	}
}
