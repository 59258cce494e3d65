//go:build linux

package tftp

import (
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// The lock-step engine (Linux): a few loops, each an epoll(7) set over
// transfer sockets, that run the steady state of lock-step transfers
// without their goroutines.
//
// In a boot storm most blocks are lock-step (pxelinux, syslinux.efi and
// GRUB load kernels and initrds with no window), and each one is a round
// trip: an ACK in, the next block out. With a goroutine per transfer
// waiting in the runtime's network poller, every ACK wakes a goroutine,
// and the wake-up and park cost about as much as the two system calls
// that do the work. A loop that takes the ready sockets from one
// epoll_wait(2) and answers each in turn pays only the read and the
// write per block (measured here with 256 lock-step transfers: about a
// quarter less server CPU per block). The transfer's goroutine keeps
// everything else: negotiation, the first block, retransmission,
// errors, requests repeated by the client, and the end.
//
// The sockets are made with socket(2), not the net package, so that the
// runtime's poller never watches them: it would be woken by every ACK
// too. When its goroutine waits for a packet itself (slow mode), the
// socket is armed in its loop's epoll set with EPOLLONESHOT and the loop
// wakes the goroutine through a channel. While the loop runs the
// transfer (fast mode), the socket is armed level-triggered and the loop
// handles each packet with the transfer's stepper; it hands the transfer
// back for anything but the expected ACK, and when its deadline passes or
// a flag is set (checked every engineTick).

// engineTick is how often a loop that runs transfers checks their
// deadlines and flags: the retransmission timer never fires before its
// time, and at most this much after it.
const engineTick = 2 * time.Millisecond

type engineLoop struct {
	epfd, evfd int
	mu         sync.Mutex
	links      map[int32]*engLink
	fast       map[*engLink]struct{}
	sleeping   atomic.Bool // in epoll_wait with no timeout
}

var (
	engineOnce  sync.Once
	engineLoops []*engineLoop
	engineNext  atomic.Uint32
)

// engineLoopFor returns the loop a new transfer socket joins, starting
// the loops on first use; nil if the kernel refuses epoll.
func engineLoopFor() *engineLoop {
	engineOnce.Do(func() {
		// More loops than processors: with 1,000 lock-step transfers
		// on 2 CPUs (bench/storm.sh), 16 loops took 8% less server CPU
		// than 2 (25.3-26.1 s against 26.8-28.1 s; 32 and 64 no less
		// than 16). An idle loop costs a parked goroutine.
		n := min(8*max(runtime.GOMAXPROCS(0), 1), 16)
		for range n {
			l, err := newEngineLoop()
			if err != nil {
				engineLoops = nil
				return
			}
			engineLoops = append(engineLoops, l)
		}
		for _, l := range engineLoops {
			go l.run()
		}
	})
	if len(engineLoops) == 0 {
		return nil
	}
	return engineLoops[engineNext.Add(1)%uint32(len(engineLoops))]
}

func newEngineLoop() (*engineLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	// Non-blocking, so that the runtime's poller takes it (see run).
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		return nil, err
	}
	evfd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(evfd)}); err != nil {
		unix.Close(epfd)
		unix.Close(evfd)
		return nil, err
	}
	return &engineLoop{epfd: epfd, evfd: evfd, links: map[int32]*engLink{}, fast: map[*engLink]struct{}{}}, nil
}

// run is the loop: it never ends (the loops are shared by every Server
// of the process and hold nothing while no transfer runs). It waits in
// the runtime's network poller, on the epoll descriptor itself, which
// is readable while any socket of the set is: so the loop costs one
// goroutine wake-up per batch of ready sockets, and it never blocks a
// thread in epoll_wait(2) (a blocking system call makes the runtime hand
// the thread's processor to another thread, which here cost more than
// the wake-ups saved).
func (e *engineLoop) run() {
	f := os.NewFile(uintptr(e.epfd), "tftp-engine")
	rc, err := f.SyscallConn()
	if err != nil {
		e.runBlocking()
		return
	}
	p := &enginePoll{e: e, events: make([]unix.EpollEvent, 256), lastScan: time.Now()}
	fn := p.poll
	for {
		e.mu.Lock()
		p.busy = len(e.fast) > 0
		e.sleeping.Store(!p.busy)
		e.mu.Unlock()
		var dl time.Time
		if p.busy {
			dl = time.Now().Add(engineTick)
		}
		f.SetReadDeadline(dl)
		if err := rc.Read(fn); err != nil {
			// The deadline: time to look at the transfers' own.
			now := time.Now()
			p.lastScan = now
			e.scan(now)
		}
	}
}

