//go:build linux

package tftp

import (
	"net"
	"syscall"
	"time"
)

// spinReader reads a connected socket by polling it without blocking for
// a short while, and only then through the runtime's network poller.
type spinReader struct {
	rc    syscall.RawConn
	fn    func(fd uintptr) bool // r.recv, bound once
	b     []byte
	n     int
	err   error
	until time.Time // zero: do not poll again before sleeping
}

func newSpinReader(c *net.UDPConn) *spinReader {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil
	}
	r := &spinReader{rc: rc}
	r.fn = r.recv
	return r
}

// recv is the RawConn read function: it returns false, to sleep until the
// socket is readable, once the polling time is over.
func (r *spinReader) recv(fd uintptr) bool {
	for {
		n, err := syscall.Read(int(fd), r.b)
		if err == nil {
			r.n, r.err = n, nil
			return true
		}
		if err != syscall.EAGAIN && err != syscall.EINTR {
			r.n, r.err = 0, err
			return true
		}
		if r.until.IsZero() || !time.Now().Before(r.until) {
			r.until = time.Time{}
			return false
		}
	}
}

// read polls for up to d, then waits in the network poller until the
// connection's read deadline.
func (r *spinReader) read(b []byte, d time.Duration) (int, error) {
	r.b = b
	r.until = time.Now().Add(d)
	err := r.rc.Read(r.fn)
	r.b = nil
	if err != nil {
		return 0, err
	}
	return r.n, r.err
}
