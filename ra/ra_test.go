package ra

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/internal/testenv"
)

func TestAdvertisementLayout(t *testing.T) {
	mac := net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56}
	got := (&Server{Managed: true}).Advertisement(mac)
	want := []byte{134, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0x52, 0x54, 0, 0x12, 0x34, 0x56}
	if !bytes.Equal(got, want) {
		t.Errorf("advertisement\n got % x\nwant % x", got, want)
	}
	if got := (&Server{Other: true}).Advertisement(nil); len(got) != 16 || got[5] != 0x40 {
		t.Errorf("without a MAC: % x", got)
	}
}

// TestAdvertisementOptions checks the prefix information (RFC 4861
// §4.6.2) and RDNSS (RFC 8106 §5.1) options byte by byte.
func TestAdvertisementOptions(t *testing.T) {
	s := &Server{
		Other:          true,
		RouterLifetime: 1800 * time.Second,
		Prefixes: []Prefix{
			{Prefix: netip.MustParsePrefix("2001:db8:16::1/64"), OnLink: true, Autonomous: true},
			{Prefix: netip.MustParsePrefix("2001:db8:17::/48"), OnLink: true, ValidLifetime: Infinity, PreferredLifetime: 90 * time.Second},
		},
		DNS:         []netip.Addr{netip.MustParseAddr("2001:db8:16::53")},
		DNSLifetime: 600 * time.Second,
	}
	want := []byte{
		134, 0, 0, 0, // type 134, code 0, checksum (kernel)
		0, 0x40, 0x07, 0x08, // hop limit 0, O flag, router lifetime 1800 s
		0, 0, 0, 0, 0, 0, 0, 0, // reachable time, retrans timer unspecified
		// prefix information: type 3, length 4 (32 bytes), /64, L and A
		3, 4, 64, 0xc0,
		0x00, 0x27, 0x8d, 0x00, // valid 2592000 s (30 days)
		0x00, 0x09, 0x3a, 0x80, // preferred 604800 s (7 days)
		0, 0, 0, 0, // reserved
		0x20, 0x01, 0x0d, 0xb8, 0, 0x16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 2001:db8:16:: (masked)
		// prefix information: /48, L only, valid infinite, preferred 90 s
		3, 4, 48, 0x80,
		0xff, 0xff, 0xff, 0xff,
		0, 0, 0, 90,
		0, 0, 0, 0,
		0x20, 0x01, 0x0d, 0xb8, 0, 0x17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		// RDNSS: type 25, length 3 (24 bytes), reserved, lifetime 600 s, address
		25, 3, 0, 0,
		0, 0, 0x02, 0x58,
		0x20, 0x01, 0x0d, 0xb8, 0, 0x16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53,
	}
	if got := s.Advertisement(nil); !bytes.Equal(got, want) {
		t.Errorf("advertisement\n got % x\nwant % x", got, want)
	}
}

