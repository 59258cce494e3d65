package dhcp

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// TestDeclineSurvivesRestart checks that a declined address is a known
// conflict kept in the lease store: after a restart, and however long
// after, it does not go to the next client while another address is
// free; once none is, it is retried, and the conflict ends when a client
// keeps it.
func TestDeclineSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leases")
	newPool := func() *Pool {
		return &Pool{First: netip.MustParseAddr("10.0.0.100"), Last: netip.MustParseAddr("10.0.0.101"), Store: &FileStore{Path: path}}
	}
	s, clk := newFullServer(t, newPool())
	ack := dora(t, s, mac(1), false)
	bad := ack.YourIPAddr.String()
	dec := plainRequest(t, dhcpv4.MessageTypeDecline, dhcpv4.WithHwAddr(mac(1)), dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(ack.YourIPAddr)))
	if r := mustHandle(t, s, dec, in67); r != nil {
		t.Fatalf("DECLINE answered: %v", r)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), bad+" conflict "+mac(1).String()+" ") {
		t.Errorf("lease file after DECLINE of %s lacks the conflict:\n%s", bad, b)
	}

	// Restart, a day later: the conflict is still known.
	s.Pool.Store.(*FileStore).Close()
	s, _ = newFullServer(t, newPool())
	s.Pool.now = func() time.Time { return clk.now().Add(24 * time.Hour) }
	other := dora(t, s, mac(2), false).YourIPAddr.String()
	if other == bad {
		t.Fatalf("after a restart the declined %s went to the next client", bad)
	}
	// The pool is full but for the conflict: it is tried again, and the
	// client that keeps it ends the conflict.
	if got := dora(t, s, mac(3), false).YourIPAddr.String(); got != bad {
		t.Fatalf("full pool: got %s, want the conflict %s retried", got, bad)
	}
	s.Pool.Store.(*FileStore).Close()
	s, _ = newFullServer(t, newPool())
	s.Pool.now = func() time.Time { return clk.now().Add(24 * time.Hour) }
	ls := s.Pool.Leases()
	if len(ls) != 2 {
		t.Fatalf("leases after the conflict ended: %v", ls)
	}
	for _, l := range ls {
		if l.Addr.String() == bad && l.MAC.String() != mac(3).String() {
			t.Errorf("lease of %s: %v, want mac(3)'s", bad, l)
		}
	}
}