// enginePoll is the state of a loop's turns (RawConn.Read's function).
type enginePoll struct {
	e        *engineLoop
	events   []unix.EpollEvent
	busy     bool // the loop ran transfers when it began to wait
	lastScan time.Time
}

// poll handles ready sockets until none is left; it returns false to
// wait for more, true when the loop must set another deadline (it began
// or ended running transfers).
func (p *enginePoll) poll(uintptr) bool {
	e := p.e
	for {
		n, err := unix.EpollWait(e.epfd, p.events, 0)
		if err != nil {
			n = 0 // EINTR
		}
		e.sleeping.Store(false)
		if n == 0 {
			e.mu.Lock()
			busy := len(e.fast) > 0
			e.sleeping.Store(!busy)
			e.mu.Unlock()
			return busy != p.busy
		}
		now := time.Now()
		e.handle(p.events[:n], now)
		if now.Sub(p.lastScan) >= engineTick {
			p.lastScan = now
			e.scan(now)
		}
	}
}

// runBlocking is run for a kernel or runtime that cannot poll an epoll
// descriptor: the loop blocks its thread in epoll_wait(2).
func (e *engineLoop) runBlocking() {
	events := make([]unix.EpollEvent, 256)
	lastScan := time.Now()
	for {
		e.mu.Lock()
		busy := len(e.fast) > 0
		e.sleeping.Store(!busy)
		e.mu.Unlock()
		timeout := -1
		if busy {
			timeout = int(engineTick / time.Millisecond)
		}
		n, err := unix.EpollWait(e.epfd, events, timeout)
		e.sleeping.Store(false)
		if err != nil {
			n = 0 // EINTR
		}
		now := time.Now()
		e.handle(events[:n], now)
		if busy && now.Sub(lastScan) >= engineTick {
			lastScan = now
			e.scan(now)
		}
	}
}

// handle serves the sockets of one epoll_wait.
func (e *engineLoop) handle(events []unix.EpollEvent, now time.Time) {
	for _, ev := range events {
		if int(ev.Fd) == e.evfd {
			var tick [8]byte
			unix.Read(e.evfd, tick[:])
			continue
		}
		e.mu.Lock()
		l := e.links[ev.Fd]
		var st stepper
		if l != nil {
			st = l.st
		}
		e.mu.Unlock()
		switch {
		case l == nil:
		case st != nil:
			l.serve(st, now)
		default:
			l.notify()
		}
	}
}

// scan hands back the transfers whose deadline passed or that were
// kicked.
func (e *engineLoop) scan(now time.Time) {
	e.mu.Lock()
	var due []*engLink
	for l := range e.fast {
		if l.st.stepFlags() != 0 || !now.Before(l.st.stepDeadline()) {
			due = append(due, l)
		}
	}
	e.mu.Unlock()
	for _, l := range due {
		l.handBack(engineResult{n: -1})
	}
}

// engineResult is how fast mode ended: n >= 0 is a packet in the
// stepper's buffer, n < 0 with err nil a deadline or a flag; unsent is
// a block the loop could not send (the socket's buffer was full).
type engineResult struct {
	n      int
	err    error
	unsent []byte
}

// engLink is a transfer socket run by an engine loop (see the top of
// this file). It implements link, and stream for the steady state of a
// lock-step transfer.
type engLink struct {
	fd    int
	e     *engineLoop
	ready chan struct{} // slow mode: the socket became readable
	wakeC chan struct{} // wake: a kick
	back  chan engineResult
	timer *time.Timer
	// st is set while the loop runs the transfer (guarded by e.mu).
	st      stepper
	spinFor time.Duration
	batch   *mmsgWriter
}

// engineLink returns an engLink as a link, nil when there is none.
func engineLink(local netip.Addr, peer netip.AddrPort, dev string) link {
	if l := newEngLink(local, peer, dev); l != nil {
		return l
	}
	return nil
}

