package ra

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
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

// TestRdisc6 asks the server with rdisc6 (ndisc6), a router discovery
// client nobody here wrote, across a veth pair between two namespaces.
func TestRdisc6(t *testing.T) {
	rdisc6 := testenv.NeedCommand(t, "rdisc6")[0]
	srv, cli := testenv.NewNetNS(t), testenv.NewNetNS(t)
	for _, ns := range []*testenv.NetNS{srv, cli} {
		// Link-local addresses are usable at once, without the 1–2 s of
		// duplicate address detection.
		ns.MustRun(t, "sysctl", "-q", "-w", "net.ipv6.conf.default.accept_dad=0")
	}
	ifS, ifC := testenv.Veth(t, srv, netip.MustParsePrefix("10.98.0.1/24"), cli, netip.MustParsePrefix("10.98.0.2/24"))

	var logs syncBuffer
	s := &Server{Interface: ifS, Other: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	done := make(chan error, 1)
	go func() { done <- srv.Do(s.ListenAndServe) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("ListenAndServe after Close: %v, want ErrServerClosed", err)
		}
	})

	var out string
	deadline := time.Now().Add(10 * time.Second)
	for {
		o, err := cli.Command(t.Context(), rdisc6, "-1", "-w", "500", ifC).CombinedOutput()
		out = string(o)
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	for _, want := range []string{"Stateful address conf.    :           No", "Stateful other conf.      :          Yes", "Router lifetime           :            0"} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("rdisc6 output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(logs.String(), "answered router solicitation") {
		t.Errorf("no log line for the answer:\n%s", logs.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
