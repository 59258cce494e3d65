package main

// The floods themselves. Each runs as "abuse helper NAME FLAGS" inside the
// flood namespace (started by runHelper), prints "ready" when its load is
// in place and "end" just before it lets go of it, and ends with one line
// of JSON: a summary of what the server answered.

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"golang.org/x/sys/unix"
)

// helperResult is what a flood reports back.
type helperResult struct {
	Summary string `json:"summary"`
	Err     string `json:"err,omitempty"`
}

// helperRun is a flood helper running in the flood namespace.
type helperRun struct {
	cmd        *exec.Cmd
	ready, end chan struct{}
	res        chan helperResult
}

// runHelper starts "self helper name args..." in namespace ns.
func runHelper(ctx context.Context, ns, name string, args ...string) (*helperRun, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	h := &helperRun{
		cmd:   exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, self, "helper", name}, args...)...),
		ready: make(chan struct{}),
		end:   make(chan struct{}),
		res:   make(chan helperResult, 1),
	}
	h.cmd.Stderr = os.Stderr
	out, err := h.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := h.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		var r helperResult
		sc := bufio.NewScanner(out)
		readyClosed, endClosed := false, false
		for sc.Scan() {
			line := sc.Text()
			if line == "ready" && !readyClosed {
				close(h.ready)
				readyClosed = true
				continue
			}
			if line == "end" && !endClosed {
				close(h.end)
				endClosed = true
				continue
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				r.Err = "bad helper output: " + line
			}
		}
		if err := h.cmd.Wait(); err != nil && r.Summary == "" && r.Err == "" {
			r.Err = "helper: " + err.Error()
		}
		if !readyClosed {
			close(h.ready)
		}
		if !endClosed {
			close(h.end)
		}
		h.res <- r
	}()
	return h, nil
}

// helperMain is the entry point of "abuse helper NAME FLAGS".
func helperMain(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "abuse helper: which one?")
		return 2
	}
	raiseNoFile()
	fl := flag.NewFlagSet(args[0], flag.ExitOnError)
	var summary string
	var err error
	switch args[0] {
	case "http-idle":
		n := fl.Int("n", 3000, "connections")
		addrs := fl.Int("addrs", 50, "source addresses")
		hold := fl.Duration("hold", 20*time.Second, "how long the flood lasts")
		path := fl.String("path", "/big.bin", "file asked for")
		_ = fl.Parse(args[1:])
		summary, err = httpIdle(*n, *addrs, *hold, *path)
	case "http-ranges":
		n := fl.Int("n", 1000, "ranges")
		path := fl.String("path", "/big.bin", "file asked for")
		_ = fl.Parse(args[1:])
		summary, err = httpRanges(*n, *path)
	case "tftp-rrq":
		per := fl.Int("per", 16, "RRQs per source address")
		addrs := fl.Int("addrs", floodAddrs, "source addresses")
		hold := fl.Duration("hold", 20*time.Second, "how long the flood lasts")
		file := fl.String("file", "small.txt", "file asked for")
		within := fl.Duration("within", time.Second, "RRQs sent within")
		_ = fl.Parse(args[1:])
		summary, err = tftpRRQ(*addrs, *per, *within, *hold, *file)
	case "tftp-garbage":
		n := fl.Int("n", 20000, "packets")
		dur := fl.Duration("dur", 5*time.Second, "spread over")
		_ = fl.Parse(args[1:])
		summary, err = tftpGarbage(*n, *dur)
	case "dhcp-discover":
		n := fl.Int("n", 300, "DISCOVERs")
		within := fl.Duration("within", 500*time.Millisecond, "sent within")
		ifname := fl.String("if", "", "interface")
		_ = fl.Parse(args[1:])
		summary, err = dhcpDiscover(*n, *within, *ifname)
	default:
		err = fmt.Errorf("unknown helper %q", args[0])
	}
	r := helperResult{Summary: summary}
	if err != nil {
		r.Err = err.Error()
	}
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
	return 0
}

func ready() { fmt.Println("ready") }

// end says that the load is still in place but about to be released, and
// gives the orchestrator 300 ms to sample the server.
func end() {
	fmt.Println("end")
	time.Sleep(300 * time.Millisecond)
}

// raiseNoFile lifts the soft open-file limit to the hard one.
func raiseNoFile() {
	var r syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r) == nil && r.Cur < r.Max {
		r.Cur = r.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
	}
}

