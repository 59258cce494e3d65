//go:build linux

package tftp

import (
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsgWriter sends a window of datagrams with one sendmmsg(2) on a
// connected socket. Its headers are reused for every window, so sending
// does not allocate (x/net's WriteBatch takes its buffers from a
// sync.Pool, which allocates now and then, and often under -race).
type mmsgWriter struct {
	rc   syscall.RawConn
	hdrs []unix.Mmsghdr
	iovs []unix.Iovec
	cur  []unix.Mmsghdr // not yet sent
	err  error
	fn   func(fd uintptr) bool // w.send, bound once
	gso  gsoState
}

func newBatchWriter(c *net.UDPConn) batchWriter {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil
	}
	w := &mmsgWriter{rc: rc}
	w.fn = w.send
	return w
}

func (w *mmsgWriter) writeBatch(pkts [][]byte) error {
	for !w.gso.off {
		n, seg := gsoRun(pkts)
		if n < 2 {
			break
		}
		total := (n-1)*seg + len(pkts[n-1])
		err := w.sendGSO(pkts[0], total, seg)
		if err == errNoGSO {
			w.gso.off = true
			break
		}
		if err != nil {
			return err
		}
		if pkts = pkts[n:]; len(pkts) == 0 {
			return nil
		}
	}
	if cap(w.hdrs) < len(pkts) {
		w.hdrs = make([]unix.Mmsghdr, len(pkts))
		w.iovs = make([]unix.Iovec, len(pkts))
	}
	hdrs := w.hdrs[:len(pkts)]
	for i, p := range pkts {
		iov := &w.iovs[i]
		iov.Base = unsafe.SliceData(p)
		iov.SetLen(len(p))
		hdrs[i] = unix.Mmsghdr{}
		hdrs[i].Hdr.Iov = iov
		hdrs[i].Hdr.SetIovlen(1)
	}
	w.cur, w.err = hdrs, nil
	for len(w.cur) > 0 && w.err == nil {
		if err := w.rc.Write(w.fn); err != nil {
			return err
		}
	}
	for i := range pkts {
		w.iovs[i].Base = nil // do not keep the window buffer reachable
	}
	return w.err
}

// send is the RawConn callback: false asks the runtime to wait until the
// socket is writable and call again.
func (w *mmsgWriter) send(fd uintptr) bool {
	for {
		n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&w.cur[0])), uintptr(len(w.cur)), 0, 0, 0)
		switch e {
		case 0:
			w.cur = w.cur[n:]
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		default:
			w.err = e
			return true
		}
	}
}
