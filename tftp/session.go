package tftp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/bits"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Why the sender is our own, not pin/tftp's server:
//
// pxekit's design names github.com/pin/tftp/v3 as the protocol engine. Its
// server (v3.2.0) was read closely and is not used for read requests: it
// negotiates neither windowsize nor the timeout option, retransmits on a
// fixed timeout (5 s by default), allocates its buffers per transfer and
// per request read, is configured through setters rather than fields, and
// has no context-bounded Shutdown or per-client limits. Every goal of this package (RFC 7440 windows, adaptive
// retransmission, no allocation per block, bounded memory, graceful
// shutdown) lands in its sender, so wrapping it would have meant replacing
// the part that matters. This package therefore runs its own sender and
// uses pin/tftp for netascii conversion (its netascii package), and the
// tests use pin/tftp's client as one more independent peer. No pin/tftp
// type appears in the API.

// Transfer flags, set by other goroutines to wake a transfer.
const (
	flagCancel  = 1 << iota // end now (Close, Shutdown deadline)
	flagRequest             // a new RRQ from the same client port is pending
	flagEvict               // end now: another client took the slot (already released)
)

// Retransmission timer bounds (see Server.Timeout).
const (
	// initialRTO applies until the first round trip is measured: RFC
	// 6298's 1 s. Firmware under emulation can take hundreds of
	// milliseconds to answer an OACK, and some clients (atftp) abort on a
	// repeated one, so the first packet is not hurried.
	initialRTO = time.Second
	minRTO     = 10 * time.Millisecond
	maxRTO     = time.Second
	// maxBackoff is how far repeated timeouts stretch the interval when the
	// client did not send the timeout option. It must exceed the clients'
	// own retransmission timeout (commonly 5 s): a client that answers a
	// repeated block only once (atftp) and otherwise waits for its own
	// timer would never see that timer fire while we retransmit faster
	// than it, and both sides would wait on each other.
	maxBackoff = 6 * time.Second
	// drainTime is how long a transfer keeps reading its socket before it
	// acts on a repeated RRQ, so that an error packet the client sent just
	// before it (a size probe's abort) is seen first.
	drainTime = 2 * time.Millisecond
)

// session is one client port's read transfer while it runs; one
// goroutine runs it, and [Transfer] is its report. A client that sends a
// new RRQ from the same port while a session runs is served by the same
// session (see serveOne).
type session struct {
	s     *Server
	l     *listener
	link  link
	peer  netip.AddrPort
	first *request

	pending *request // guarded by s.mu
	flags   atomic.Uint32

	// Guarded by s.mu: when the current request arrived, whether the
	// slot is freed, and the place in s.fresh until the first data
	// block is acknowledged.
	since                time.Time
	released             bool
	prevFresh, nextFresh *session
	listed               bool

	// Retransmission timer state (RFC 6298 §2 with Karn's rule).
	srtt, rttvar, rto, maxRTO, backoffCap time.Duration

	rbuf [maxCtlPacket]byte
}

func newSession(s *Server, l *listener, lk link, peer netip.AddrPort, req *request) *session {
	return &session{s: s, l: l, link: lk, peer: peer, first: req}
}

// kick sets a flag and wakes the transfer's goroutine. The flag is stored
// before the wake-up so that a read that begins afterwards sees it.
func (t *session) kick(flag uint32) {
	t.flags.Or(flag)
	t.link.wake()
}

func (t *session) run() {
	defer t.s.wg.Done()
	defer t.link.close()
	for req := t.first; req != nil; req = t.next() {
		t.serveOne(req)
	}
}

// next returns a request that arrived from the same client port while the
// last one ran, or releases the transfer.
func (t *session) next() *request {
	s := t.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := t.pending; p != nil && t.flags.Load()&(flagCancel|flagEvict) == 0 && !s.inShutdown.Load() {
		t.pending = nil
		t.flags.And(^uint32(flagRequest))
		// A new request: it may be evicted again until it progresses.
		t.since = time.Now()
		s.fresh.pushBack(t)
		return p
	}
	t.l.release(t)
	return nil
}

// serveOne runs one request to its end and reports it.
func (t *session) serveOne(req *request) {
	ctx, cancel := context.WithCancel(context.Background())
	info := Transfer{Client: t.peer, File: req.name, Size: -1, TSize: -1, BlockSize: defaultBlockSize, WindowSize: 1, Start: time.Now()}
	if sh, ok := t.s.Hook.(StartHook); ok {
		sh.TransferStart(&info)
	}
	probe, err := t.send(ctx, req, &info)
	cancel()
	info.Duration = time.Since(info.Start)
	info.Err = err
	t.report(&info, probe)
}

