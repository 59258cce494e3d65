package tftp

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pxekit/pxekit/events"
)

// zeroFile is an fs.File of size bytes of zeros that implements
// io.ReaderAt, so that benchmarks can ask for files of any length without
// holding them in memory.
type zeroFile struct{ size int64 }

func (f zeroFile) Stat() (fs.FileInfo, error) { return zeroInfo(f), nil }
func (f zeroFile) Read([]byte) (int, error)   { return 0, errors.New("use ReadAt") }
func (f zeroFile) Close() error               { return nil }
func (f zeroFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= f.size {
		return 0, errEOF
	}
	n := min(int64(len(p)), f.size-off)
	clear(p[:n])
	if n < int64(len(p)) {
		return int(n), errEOF
	}
	return int(n), nil
}

var errEOF = io.EOF

type zeroInfo zeroFile

func (i zeroInfo) Name() string       { return "zero" }
func (i zeroInfo) Size() int64        { return i.size }
func (i zeroInfo) Mode() fs.FileMode  { return 0o444 }
func (i zeroInfo) ModTime() time.Time { return time.Time{} }
func (i zeroInfo) IsDir() bool        { return false }
func (i zeroInfo) Sys() any           { return nil }

// zeroFiles serves "<n>" as n zero bytes.
var zeroFiles = FileSourceFunc(func(_ context.Context, _ netip.AddrPort, name string) (fs.File, error) {
	n, err := strconv.ParseInt(name, 10, 64)
	if err != nil {
		return nil, fs.ErrNotExist
	}
	return zeroFile{size: n}, nil
})

// benchClient is a lock-step or windowed receiver that does not allocate
// per packet; it discards the data.
type benchClient struct {
	conn   *net.UDPConn
	server netip.AddrPort
	buf    []byte
	ack    [4]byte
}

func newBenchClient(tb testing.TB, addr string) *benchClient {
	tb.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	c.SetReadBuffer(4 << 20)
	return &benchClient{conn: c, server: netip.MustParseAddrPort(addr), buf: make([]byte, 70000)}
}

// get downloads name and returns the number of bytes received. It stops
// at the first timeout (the benchmark then fails): on loopback nothing is
// lost unless a buffer overflows.
func (c *benchClient) get(tb testing.TB, name string, blksize, window int) int64 {
	req := rrq(name, "octet", "blksize", strconv.Itoa(blksize), "windowsize", strconv.Itoa(window))
	if _, err := c.conn.WriteToUDPAddrPort(req, c.server); err != nil {
		tb.Fatal(err)
	}
	var peer netip.AddrPort
	var total int64
	next := uint16(1)
	inWin := 0
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		n, from, err := c.conn.ReadFromUDPAddrPort(c.buf)
		if err != nil {
			tb.Fatalf("after %d bytes: %v", total, err)
		}
		peer = from
		switch binary.BigEndian.Uint16(c.buf) {
		case opOACK:
			// The server may grant a smaller window (RFC 7440 §3).
			if w, ok := oackValue(c.buf[2:n], "windowsize"); ok {
				window = w
			}
			c.sendAck(peer, 0)
			continue
		case opDATA:
		default:
			tb.Fatalf("unexpected packet %x", c.buf[:min(n, 20)])
		}
		blk := binary.BigEndian.Uint16(c.buf[2:])
		if blk != next {
			continue
		}
		next++
		total += int64(n - 4)
		inWin++
		if n-4 < blksize {
			c.sendAck(peer, blk)
			return total
		}
		if inWin == window {
			inWin = 0
			c.sendAck(peer, blk)
		}
	}
}

func (c *benchClient) sendAck(peer netip.AddrPort, blk uint16) {
	c.ack = [4]byte{0, opACK, byte(blk >> 8), byte(blk)}
	c.conn.WriteToUDPAddrPort(c.ack[:], peer)
}

