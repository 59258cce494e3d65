//go:build linux

package tftp

import (
	"net"
	"syscall"
	"time"
)

// spinReader reads a connected socket by polling it without blocking for
// a short while, and only then through the runtime's network poller. It
// can send a packet first, in the same turn of the poller (see exchange).
type spinReader struct {
	rc    syscall.RawConn
	fn    func(fd uintptr) bool // r.recv, bound once
	b     []byte
	n     int
	err   error
	until time.Time // zero: do not poll again before sleeping
	out   []byte    // to send before reading; nil once sent
	werr  error     // why out could not be sent
	// tryFirst reads right after sending out: a packet may be queued
	// whose readiness the runtime no longer knows (see exchange).
	tryFirst bool
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
	if p := r.out; p != nil {
		for {
			_, err := syscall.Write(int(fd), p)
			if err == syscall.EINTR {
				continue
			}
			if err == syscall.EAGAIN {
				// The send buffer is full: the caller sends it the
				// usual way, which waits for room.
				return true
			}
			r.out, r.werr = nil, err
			if err != nil {
				return true
			}
			break
		}
		if r.until.IsZero() && !r.tryFirst {
			// The answer cannot be there yet: wait for it without
			// the read that would find the socket empty.
			return false
		}
	}
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
	n, _, _, err := r.exchange(nil, b, d, true)
	return n, err
}

// exchange sends p (unless it is nil), then reads as read does. Both
// happen in one call of the runtime's RawConn.Read, which clears the
// socket's readiness before its function first runs: so an answer to p,
// which can only come after p left, wakes the wait, and the read that
// the poller would otherwise try first, on a socket that cannot hold the
// answer yet, is saved. A packet that was queued before p left is read
// with the next packet or when the deadline ends the wait; so with
// tryFirst (the caller's last wait did not end with a packet, and an
// answer to what it sent before may have come since) the read is tried
// right after the send, as the poller would.
//
// werr is the error of the send. sent is false when p was not sent and
// nothing was read: the wait ended before it began (a deadline that had
// passed, a closed socket: err says so), or the socket's send buffer was
// full (err is nil); the caller then sends p itself.
func (r *spinReader) exchange(p, b []byte, d time.Duration, tryFirst bool) (n int, sent bool, werr, err error) {
	r.b, r.out, r.werr, r.tryFirst = b, p, nil, tryFirst
	r.n, r.err = 0, nil
	r.until = time.Time{}
	if d > 0 {
		r.until = time.Now().Add(d)
	}
	err = r.rc.Read(r.fn)
	sent = p == nil || r.out == nil
	r.b, r.out = nil, nil
	if werr = r.werr; werr != nil {
		r.werr = nil
		return 0, false, werr, nil
	}
	if !sent || err != nil {
		return 0, sent, nil, err
	}
	return r.n, true, nil, r.err
}