// newEngLink opens an IPv4 transfer socket bound to local (when it can
// be) and to the interface dev (when not empty), connected to peer, in
// an engine loop; nil when that is not possible here, and the caller
// opens a socket of the net package instead.
func newEngLink(local netip.Addr, peer netip.AddrPort, dev string) *engLink {
	pa := peer.Addr().Unmap()
	if !pa.Is4() {
		return nil
	}
	e := engineLoopFor()
	if e == nil {
		return nil
	}
	open := func(bind bool) (int, error) {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return -1, err
		}
		if dev != "" {
			if err := unix.BindToDevice(fd, dev); err != nil {
				unix.Close(fd)
				return -1, err
			}
		}
		if bind {
			if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: local.Unmap().As4()}); err != nil {
				unix.Close(fd)
				return -1, err
			}
		}
		if err := unix.Connect(fd, &unix.SockaddrInet4{Addr: pa.As4(), Port: int(peer.Port())}); err != nil {
			unix.Close(fd)
			return -1, err
		}
		return fd, nil
	}
	la := local.Unmap()
	fd := -1
	if la.Is4() && !la.IsMulticast() && !la.IsUnspecified() && la != netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		fd, _ = open(true)
		// A subnet broadcast address cannot be bound; let the kernel
		// choose.
	}
	if fd < 0 {
		var err error
		if fd, err = open(false); err != nil {
			return nil
		}
	}
	t := time.NewTimer(time.Hour)
	t.Stop()
	l := &engLink{fd: fd, e: e, ready: make(chan struct{}, 1), wakeC: make(chan struct{}, 1), back: make(chan engineResult, 1), timer: t}
	l.batch = &mmsgWriter{rc: fdConn{l}}
	l.batch.fn = l.batch.send
	e.mu.Lock()
	e.links[int32(fd)] = l
	e.mu.Unlock()
	// Registered disarmed: armed for each wait (EPOLLONESHOT also keeps
	// an error on the socket from being reported again and again).
	if err := unix.EpollCtl(e.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLONESHOT, Fd: int32(fd)}); err != nil {
		l.close()
		return nil
	}
	return l
}

// arm makes the loop report the socket readable once (slow mode) or
// every time (fast mode).
func (l *engLink) arm(fast bool) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLONESHOT, Fd: int32(l.fd)}
	if fast {
		ev.Events = unix.EPOLLIN
	}
	return unix.EpollCtl(l.e.epfd, unix.EPOLL_CTL_MOD, l.fd, &ev)
}

func (l *engLink) notify() {
	select {
	case l.ready <- struct{}{}:
	default:
	}
}

// serve runs fast mode on a readable socket, on the loop's goroutine.
func (l *engLink) serve(st stepper, now time.Time) {
	b := st.stepBuf()
	n, err := unix.Read(l.fd, b)
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return
	case err != nil:
		l.handBack(engineResult{err: err})
		return
	}
	next, back := st.step(b[:n], now)
	if back {
		l.handBack(engineResult{n: n})
		return
	}
	if next == nil {
		return
	}
	if _, err := unix.Write(l.fd, next); err != nil {
		if err == unix.EAGAIN || err == unix.EINTR {
			l.handBack(engineResult{n: -1, unsent: next})
			return
		}
		l.handBack(engineResult{err: err})
	}
}

// handBack ends fast mode and wakes the transfer's goroutine with r; it
// is called on the loop's goroutine.
func (l *engLink) handBack(r engineResult) {
	e := l.e
	e.mu.Lock()
	if l.st == nil {
		e.mu.Unlock()
		return
	}
	l.st = nil
	delete(e.fast, l)
	e.mu.Unlock()
	unix.EpollCtl(e.epfd, unix.EPOLL_CTL_MOD, l.fd, &unix.EpollEvent{Events: unix.EPOLLONESHOT, Fd: int32(l.fd)})
	l.back <- r
}

