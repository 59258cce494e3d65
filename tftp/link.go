package tftp

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"time"
)

// errWait is returned by link.read when the deadline passed or the
// transfer was kicked; the caller tells the two apart by the clock and its
// flags.
var errWait = errors.New("tftp: wait ended")

// A link carries one transfer's packets: its own connected socket, or, in
// single-port mode, the listening socket demultiplexed by client address.
type link interface {
	write(b []byte) error
	// writeBatch sends the packets in order, in as few system calls as
	// the link can.
	writeBatch(pkts [][]byte) error
	// read waits until deadline for a packet and copies it into b. It
	// returns errWait without waiting when *flags is not zero.
	read(b []byte, deadline time.Time, flags *atomic.Uint32) (int, error)
	// exchange sends p, then reads as read does: a lock-step block and
	// the wait for its ACK. werr is the error of the send; when it is
	// nil, p has left, even if err is errWait.
	exchange(p, b []byte, deadline time.Time, flags *atomic.Uint32) (n int, werr, err error)
	// wake makes a blocked read return errWait; safe from any goroutine.
	wake()
	// forget drops a cached deadline after a wake.
	forget()
	// setSpin makes the next reads poll for up to d before they sleep;
	// it reports whether the link can.
	setSpin(d time.Duration) bool
	close() error
}

// sockLink is a connected UDP socket of the transfer's own.
type sockLink struct {
	conn *net.UDPConn
	// deadline is the read deadline set on conn, zero when none is or it
	// has passed. Setting a deadline costs a few locked operations and a
	// timer update in the runtime, so read sets it only when the wanted
	// one is earlier: a deadline that fires early only costs one more
	// turn of the caller's loop, which sets the right one.
	deadline time.Time
	batch    batchWriter // nil: one write per packet
	spin     *spinReader // nil: reads always sleep in the poller
	spinFor  time.Duration
	// gotLast is set when the last read or exchange returned a packet:
	// then the next exchange may wait for its answer without reading
	// first. After a timeout, a late answer to the last packet may be
	// queued already, and only a read finds it.
	gotLast bool
}

func newSockLink(c *net.UDPConn) *sockLink {
	return &sockLink{conn: c, batch: newBatchWriter(c), spin: newSpinReader(c)}
}

// batchWriter sends several datagrams in one system call.
type batchWriter interface {
	writeBatch(pkts [][]byte) error
}

func (l *sockLink) write(b []byte) error {
	_, err := l.conn.Write(b)
	return err
}

func (l *sockLink) writeBatch(pkts [][]byte) error {
	if l.batch == nil || len(pkts) == 1 {
		return writeEach(l, pkts)
	}
	return l.batch.writeBatch(pkts)
}

func writeEach(l link, pkts [][]byte) error {
	for _, p := range pkts {
		if err := l.write(p); err != nil {
			return err
		}
	}
	return nil
}

func (l *sockLink) read(b []byte, deadline time.Time, flags *atomic.Uint32) (int, error) {
	l.setDeadline(deadline)
	// Checked after setting the deadline: a wake-up between the two
	// resets the deadline to the past after our flag was set.
	if flags.Load() != 0 {
		return 0, errWait
	}
	var n int
	var err error
	if l.spin != nil && l.spinFor > 0 {
		n, err = l.spin.read(b, l.spinFor)
	} else {
		n, err = l.conn.Read(b)
	}
	l.gotLast = err == nil
	return n, l.waitErr(err)
}

func (l *sockLink) setDeadline(deadline time.Time) {
	if l.deadline.IsZero() || deadline.Before(l.deadline) {
		l.conn.SetReadDeadline(deadline)
		l.deadline = deadline
	}
}

// waitErr turns the end of the read deadline into errWait.
func (l *sockLink) waitErr(err error) error {
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		l.deadline = time.Time{}
		return errWait
	}
	return err
}

