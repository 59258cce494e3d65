package tftp

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	pintftp "github.com/pin/tftp/v3"
)

// logBuffer collects log output from concurrent transfers.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newLogger() (*slog.Logger, *logBuffer) {
	lb := &logBuffer{}
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})), lb
}

func errorCode(t testing.TB, p []byte) int {
	t.Helper()
	code, _, ok := parseError(p)
	if !ok {
		t.Fatalf("got packet %x, want ERROR", p[:min(len(p), 40)])
	}
	return code
}

func mapFS() fstest.MapFS {
	return fstest.MapFS{
		"pxelinux.0":               {Data: randomBytes(5000, 1)},
		"boot/vmlinuz":             {Data: randomBytes(100_000, 2)},
		"pxelinux.cfg/default":     {Data: []byte("DEFAULT linux\n")},
		"Boot/MixedCase.EFI":       {Data: []byte("efi")},
		"dir/file":                 {Data: []byte("x")},
		"pxelinux.cfg/01-aa-bb-cc": {Data: []byte("from FS\n")},
	}
}

func TestOptionsOnlyWhenAsked(t *testing.T) {
	addr := startServer(t, &Server{FS: mapFS(), MaxBlockSize: 1024})
	tests := []struct {
		name string
		opts []string
		want map[string]string // nil: no OACK, DATA 1 comes first
	}{
		{"none", nil, nil},
		{"unknown only", []string{"multicast", "", "foo", "1"}, nil},
		{"blksize", []string{"blksize", "1468"}, map[string]string{"blksize": "1024"}},
		{"tsize", []string{"tsize", "0"}, map[string]string{"tsize": "100000"}},
		{"upper case", []string{"TSIZE", "0", "BlkSize", "512"}, map[string]string{"tsize": "100000", "blksize": "512"}},
		{"timeout", []string{"timeout", "3"}, map[string]string{"timeout": "3"}},
		{"bad timeout ignored", []string{"timeout", "0", "blksize", "800"}, map[string]string{"blksize": "800"}},
		{"timeout at MaxClientTimeout", []string{"timeout", "5"}, map[string]string{"timeout": "5"}},
		{"timeout over MaxClientTimeout left out", []string{"tsize", "0", "timeout", "255", "blksize", "800"}, map[string]string{"tsize": "100000", "blksize": "800"}},
		{"only a too large timeout: no OACK", []string{"timeout", "6"}, nil},
		{"ovmf", []string{"tsize", "0", "blksize", "1468", "windowsize", "4"}, map[string]string{"tsize": "100000", "blksize": "1024", "windowsize": "4"}},
		{"windowsize capped by bytes", []string{"blksize", "1024", "windowsize", "1000"}, map[string]string{"blksize": "1024", "windowsize": "64"}},
		{"rollover", []string{"rollover", "1"}, map[string]string{"rollover": "1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newRawClient(t, addr)
			c.sendRRQ("boot/vmlinuz", "octet", tc.opts...)
			p := c.mustRecv()
			op := binary.BigEndian.Uint16(p)
			if tc.want == nil {
				if op != opDATA || binary.BigEndian.Uint16(p[2:]) != 1 || len(p) != 4+512 {
					t.Fatalf("got %x..., want DATA block 1 of 512 bytes", p[:4])
				}
				c.send(append([]byte{0, opERROR, 0, 0}, "done\x00"...))
				return
			}
			got := options(t, p)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("OACK options %v, want %v", got, tc.want)
			}
			c.send(append([]byte{0, opERROR, 0, 0}, "done\x00"...))
		})
	}
}

// TestOACKOrder checks that options come back in the client's order.
func TestOACKOrder(t *testing.T) {
	addr := startServer(t, &Server{FS: mapFS()})
	c := newRawClient(t, addr)
	c.sendRRQ("pxelinux.0", "octet", "windowsize", "2", "tsize", "0", "blksize", "1468")
	p := c.mustRecv()
	want := "\x00\x06windowsize\x002\x00tsize\x005000\x00blksize\x001468\x00"
	if string(p) != want {
		t.Errorf("OACK %q, want %q", p, want)
	}
}