// BenchmarkTransfer measures whole downloads of 4 MiB over loopback, with
// an in-process client; MB/s is the figure of merit.
func BenchmarkTransfer(b *testing.B) {
	const size = 4 << 20
	for _, tc := range []struct {
		name            string
		blksize, window int
		poll            time.Duration
	}{
		{"blksize=512/window=1", 512, 1, 0},
		{"blksize=512/window=1/nopoll", 512, 1, -1},
		{"blksize=1468/window=1", 1468, 1, 0},
		{"blksize=1468/window=1/nopoll", 1468, 1, -1},
		{"blksize=1468/window=16", 1468, 16, 0},
		{"blksize=1468/window=16/nopoll", 1468, 16, -1},
		{"blksize=8192/window=1", 8192, 1, 0},
		{"blksize=8192/window=1/nopoll", 8192, 1, -1},
		{"blksize=8192/window=16", 8192, 16, 0},
		{"blksize=8192/window=16/nopoll", 8192, 16, -1},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var sent, blocks atomic.Int64
			hook := HookFunc(func(t *Transfer) {
				sent.Add(t.Sent)
				blocks.Add(t.Bytes/int64(t.BlockSize) + 1)
			})
			addr := startServer(b, &Server{Files: zeroFiles, Hook: hook, BusyPoll: tc.poll})
			c := newBenchClient(b, addr)
			b.Cleanup(func() {
				if blocks.Load() > 0 {
					b.ReportMetric(float64(sent.Load()-blocks.Load())/float64(b.N), "resent/op")
				}
			})
			b.SetBytes(size)
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				if n := c.get(b, strconv.Itoa(size), tc.blksize, tc.window); n != size {
					b.Fatalf("got %d bytes", n)
				}
			}
			// CPU time of the process (server and client) per download:
			// on a shared machine it varies less with other load than
			// the wall-clock rate does.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkBlock measures the steady state: one op is one data block of a
// single long lock-step transfer, so allocs/op shows allocation per block
// (the per-transfer setup is spread over b.N blocks).
func BenchmarkBlock(b *testing.B) {
	for _, tc := range []struct {
		name            string
		blksize, window int
		events          bool
	}{
		{"blksize=1468/window=1", 1468, 1, false},
		{"blksize=1468/window=16", 1468, 16, false},
		{"blksize=1468/window=1/events", 1468, 1, true},
		{"blksize=1468/window=16/events", 1468, 16, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			srv := &Server{Files: zeroFiles}
			if tc.events { // as minimal-server runs it: a queue in front of the consumer
				q := events.NewQueue(events.HookFunc(func(events.Event) {}), 8192)
				b.Cleanup(q.Close)
				srv.Hook = EventHook(q)
			}
			addr := startServer(b, srv)
			c := newBenchClient(b, addr)
			b.ReportAllocs()
			b.SetBytes(int64(tc.blksize))
			size := int64(b.N)*int64(tc.blksize) + 1
			b.ResetTimer()
			c.get(b, strconv.FormatInt(size, 10), tc.blksize, tc.window)
		})
	}
}

// BenchmarkHeapPerTransfer holds 200 lock-step transfers at blksize 1468
// open (each waits for the ACK of its first block) and reports the heap
// they take, per transfer. Goroutine stacks are reported separately.
func BenchmarkHeapPerTransfer(b *testing.B) {
	const n = 200
	for b.Loop() {
		srv := &Server{Files: zeroFiles, MaxClientTransfers: n}
		addr := startServer(b, srv)
		clients := make([]*benchClient, n)
		for i := range clients {
			clients[i] = newBenchClient(b, addr)
		}
		runtime.GC() // twice: the first moves pooled buffers to the victim cache
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		for _, c := range clients {
			c.conn.WriteToUDPAddrPort(rrq("10000000", "octet", "blksize", "1468"), c.server)
		}
		for _, c := range clients {
			// OACK, ACK 0, then DATA 1, which stays unacknowledged.
			c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, from, err := c.conn.ReadFromUDPAddrPort(c.buf)
			if err != nil {
				b.Fatal(err)
			}
			c.sendAck(from, 0)
			if _, _, err := c.conn.ReadFromUDPAddrPort(c.buf); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(clients)
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/n, "heap-B/transfer")
		b.ReportMetric(float64(int64(after.StackInuse)-int64(before.StackInuse))/n, "stack-B/transfer")
		srv.Close()
		// Close the clients now rather than at the end of the benchmark:
		// thousands of open sockets with 4 MiB receive buffers exhaust
		// the kernel's UDP memory and later iterations time out.
		for _, c := range clients {
			c.conn.Close()
		}
	}
}

// TestNoAllocPerBlock fails if sending blocks allocates: a transfer of
// 20000 blocks must not allocate much more than one of 1000.
func TestNoAllocPerBlock(t *testing.T) {
	addr := startServer(t, &Server{Files: zeroFiles})
	for _, window := range []int{1, 16} {
		c := newBenchClient(t, addr)
		mallocs := func(blocks int) uint64 {
			var a, b runtime.MemStats
			runtime.ReadMemStats(&a)
			c.get(t, strconv.Itoa(blocks*1468+1), 1468, window)
			time.Sleep(20 * time.Millisecond) // let the server goroutine finish
			runtime.ReadMemStats(&b)
			return b.Mallocs - a.Mallocs
		}
		mallocs(100) // warm the pools
		small, large := mallocs(1000), mallocs(20000)
		// MemStats counts the whole process, and the runtime and the race
		// detector allocate a little over time. An allocation per block
		// would add 19,000; allow one per 100 blocks for that background.
		if large > small+(20000-1000)/100 {
			t.Errorf("window %d: %d allocations for 1000 blocks, %d for 20000: the block loop allocates", window, small, large)
		}
		t.Logf("window %d: %d allocations for 1000 blocks, %d for 20000 (client and server)", window, small, large)
	}
}

// cpuTime is the user and system CPU time used by the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// oackValue finds a numeric option in an OACK body without allocating.
func oackValue(b []byte, name string) (int, bool) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return 0, false
		}
		k := b[:i]
		b = b[i+1:]
		j := bytes.IndexByte(b, 0)
		if j < 0 {
			return 0, false
		}
		v := b[:j]
		b = b[j+1:]
		if string(k) == name {
			n := 0
			for _, c := range v {
				if c < '0' || c > '9' {
					return 0, false
				}
				n = n*10 + int(c-'0')
			}
			return n, true
		}
	}
	return 0, false
}
