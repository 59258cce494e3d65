package dhcp

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/pxekit/pxekit/internal/testenv"
)

func TestArrivalFromContext(t *testing.T) {
	if a, ok := ArrivalFromContext(t.Context()); ok {
		t.Errorf("ArrivalFromContext(plain ctx) = %+v, true; want false", a)
	}
	want := Arrival{Interface: 3, InterfaceName: "eth1", Local: netip.MustParseAddr("10.0.0.1"), Port: PXEPort}
	got, ok := ArrivalFromContext(WithArrival(t.Context(), want))
	if !ok || got != want {
		t.Errorf("ArrivalFromContext(WithArrival(%+v)) = %+v, %v", want, got, ok)
	}
}

// TestArrivalOnTwoSegments serves two segments from one socket and checks
// that the Decider learns, per client, the interface the request came in
// on and the server's address there, and builds an HTTP URL that points
// at the client's own segment; and that each reply is logged once at info
// level with the client's MAC written as text.
func TestArrivalOnTwoSegments(t *testing.T) {
	srv := testenv.NewNetNS(t)
	c1, c2 := testenv.NewNetNS(t), testenv.NewNetNS(t)
	s1, if1 := testenv.Veth(t, srv, netip.MustParsePrefix("10.0.11.1/24"), c1, netip.MustParsePrefix("10.0.11.2/24"))
	s2, if2 := testenv.Veth(t, srv, netip.MustParsePrefix("10.0.12.1/24"), c2, netip.MustParsePrefix("10.0.12.2/24"))

	var mu sync.Mutex
	seen := map[string]Arrival{} // by xid
	decider := DeciderFunc(func(ctx context.Context, req *dhcpv4.DHCPv4) (Boot, error) {
		a, ok := ArrivalFromContext(ctx)
		if !ok {
			t.Error("Decide: no Arrival in the server's context")
		}
		mu.Lock()
		seen[req.TransactionID.String()] = a
		mu.Unlock()
		return Boot{File: "http://" + a.Local.String() + ":8080/boot.ipxe"}, nil
	})
	var logs testenv.Buffer
	s := &Server{Decider: decider, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	serveIn(t, srv, s, "0.0.0.0:67")

	var index [2]int
	for i, name := range []string{s1, s2} {
		if err := srv.Do(func() error {
			ifi, err := net.InterfaceByName(name)
			if err == nil {
				index[i] = ifi.Index
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}

	for i, c := range []*net.UDPConn{listenIn(t, c1, "0.0.0.0:68", if1), listenIn(t, c2, "0.0.0.0:68", if2)} {
		xid := dhcpv4.TransactionID{7, 7, 7, byte(i)}
		req := pxeRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithTransactionID(xid), dhcpv4.WithBroadcast(true))
		var got []*dhcpv4.DHCPv4
		for try := 0; try < 5 && len(got) == 0; try++ { // the link may take a moment to come up
			sendTo(t, c, req, "255.255.255.255:67")
			got = collect(t, c, xid, 300*time.Millisecond)
		}
		if len(got) != 1 {
			t.Fatalf("client %d got %d replies, want 1", i+1, len(got))
		}
		local := []string{"10.0.11.1", "10.0.12.1"}[i]
		wantFile := "http://" + local + ":8080/boot.ipxe"
		if f := got[0].BootFileName; f != wantFile {
			t.Errorf("client %d: boot file %q, want %q", i+1, f, wantFile)
		}
		mu.Lock()
		a := seen[xid.String()]
		mu.Unlock()
		want := Arrival{Interface: index[i], InterfaceName: []string{s1, s2}[i], Local: netip.MustParseAddr(local), Port: ServerPort}
		if a != want {
			t.Errorf("client %d: Arrival = %+v, want %+v", i+1, a, want)
		}
	}

	// One info line per reply, with the MAC as text (slog writes a
	// net.HardwareAddr as its raw bytes).
	out := logs.String()
	if n := strings.Count(out, "level=INFO msg=\"dhcp: reply\""); n != 2 {
		t.Errorf("%d info lines \"dhcp: reply\", want 2; log:\n%s", n, out)
	}
	if mac := "mac=" + testMAC.String(); strings.Count(out, mac) != 2 {
		t.Errorf("log does not hold %s twice:\n%s", mac, out)
	}
}