// TestSizeProbeThenRequest plays a PXE ROM: RRQ with tsize only, error
// after the OACK, then the real RRQ from the same port with blksize. The
// probe must be released at once and logged below error level.
func TestSizeProbeThenRequest(t *testing.T) {
	for _, single := range []bool{false, true} {
		t.Run(fmt.Sprint("single=", single), func(t *testing.T) {
			log, lb := newLogger()
			hook := newCountingHook()
			fsys := mapFS()
			addr := startServer(t, &Server{FS: fsys, Logger: log, Hook: hook, SinglePort: single})
			c := newRawClient(t, addr)
			c.sendRRQ("pxelinux.0", "octet", "tsize", "0")
			if got := options(t, c.mustRecv()); got["tsize"] != "5000" || len(got) != 1 {
				t.Fatalf("probe OACK %v, want only tsize=5000", got)
			}
			// Error code 0 as PXE ROMs send it ("user aborted").
			c.send(append([]byte{0, opERROR, 0, 0}, "aborted\x00"...))
			c.peer = nil // the answer may come from a new port
			c.sendRRQ("pxelinux.0", "octet", "blksize", "1456")
			if got := options(t, c.mustRecv()); got["blksize"] != "1456" || len(got) != 1 {
				t.Fatalf("second OACK %v, want only blksize=1456", got)
			}
			if single && c.peer.Port != c.server.Port {
				t.Errorf("single-port: answer from port %d, want %d", c.peer.Port, c.server.Port)
			}
			c.send(ack(0))
			got := c.fetch(1456)
			if !bytes.Equal(got, fsys["pxelinux.0"].Data) {
				t.Errorf("download differs (%d bytes)", len(got))
			}
			probe := hook.wait(t)
			if probe.Outcome != OutcomeAborted || probe.Duration > time.Second {
				t.Errorf("probe: outcome %v after %v, want aborted within 1s", probe.Outcome, probe.Duration)
			}
			var ce *ClientError
			if !errors.As(probe.Err, &ce) || ce.Message != "aborted" {
				t.Errorf("probe error %v, want ClientError \"aborted\"", probe.Err)
			}
			if tr := hook.wait(t); tr.Outcome != OutcomeOK || tr.Bytes != 5000 || tr.BlockSize != 1456 {
				t.Errorf("transfer: %+v, want ok, 5000 bytes, blksize 1456", tr)
			}
			if s := lb.String(); !strings.Contains(s, "level=DEBUG msg=\"tftp: client aborted after option negotiation") {
				t.Errorf("probe not logged at debug level:\n%s", s)
			}
		})
	}
}

// TestIdenticalRequestAfterAbort is OVMF's pattern: the second request
// repeats the first byte for byte, right after the abort.
func TestIdenticalRequestAfterAbort(t *testing.T) {
	hook := newCountingHook()
	fsys := mapFS()
	addr := startServer(t, &Server{FS: fsys, Hook: hook})
	c := newRawClient(t, addr)
	opts := []string{"tsize", "0", "blksize", "1468", "windowsize", "4"}
	c.sendRRQ("boot/vmlinuz", "octet", opts...)
	options(t, c.mustRecv())
	c.send(append([]byte{0, opERROR, 0, 8}, "size only\x00"...))
	c.peer = nil // the answer may come from a new port
	c.sendRRQ("boot/vmlinuz", "octet", opts...)
	p := c.mustRecv()
	options(t, p)
	c.send(ack(0))
	var got []byte
	next := uint16(1)
	for {
		p := c.mustRecv()
		if binary.BigEndian.Uint16(p) != opDATA {
			t.Fatalf("got %x, want DATA", p[:4])
		}
		b := binary.BigEndian.Uint16(p[2:])
		if b == next {
			got = append(got, p[4:]...)
			next++
		}
		if (b%4 == 0 && b == next-1) || len(p)-4 < 1468 {
			c.send(ack(next - 1))
		}
		if len(p)-4 < 1468 && b == next-1 {
			break
		}
	}
	if !bytes.Equal(got, fsys["boot/vmlinuz"].Data) {
		t.Fatalf("download differs: %d bytes", len(got))
	}
	if a, b := hook.wait(t), hook.wait(t); a.Outcome != OutcomeAborted || b.Outcome != OutcomeOK || b.WindowSize != 4 {
		t.Errorf("outcomes %v, %v (windowsize %d); want aborted, ok (4)", a.Outcome, b.Outcome, b.WindowSize)
	}
}

