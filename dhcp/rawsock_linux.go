//go:build linux && !386

package dhcp

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// rawSock makes the datagram path's system calls, recvmsg and sendmsg on
// the non-blocking socket, with syscall.RawSyscall inside the socket's
// RawConn, which waits for readiness in the runtime's poller as
// net.UDPConn does. A call that cannot block needs none of the runtime's
// bookkeeping for blocking ones (entersyscall), and that bookkeeping
// wakes the runtime's monitor thread (sysmon) from its sleep at every
// call after an idle moment, which then polls every 20 µs until the
// process is idle again: at a few hundred DHCP exchanges a second, a
// fifth of the server's CPU.
type rawSock struct {
	rc syscall.RawConn
}

// newRawSock returns the rawSock of uc, nil when it has none or is not
// an IPv4 socket (one of "udp" may be IPv6 and take IPv4 too).
func newRawSock(uc *net.UDPConn) *rawSock {
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil
	}
	domain := -1
	if rc.Control(func(fd uintptr) { domain, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_DOMAIN) }) != nil || domain != syscall.AF_INET {
		return nil
	}
	return &rawSock{rc: rc}
}

// rawOp is the state of one call, kept in a pool with its callbacks
// bound, so that a call allocates nothing.
type rawOp struct {
	sa    syscall.RawSockaddrInet4
	iov   syscall.Iovec
	msg   syscall.Msghdr
	r1    uintptr
	errno syscall.Errno
	recv  func(fd uintptr) bool
	send  func(fd uintptr) bool
}

var rawOps = sync.Pool{New: func() any {
	op := &rawOp{}
	op.recv = func(fd uintptr) bool { return op.call(syscall.SYS_RECVMSG, fd) }
	op.send = func(fd uintptr) bool { return op.call(syscall.SYS_SENDMSG, fd) }
	return op
}}

// call makes the system call trap on fd with op.msg and reports whether
// it is done (false: the socket is not ready, wait).
func (op *rawOp) call(trap, fd uintptr) bool {
	for {
		op.r1, _, op.errno = syscall.RawSyscall(trap, fd, uintptr(unsafe.Pointer(&op.msg)), 0)
		if op.errno != syscall.EINTR {
			return op.errno != syscall.EAGAIN
		}
	}
}

// prepare points op.msg at op.sa, b and oob.
func (op *rawOp) prepare(b, oob []byte) {
	op.iov = syscall.Iovec{}
	op.msg = syscall.Msghdr{Name: (*byte)(unsafe.Pointer(&op.sa)), Namelen: uint32(unsafe.Sizeof(op.sa)), Iov: &op.iov, Iovlen: 1}
	if len(b) > 0 {
		op.iov.Base = &b[0]
		op.iov.SetLen(len(b))
	}
	if len(oob) > 0 {
		op.msg.Control = &oob[0]
		op.msg.SetControllen(len(oob))
	}
}

// release clears op's references to the caller's buffers and pools it.
func (op *rawOp) release() {
	op.iov, op.msg = syscall.Iovec{}, syscall.Msghdr{}
	rawOps.Put(op)
}

// recvmsg reads a datagram into b and its control messages into oob, as
// net.UDPConn.ReadMsgUDPAddrPort does.
func (r *rawSock) recvmsg(b, oob []byte) (n, oobn int, src netip.AddrPort, err error) {
	op := rawOps.Get().(*rawOp)
	defer op.release()
	op.sa = syscall.RawSockaddrInet4{}
	op.prepare(b, oob)
	if err := r.rc.Read(op.recv); err != nil {
		return 0, 0, netip.AddrPort{}, err
	}
	if op.errno != 0 {
		return 0, 0, netip.AddrPort{}, os.NewSyscallError("recvmsg", op.errno)
	}
	if op.sa.Family == syscall.AF_INET {
		p := (*[2]byte)(unsafe.Pointer(&op.sa.Port))
		src = netip.AddrPortFrom(netip.AddrFrom4(op.sa.Addr), uint16(p[0])<<8|uint16(p[1]))
	}
	return int(op.r1), int(op.msg.Controllen), src, nil
}

// sendmsg sends b with the control messages oob to the IPv4 address dst.
func (r *rawSock) sendmsg(b, oob []byte, dst netip.AddrPort) error {
	op := rawOps.Get().(*rawOp)
	defer op.release()
	op.sa = syscall.RawSockaddrInet4{Family: syscall.AF_INET, Addr: dst.Addr().As4()}
	p := (*[2]byte)(unsafe.Pointer(&op.sa.Port))
	p[0], p[1] = byte(dst.Port()>>8), byte(dst.Port())
	op.prepare(b, oob)
	if err := r.rc.Write(op.send); err != nil {
		return err
	}
	if op.errno != 0 {
		return os.NewSyscallError("sendmsg", op.errno)
	}
	return nil
}
