//go:build linux

package tftp

import (
	"errors"
	"os"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// threadWait holds what sockLink.threadRead needs: an eventfd that wake
// writes to, and the ppoll(2) arguments, kept here so that no pointer to
// a goroutine stack crosses the system call.
type threadWait struct {
	// mu orders wake, from other goroutines, with close: a wake after
	// close must not write to the number of a closed descriptor, which
	// may already belong to another file.
	mu   sync.Mutex
	efd  int // -1: not available or closed
	fds  [2]unix.PollFd
	ts   unix.Timespec
	buf  []byte
	n    int
	err  error
	done bool // a packet or an error, rather than the deadline or a wake
	dl   time.Time
	fn   func(fd uintptr) bool
}

func (w *threadWait) init() {
	w.efd = -1
	if fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err == nil {
		w.efd = fd
	}
	w.fn = w.run
}

func (w *threadWait) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.efd >= 0 {
		unix.Close(w.efd)
		w.efd = -1
	}
}

func (w *threadWait) wake() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.efd >= 0 {
		v := [8]byte{1}
		unix.Write(w.efd, v[:])
	}
}

// threadRead waits for a packet until deadline in ppoll(2), on this
// goroutine's thread, rather than in the runtime's network poller. done
// is false when the deadline passed or wake was called.
func (l *sockLink) threadRead(b []byte, deadline time.Time) (n int, done bool, err error) {
	w := &l.tw
	w.buf, w.dl, w.n, w.err, w.done = b, deadline, 0, nil, false
	if rerr := l.raw.Read(w.fn); rerr != nil {
		w.buf = nil
		if errors.Is(rerr, os.ErrDeadlineExceeded) {
			// wake also ends the network poller's waits by setting the
			// read deadline to the past, and RawConn.Read honours it.
			l.conn.SetReadDeadline(time.Time{})
			l.deadline = time.Time{}
			return 0, false, nil
		}
		return 0, true, rerr
	}
	w.buf = nil
	return w.n, w.done, w.err
}

func (w *threadWait) run(fd uintptr) bool {
	for {
		m, _, e := unix.Syscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(unsafe.SliceData(w.buf))), uintptr(len(w.buf)))
		switch e {
		case 0:
			w.n, w.done = int(m), true
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
		default:
			w.err, w.done = e, true
			return true
		}
		d := time.Until(w.dl)
		if d <= 0 {
			return true
		}
		w.ts = unix.NsecToTimespec(int64(d))
		w.fds[0] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
		w.fds[1] = unix.PollFd{Fd: int32(w.efd), Events: unix.POLLIN}
		_, _, e = unix.Syscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&w.fds[0])), 2, uintptr(unsafe.Pointer(&w.ts)), 0, 0, 0)
		if e != 0 && e != unix.EINTR {
			w.err, w.done = e, true
			return true
		}
		if w.fds[1].Revents != 0 {
			var v [8]byte
			unix.Read(w.efd, v[:])
			return true
		}
	}
}