// TestDuplicateRRQ: a retransmitted request while the first is
// unanswered gets one more OACK, and only one transfer runs.
func TestDuplicateRRQ(t *testing.T) {
	hook := newCountingHook()
	fsys := mapFS()
	addr := startServer(t, &Server{FS: fsys, Hook: hook})
	c := newRawClient(t, addr)
	c.sendRRQ("pxelinux.0", "octet", "blksize", "1024")
	first := c.mustRecv()
	c.sendRRQ("pxelinux.0", "octet", "blksize", "1024")
	second := c.mustRecv()
	if !bytes.Equal(first, second) {
		t.Fatalf("second answer %q, want the OACK again %q", second, first)
	}
	c.send(ack(0))
	if got := c.fetch(1024); !bytes.Equal(got, fsys["pxelinux.0"].Data) {
		t.Errorf("download differs")
	}
	if tr := hook.wait(t); tr.Outcome != OutcomeOK {
		t.Errorf("outcome %v, want ok", tr.Outcome)
	}
	time.Sleep(50 * time.Millisecond)
	hook.mu.Lock()
	n := len(hook.done)
	hook.mu.Unlock()
	if n != 1 {
		t.Errorf("%d transfers reported, want 1", n)
	}
}

// TestSorcerersApprentice: a client that ACKs every block twice must not
// make the server send blocks twice.
func TestSorcerersApprentice(t *testing.T) {
	hook := newCountingHook()
	data := randomBytes(512*400+10, 5)
	addr := startServer(t, &Server{FS: fstest.MapFS{"f": {Data: data}}, Hook: hook})
	c := newRawClient(t, addr)
	c.sendRRQ("f", "octet")
	var got []byte
	received := 0
	next := uint16(1)
	for {
		p := c.mustRecv()
		received++
		b := binary.BigEndian.Uint16(p[2:])
		if b == next {
			got = append(got, p[4:]...)
			next++
		}
		c.send(ack(b))
		c.send(ack(b))
		if len(p)-4 < 512 && b == next-1 {
			break
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatal("download differs")
	}
	blocks := len(data)/512 + 1
	// Answering duplicate ACKs doubles the packets; allow a few timer
	// retransmissions on a loaded machine.
	if received > blocks+blocks/10 {
		t.Errorf("received %d DATA packets for %d blocks: duplicate ACKs were answered", received, blocks)
	}
	if tr := hook.wait(t); tr.Outcome != OutcomeOK || tr.Bytes != int64(len(data)) {
		t.Errorf("hook %+v", tr)
	}
}

func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	randomFile(t, dir, "ok", 10, 1)
	log, lb := newLogger()
	addr := startServer(t, &Server{FS: os.DirFS(dir), Logger: log})
	tests := []struct {
		name, file, mode string
		op               byte
		code             int // -1: served
	}{
		{"dotdot", "../etc/passwd", "octet", opRRQ, errAccessViolation},
		{"dotdot inside", "a/../ok", "octet", opRRQ, errAccessViolation},
		{"backslash dotdot", `..\secret`, "octet", opRRQ, errAccessViolation},
		{"pxelinux absolute", "::ok", "octet", opRRQ, -1},
		{"not found", "nope", "octet", opRRQ, errFileNotFound},
		{"directory", "/", "octet", opRRQ, errAccessViolation},
		{"write", "ok", "octet", opWRQ, errAccessViolation},
		{"mail", "ok", "mail", opRRQ, errIllegalOperation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newRawClient(t, addr)
			b := rrq(tc.file, tc.mode)
			b[1] = tc.op
			if _, err := c.conn.WriteToUDP(b, c.server); err != nil {
				t.Fatal(err)
			}
			p := c.mustRecv()
			if tc.code < 0 {
				if binary.BigEndian.Uint16(p) != opDATA {
					t.Fatalf("got %x, want DATA", p[:4])
				}
				c.send(ack(1))
				return
			}
			if got := errorCode(t, p); got != tc.code {
				t.Errorf("error code %d, want %d", got, tc.code)
			}
		})
	}
	// Every access violation names the client. Lines are written when a
	// transfer ends, just after its error packet: wait for them.
	const want = 4
	n := 0
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if n = strings.Count(lb.String(), `level=WARN msg="tftp: access violation" peer=127.0.0.1:`); n >= want {
			break
		}
	}
	if n != want {
		t.Errorf("%d access-violation log lines naming the client, want %d:\n%s", n, want, lb)
	}
}