// exchange sends p and reads the answer in one wait of the runtime's
// poller where it can (spinReader.exchange), which saves a system call per
// lock-step block: the read that would find the socket empty.
func (l *sockLink) exchange(p, b []byte, deadline time.Time, flags *atomic.Uint32) (int, error, error) {
	if l.spin == nil {
		return writeRead(l, p, b, deadline, flags)
	}
	l.setDeadline(deadline)
	if flags.Load() != 0 {
		l.gotLast = false
		return 0, l.write(p), errWait
	}
	n, sent, werr, err := l.spin.exchange(p, b, l.spinFor, !l.gotLast)
	l.gotLast = sent && werr == nil && err == nil
	if werr != nil {
		return 0, werr, nil
	}
	if !sent {
		if werr := l.write(p); werr != nil {
			return 0, werr, nil
		}
		if err == nil { // the send buffer was full: nothing was read
			n, err = l.read(b, deadline, flags)
			return n, nil, err
		}
	}
	return n, nil, l.waitErr(err)
}

// writeRead is exchange in two steps.
func writeRead(l link, p, b []byte, deadline time.Time, flags *atomic.Uint32) (int, error, error) {
	if werr := l.write(p); werr != nil {
		return 0, werr, nil
	}
	n, err := l.read(b, deadline, flags)
	return n, nil, err
}

func (l *sockLink) setSpin(d time.Duration) bool {
	if l.spin == nil {
		return false
	}
	l.spinFor = d
	return true
}

func (l *sockLink) wake()        { l.conn.SetReadDeadline(time.Unix(1, 0)) }
func (l *sockLink) forget()      { l.deadline = time.Time{} }
func (l *sockLink) close() error { return l.conn.Close() }

// maxCtlPacket is the largest packet a client sends during a read transfer
// that we look at: ACKs are 4 bytes, error messages are cut here.
const maxCtlPacket = 512

type ctlPacket struct {
	n int
	b [maxCtlPacket]byte
}

// chanLink is a transfer's view of a single-port listener.
type chanLink struct {
	l     *listener
	peer  netip.AddrPort
	in    chan ctlPacket
	wakeC chan struct{}
	timer *time.Timer
}

func newChanLink(l *listener, peer netip.AddrPort) *chanLink {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &chanLink{l: l, peer: peer, in: make(chan ctlPacket, 8), wakeC: make(chan struct{}, 1), timer: t}
}

// deliver hands a packet from the read loop to the transfer; it drops the
// packet if the transfer is behind, as a full socket buffer would.
func (c *chanLink) deliver(b []byte) {
	var p ctlPacket
	p.n = copy(p.b[:], b)
	select {
	case c.in <- p:
	default:
	}
}

func (c *chanLink) write(b []byte) error { return c.l.writeTo(b, c.peer) }

func (c *chanLink) writeBatch(pkts [][]byte) error { return writeEach(c, pkts) }

func (c *chanLink) exchange(p, b []byte, deadline time.Time, flags *atomic.Uint32) (int, error, error) {
	return writeRead(c, p, b, deadline, flags)
}

func (c *chanLink) read(b []byte, deadline time.Time, flags *atomic.Uint32) (int, error) {
	if flags.Load() != 0 {
		return 0, errWait
	}
	select {
	case p := <-c.in:
		return copy(b, p.b[:p.n]), nil
	default:
	}
	d := time.Until(deadline)
	if d <= 0 {
		return 0, errWait
	}
	c.timer.Reset(d)
	defer c.timer.Stop()
	select {
	case p := <-c.in:
		return copy(b, p.b[:p.n]), nil
	case <-c.timer.C:
		return 0, errWait
	case <-c.wakeC:
		return 0, errWait
	}
}

func (c *chanLink) wake() {
	select {
	case c.wakeC <- struct{}{}:
	default:
	}
}

func (c *chanLink) forget()                    {}
func (c *chanLink) setSpin(time.Duration) bool { return false }
func (c *chanLink) close() error               { return nil }