func (t *session) report(info *Transfer, probe bool) {
	log := t.s.logger()
	level := slog.LevelInfo
	msg := "tftp: transfer done"
	switch info.Outcome {
	case OutcomeAborted:
		msg = "tftp: transfer aborted by client"
		if probe {
			level, msg = slog.LevelDebug, "tftp: client aborted after option negotiation (size probe)"
		}
	case OutcomeNotFound:
		msg = "tftp: file not found"
	case OutcomeAccessViolation:
		level, msg = slog.LevelWarn, "tftp: access violation"
	case OutcomeTimeout:
		level, msg = slog.LevelWarn, "tftp: transfer timed out"
	case OutcomeError:
		level, msg = slog.LevelWarn, "tftp: transfer failed"
	case OutcomeCanceled:
		msg = "tftp: transfer canceled"
	case OutcomeEvicted:
		level, msg = slog.LevelWarn, "tftp: transfer evicted: server full and no block acknowledged"
	}
	if !t.s.NoTransferLog && log.Enabled(context.Background(), level) &&
		t.s.limiter().Allow(context.Background(), log, level, info.Client.Addr(), msg) {
		attrs := []slog.Attr{
			slog.String("peer", info.Client.String()),
			slog.String("file", info.File),
			slog.Int64("size", info.Size),
			slog.Int("blksize", info.BlockSize),
			slog.Int("windowsize", info.WindowSize),
			slog.Int64("bytes", info.Bytes),
			slog.Int64("sent", info.Sent),
			slog.Duration("duration", info.Duration),
			slog.String("outcome", info.Outcome.String()),
		}
		if info.FinalACKMissing {
			attrs = append(attrs, slog.Bool("final_ack_missing", true))
		}
		if info.Polled > 0 {
			attrs = append(attrs, slog.Int64("polled", info.Polled))
		}
		if info.Err != nil {
			attrs = append(attrs, slog.String("err", info.Err.Error()))
		}
		log.LogAttrs(context.Background(), level, msg, attrs...)
	}
	if t.s.Hook != nil {
		t.s.Hook.TransferDone(info)
	}
}

// sendError sends an error packet, best effort.
func (t *session) sendError(code int, msg string) {
	var b [128]byte
	if len(msg) > 100 {
		msg = msg[:100]
	}
	t.link.write(appendError(b[:0], code, msg))
}

// ClientError is the error of an [OutcomeAborted] transfer: the error
// packet the client sent (RFC 1350 §5).
type ClientError struct {
	Code    int
	Message string
}

func (e *ClientError) Error() string {
	return fmt.Sprintf("tftp: client sent error %d: %q", e.Code, e.Message)
}

// send serves one request: open, negotiate, then the ACK loop. probe
// reports a client that aborted right after the OACK, before any data.
func (t *session) send(ctx context.Context, req *request, info *Transfer) (probe bool, err error) {
	f, size, err := t.openFile(ctx, req, info)
	if err != nil {
		return false, err
	}
	defer f.Close()
	a := negotiate(req, size, t.s.limits())
	info.BlockSize, info.WindowSize = a.blockSize, a.windowSize
	if a.oack != nil {
		info.Options = true
		if a.tsize >= 0 {
			info.TSize = a.tsize
		}
		info.Timeout = a.timeout
		if oh, ok := t.s.Hook.(OptionsHook); ok {
			oh.TransferOptions(info)
		}
	}
	win := newWindow(f, size, req.mode == "netascii", a)
	defer win.release()
	return t.ackLoop(req, info, win, a)
}