func TestFilesPrecedence(t *testing.T) {
	gen := FileSourceFunc(func(ctx context.Context, client netip.AddrPort, name string) (fs.File, error) {
		switch name {
		case "pxelinux.cfg/01-aa-bb-cc", "generated":
			return BytesFile(name, []byte("generated for "+client.Addr().String()+"\n")), nil
		case "forbidden":
			return nil, fs.ErrPermission
		}
		return nil, fs.ErrNotExist
	})
	get := func(t *testing.T, srv *Server, name string) (string, int) {
		addr := startServer(t, srv)
		c := newRawClient(t, addr)
		c.sendRRQ(name, "octet", "tsize", "0")
		p := c.mustRecv()
		if binary.BigEndian.Uint16(p) == opERROR {
			return "", errorCode(t, p)
		}
		opts := options(t, p)
		c.send(ack(0))
		got := string(c.fetch(512))
		if opts["tsize"] != fmt.Sprint(len(got)) {
			t.Errorf("tsize %s for %d bytes", opts["tsize"], len(got))
		}
		return got, -1
	}
	genText := "generated for 127.0.0.1\n"
	tests := []struct {
		name     string
		fsFirst  bool
		file     string
		want     string
		wantCode int
	}{
		{"files first", false, "pxelinux.cfg/01-aa-bb-cc", genText, -1},
		{"fs first", true, "pxelinux.cfg/01-aa-bb-cc", "from FS\n", -1},
		{"declined falls back to FS", false, "pxelinux.cfg/default", "DEFAULT linux\n", -1},
		{"only generated, fs first", true, "generated", genText, -1},
		{"permission", false, "forbidden", "", errAccessViolation},
		{"neither", true, "none", "", errFileNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, code := get(t, &Server{FS: mapFS(), Files: gen, FSFirst: tc.fsFirst}, tc.file)
			if got != tc.want || code != tc.wantCode {
				t.Errorf("got %q (error %d), want %q (error %d)", got, code, tc.want, tc.wantCode)
			}
		})
	}
}

func TestCaseInsensitive(t *testing.T) {
	for _, ci := range []bool{false, true} {
		addr := startServer(t, &Server{FS: mapFS(), CaseInsensitive: ci})
		c := newRawClient(t, addr)
		c.sendRRQ(`\BOOT\mixedcase.efi`, "octet")
		p := c.mustRecv()
		served := binary.BigEndian.Uint16(p) == opDATA && string(p[4:]) == "efi"
		if served != ci {
			t.Errorf("CaseInsensitive=%v: served=%v (%x)", ci, served, p)
		}
		if served {
			c.send(ack(1))
		}
	}
}

func TestPerClientLimit(t *testing.T) {
	hook := newCountingHook()
	addr := startServer(t, &Server{FS: mapFS(), MaxClientTransfers: 1, Hook: hook})
	a := newRawClient(t, addr)
	a.sendRRQ("pxelinux.0", "octet", "tsize", "0")
	options(t, a.mustRecv()) // a holds the only slot of 127.0.0.1
	b := newRawClient(t, addr)
	b.sendRRQ("pxelinux.0", "octet")
	if p := b.recv(300 * time.Millisecond); p != nil {
		t.Fatalf("second transfer of the same client answered (%x), want dropped", p[:4])
	}
	a.send(append([]byte{0, opERROR, 0, 0}, "x\x00"...))
	hook.wait(t)
	// The hook reports the transfer just before its slot is released, so
	// ask again until the slot is free, as a client would.
	var p []byte
	for try := 0; try < 25 && p == nil; try++ {
		b.sendRRQ("pxelinux.0", "octet")
		p = b.recv(200 * time.Millisecond)
	}
	if p == nil {
		t.Fatal("after the slot freed: no answer within 5s, want DATA")
	}
	if binary.BigEndian.Uint16(p) != opDATA {
		t.Fatalf("after the slot freed: %x, want DATA", p[:4])
	}
}