// stream sends p, then lets the loop run the transfer with st until it
// hands it back: the return values are those of exchange for the last
// block sent (n counts bytes in st's buffer).
func (l *engLink) stream(p []byte, st stepper) (n int, werr, err error) {
	for {
		if werr := l.write(p); werr != nil {
			return 0, werr, nil
		}
		e := l.e
		e.mu.Lock()
		l.st = st
		e.fast[l] = struct{}{}
		e.mu.Unlock()
		if e.sleeping.Load() {
			var one [8]byte
			one[0] = 1
			unix.Write(e.evfd, one[:])
		}
		if err := l.arm(true); err != nil {
			e.mu.Lock()
			l.st = nil
			delete(e.fast, l)
			e.mu.Unlock()
			return 0, nil, err
		}
		r := <-l.back
		switch {
		case r.unsent != nil:
			p = r.unsent
			continue
		case r.err != nil:
			return 0, nil, r.err
		case r.n < 0:
			return 0, nil, errWait
		}
		return r.n, nil, nil
	}
}

func (l *engLink) write(b []byte) error {
	for {
		_, err := unix.Write(l.fd, b)
		switch err {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			if err := l.waitWritable(); err != nil {
				return err
			}
			continue
		}
		return err
	}
}

// waitWritable waits for room in the socket's send buffer. UDP sockets
// are short of it only for a moment; the wait is a blocking poll(2) of
// at most 10 ms at a time on the goroutine's thread.
func (l *engLink) waitWritable() error {
	fds := []unix.PollFd{{Fd: int32(l.fd), Events: unix.POLLOUT}}
	_, err := unix.Poll(fds, 10)
	if err == unix.EINTR {
		return nil
	}
	return err
}

func (l *engLink) writeBatch(pkts [][]byte) error {
	if len(pkts) == 1 {
		return l.write(pkts[0])
	}
	return l.batch.writeBatch(pkts)
}

func (l *engLink) read(b []byte, deadline time.Time, flags *atomic.Uint32) (int, error) {
	var until time.Time
	if l.spinFor > 0 {
		until = time.Now().Add(l.spinFor)
	}
	for {
		if flags.Load() != 0 {
			return 0, errWait
		}
		n, err := unix.Read(l.fd, b)
		switch err {
		case nil:
			return n, nil
		case unix.EAGAIN, unix.EINTR:
		default:
			return 0, err
		}
		now := time.Now()
		if now.Before(until) {
			continue // polling (setSpin)
		}
		d := deadline.Sub(now)
		if d <= 0 {
			return 0, errWait
		}
		select {
		case <-l.ready: // a token left from an earlier wait
		default:
		}
		if err := l.arm(false); err != nil {
			return 0, err
		}
		// The socket may have become readable before it was armed:
		// arming reports that at once, so the wait below is not missed.
		l.timer.Reset(d)
		select {
		case <-l.ready:
			l.timer.Stop()
		case <-l.timer.C:
			return 0, errWait
		case <-l.wakeC:
			l.timer.Stop()
			return 0, errWait
		}
	}
}

func (l *engLink) exchange(p, b []byte, deadline time.Time, flags *atomic.Uint32) (int, error, error) {
	return writeRead(l, p, b, deadline, flags)
}

func (l *engLink) wake() {
	select {
	case l.wakeC <- struct{}{}:
	default:
	}
}

func (l *engLink) forget() {}

func (l *engLink) setSpin(d time.Duration) bool {
	l.spinFor = d
	return true
}

func (l *engLink) close() error {
	e := l.e
	e.mu.Lock()
	delete(e.links, int32(l.fd))
	delete(e.fast, l)
	l.st = nil
	e.mu.Unlock()
	unix.EpollCtl(e.epfd, unix.EPOLL_CTL_DEL, l.fd, nil)
	return unix.Close(l.fd)
}

// fdConn gives the mmsgWriter an engLink's socket in the shape of a
// syscall.RawConn.
type fdConn struct{ l *engLink }

func (c fdConn) Control(f func(fd uintptr)) error { f(uintptr(c.l.fd)); return nil }

func (c fdConn) Read(f func(fd uintptr) bool) error {
	for !f(uintptr(c.l.fd)) {
	}
	return nil
}

func (c fdConn) Write(f func(fd uintptr) bool) error {
	for !f(uintptr(c.l.fd)) {
		if err := c.l.waitWritable(); err != nil {
			return err
		}
	}
	return nil
}