func TestCheck(t *testing.T) {
	v6 := netip.MustParsePrefix("2001:db8::/64")
	for _, tc := range []struct {
		name string
		s    *Server
		ok   bool
	}{
		{"zero", &Server{}, true},
		{"prefix", &Server{Prefixes: []Prefix{{Prefix: v6}}}, true},
		{"v4 prefix", &Server{Prefixes: []Prefix{{Prefix: netip.MustParsePrefix("10.0.0.0/8")}}}, false},
		{"no prefix", &Server{Prefixes: []Prefix{{}}}, false},
		{"preferred over valid", &Server{Prefixes: []Prefix{{Prefix: v6, ValidLifetime: time.Minute, PreferredLifetime: time.Hour}}}, false},
		{"short valid, default preferred", &Server{Prefixes: []Prefix{{Prefix: v6, ValidLifetime: time.Minute}}}, true},
		{"v4 DNS", &Server{DNS: []netip.Addr{netip.MustParseAddr("10.0.0.1")}}, false},
		{"router lifetime too long", &Server{RouterLifetime: 3 * time.Hour}, false},
		{"interval 4 s", &Server{MaxInterval: 4 * time.Second}, true},
		{"interval 600 s", &Server{MaxInterval: 600 * time.Second}, true},
		{"interval 3 s", &Server{MaxInterval: 3 * time.Second}, false},
		{"interval 1801 s", &Server{MaxInterval: 1801 * time.Second}, false},
		{"min interval 2 s", &Server{MaxInterval: 10 * time.Second, MinInterval: 2 * time.Second}, false},
		{"min interval over 0.75 max", &Server{MaxInterval: 10 * time.Second, MinInterval: 8 * time.Second}, false},
		{"router lifetime below interval", &Server{MaxInterval: 600 * time.Second, RouterLifetime: 60 * time.Second}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.s.check(); (err == nil) != tc.ok {
				t.Errorf("check() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestIntervals(t *testing.T) {
	for _, tc := range []struct{ max, wantMin time.Duration }{
		{600 * time.Second, 198 * time.Second},
		{8 * time.Second, 6 * time.Second},
		{4 * time.Second, 3 * time.Second},
		{10 * time.Second, 3300 * time.Millisecond},
	} {
		lo, hi := (&Server{MaxInterval: tc.max}).intervals()
		if lo != tc.wantMin || hi != tc.max {
			t.Errorf("intervals(max %v) = %v, %v; want %v, %v", tc.max, lo, hi, tc.wantMin, tc.max)
		}
	}
}

// lab starts s on one end of a veth pair between two fresh namespaces and
// returns the client namespace and its interface. The server's log is in
// the returned buffer.
func lab(t *testing.T, s *Server) (cli *testenv.NetNS, ifC string, logs *testenv.Buffer) {
	t.Helper()
	srv, cli := testenv.NewNetNS(t), testenv.NewNetNS(t)
	for _, ns := range []*testenv.NetNS{srv, cli} {
		// Link-local addresses are usable at once, without the 1–2 s of
		// duplicate address detection.
		ns.MustRun(t, "sysctl", "-q", "-w", "net.ipv6.conf.default.accept_dad=0")
		// The kernel solicits when an interface comes up; only the
		// tests' own rdisc6 calls should.
		ns.MustRun(t, "sysctl", "-q", "-w", "net.ipv6.conf.default.router_solicitations=0")
	}
	ifS, ifC := testenv.Veth(t, srv, netip.MustParsePrefix("10.98.0.1/24"), cli, netip.MustParsePrefix("10.98.0.2/24"))
	logs = new(testenv.Buffer)
	s.Interface = ifS
	s.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	done := make(chan error, 1)
	go func() { done <- srv.Do(s.ListenAndServe) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("ListenAndServe after Close: %v, want ErrServerClosed", err)
		}
	})
	return cli, ifC, logs
}

// rdisc6 runs rdisc6 in ns until it prints an advertisement or 10 s pass,
// and returns its output with runs of spaces folded to one.
func rdisc6(t *testing.T, ns *testenv.NetNS, args ...string) string {
	t.Helper()
	bin := testenv.NeedCommand(t, "rdisc6")[0]
	var out string
	deadline := time.Now().Add(10 * time.Second)
	for {
		o, err := ns.Command(t.Context(), bin, args...).CombinedOutput()
		out = string(o)
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	return strings.Join(strings.Fields(out), " ")
}

func wantFields(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, strings.Join(strings.Fields(want), " ")) {
			t.Errorf("rdisc6 output lacks %q:\n%s", want, out)
		}
	}
}

// TestRdisc6 asks the server with rdisc6 (ndisc6), a router discovery
// client nobody here wrote, across a veth pair between two namespaces.
func TestRdisc6(t *testing.T) {
	cli, ifC, logs := lab(t, &Server{Other: true})
	out := rdisc6(t, cli, "-1", "-w", "500", ifC)
	wantFields(t, out, "Stateful address conf. : No", "Stateful other conf. : Yes", "Router lifetime : 0")
	if strings.Contains(out, "Prefix") {
		t.Errorf("rdisc6 saw a prefix the server does not send:\n%s", out)
	}
	// The line follows the send, so rdisc6 may have the answer first.
	for deadline := time.Now().Add(2 * time.Second); !strings.Contains(logs.String(), "answered router solicitation"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("no log line for the answer:\n%s", logs.String())
			break
		}
	}
}

