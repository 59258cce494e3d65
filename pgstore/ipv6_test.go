package pgstore_test

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/pgstore/internal/pgtest"
)

// TestIPv6Leases: the store keeps dhcp6's leases as dhcp6.Pool writes
// them (an IPv6 address, IAID and DUID as ClientID, often no MAC) beside
// v4 leases in one table: Save, Load, Claim, Lookup by ClientID, Delete.
func TestIPv6Leases(t *testing.T) {
	pg := pgtest.Start(t)
	st := open(t, pg.NewDB(t))
	t.Cleanup(func() { st.Close() })
	ctx := t.Context()
	exp := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	iaidDUID := append([]byte{0, 0, 0, 1}, 0, 4, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88) // IAID 1, DUID-UUID (part)
	v6 := dhcp.Lease{Addr: netip.MustParseAddr("2001:db8:18::100"), ClientID: iaidDUID, Expiry: exp}
	v4 := dhcp.Lease{Addr: netip.MustParseAddr("10.0.18.100"), MAC: clientMAC(1), Expiry: exp}
	for _, l := range []dhcp.Lease{v6, v4} {
		if err := st.Save(ctx, l); err != nil {
			t.Fatalf("Save %v: %v", l.Addr, err)
		}
	}
	ls, err := st.Load(ctx)
	if err != nil || len(ls) != 2 {
		t.Fatalf("Load = %v, %v; want 2 leases", ls, err)
	}
	got := ls[1] // ordered by address: v4 sorts first in inet
	if got.Addr != v6.Addr || !bytes.Equal(got.ClientID, iaidDUID) || len(got.MAC) != 0 || !got.Expiry.Equal(exp) {
		t.Errorf("Load: %+v, want %+v", got, v6)
	}
	l, ok, err := st.Lookup(ctx, nil, iaidDUID)
	if err != nil || !ok || l.Addr != v6.Addr {
		t.Errorf("Lookup(IAID+DUID) = %v, %v, %v; want %v", l, ok, err, v6.Addr)
	}
	other := dhcp.Lease{Addr: v6.Addr, ClientID: []byte{0, 0, 0, 2, 0, 3, 0, 1, 2, 0, 0, 0, 0, 9}, Expiry: exp}
	if err := st.Claim(ctx, other, false); err == nil {
		t.Errorf("Claim of %v by another IAID+DUID succeeded", v6.Addr)
	}
	if err := st.Delete(ctx, v6.Addr); err != nil {
		t.Fatal(err)
	}
	if err := st.Claim(ctx, other, false); err != nil {
		t.Errorf("Claim after Delete: %v", err)
	}
}