// openFile cleans the requested name, opens it and learns its size (-1
// when unknown). On failure the client has been sent its error packet and
// info.Outcome is set.
func (t *session) openFile(ctx context.Context, req *request, info *Transfer) (fs.File, int64, error) {
	name, err := CleanPath(req.name)
	if err != nil {
		info.Outcome = OutcomeAccessViolation
		t.sendError(errAccessViolation, "access violation")
		return nil, 0, err
	}
	info.File = name
	f, err := t.s.open(ctx, t.peer, name)
	if err != nil {
		switch {
		case errors.Is(err, ErrAccessViolation) || errors.Is(err, fs.ErrPermission):
			info.Outcome = OutcomeAccessViolation
			t.sendError(errAccessViolation, "access violation")
		case errors.Is(err, fs.ErrNotExist):
			info.Outcome = OutcomeNotFound
			t.sendError(errFileNotFound, "file not found")
		default:
			info.Outcome = OutcomeError
			t.sendError(errNotDefined, "cannot open file")
		}
		return nil, 0, err
	}
	size := int64(-1)
	if fi, err := f.Stat(); err == nil {
		if fi.IsDir() {
			f.Close()
			info.Outcome = OutcomeNotFound
			t.sendError(errFileNotFound, "not a regular file")
			return nil, 0, fmt.Errorf("tftp: %s is a directory", name)
		}
		if fi.Mode().IsRegular() {
			size = fi.Size()
		}
	}
	info.Size = size
	return f, size, nil
}

// lockStep is the state of a transfer's ACK loop that a link's engine
// needs to send lock-step blocks on its own (see stream): the window, the
// place in the file and the timer.
type lockStep struct {
	t    *session
	info *Transfer
	win  *window
	// base is the first block not acknowledged, end the last block of
	// the window sent, highest the highest block sent so far.
	base, end, highest int64
	retrans            bool // the window sent was sent before
	sentAt             time.Time
	lastProgress       time.Time
	deadline           time.Time // when the wait for the window's ACK ends
	hardDeadline       time.Time // Server.TransferTimeout's, zero if none
	giveUp             time.Duration
	// budget is how many blocks step may send before it hands the
	// transfer back (so that the busy-poll policy sees its round trips),
	// <= 0 for no limit; sent counts them.
	budget, sent int
	// Set by step when it hands the transfer back: the last block is
	// acknowledged, reading the next one failed, or the budget is spent
	// (the next window is the goroutine's to send).
	done    bool
	loadErr error
	moved   bool
}

// setDeadline sets the end of the wait for the window just sent: its
// retransmission timeout, the give-up time or the transfer's time limit.
func (st *lockStep) setDeadline() {
	st.deadline = st.sentAt.Add(st.t.rto)
	if g := st.lastProgress.Add(st.giveUp); g.Before(st.deadline) {
		st.deadline = g
	}
	if !st.hardDeadline.IsZero() && st.hardDeadline.Before(st.deadline) {
		st.deadline = st.hardDeadline
	}
}

// acked records the acknowledgement of block k (base <= k <= highest),
// received at now: the round trip, the progress and the bytes acknowledged.
func (st *lockStep) acked(k int64, now time.Time) {
	if !st.retrans && k == st.end {
		st.t.sample(now.Sub(st.sentAt))
	}
	st.base, st.lastProgress = k+1, now
	if k >= 1 {
		st.info.Bytes = st.win.acked(k)
	}
}

// step is the engine's turn of a lock-step transfer (see stepper): the
// ACK of the block in flight moves it on to the next block, which it
// returns to send; a duplicate or stale ACK, and packets of other kinds
// but errors, are ignored as in ackLoop; anything else goes back to the
// transfer's goroutine.
func (st *lockStep) step(p []byte, now time.Time) ([]byte, bool) {
	if len(p) < 4 {
		return nil, false
	}
	switch binary.BigEndian.Uint16(p) {
	case opACK:
	case opERROR:
		return nil, true
	default:
		return nil, false
	}
	k, ok := ackBlock(binary.BigEndian.Uint16(p[2:]), st.base-1, st.highest, st.win.rollover1)
	if !ok || k < st.base {
		return nil, false
	}
	if k != st.end || st.base <= 1 {
		return nil, true
	}
	st.acked(k, now)
	if st.win.last > 0 && k >= st.win.last {
		st.done = true
		return nil, true
	}
	if st.budget > 0 && st.sent >= st.budget {
		st.moved = true
		return nil, true
	}
	st.sent++
	end, err := st.win.load(st.base)
	if err != nil || len(st.win.pkts) != 1 {
		st.loadErr = err
		return nil, true
	}
	st.info.Sent++
	st.end, st.highest, st.retrans = end, max(st.highest, end), false
	st.sentAt = now
	st.setDeadline()
	return st.win.pkts[0], false
}

func (st *lockStep) stepBuf() []byte         { return st.t.rbuf[:] }
func (st *lockStep) stepDeadline() time.Time { return st.deadline }
func (st *lockStep) stepFlags() uint32       { return st.t.flags.Load() }