func TestShutdown(t *testing.T) {
	hook := newCountingHook()
	srv := &Server{FS: mapFS(), Hook: hook}
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(conn) }()
	c := newRawClient(t, conn.LocalAddr().String())
	c.sendRRQ("boot/vmlinuz", "octet")
	c.mustRecv() // DATA 1, never acknowledged: the transfer keeps running

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Shutdown took %v", d)
	}
	if err := <-done; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve = %v, want ErrServerClosed", err)
	}
	if tr := hook.wait(t); tr.Outcome != OutcomeCanceled {
		t.Errorf("outcome %v, want canceled", tr.Outcome)
	}
	// The client is told.
	for {
		p := c.recv(time.Second)
		if p == nil {
			t.Fatal("no error packet after shutdown")
		}
		if binary.BigEndian.Uint16(p) == opERROR {
			break
		}
	}
	if err := srv.Serve(conn); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve after Shutdown = %v", err)
	}
	if err := srv.ListenAndServe("127.0.0.1:0"); !errors.Is(err, ErrServerClosed) {
		t.Errorf("ListenAndServe after Shutdown = %v", err)
	}
}

func TestShutdownGraceful(t *testing.T) {
	for _, single := range []bool{false, true} {
		t.Run(fmt.Sprint("single=", single), func(t *testing.T) {
			hook := newCountingHook()
			fsys := mapFS()
			srv := &Server{FS: fsys, Hook: hook, SinglePort: single}
			conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- srv.Serve(conn) }()
			c := newRawClient(t, conn.LocalAddr().String())
			c.sendRRQ("boot/vmlinuz", "octet", "blksize", "1000")
			options(t, c.mustRecv())
			shut := make(chan error, 1)
			go func() { shut <- srv.Shutdown(context.Background()) }()
			time.Sleep(50 * time.Millisecond)
			// A new request is no longer answered ...
			d := newRawClient(t, conn.LocalAddr().String())
			d.sendRRQ("pxelinux.0", "octet")
			if p := d.recv(200 * time.Millisecond); p != nil {
				t.Errorf("request during shutdown answered: %x", p[:4])
			}
			// ... but the running transfer completes.
			c.send(ack(0))
			if got := c.fetch(1000); !bytes.Equal(got, fsys["boot/vmlinuz"].Data) {
				t.Error("download differs")
			}
			if err := <-shut; err != nil {
				t.Errorf("Shutdown = %v", err)
			}
			if err := <-done; !errors.Is(err, ErrServerClosed) {
				t.Errorf("Serve = %v", err)
			}
			if tr := hook.wait(t); tr.Outcome != OutcomeOK {
				t.Errorf("outcome %v", tr.Outcome)
			}
		})
	}
}

func TestTransferTimeouts(t *testing.T) {
	hook := newCountingHook()
	addr := startServer(t, &Server{FS: mapFS(), Hook: hook, Timeout: 2 * time.Second})
	c := newRawClient(t, addr)
	c.sendRRQ("boot/vmlinuz", "octet")
	c.mustRecv()
	tr := hook.wait(t)
	if tr.Outcome != OutcomeTimeout || tr.Duration < 2*time.Second || tr.Duration > 4*time.Second {
		t.Errorf("idle client: outcome %v after %v, want timeout after 2s", tr.Outcome, tr.Duration)
	}
	if tr.Sent < 2 { // at 0 and after the initial 1 s timeout
		t.Errorf("sent %d packets, want retransmissions", tr.Sent)
	}

	addr = startServer(t, &Server{FS: mapFS(), Hook: hook, TransferTimeout: 200 * time.Millisecond})
	c = newRawClient(t, addr)
	c.sendRRQ("boot/vmlinuz", "octet")
	// Keep the transfer alive but slow: acknowledge every 50ms.
	var last uint16
	for range 20 {
		p := c.recv(100 * time.Millisecond)
		if p == nil {
			continue
		}
		if binary.BigEndian.Uint16(p) == opERROR {
			break
		}
		last = binary.BigEndian.Uint16(p[2:])
		time.Sleep(50 * time.Millisecond)
		c.send(ack(last))
	}
	if tr := hook.wait(t); tr.Outcome != OutcomeTimeout || tr.Duration > 2*time.Second {
		t.Errorf("slow client: outcome %v after %v, want timeout near 200ms", tr.Outcome, tr.Duration)
	}
}

