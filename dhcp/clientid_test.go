package dhcp

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// doraID runs DISCOVER, OFFER, REQUEST, ACK for chaddr hw with option 61
// cid (none when nil) and returns the ACK.
func doraID(t *testing.T, s *Server, hw net.HardwareAddr, cid []byte) *dhcpv4.DHCPv4 {
	t.Helper()
	var mods []dhcpv4.Modifier
	if cid != nil {
		mods = append(mods, dhcpv4.WithGeneric(dhcpv4.OptionClientIdentifier, cid))
	}
	offer := mustHandle(t, s, plainRequest(t, dhcpv4.MessageTypeDiscover, append(mods, dhcpv4.WithHwAddr(hw))...), in67)
	if offer == nil || offer.MessageType() != dhcpv4.MessageTypeOffer {
		t.Fatalf("DISCOVER from %v id %x: %v, want OFFER", hw, cid, offer)
	}
	req := plainRequest(t, dhcpv4.MessageTypeRequest, append(mods, dhcpv4.WithHwAddr(hw),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(offer.ServerIdentifier())),
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(offer.YourIPAddr)))...)
	ack := mustHandle(t, s, req, in67)
	if ack == nil || ack.MessageType() != dhcpv4.MessageTypeAck || !ack.YourIPAddr.Equal(offer.YourIPAddr) {
		t.Fatalf("REQUEST from %v id %x for %v: %v, want ACK", hw, cid, offer.YourIPAddr, ack)
	}
	return ack
}

// TestClientIdentifier checks that option 61 identifies a client when it
// is sent (RFC 2131 §4.2) and chaddr otherwise, in the pool and in the
// lease file, across a restart.
func TestClientIdentifier(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leases")
	s, _ := newFullServer(t, &Pool{Last: netip.MustParseAddr("10.0.0.110"), First: netip.MustParseAddr("10.0.0.100"), Store: &FileStore{Path: path}})
	idA, idB := []byte{0, 'v', 'm', '-', 'a'}, []byte{0, 'v', 'm', '-', 'b'}

	a := doraID(t, s, mac(1), idA).YourIPAddr.String()
	// The same NIC with another identifier (a second OS on the machine,
	// a dual-boot) is another client.
	if b := doraID(t, s, mac(1), idB).YourIPAddr.String(); b == a {
		t.Errorf("two client identifiers on chaddr %v got one address %s", mac(1), a)
	}
	// The same identifier behind another NIC (a moved virtual machine)
	// is the same client.
	if got := doraID(t, s, mac(2), idA).YourIPAddr.String(); got != a {
		t.Errorf("client id %q from chaddr %v got %s, want its address %s", idA, mac(2), got, a)
	}
	// chaddr alone is a third client.
	plain := doraID(t, s, mac(1), nil).YourIPAddr.String()
	if plain == a {
		t.Errorf("chaddr %v without option 61 got the address of client id %q", mac(1), idA)
	}

	var found bool
	for _, l := range s.Pool.Leases() {
		if l.Addr.String() == a {
			found = true
			if !bytes.Equal(l.ClientID, idA) || l.MAC.String() != mac(2).String() {
				t.Errorf("lease of %s: id %x mac %v, want id %x mac %v", a, l.ClientID, l.MAC, idA, mac(2))
			}
		}
	}
	if !found {
		t.Fatalf("no lease for %s in %v", a, s.Pool.Leases())
	}

	// Restart: identities come back from the file.
	s2, _ := newFullServer(t, &Pool{Last: netip.MustParseAddr("10.0.0.110"), First: netip.MustParseAddr("10.0.0.100"), Store: &FileStore{Path: path}})
	if got := doraID(t, s2, mac(3), idA).YourIPAddr.String(); got != a {
		t.Errorf("after a restart client id %q got %s, want %s", idA, got, a)
	}
	if got := doraID(t, s2, mac(1), nil).YourIPAddr.String(); got != plain {
		t.Errorf("after a restart chaddr %v got %s, want %s", mac(1), got, plain)
	}
}

// TestLeaseFileWithoutClientID loads a lease file written before option
// 61 identified clients: its leases are the chaddr's, as they were.
func TestLeaseFileWithoutClientID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leases")
	old := "# pxekit dhcp leases: ADDR MAC EXPIRY(unix) HOSTNAME, or ADDR - (deleted)\n" +
		"10.0.0.105 02:00:00:00:00:07 1800003600 \"pc7\"\n"
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	store := &FileStore{Path: path}
	ls, err := store.Load(context.Background())
	if err != nil || len(ls) != 1 || ls[0].ClientID != nil || ls[0].Hostname != "pc7" {
		t.Fatalf("Load of an old file: %v, %v", ls, err)
	}
	store.Close()
	s, _ := newFullServer(t, &Pool{Last: netip.MustParseAddr("10.0.0.110"), First: netip.MustParseAddr("10.0.0.100"), Store: &FileStore{Path: path}})
	if got := doraID(t, s, mac(7), nil).YourIPAddr.String(); got != "10.0.0.105" {
		t.Errorf("chaddr %v of an old lease got %s, want 10.0.0.105", mac(7), got)
	}
}