// stepper is the part of a lock-step transfer the engine runs: step is
// called with each packet from the client and returns the next block to
// send (nil: keep waiting for this one's ACK) or hands the transfer back.
type stepper interface {
	// step handles packet p, read at now. It returns the packet to send
	// next, or back true to end fast mode with p for the transfer's
	// goroutine to handle (p is then in the buffer stepBuf returned).
	step(p []byte, now time.Time) (next []byte, back bool)
	// stepBuf is the buffer packets are read into.
	stepBuf() []byte
	// stepDeadline is when the transfer's goroutine must act (a
	// retransmission or the end); stepFlags are its wake-up flags.
	stepDeadline() time.Time
	stepFlags() uint32
}

// streams and streamed count the calls of stream and the blocks the
// engine sent in them, for the tests.
var streams, streamed atomic.Int64

// streamer is a link that can send a lock-step transfer's blocks without
// its goroutine (the engine, engine_linux.go): stream sends p, runs st
// until st hands the transfer back, and returns as exchange does.
type streamer interface {
	stream(p []byte, st stepper) (n int, werr, err error)
}

// ackLoop sends windows and waits for their ACKs (RFC 7440 §4), with
// retransmission, duplicate-request handling and the transfer's limits.
func (t *session) ackLoop(req *request, info *Transfer, win *window, a agreed) (probe bool, err error) {
	s := t.s
	t.maxRTO, t.backoffCap = a.maxRTO, a.backoffCap
	t.srtt, t.rttvar, t.rto = 0, 0, min(initialRTO, t.maxRTO)
	st := &lockStep{t: t, info: info, win: win, giveUp: s.giveUp(), highest: -1, lastProgress: time.Now()}
	if s.TransferTimeout > 0 {
		st.hardDeadline = info.Start.Add(s.TransferTimeout)
	}
	firstBase := int64(1)
	if a.oack != nil {
		firstBase = 0
	}
	st.base = firstBase
	rbuf := t.rbuf[:]
	// Waits for ACKs may poll the socket first (see spin.go).
	spin := newSpinPolicy(s.spinAllowed)
	pollTime := s.busyPoll()
	canSpin := t.link.setSpin(0) && pollTime > 0
	spinning := false
	str, _ := t.link.(streamer)

	for {
		// Send the window [base, end]; block 0 is the OACK.
		end, err := win.load(st.base)
		if err != nil {
			info.Outcome = OutcomeError
			t.sendError(errNotDefined, "read error")
			return false, err
		}
		st.end = end
		pkts := win.pkts
		st.retrans = st.base <= st.highest
		if st.base > 0 {
			info.Sent += int64(len(pkts))
		}
		// A single packet leaves in the first wait for its ACK (one
		// exchange); a window leaves now, in one batch.
		var out []byte
		var werr error
		switch {
		case len(pkts) > 1:
			werr = t.link.writeBatch(pkts)
		case s.readFirst:
			werr = t.link.write(pkts[0])
		default:
			out = pkts[0]
		}
		if werr != nil {
			info.Outcome = OutcomeAborted
			return false, fmt.Errorf("tftp: sending to client: %w", werr)
		}
		st.highest = max(st.highest, end)
		st.sentAt = time.Now()
		win.prefetch(end)
		st.setDeadline()
		if canSpin {
			if on := spin.next(st.sentAt); on != spinning {
				spinning = on
				d := time.Duration(0)
				if on {
					d = pollTime
				}
				t.link.setSpin(d)
			}
		}
		var pollStart time.Time
		if spinning {
			pollStart = time.Now()
			info.Polled++
		}
		var drainUntil time.Time

	wait:
		for {
			dl := st.deadline
			if !drainUntil.IsZero() && drainUntil.Before(dl) {
				dl = drainUntil
			}
			var n int
			var err error
			if out != nil {
				var werr error
				budget := -1 // no limit
				if canSpin {
					budget = spin.sleeps()
				}
				if str != nil && !spinning && budget != 0 && st.base > 1 && drainUntil.IsZero() && t.flags.Load() == 0 {
					// The steady state of a lock-step transfer: the
					// link's engine sends the next blocks as their
					// ACKs come, and hands the transfer back for
					// anything else, or when the busy-poll policy
					// is to look at its round trips again.
					st.budget, st.sent = budget, 0
					n, werr, err = str.stream(out, st)
					streams.Add(1)
					streamed.Add(int64(st.sent))
					if canSpin {
						spin.skip(st.sent)
					}
					if st.done {
						info.Outcome = OutcomeOK
						return false, nil
					}
					if st.loadErr != nil {
						info.Outcome = OutcomeError
						t.sendError(errNotDefined, "read error")
						return false, st.loadErr
					}
				} else {
					n, werr, err = t.link.exchange(out, rbuf, dl, &t.flags)
				}
				out = nil
				if werr != nil {
					info.Outcome = OutcomeAborted
					return false, fmt.Errorf("tftp: sending to client: %w", werr)
				}
				if st.moved {
					st.moved = false
					break wait
				}
			} else {
				n, err = t.link.read(rbuf, dl, &t.flags)
			}
			if err == errWait {
				t.link.forget()
				if f := t.flags.Load(); f != 0 {
					if f&flagCancel != 0 {
						info.Outcome = OutcomeCanceled
						t.sendError(errNotDefined, "server shutting down")
						return false, ErrServerClosed
					}
					if f&flagEvict != 0 {
						info.Outcome = OutcomeEvicted
						t.sendError(errNotDefined, "server busy, try again")
						return false, errEvicted
					}
					if f&flagRequest != 0 {
						t.flags.And(^uint32(flagRequest))
						drainUntil = time.Now().Add(drainTime)
						continue
					}
				}
				now := time.Now()
				if !drainUntil.IsZero() && !now.Before(drainUntil) {
					drainUntil = time.Time{}
					switch t.takePending(req) {
					case pendingNew:
						info.Outcome = OutcomeCanceled
						return false, errors.New("tftp: client restarted with a different request")
					case pendingDup:
						if st.base == firstBase {
							// Our first packet was lost or is slow: answer
							// the repeated request once.
							break wait
						}
					}
				}
				if now.Before(st.deadline) {
					continue
				}
				if !st.hardDeadline.IsZero() && !now.Before(st.hardDeadline) {
					info.Outcome = OutcomeTimeout
					t.sendError(errNotDefined, "transfer time limit reached")
					return false, fmt.Errorf("tftp: transfer ran longer than %v", s.TransferTimeout)
				}
				if now.Sub(st.lastProgress) >= st.giveUp {
					if win.last > 0 && st.base == win.last && st.highest >= win.last {
						// Every block but the last is acknowledged and
						// the last was sent: only its ACK is missing.
						finalACKMissing(info, win)
						return false, nil
					}
					info.Outcome = OutcomeTimeout
					t.sendError(errNotDefined, "timeout")
					return false, fmt.Errorf("tftp: no acknowledgement for %v", now.Sub(st.lastProgress).Round(time.Millisecond))
				}
				t.rto = min(2*t.rto, t.backoffCap) // back off (RFC 6298 §5.5)
				break wait
			}
			if err != nil {
				if win.last > 0 && st.highest >= win.last && errors.Is(err, syscall.ECONNREFUSED) {
					// The client's port is closed (ICMP port unreachable
					// answered our retransmission): it ended after the
					// last block, whose ACK was lost.
					finalACKMissing(info, win)
					return false, nil
				}
				info.Outcome = OutcomeAborted
				return st.base == 0 && info.Sent == 0, fmt.Errorf("tftp: reading from client: %w", err)
			}
			if n < 4 {
				continue
			}
			switch binary.BigEndian.Uint16(rbuf) {
			case opACK:
				k, ok := ackBlock(binary.BigEndian.Uint16(rbuf[2:]), st.base-1, st.highest, win.rollover1)
				if !ok || k < st.base {
					// A duplicate or stale ACK is never answered: only the
					// timer retransmits (the Sorcerer's Apprentice bug, RFC
					// 1123 §4.2.3.1).
					continue
				}
				now := time.Now()
				if spinning {
					spin.polled(now.Sub(pollStart) <= pollTime)
				}
				if st.base <= 1 && k >= 1 {
					// The first data block is acknowledged: the transfer
					// is no longer one that may be evicted.
					t.progressed()
				}
				st.acked(k, now)
				if win.last > 0 && k >= win.last {
					info.Outcome = OutcomeOK
					return false, nil
				}
				break wait
			case opERROR:
				code, msg, _ := parseError(rbuf[:n])
				if code == errUnknownTID && win.last > 0 && st.highest >= win.last {
					// The client finished with the last block and no
					// longer knows this transfer: its ACK was lost.
					finalACKMissing(info, win)
					return false, nil
				}
				info.Outcome = OutcomeAborted
				return st.base == 0 && info.Sent == 0, &ClientError{Code: code, Message: msg}
			}
		}
	}
}