// httpIdle opens n connections from addrs source addresses. Two in three
// send one request line and then nothing (the rest of the headers never
// come); the others send a whole GET and then read one byte a minute from
// a 4 KiB receive buffer. It holds them until hold has passed since the
// start and reports how the server dealt with them.
func httpIdle(n, addrs int, hold time.Duration, path string) (string, error) {
	start := time.Now()
	type conn struct {
		c      *net.TCPConn
		slow   bool         // whole request, slow reader
		status atomic.Value // "503", "200", … first status seen
		closed atomic.Int64 // ns after start when the server closed it, 0 while open
	}
	conns := make([]*conn, n)
	var dialErrs atomic.Int64
	var firstDialErr atomic.Value
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range 64 {
		wg.Go(func() {
			for i := range jobs {
				slow := i%3 == 2
				d := net.Dialer{
					LocalAddr: &net.TCPAddr{IP: net.ParseIP(floodAddr(i % addrs))},
					Timeout:   3 * time.Second,
				}
				if slow {
					d.Control = func(_, _ string, rc syscall.RawConn) error {
						return rc.Control(func(fd uintptr) {
							_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
						})
					}
				}
				c, err := d.Dial("tcp4", net.JoinHostPort(serverIP, httpPort))
				if err != nil {
					dialErrs.Add(1)
					firstDialErr.CompareAndSwap(nil, err.Error())
					continue
				}
				tc := c.(*net.TCPConn)
				req := "GET " + path + " HTTP/1.1\r\n"
				if slow {
					req += "Host: " + serverIP + "\r\n\r\n"
				}
				if _, err := tc.Write([]byte(req)); err != nil {
					dialErrs.Add(1)
					tc.Close()
					continue
				}
				conns[i] = &conn{c: tc, slow: slow}
			}
		})
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	dialed := time.Since(start)
	ready()
	// Readers: an idle connection reads until the server answers or closes
	// it; a slow reader reads its status line, then one byte a minute.
	var rwg sync.WaitGroup
	stop := make(chan struct{})
	for _, c := range conns {
		if c == nil {
			continue
		}
		rwg.Go(func() {
			buf := make([]byte, 12)
			if _, err := io.ReadFull(c.c, buf); err == nil {
				c.status.Store(strings.TrimPrefix(string(buf), "HTTP/1.1 "))
			}
			if c.status.Load() == "503" || !c.slow {
				// Read on until the server closes the connection.
				var one [512]byte
				for {
					if _, err := c.c.Read(one[:]); err != nil {
						c.closed.Store(int64(time.Since(start)) + 1)
						return
					}
				}
			}
			t := time.NewTicker(time.Minute)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					var one [1]byte
					if _, err := c.c.Read(one[:]); err != nil {
						c.closed.Store(int64(time.Since(start)) + 1)
						return
					}
				}
			}
		})
	}
	time.Sleep(time.Until(start.Add(hold)))
	end()
	close(stop)
	// A server that closes a slow reader's connection leaves its unsent
	// data queued behind a zero window: its FIN never arrives. A byte sent
	// to such a closed socket brings back a reset, which TCP_INFO shows.
	for _, c := range conns {
		if c != nil && c.slow && c.closed.Load() == 0 {
			_, _ = c.c.Write([]byte("\r\n"))
		}
	}
	time.Sleep(300 * time.Millisecond)
	var opened, busy, accepted, closedIdle, closedSlow, openIdle, openSlow int
	var idleClose []time.Duration
	for _, c := range conns {
		if c == nil {
			continue
		}
		opened++
		st, _ := c.status.Load().(string)
		if st == "503" {
			busy++
			continue
		}
		accepted++
		closed := c.closed.Load() != 0
		if !closed && c.slow {
			closed = !established(c.c)
		}
		switch {
		case closed && c.slow:
			closedSlow++
		case closed:
			closedIdle++
			idleClose = append(idleClose, time.Duration(c.closed.Load()))
		case c.slow:
			openSlow++
		default:
			openIdle++
		}
	}
	for _, c := range conns {
		if c != nil {
			c.c.Close()
		}
	}
	rwg.Wait()
	slices.Sort(idleClose)
	med := "-"
	if len(idleClose) > 0 {
		med = fmt.Sprintf("%.1fs", idleClose[len(idleClose)/2].Seconds())
	}
	s := fmt.Sprintf("%d conns from %d addrs in %.1fs (%d failed): %d got 503, %d accepted; at %s: %d/%d idle closed (median %s), %d/%d slow readers closed (probed)",
		opened, addrs, dialed.Seconds(), dialErrs.Load(), busy, accepted, hold, closedIdle, closedIdle+openIdle, med, closedSlow, closedSlow+openSlow)
	if e, ok := firstDialErr.Load().(string); ok {
		s += "; first dial error: " + e
	}
	return s, nil
}