// TestRolloverToOne checks the wire numbers around the wrap with blksize 8.
func TestRolloverToOne(t *testing.T) {
	data := randomBytes(65540*8, 6)
	for _, tc := range []struct {
		name  string
		toOne bool
		opts  []string
		after uint16
	}{
		// The default (wrap to 0) is covered by TestRollover with real clients.
		{"server wraps to 1", true, nil, 1},
		{"client asks 0", true, []string{"rollover", "0"}, 0},
		{"client asks 1", false, []string{"rollover", "1"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := &Server{FS: fstest.MapFS{"f": {Data: data}}, RolloverToOne: tc.toOne}
			c := newRawClient(t, startServer(t, srv))
			c.sendRRQ("f", "octet", append([]string{"blksize", "8"}, tc.opts...)...)
			options(t, c.mustRecv())
			c.send(ack(0))
			var got []byte
			prev := uint16(0)
			for i := 1; ; i++ {
				p := c.mustRecv()
				b := binary.BigEndian.Uint16(p[2:])
				if i == 65536 && b != tc.after {
					t.Fatalf("block after 65535 is numbered %d, want %d", b, tc.after)
				}
				if i > 1 && b == prev {
					i-- // retransmission
				} else {
					got = append(got, p[4:]...)
				}
				prev = b
				c.send(ack(b))
				if len(p) < 12 {
					break
				}
			}
			if !bytes.Equal(got, data) {
				t.Errorf("download differs: %d bytes", len(got))
			}
		})
	}
}

func TestSinglePortRealClients(t *testing.T) {
	dir := t.TempDir()
	want := randomFile(t, dir, "f", 700_000, 11)
	host, port := splitHostPort(t, startServer(t, &Server{FS: os.DirFS(dir), SinglePort: true}))
	for _, tc := range []peerCase{
		{"curl", "curl", "f", curlArgs(1468)},
		{"atftp/windowsize8", "atftp", "f", atftpArgs("blksize 1468", "windowsize 8")},
		{"tftp-hpa", "tftp-hpa", "f", tftpHPAArgs("octet")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin := lookClient(t, tc.client)
			out := filepath.Join(t.TempDir(), "out")
			runClient(t, execCommand(bin, tc.args(host, port, tc.file, out)...), out)
			if got := fileSHA(t, out); got != want {
				t.Errorf("sha256 %s, want %s", got, want)
			}
		})
	}
}

// TestIPv6 serves over ::1 (the transfer socket is bound to the address the
// request came to, learned from IPV6_PKTINFO).
func TestIPv6(t *testing.T) {
	conn, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	fsys := mapFS()
	addr := serveOn(t, &Server{FS: fsys}, conn)
	c, err := pintftp.NewClient(addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetBlockSize(1400)
	wt, err := c.Receive("boot/vmlinuz", "octet")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), fsys["boot/vmlinuz"].Data) {
		t.Error("download differs")
	}
}

// TestDualStack serves an IPv4 client from a socket bound to [::], as
// ListenAndServe(":69") does: the destination arrives as a v4-mapped
// address and the transfer socket must still answer from 127.0.0.1.
func TestDualStack(t *testing.T) {
	conn, err := net.ListenPacket("udp", "[::]:0")
	if err != nil {
		t.Skipf("no dual-stack socket: %v", err)
	}
	fsys := mapFS()
	addr := serveOn(t, &Server{FS: fsys}, conn)
	_, port := splitHostPort(t, addr)
	c := newRawClient(t, "127.0.0.1:"+port)
	c.sendRRQ("pxelinux.0", "octet", "blksize", "1024")
	options(t, c.mustRecv())
	if !c.peer.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("answer from %v, want 127.0.0.1", c.peer)
	}
	c.send(ack(0))
	if got := c.fetch(1024); !bytes.Equal(got, fsys["pxelinux.0"].Data) {
		t.Error("download differs")
	}
}