// finalACKMissing ends a transfer whose client has every block but whose
// ACK of the last one never arrived: it is done, and says so.
func finalACKMissing(info *Transfer, win *window) {
	info.Outcome = OutcomeOK
	info.FinalACKMissing = true
	info.Bytes = win.acked(win.last)
}

// errEvicted is the error of an [OutcomeEvicted] transfer.
var errEvicted = errors.New("tftp: evicted: the server was full and the client acknowledged no block")

// progressed takes t off the list of transfers that may be evicted.
func (t *session) progressed() {
	t.s.mu.Lock()
	t.s.fresh.remove(t)
	t.s.mu.Unlock()
}

type pendingKind int

const (
	pendingNone pendingKind = iota
	pendingDup              // the same request again: a retransmission
	pendingNew              // a different request: the client started over
)

// takePending looks at a request that arrived from the client port while
// cur runs. A repeated request is consumed; a different one is left for
// next.
func (t *session) takePending(cur *request) pendingKind {
	s := t.s
	s.mu.Lock()
	defer s.mu.Unlock()
	p := t.pending
	switch {
	case p == nil:
		return pendingNone
	case p.equal(cur):
		t.pending = nil
		return pendingDup
	default:
		return pendingNew
	}
}

// sample feeds a round-trip measurement to the retransmission timer.
func (t *session) sample(r time.Duration) {
	if t.srtt == 0 {
		t.srtt, t.rttvar = r, r/2
	} else {
		d := t.srtt - r
		if d < 0 {
			d = -d
		}
		t.rttvar = (3*t.rttvar + d) / 4
		t.srtt = (7*t.srtt + r) / 8
	}
	t.rto = min(max(t.srtt+max(4*t.rttvar, time.Millisecond), minRTO), t.maxRTO)
}

