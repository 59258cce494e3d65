//go:build linux

package tftp

import (
	"encoding/binary"
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// UDP generic segmentation offload (UDP_SEGMENT, Linux 4.18): the packets
// of a window lie back to back in one buffer, blksize+4 bytes apart, which
// is exactly the layout a GSO send wants. The whole run goes down the stack
// as one datagram and is cut into the window's packets at the end (by the
// device, or in software just before it), so a window costs one pass
// through the IP and UDP output path instead of one per packet.
const (
	gsoMaxSegments = 64    // UDP_MAX_SEGMENTS of the oldest kernels that have GSO
	gsoMaxBytes    = 65000 // below the 64 KiB an IP datagram carries, with headers
)

// errNoGSO means the kernel, the device or the path refused a GSO send;
// nothing was sent.
var errNoGSO = errors.New("tftp: UDP GSO not available")

// gsoRun returns how many packets from the start of pkts one GSO send can
// carry and their segment size: packets that are contiguous in memory, all
// of one size except a shorter last one. n < 2 means none.
func gsoRun(pkts [][]byte) (n, seg int) {
	if len(pkts) < 2 {
		return 0, 0
	}
	seg = len(pkts[0])
	if seg == 0 {
		return 0, 0
	}
	limit := min(gsoMaxSegments, gsoMaxBytes/seg, len(pkts))
	next := uintptr(unsafe.Pointer(unsafe.SliceData(pkts[0]))) + uintptr(seg)
	n = 1
	for n < limit {
		p := pkts[n]
		if len(p) == 0 || len(p) > seg || uintptr(unsafe.Pointer(unsafe.SliceData(p))) != next {
			break
		}
		n++
		if len(p) < seg {
			break // a short packet ends a run
		}
		next += uintptr(seg)
	}
	return n, seg
}

// gsoState is the mmsgWriter's GSO send: its message header and control
// message, reused for every send.
type gsoState struct {
	off bool // refused once: this socket sends without GSO
	msg unix.Msghdr
	iov unix.Iovec
	oob []byte
	err error
	fn  func(fd uintptr) bool
}

// sendGSO sends the total bytes that start at first, packets of seg bytes
// (the last may be shorter) laid out back to back, as one GSO send.
func (w *mmsgWriter) sendGSO(first []byte, total, seg int) error {
	g := &w.gso
	if g.fn == nil {
		g.oob = make([]byte, unix.CmsgSpace(2))
		h := (*unix.Cmsghdr)(unsafe.Pointer(&g.oob[0]))
		h.Level, h.Type = unix.SOL_UDP, unix.UDP_SEGMENT
		h.SetLen(unix.CmsgLen(2))
		g.fn = g.send
	}
	binary.NativeEndian.PutUint16(g.oob[unix.CmsgLen(0):], uint16(seg))
	g.iov.Base = unsafe.SliceData(first)
	g.iov.SetLen(total)
	g.msg = unix.Msghdr{Iov: &g.iov, Control: &g.oob[0]}
	g.msg.SetIovlen(1)
	g.msg.SetControllen(len(g.oob))
	g.err = nil
	err := w.rc.Write(g.fn)
	g.iov.Base = nil
	if err != nil {
		return err
	}
	return g.err
}

func (g *gsoState) send(fd uintptr) bool {
	for {
		_, _, e := unix.Syscall(unix.SYS_SENDMSG, fd, uintptr(unsafe.Pointer(&g.msg)), 0)
		switch e {
		case 0:
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		case unix.EINVAL, unix.EIO, unix.EMSGSIZE, unix.EOPNOTSUPP, unix.ENOPROTOOPT:
			// No GSO here: an old kernel, a device without checksum
			// offload, or segments larger than the path MTU.
			g.err = errNoGSO
			return true
		default:
			g.err = e
			return true
		}
	}
}