// TestRdisc6Prefix checks what rdisc6 reads from an advertisement with
// the M flag, a prefix and a DNS server.
func TestRdisc6Prefix(t *testing.T) {
	cli, ifC, _ := lab(t, &Server{
		Managed: true,
		Prefixes: []Prefix{{
			Prefix: netip.MustParsePrefix("2001:db8:16::/64"), OnLink: true, Autonomous: true,
			ValidLifetime: 7200 * time.Second, PreferredLifetime: 3600 * time.Second,
		}},
		DNS: []netip.Addr{netip.MustParseAddr("2001:db8:16::53")},
	})
	out := rdisc6(t, cli, "-1", "-n", "-w", "500", ifC)
	wantFields(t, out,
		"Stateful address conf. : Yes", "Stateful other conf. : No",
		"Prefix : 2001:db8:16::/64", "On-link : Yes", "Autonomous address conf.: Yes",
		"Valid time : 7200 (0x00001c20) seconds", "Pref. time : 3600 (0x00000e10) seconds",
		"Recursive DNS server : 2001:db8:16::53")
}

// TestUnsolicited listens with rdisc6 -d, which sends no solicitation,
// for the periodic advertisements.
func TestUnsolicited(t *testing.T) {
	s := &Server{Other: true, MaxInterval: 4 * time.Second}
	cli, ifC, logs := lab(t, s)
	start := time.Now()
	// -m waits the whole -w and prints every advertisement seen; with
	// intervals of 3 to 4 s, 9 s hold two or three of them.
	out := rdisc6(t, cli, "-d", "-m", "-w", "9000", ifC)
	if n := strings.Count(out, "Hop limit"); n < 2 {
		t.Errorf("rdisc6 -d saw %d unsolicited advertisements in %v, want at least 2:\n%s", n, time.Since(start).Round(time.Millisecond), out)
	}
	wantFields(t, out, "Stateful other conf. : Yes")
	if strings.Contains(logs.String(), "answered router solicitation") {
		t.Errorf("server answered a solicitation rdisc6 -d did not send:\n%s", logs.String())
	}
}

// TestSLAAC checks that the Linux kernel in the client namespace
// (accept_ra, RFC 4862) forms an address from the advertised prefix.
func TestSLAAC(t *testing.T) {
	// Solicited only; the kernel does not solicit here (see lab), so
	// rdisc6 asks.
	cli, ifC, _ := lab(t, &Server{
		Prefixes: []Prefix{{Prefix: netip.MustParsePrefix("2001:db8:16::/64"), OnLink: true, Autonomous: true}},
	})
	cli.MustRun(t, "sysctl", "-q", "-w", "net.ipv6.conf."+ifC+".accept_ra=2")
	var out string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		rdisc6(t, cli, "-1", "-w", "500", ifC)
		out = cli.MustRun(t, "ip", "-6", "addr", "show", "dev", ifC)
		if strings.Contains(out, "inet6 2001:db8:16:") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(out, "inet6 2001:db8:16:") || !strings.Contains(out, "scope global") {
		t.Fatalf("no SLAAC address from 2001:db8:16::/64 on %s:\n%s", ifC, out)
	}
	// The prefix also became an on-link route (L flag).
	if r := cli.MustRun(t, "ip", "-6", "route", "show", "dev", ifC); !strings.Contains(r, "2001:db8:16::/64") {
		t.Errorf("no on-link route for the prefix:\n%s", r)
	}
	// Router lifetime 0: no default route through the server.
	if r := cli.MustRun(t, "ip", "-6", "route", "show", "default"); strings.TrimSpace(r) != "" {
		t.Errorf("default route from an advertisement with router lifetime 0:\n%s", r)
	}
}
