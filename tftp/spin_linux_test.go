//go:build linux

package tftp

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/pxekit/pxekit/internal/testenv"
)

func TestSpinReader(t *testing.T) {
	a, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := net.DialUDP("udp4", nil, a.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := a.WriteToUDP([]byte("x"), b.LocalAddr().(*net.UDPAddr)); err != nil {
		t.Fatal(err)
	}
	r := newSpinReader(b)
	if r == nil {
		t.Fatal("no spin reader for a UDP socket")
	}
	buf := make([]byte, 16)

	// A packet already queued is read at once.
	if n, err := r.read(buf, time.Millisecond); err != nil || string(buf[:n]) != "x" {
		t.Fatalf("queued packet: %q, %v", buf[:n], err)
	}
	// A packet that comes after the polling time is read by sleeping.
	go func() {
		time.Sleep(20 * time.Millisecond)
		a.WriteToUDP([]byte("late"), b.LocalAddr().(*net.UDPAddr))
	}()
	b.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := r.read(buf, 100*time.Microsecond); err != nil || string(buf[:n]) != "late" {
		t.Fatalf("late packet: %q, %v", buf[:n], err)
	}
	// The connection's read deadline still ends the wait.
	b.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	start := time.Now()
	if _, err := r.read(buf, 100*time.Microsecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("deadline of 30ms ended the read after %v", d)
	}
	// A polling read takes the packet that arrives while it polls.
	b.SetReadDeadline(time.Now().Add(5 * time.Second))
	go a.WriteToUDP([]byte("soon"), b.LocalAddr().(*net.UDPAddr))
	if n, err := r.read(buf, 10*time.Millisecond); err != nil || string(buf[:n]) != "soon" {
		t.Fatalf("packet while polling: %q, %v", buf[:n], err)
	}
}

// TestBusyPollRealClient downloads a file long enough for the transfer to
// measure polling (see spin.go) with curl, a client in another process,
// and checks that the bytes are right and that polling ran, or did not
// when BusyPoll is negative or in single-port mode.
func TestBusyPollRealClient(t *testing.T) {
	curl := testenv.NeedCommand(t, "curl")[0]
	// Polling is only allowed with fewer transfers than processors.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	dir := t.TempDir()
	// At blksize 512, 4 MiB is 8192 round trips: the first measurement
	// starts after spinFirst and polling runs at least once in each.
	sum := randomFile(t, dir, "kernel", 4<<20, 7)
	for _, tc := range []struct {
		name       string
		busyPoll   time.Duration
		singlePort bool
		wantPolled bool
	}{
		{"default", 0, false, true},
		{"off", -1, false, false},
		{"single-port", 0, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hook := newCountingHook()
			srv := &Server{FS: os.DirFS(dir), Hook: hook, BusyPoll: tc.busyPoll, SinglePort: tc.singlePort}
			host, port := splitHostPort(t, startServer(t, srv))
			out := filepath.Join(t.TempDir(), "out")
			runClient(t, exec.Command(curl, curlArgs(512)(host, port, "kernel", out)...), out)
			if got := fileSHA(t, out); got != sum {
				t.Fatalf("sha256 %s, want %s", got, sum)
			}
			tr := hook.wait(t)
			if tr.Outcome != OutcomeOK {
				t.Fatalf("outcome %v: %v", tr.Outcome, tr.Err)
			}
			if got := tr.Polled > 0; got != tc.wantPolled {
				t.Errorf("%d of %d waits polled; want polling %v", tr.Polled, tr.Sent, tc.wantPolled)
			}
			t.Logf("%d of %d waits polled, %v", tr.Polled, tr.Sent, tr.Duration)
		})
	}
}
