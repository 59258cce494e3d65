package pxeclient

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pxekit/pxekit/tftp"
)

// TestTFTPGetNoAllocPerBlock fails if the emulator's TFTP client
// allocates per block: in a storm of a thousand machines on one host the
// emulator's CPU time counts as much as the server's (bench/storm.sh).
// A transfer of 20,000 lock-step blocks must allocate about as much as
// one of 1,000.
func TestTFTPGetNoAllocPerBlock(t *testing.T) {
	const bs = 1408
	fsys := fstest.MapFS{
		"small": {Data: make([]byte, 1000*bs+1)},
		"large": {Data: make([]byte, 20000*bs+1)},
	}
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &tftp.Server{FS: fsys, NoTransferLog: true}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(conn) }()
	defer func() {
		srv.Close()
		if err := <-done; !errors.Is(err, tftp.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	}()
	server := netip.MustParseAddrPort(conn.LocalAddr().String())
	listen := func(a netip.Addr) (net.PacketConn, error) { return net.ListenPacket("udp4", "127.0.0.1:0") }
	h := TFTPHabits{Blksize: bs, Tsize: true}
	mallocs := func(name string) uint64 {
		var a, b runtime.MemStats
		runtime.ReadMemStats(&a)
		r, err := tftpGet(t.Context(), listen, netip.Addr{}, server, name, h, false, 4*time.Second, 6, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if r.bytes != int64(len(fsys[name].Data)) {
			t.Fatalf("%s: got %d bytes, want %d", name, r.bytes, len(fsys[name].Data))
		}
		time.Sleep(20 * time.Millisecond) // let the server's goroutine end
		runtime.ReadMemStats(&b)
		return b.Mallocs - a.Mallocs
	}
	mallocs("small") // warm the server's pools
	small, large := mallocs("small"), mallocs("large")
	t.Logf("%d allocations for 1,000 blocks, %d for 20,000 (client and server)", small, large)
	// One allocation per 100 blocks is left for the runtime's background.
	if large > small+(20000-1000)/100 {
		t.Errorf("%d allocations for 1,000 blocks, %d for 20,000: the client allocates per block", small, large)
	}
}