// wireBlock is block k's number on the wire: k modulo 65536, or, when
// rolling over to 1, 65535 is followed by 1.
func wireBlock(k int64, rollover1 bool) uint16 {
	if !rollover1 || k == 0 {
		return uint16(k)
	}
	return uint16((k-1)%65535 + 1)
}

// ackBlock maps an acknowledged block number from the wire to the block in
// [lo, hi] it stands for.
func ackBlock(a uint16, lo, hi int64, rollover1 bool) (int64, bool) {
	if hi < 0 {
		return 0, false
	}
	var k int64
	switch {
	case !rollover1:
		k = hi - int64(uint16(wireBlock(hi, false)-a))
	case a == 0:
		k = 0
	case hi == 0:
		return 0, false
	default:
		d := (int64(wireBlock(hi, true)) - int64(a)) % 65535
		if d < 0 {
			d += 65535
		}
		k = hi - d
	}
	if k < max(lo, 0) || k > hi {
		return 0, false
	}
	return k, true
}

func (s *Server) maxBlockSize() int {
	if s.MaxBlockSize <= 0 {
		return maxBlockSize
	}
	return min(max(s.MaxBlockSize, minBlockSize), maxBlockSize)
}

func (s *Server) maxWindowSize() int {
	if s.MaxWindowSize <= 0 {
		return DefaultMaxWindowSize
	}
	return min(s.MaxWindowSize, maxWindowSize)
}

func (s *Server) maxWindowBytes() int {
	if s.MaxWindowBytes <= 0 {
		return DefaultMaxWindowBytes
	}
	return s.MaxWindowBytes
}

// Buffers are pooled by power-of-two size so that a steady stream of
// transfers does not allocate packet and chunk buffers.
type poolBuf struct{ b []byte }

var bufPools [18]sync.Pool // 1<<0 .. 1<<17 bytes

func getBuf(n int) *poolBuf {
	c := bits.Len(uint(n - 1))
	if c >= len(bufPools) {
		return &poolBuf{b: make([]byte, n)}
	}
	if p, ok := bufPools[c].Get().(*poolBuf); ok {
		return p
	}
	return &poolBuf{b: make([]byte, 1<<c)}
}

func putBuf(p *poolBuf) {
	c := bits.Len(uint(len(p.b) - 1))
	if c < len(bufPools) && len(p.b) == 1<<c {
		bufPools[c].Put(p)
	}
}