// established reports whether the kernel still has c in state ESTABLISHED
// (the peer has neither closed nor reset it).
func established(c *net.TCPConn) bool {
	rc, err := c.SyscallConn()
	if err != nil {
		return false
	}
	var ok bool
	_ = rc.Control(func(fd uintptr) {
		info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		ok = err == nil && info.State == unix.BPF_TCP_ESTABLISHED
	})
	return ok
}

// httpRanges asks once for path with n overlapping ranges ("0-", "1-", …)
// and reports what came back.
func httpRanges(n int, path string) (string, error) {
	ready()
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("%d-", i)
	}
	hdr := "bytes=" + strings.Join(parts, ",")
	req, err := http.NewRequest("GET", "http://"+net.JoinHostPort(serverIP, httpPort)+path, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Range", hdr)
	cl := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DisableCompression: true}}
	start := time.Now()
	resp, err := cl.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	nb, err := io.Copy(io.Discard, resp.Body)
	end()
	s := fmt.Sprintf("%d ranges (%d-byte header): %s, %d bytes returned in %.2fs (Content-Type %s)",
		n, len(hdr), resp.Status, nb, time.Since(start).Seconds(), resp.Header.Get("Content-Type"))
	if err != nil {
		s += ", body error: " + err.Error()
	}
	return s, nil
}

// tftpRRQ sends per RRQs from each of addrs source addresses (one socket
// each) for file with option timeout=255, spread over within (sent all at
// once, most would be lost in port 69's receive buffer), never ACKs, keeps
// the sockets open until hold has passed, and reports how many the server
// answered.
func tftpRRQ(addrs, per int, within, hold time.Duration, file string) (string, error) {
	start := time.Now()
	rrq := tftpPacket(1, file, "octet", "timeout", "255")
	var socks []*net.UDPConn
	defer func() {
		for _, s := range socks {
			s.Close()
		}
	}()
	for a := range addrs {
		for range per {
			c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(floodAddr(a))})
			if err != nil {
				return "", err
			}
			socks = append(socks, c)
		}
	}
	dst := &net.UDPAddr{IP: net.ParseIP(serverIP), Port: 69}
	var answered, packets, oack, data, errs atomic.Int64
	var wg sync.WaitGroup
	for i, c := range socks {
		if _, err := c.WriteToUDP(rrq, dst); err != nil {
			return "", err
		}
		time.Sleep(time.Until(start.Add(within * time.Duration(i+1) / time.Duration(len(socks)))))
		wg.Go(func() {
			buf := make([]byte, 1500)
			first := true
			for {
				n, _, err := c.ReadFromUDP(buf)
				if err != nil {
					return
				}
				packets.Add(1)
				if first && n >= 2 {
					first = false
					answered.Add(1)
					switch binary.BigEndian.Uint16(buf) {
					case 6:
						oack.Add(1)
					case 3:
						data.Add(1)
					case 5:
						errs.Add(1)
					}
				}
			}
		})
	}
	sent := time.Since(start)
	time.Sleep(time.Second)
	ready()
	time.Sleep(time.Until(start.Add(hold)))
	end()
	for _, c := range socks {
		c.Close()
	}
	wg.Wait()
	return fmt.Sprintf("%d RRQs (timeout=255) from %d addrs in %.2fs, never ACKed: %d answered (%d OACK, %d DATA, %d ERROR), %d unanswered; %d packets from the server in %s",
		len(socks), addrs, sent.Seconds(), answered.Load(), oack.Load(), data.Load(), errs.Load(), int64(len(socks))-answered.Load(), packets.Load(), hold), nil
}

// tftpPacket builds a request (op 1 RRQ, 2 WRQ) of NUL-terminated strings.
func tftpPacket(op uint16, fields ...string) []byte {
	b := binary.BigEndian.AppendUint16(nil, op)
	for _, f := range fields {
		b = append(b, f...)
		b = append(b, 0)
	}
	return b
}

