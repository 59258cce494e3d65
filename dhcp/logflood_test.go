package dhcp

import (
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// TestLogFloodBounded sends a full pool 500 DISCOVERs from random MACs and
// 500 malformed datagrams, all from 0.0.0.0:68 as unconfigured clients
// send, and checks that each kind is logged at most 20 times, that a
// summary with the number held back follows once the interval is over or
// at Close, and that another sender's lines still get through.
func TestLogFloodBounded(t *testing.T) {
	p := &Pool{First: netip.MustParseAddr("10.0.0.100"), Last: netip.MustParseAddr("10.0.0.100")}
	s, clk := newFullServer(t, p)
	dora(t, s, mac(1), false) // the pool's one address is leased: the pool is full
	logs := &logRecorder{min: slog.LevelDebug}
	s.Logger = slog.New(logs)
	s.limit.Now, s.replyLimit.Now = clk.now, clk.now
	sc := &serverConn{conn: &captureConn{}, localPort: ServerPort}
	from := func(src string) inbound {
		return inbound{port: ServerPort, dst: testSrv, local: testSrv, src: netip.MustParseAddrPort(src)}
	}
	r := rand.New(rand.NewPCG(3, 4))
	const flood = 500
	for range flood {
		b, err := AppendMessage(nil, plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(randomMAC(r))), 0)
		if err != nil {
			t.Fatal(err)
		}
		s.serveDatagram(t.Context(), sc, b, from("0.0.0.0:68"), nil, newPktinfo())
		s.serveDatagram(t.Context(), sc, b[:100], from("0.0.0.0:68"), nil, newPktinfo()) // truncated: malformed
	}
	if st := s.Stats(); st.Errors != flood || st.Malformed != flood {
		t.Fatalf("Stats %+v: want %d errors (no address) and %d malformed", st, flood, flood)
	}
	count := func(msg string) (n int) {
		for _, m := range append(logs.lines(slog.LevelWarn), logs.lines(slog.LevelDebug)...) {
			if m == msg {
				n++
			}
		}
		return n
	}
	if n := count("dhcp: no address for client"); n == 0 || n > 20 {
		t.Errorf("%d DISCOVERs to a full pool logged %d warnings, want 1 to 20", flood, n)
	}
	if n := count("dhcp: dropped datagram"); n == 0 || n > 20 {
		t.Errorf("%d malformed datagrams logged %d lines, want 1 to 20", flood, n)
	}

	// Another sender (a relay) is not silenced by the flood.
	relayed := plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(mac(77)), dhcpv4.WithGatewayIP(testSrv.AsSlice()))
	b, _ := AppendMessage(nil, relayed, 0)
	before := count("dhcp: no address for client")
	s.serveDatagram(t.Context(), sc, b, from("10.0.0.50:67"), nil, newPktinfo())
	if count("dhcp: no address for client") != before+1 {
		t.Errorf("a relay's DISCOVER during the flood was not logged")
	}

	// The interval ends: the next line brings the summaries.
	clk.add(11 * time.Second)
	s.serveDatagram(t.Context(), sc, b[:100], from("0.0.0.0:68"), nil, newPktinfo())
	summaries := func(msg string) (n []int64) {
		t.Helper()
		for _, rec := range logs.records(msg2level(msg)) {
			if rec.Message == msg+": lines suppressed" {
				a := recordAttrs(rec)
				if a["client"].String() != "0.0.0.0" {
					t.Errorf("summary %q for client %v, want 0.0.0.0", rec.Message, a["client"])
				}
				n = append(n, a["suppressed"].Int64())
			}
		}
		return n
	}
	if got, want := summaries("dhcp: dropped datagram"), flood-(count("dhcp: dropped datagram")-1); len(got) != 1 || got[0] != int64(want) {
		t.Errorf("summaries of dropped datagrams: %v suppressed, want [%d]", got, want)
	}
	if got, want := summaries("dhcp: no address for client"), flood-before; len(got) != 1 || got[0] != int64(want) {
		t.Errorf("summaries of pool warnings: %v suppressed, want [%d]", got, want)
	}

	// A second flood in the new interval is summed up at Close.
	for range 100 {
		b, _ := AppendMessage(nil, plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(randomMAC(r))), 0)
		s.serveDatagram(t.Context(), sc, b, from("0.0.0.0:68"), nil, newPktinfo())
	}
	s.Close()
	if got := summaries("dhcp: no address for client"); len(got) != 2 || got[1] != 80 {
		t.Errorf("summaries of pool warnings after Close: %v suppressed, want [%d 80]", got, flood-before)
	}
	if total := len(logs.rec); total > 4*20+6 {
		var all []string
		for _, r := range logs.rec {
			all = append(all, r.Message)
		}
		t.Errorf("%d log lines for %d datagrams:\n%s", total, 2*flood+102, strings.Join(all, "\n"))
	}
}

func msg2level(msg string) slog.Level {
	if msg == "dhcp: no address for client" {
		return slog.LevelWarn
	}
	return slog.LevelDebug
}

// TestReplyLogBounded floods a small pool with DISCOVERs from random MACs,
// which all get OFFERs (the oldest offer is reused), and checks that the
// reply lines stop at replyLogBurst per interval, with a summary at Close.
func TestReplyLogBounded(t *testing.T) {
	p := &Pool{First: netip.MustParseAddr("10.0.0.100"), Last: netip.MustParseAddr("10.0.0.102")}
	s, clk := newFullServer(t, p)
	logs := &logRecorder{min: slog.LevelInfo}
	s.Logger = slog.New(logs)
	s.limit.Now, s.replyLimit.Now = clk.now, clk.now
	sc := &serverConn{conn: &captureConn{}, localPort: ServerPort}
	in := inbound{port: ServerPort, dst: testSrv, local: testSrv, src: netip.MustParseAddrPort("0.0.0.0:68")}
	r := rand.New(rand.NewPCG(5, 6))
	const flood = replyLogBurst + 100
	for range flood {
		b, _ := AppendMessage(nil, plainRequest(t, dhcpv4.MessageTypeDiscover, dhcpv4.WithHwAddr(randomMAC(r))), 0)
		s.serveDatagram(t.Context(), sc, b, in, nil, newPktinfo())
	}
	if st := s.Stats(); st.Replied != flood {
		t.Fatalf("Stats %+v: want %d replies", st, flood)
	}
	s.Close()
	var replies int
	var suppressed int64 = -1
	for _, rec := range logs.records(slog.LevelInfo) {
		switch rec.Message {
		case "dhcp: reply":
			replies++
		case "dhcp: reply: lines suppressed":
			suppressed = recordAttrs(rec)["suppressed"].Int64()
		}
	}
	if replies != replyLogBurst || suppressed != flood-replyLogBurst {
		t.Errorf("%d replies: %d reply lines and %d suppressed, want %d and %d", flood, replies, suppressed, replyLogBurst, flood-replyLogBurst)
	}
}
