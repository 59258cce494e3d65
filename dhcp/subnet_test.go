package dhcp

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/internal/testenv"
)

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		in          string
		first, last string // empty: an error
	}{
		{"10.0.0.100-10.0.0.199", "10.0.0.100", "10.0.0.199"},
		{" 10.98.1.0 - 10.98.255.254 ", "10.98.1.0", "10.98.255.254"},
		{"10.0.0.5-10.0.0.5", "10.0.0.5", "10.0.0.5"},
		{"10.0.0.9-10.0.0.5", "", ""},
		{"10.0.0.5", "", ""},
		{"10.0.0.5-", "", ""},
		{"::1-::2", "", ""},
		{"10.0.0.1-fe80::1", "", ""},
		{"", "", ""},
	} {
		first, last, err := ParseRange(tc.in)
		if tc.first == "" {
			if err == nil {
				t.Errorf("ParseRange(%q) = %v, %v, want an error", tc.in, first, last)
			}
			continue
		}
		if err != nil || first.String() != tc.first || last.String() != tc.last {
			t.Errorf("ParseRange(%q) = %v, %v, %v, want %s, %s", tc.in, first, last, err, tc.first, tc.last)
		}
	}
}

func TestParseAddrs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string // nil with bad: an error
		bad  bool
	}{
		{"", nil, false},
		{"10.0.0.1", []string{"10.0.0.1"}, false},
		{"10.0.0.53, 10.0.0.54,", []string{"10.0.0.53", "10.0.0.54"}, false},
		{"10.0.0.1,dns.example", nil, true},
		{"fe80::1", nil, true},
	} {
		got, err := ParseAddrs(tc.in)
		if tc.bad != (err != nil) {
			t.Errorf("ParseAddrs(%q) error %v, want error %v", tc.in, err, tc.bad)
			continue
		}
		var s []string
		for _, a := range got {
			s = append(s, a.String())
		}
		if !slices.Equal(s, tc.want) {
			t.Errorf("ParseAddrs(%q) = %v, want %v", tc.in, s, tc.want)
		}
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"10.0.0.100-10.0.0.199", " 1.2.3.4 - 1.2.3.4", "a-b", "-", "1.2.3.4-::1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		first, last, err := ParseRange(s)
		if err != nil {
			return
		}
		if !first.Is4() || !last.Is4() || last.Less(first) {
			t.Fatalf("ParseRange(%q) = %v, %v", s, first, last)
		}
		f2, l2, err := ParseRange(first.String() + "-" + last.String())
		if err != nil || f2 != first || l2 != last {
			t.Fatalf("round trip of %q: %v, %v, %v", s, f2, l2, err)
		}
	})
}

// serveInNS runs s.Serve on conn from a thread inside ns, so that the
// server looks up its interfaces (Interface, a zero Pool.Subnet) there as
// it would in a process started in ns. It returns Serve's result.
func serveInNS(t *testing.T, ns *testenv.NetNS, s *Server) <-chan error {
	t.Helper()
	conn := listenIn(t, ns, "0.0.0.0:67", "")
	errc := make(chan error, 1)
	go func() { errc <- ns.Do(func() error { return s.Serve(conn) }) }()
	return errc
}

// TestSubnetFromInterface serves a range that is not a /24 on an
// interface holding a /16, without Pool.Subnet: busybox udhcpc must get
// the /16 with the router and DNS servers, and the server must refuse a
// range outside the interface's subnet, naming the interface and prefix.
func TestSubnetFromInterface(t *testing.T) {
	busybox := testenv.NeedCommand(t, "busybox")[0]
	srv, cl := testenv.NewNetNS(t), testenv.NewNetNS(t)
	sif, ifc := testenv.Veth(t, srv, netip.MustParsePrefix("10.98.0.1/16"), cl, netip.MustParsePrefix("10.98.0.2/16"))
	cl.MustRun(t, "ip", "addr", "flush", "dev", ifc)

	t.Run("outside", func(t *testing.T) {
		s := &Server{Interface: sif, Pool: &Pool{First: netip.MustParseAddr("10.99.0.10"), Last: netip.MustParseAddr("10.99.0.20")}}
		select {
		case err := <-serveInNS(t, srv, s):
			if !errors.Is(err, errNoSubnet) || !strings.Contains(err.Error(), sif) || !strings.Contains(err.Error(), "10.98.0.1/16") {
				t.Errorf("Serve with a range outside %s: %v, want an error naming the interface and 10.98.0.1/16", sif, err)
			}
		case <-time.After(5 * time.Second):
			s.Close()
			t.Fatal("Serve started with a range outside the interface's subnet")
		}
	})

	pool := &Pool{First: netip.MustParseAddr("10.98.1.0"), Last: netip.MustParseAddr("10.98.255.254"),
		Routers: []netip.Addr{netip.MustParseAddr("10.98.0.1")},
		DNS:     []netip.Addr{netip.MustParseAddr("10.98.0.53"), netip.MustParseAddr("10.98.0.54")},
		Domain:  "lab.example"}
	s := &Server{Interface: sif, Pool: pool}
	errc := serveInNS(t, srv, s)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if err := <-errc; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})

	dir := t.TempDir()
	logf := filepath.Join(dir, "events")
	script := filepath.Join(dir, "script")
	os.WriteFile(script, []byte("#!/bin/sh\necho \"$1 ip=$ip mask=$mask router=$router dns=$dns domain=$domain\" >> "+logf+"\n"), 0o755)
	out, err := cl.Command(t.Context(), busybox, "udhcpc", "-i", ifc, "-f", "-q", "-n", "-s", script, "-t", "5", "-T", "1", "-A", "1").CombinedOutput()
	if err != nil {
		t.Fatalf("udhcpc: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(logf)
	var bound string
	for l := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(l, "bound ") {
			bound = l
		}
	}
	for _, want := range []string{"ip=10.98.1.0 ", "mask=16 ", "router=10.98.0.1 ", "dns=10.98.0.53 10.98.0.54 ", "domain=lab.example"} {
		if !strings.Contains(bound, want) {
			t.Errorf("udhcpc bound event %q lacks %q", bound, want)
		}
	}
}