// tftpGarbage sends n malformed or refused packets to port 69 from every
// flood address in turn, spread over dur, and counts the answers.
func tftpGarbage(n int, dur time.Duration) (string, error) {
	var socks []*net.UDPConn
	defer func() {
		for _, s := range socks {
			s.Close()
		}
	}()
	for a := range floodAddrs {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(floodAddr(a))})
		if err != nil {
			return "", err
		}
		socks = append(socks, c)
	}
	var replies atomic.Int64
	var wg sync.WaitGroup
	for _, c := range socks {
		wg.Go(func() {
			buf := make([]byte, 1500)
			for {
				if _, _, err := c.ReadFromUDP(buf); err != nil {
					return
				}
				replies.Add(1)
			}
		})
	}
	rnd := make([]byte, 64)
	kinds := []func(i int) []byte{
		func(i int) []byte { _, _ = rand.Read(rnd); return rnd[:i%64] },                            // random bytes, 0-63 long
		func(i int) []byte { return []byte{0, 1, 'a', 'b', 'c'} },                                  // RRQ without NULs
		func(i int) []byte { return []byte{0, 9, 'x', 0, 'y', 0} },                                 // unknown opcode
		func(i int) []byte { return tftpPacket(1, fmt.Sprintf("nope-%d", i), "octet") },            // file not found
		func(i int) []byte { return tftpPacket(1, "../../../etc/passwd", "octet") },                // outside the root
		func(i int) []byte { return tftpPacket(2, "upload.bin", "octet") },                         // WRQ on a read-only server
		func(i int) []byte { return tftpPacket(1, "small.txt", "bogus") },                          // bad mode
		func(i int) []byte { return []byte{0, 4, 0, 1} },                                           // ACK to port 69
		func(i int) []byte { return tftpPacket(1, "small.txt", "octet", "blksize", "x", "tsize") }, // bad options
	}
	dst := &net.UDPAddr{IP: net.ParseIP(serverIP), Port: 69}
	ready()
	start := time.Now()
	var sendErrs int
	for i := range n {
		if _, err := socks[i%len(socks)].WriteToUDP(kinds[i%len(kinds)](i), dst); err != nil {
			sendErrs++
		}
		if i%100 == 99 {
			time.Sleep(time.Until(start.Add(dur * time.Duration(i+1) / time.Duration(n))))
		}
	}
	took := time.Since(start)
	time.Sleep(time.Second)
	end()
	for _, c := range socks {
		c.Close()
	}
	wg.Wait()
	return fmt.Sprintf("%d bad packets (%d kinds) from %d addrs in %.1fs (%d send errors): %d replies", n, len(kinds), len(socks), took.Seconds(), sendErrs, replies.Load()), nil
}

// dhcpDiscover broadcasts n DISCOVERs from random MACs on ifname within the
// given time and counts the OFFERs that come back in the next 3 s.
func dhcpDiscover(n int, within time.Duration, ifname string) (string, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = errors.Join(
				syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_BROADCAST, 1),
				syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1),
				syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1<<20),
				unix.SetsockoptString(int(fd), syscall.SOL_SOCKET, syscall.SO_BINDTODEVICE, ifname))
		})
		return errors.Join(err, serr)
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp4", "0.0.0.0:68")
	if err != nil {
		return "", err
	}
	defer pc.Close()
	xids := map[dhcpv4.TransactionID]bool{}
	var mu sync.Mutex
	offers, other := 0, 0
	yi := map[string]bool{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			k, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			m, err := dhcpv4.FromBytes(buf[:k])
			if err != nil || m.OpCode != dhcpv4.OpcodeBootReply {
				continue
			}
			mu.Lock()
			if xids[m.TransactionID] {
				if m.MessageType() == dhcpv4.MessageTypeOffer {
					offers++
					yi[m.YourIPAddr.String()] = true
				} else {
					other++
				}
			}
			mu.Unlock()
		}
	}()
	dst := &net.UDPAddr{IP: net.IPv4bcast, Port: 67}
	start := time.Now()
	for i := range n {
		mac := make(net.HardwareAddr, 6)
		_, _ = rand.Read(mac)
		mac[0] = mac[0]&^1 | 2 // unicast, locally administered
		m, err := dhcpv4.NewDiscovery(mac, dhcpv4.WithBroadcast(true))
		if err != nil {
			return "", err
		}
		mu.Lock()
		xids[m.TransactionID] = true
		mu.Unlock()
		if _, err := pc.WriteTo(m.ToBytes(), dst); err != nil {
			return "", err
		}
		time.Sleep(time.Until(start.Add(within * time.Duration(i+1) / time.Duration(n))))
	}
	took := time.Since(start)
	ready()
	time.Sleep(3 * time.Second)
	end()
	pc.Close()
	<-done
	mu.Lock()
	defer mu.Unlock()
	return fmt.Sprintf("%d DISCOVERs from random MACs in %.2fs: %d OFFERs (%d distinct addresses of the %d-address pool), %d other replies",
		n, took.Seconds(), offers, len(yi), poolSize, other), nil
}
