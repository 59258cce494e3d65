package tftp

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// stormClientEnv, when set in the environment of this test binary, makes
// TestStormClientProcess the client side of BenchmarkStormBlock:
// "ADDR SESSIONS BLOCKS BLKSIZE".
const stormClientEnv = "PXEKIT_TFTP_STORM_CLIENT"

// BenchmarkStormBlock measures the server's CPU time per data block while
// many lock-step transfers run at once, as in a boot storm where every
// machine loads its kernel with blksize 1408 and no window. The clients
// run in a child process (this test binary again), so the process's CPU
// time is the server's alone; one op is one data block. Each case runs
// the server as it is (lock-step transfers in the engine, engine_linux.go),
// as "noengine" with each transfer's goroutine waiting for every ACK, and
// as "tryfirst" with, in addition, the read that used to precede every
// wait for an ACK, so that one run shows all three.
func BenchmarkStormBlock(b *testing.B) {
	const blksize = 1408
	for _, sessions := range []int{16, 256} {
		for _, variant := range []string{"", "noengine", "tryfirst"} {
			name := fmt.Sprintf("sessions=%d", sessions)
			if variant != "" {
				name += "/" + variant
			}
			b.Run(name, func(b *testing.B) {
				srv := &Server{Files: zeroFiles, MaxClientTransfers: sessions, MaxTransfers: sessions, NoTransferLog: true}
				srv.readFirst = variant == "tryfirst"
				srv.noEngine = variant != ""
				addr := startServer(b, srv)
				blocks := max(b.N/sessions, 1)
				exe, err := os.Executable()
				if err != nil {
					b.Fatal(err)
				}
				cmd := exec.Command(exe, "-test.run=^TestStormClientProcess$", "-test.count=1")
				cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d %d %d", stormClientEnv, addr, sessions, blocks, blksize))
				var out strings.Builder
				cmd.Stdout, cmd.Stderr = &out, &out
				b.ResetTimer()
				io0 := procIO()
				cpu0 := cpuTime()
				start := time.Now()
				if err := cmd.Run(); err != nil {
					b.Fatalf("client process: %v\n%s", err, out.String())
				}
				wall := time.Since(start)
				cpu := cpuTime() - cpu0
				io1 := procIO()
				b.StopTimer()
				total := float64(blocks * sessions)
				if io0.ok && io1.ok {
					b.ReportMetric(float64(io1.syscr-io0.syscr)/total, "reads/block")
				}
				b.ReportMetric(float64(cpu.Nanoseconds())/total, "server-cpu-ns/block")
				b.ReportMetric(total/wall.Seconds(), "blocks/s")
			})
		}
	}
}

// TestStormClientProcess is the client process of BenchmarkStormBlock;
// without its environment variable it does nothing.
func TestStormClientProcess(t *testing.T) {
	v := os.Getenv(stormClientEnv)
	if v == "" {
		t.Skip("only run by BenchmarkStormBlock")
	}
	f := strings.Fields(v)
	if len(f) != 4 {
		t.Fatalf("%s=%q", stormClientEnv, v)
	}
	server := netip.MustParseAddrPort(f[0])
	sessions, _ := strconv.Atoi(f[1])
	blocks, _ := strconv.Atoi(f[2])
	blksize, _ := strconv.Atoi(f[3])
	size := strconv.Itoa(blocks*blksize - 1) // the last block is short
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	for range sessions {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		wg.Go(func() {
			if err := stormGet(c, server, size, blksize); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// stormGet downloads name in lock step, without allocating per packet.
func stormGet(c *net.UDPConn, server netip.AddrPort, name string, blksize int) error {
	if _, err := c.WriteToUDPAddrPort(rrq(name, "octet", "blksize", strconv.Itoa(blksize)), server); err != nil {
		return err
	}
	buf := make([]byte, blksize+4)
	var ack [4]byte
	ack[1] = opACK
	next := uint16(1)
	for {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, peer, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return fmt.Errorf("block %d: %w", next, err)
		}
		if n < 4 {
			continue
		}
		switch binary.BigEndian.Uint16(buf) {
		case opOACK:
			ack[2], ack[3] = 0, 0
			c.WriteToUDPAddrPort(ack[:], peer)
			continue
		case opDATA:
		default:
			return fmt.Errorf("unexpected packet %x", buf[:min(n, 20)])
		}
		if blk := binary.BigEndian.Uint16(buf[2:]); blk != next {
			continue
		}
		binary.BigEndian.PutUint16(ack[2:], next)
		c.WriteToUDPAddrPort(ack[:], peer)
		if n-4 < blksize {
			return nil
		}
		next++
	}
}

// ioCounts are the read and write system calls the process made so far
// (syscr, syscw of /proc/self/io; Linux only, ok false elsewhere). read(2)
// and write(2) count, recvfrom(2) and sendto(2) do not.
type ioCounts struct {
	syscr, syscw int64
	ok           bool
}

func procIO() ioCounts {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return ioCounts{}
	}
	var c ioCounts
	for _, l := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(l, ": ")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "syscr":
			c.syscr, c.ok = n, true
		case "syscw":
			c.syscw = n
		}
	}
	return c
}

// TestLockStepOneReadPerBlock fails if a lock-step transfer makes more
// than about one read(2) per block: sending a block and waiting for its
// ACK is one exchange (link.go), without a read that finds the socket
// empty before every wait. The client's recvfrom(2) calls do not count.
func TestLockStepOneReadPerBlock(t *testing.T) {
	if !procIO().ok {
		t.Skip("no /proc/self/io")
	}
	const blocks = 4000
	addr := startServer(t, &Server{Files: zeroFiles, BusyPoll: -1, NoTransferLog: true})
	c := newBenchClient(t, addr)
	c.get(t, "1000", 1468, 1) // warm up
	before := procIO()
	if n := c.get(t, strconv.Itoa(blocks*1468-1), 1468, 1); n != blocks*1468-1 {
		t.Fatalf("got %d bytes", n)
	}
	reads := procIO().syscr - before.syscr
	t.Logf("%d read(2) calls for %d blocks", reads, blocks)
	if reads > blocks*5/4 {
		t.Errorf("%d read(2) calls for %d lock-step blocks, want about one per block", reads, blocks)
	}
}