// TestMaxClientTimeout checks which timeout options the OACK takes for
// several MaxClientTimeout settings.
func TestMaxClientTimeout(t *testing.T) {
	tests := []struct {
		max     time.Duration
		timeout string
		want    bool // acknowledged
	}{
		{0, "1", true},
		{0, "5", true},
		{0, "6", false},
		{0, "255", false},
		{10 * time.Second, "10", true},
		{10 * time.Second, "11", false},
		{1500 * time.Millisecond, "2", false},
		{-1, "1", false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("max=%v/timeout=%s", tc.max, tc.timeout), func(t *testing.T) {
			addr := startServer(t, &Server{FS: mapFS(), MaxClientTimeout: tc.max})
			c := newRawClient(t, addr)
			c.sendRRQ("pxelinux.0", "octet", "tsize", "0", "timeout", tc.timeout)
			got, ok := options(t, c.mustRecv())["timeout"]
			c.send(append([]byte{0, opERROR, 0, 0}, "done\x00"...))
			if ok != tc.want || ok && got != tc.timeout {
				t.Errorf("OACK timeout %q (present %v), want present %v", got, ok, tc.want)
			}
		})
	}
}

// TestClientTimeoutHoldsNoSlot: a client that asks for timeout=255 and
// then never acknowledges loses the server's only transfer slot within
// the server's default give-up time (12 s), not 4 × 255 s.
func TestClientTimeoutHoldsNoSlot(t *testing.T) {
	t.Parallel()
	hook := newCountingHook()
	addr := startServer(t, &Server{FS: mapFS(), Hook: hook, MaxTransfers: 1})
	a := newRawClient(t, addr)
	a.sendRRQ("pxelinux.0", "octet", "tsize", "0", "timeout", "255")
	if _, ok := options(t, a.mustRecv())["timeout"]; ok {
		t.Error("OACK acknowledges timeout=255")
	}
	want := max(DefaultTimeout, 2*maxBackoff, 2*DefaultMaxClientTimeout)
	select {
	case tr := <-hook.c:
		if tr.Outcome != OutcomeTimeout || tr.Duration < want || tr.Duration > want+2*time.Second {
			t.Errorf("silent client: outcome %v after %v, want timeout after %v", tr.Outcome, tr.Duration, want)
		}
	case <-time.After(want + 3*time.Second):
		t.Fatalf("silent client with timeout=255 still holds its slot after %v", want+3*time.Second)
	}
	// The slot is free: another client is served.
	b := newRawClient(t, addr)
	var p []byte
	for try := 0; try < 25 && p == nil; try++ {
		b.sendRRQ("pxelinux.0", "octet")
		p = b.recv(200 * time.Millisecond)
	}
	if p == nil || binary.BigEndian.Uint16(p) != opDATA {
		t.Fatalf("after the slot freed: %x, want DATA", p)
	}
}

// TestSmallClientTimeout: a timeout within the limit is acknowledged and
// the transfer runs to its end; a lost ACK is answered by a retransmission
// within the client's timeout.
func TestSmallClientTimeout(t *testing.T) {
	hook := newCountingHook()
	addr := startServer(t, &Server{FS: mapFS(), Hook: hook})
	c := newRawClient(t, addr)
	c.sendRRQ("pxelinux.0", "octet", "timeout", "1")
	if got := options(t, c.mustRecv())["timeout"]; got != "1" {
		t.Fatalf("OACK timeout %q, want 1", got)
	}
	// Do not acknowledge the OACK: it comes again within 1 s (+ slack).
	start := time.Now()
	p := c.recv(2 * time.Second)
	if p == nil || binary.BigEndian.Uint16(p) != opOACK {
		t.Fatalf("no OACK retransmission within 2s (got %x)", p)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("OACK retransmitted after %v, want within the client's 1s", d)
	}
	c.send(ack(0))
	data := c.fetch(512)
	if want := mapFS()["pxelinux.0"].Data; !bytes.Equal(data, want) {
		t.Fatalf("got %d bytes, want the %d of pxelinux.0", len(data), len(want))
	}
	if tr := hook.wait(t); tr.Outcome != OutcomeOK {
		t.Errorf("outcome %v, want ok", tr.Outcome)
	}
}
