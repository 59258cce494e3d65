// Package events is the one shape in which pxekit's servers report what
// they did: a DHCP request seen, a client identified, a reply sent with its
// boot file, a request ignored and why; a TFTP or HTTP transfer started and
// done, with its bytes, time and outcome.
//
// A server with a Hook field ([github.com/pxekit/pxekit/dhcp.Server.Hook])
// calls it synchronously with an [Event] value; bridges adapt the older
// [github.com/pxekit/pxekit/tftp.Hook]
// ([github.com/pxekit/pxekit/tftp.EventHook]) and wrap an HTTP handler
// ([github.com/pxekit/pxekit/netboot.ObserveHTTP]). A consumer that may be
// slow sits behind a [Queue], which never blocks the server: when its
// buffer is full, events are dropped and counted.
//
// [LogHook] renders events as log lines, one per step of a boot.
//
// The package has no dependency beyond the standard library and no metrics
// stack of its own: the timeline package joins events by machine, and
// examples/minimal-server renders them as Prometheus text and, through
// [LogHook], as its log.
package events

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Proto is the protocol an event comes from.
type Proto uint8

// Protocols.
const (
	ProtoDHCP Proto = iota + 1
	ProtoTFTP
	ProtoHTTP
)

var protoNames = [...]string{"", "dhcp", "tftp", "http"}

// String returns "dhcp", "tftp" or "http".
func (p Proto) String() string {
	if int(p) < len(protoNames) && p != 0 {
		return protoNames[p]
	}
	return "unknown"
}

// MarshalText returns p.String(), for JSON.
func (p Proto) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText sets p from a name that String returns.
func (p *Proto) UnmarshalText(b []byte) error {
	for i, n := range protoNames {
		if i > 0 && n == string(b) {
			*p = Proto(i)
			return nil
		}
	}
	return errors.New("events: unknown protocol " + strconv.Quote(string(b)))
}

// Kind says what happened.
type Kind uint8

// Kinds of events.
const (
	// KindRequest: a DHCP request was decoded (before any decision).
	KindRequest Kind = iota + 1
	// KindIdentified: a DHCP request came from a boot client (it carries
	// PXE or HTTP boot options); Arch and Firmware say what it is.
	KindIdentified
	// KindReply: a DHCP reply was sent; File is its boot file or URL,
	// Addr the address given (yiaddr) or the one the client has (ciaddr).
	KindReply
	// KindIgnored: a DHCP request was left unanswered; Reason says why.
	KindIgnored
	// KindStart: a TFTP or HTTP transfer began.
	KindStart
	// KindDone: a TFTP or HTTP transfer ended, well or not (Outcome, Err).
	KindDone
	// KindOptions: a TFTP transfer's options were agreed (RFC 2347 OACK
	// sent): BlockSize, WindowSize, Timeout, and Size, the tsize answered
	// (-1 when the client did not ask or the size is unknown). Transfers
	// without options have no such event.
	KindOptions
)

var kindNames = [...]string{"", "request", "identified", "reply", "ignored", "start", "done", "options"}

// String returns a short lower-case name such as "reply".
func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return "unknown"
}

// Reasons a DHCP request is ignored, as set in [Event.Reason].
const (
	ReasonNotBoot      = "not-boot-client" // no PXE or HTTP boot options, nothing remembered
	ReasonNoBoot       = "no-boot-program" // a boot client the Decider has nothing for (uncovered architecture, no program)
	ReasonNoAddress    = "no-free-address" // full DHCP: the pool is exhausted
	ReasonOtherSegment = "other-segment"   // relay (giaddr) or arrival interface outside the pool's subnet
	ReasonOtherServer  = "other-server"    // a REQUEST (or a DISCOVER on port 4011) meant for another server
	ReasonNoReply      = "no-reply-needed" // RELEASE, DECLINE and other messages that get no answer
	ReasonStoreFailed  = "lease-store"     // the lease store failed; not acknowledged
	ReasonError        = "error"           // the reply could not be built or sent (Err)
	ReasonMalformed    = "malformed"       // not a well-formed request (no MAC)
	ReasonPeerBucket   = "peer-bucket"     // RFC 3074: the client's hash bucket belongs to a peer server
)

// Event is one step of one client. Which fields are set depends on Proto
// and Kind; the zero value of a field means "not known". An Event is a
// value: a hook may keep it, but MAC shares memory with the request being
// handled and must be copied (MAC.String(), or append) to be kept past the
// call.
type Event struct {
	Time  time.Time
	Proto Proto
	Kind  Kind

	// MAC is the client's hardware address (DHCP only).
	MAC net.HardwareAddr
	// Addr is the client's IP address: the source of a TFTP or HTTP
	// transfer; for DHCP the address given (yiaddr), the client's own
	// (ciaddr), or the one a REQUEST asks for (option 50, offered by
	// whichever DHCP server: so a proxyDHCP server learns it too),
	// invalid when it has none yet.
	Addr netip.Addr

	// Type is the DHCP message type ("DISCOVER", "OFFER"…) of the request
	// or the reply, or the HTTP method.
	Type string
	// Arch is the client's architecture (DHCP option 93, as IANA names
	// it), Firmware its family: "bios", "uefi", "uefi-http", "ipxe" or "".
	Arch, Firmware string
	// Host is the host name the client sent (option 12), VendorClass its
	// option 60; both are client input, unescaped.
	Host, VendorClass string

	// File is the boot file or URL of a DHCP reply, or the name a TFTP or
	// HTTP client asked for (client input, unescaped).
	File string
	// Generated is set on a TFTP or HTTP transfer of a file the server
	// made itself (a menu or script generated from the tree), not one it
	// read from a tree; the servers leave it clear, and a hook that
	// knows the files sets it (netboot.Boot.MarkGenerated).
	Generated bool
	// Offset is where an HTTP range request starts; -1 or 0 without one.
	Offset int64
	// Size is the file's size in bytes, -1 or 0 if unknown.
	Size int64
	// Bytes is what the client received (TFTP: acknowledged).
	Bytes int64
	// Retransmits counts TFTP data packets sent more than once.
	Retransmits int64
	// BlockSize and WindowSize are the TFTP options agreed (RFC 2348,
	// RFC 7440): 512 and 1 without them.
	BlockSize, WindowSize int
	// Timeout is the TFTP timeout option agreed (RFC 2349), 0 without it.
	Timeout time.Duration
	// Duration is the time from request to end of a transfer.
	Duration time.Duration
	// Status is the HTTP status code.
	Status int
	// Outcome is how a transfer ended: "ok" or a failure such as
	// "not-found", "aborted", "timeout", "error".
	Outcome string
	// Reason says why a DHCP request was ignored (see ReasonNotBoot…).
	Reason string
	// Err is the error of a failed step, if any.
	Err error
}

// A Hook is told about events. Servers call it synchronously from the
// goroutine that handles the request, concurrently for concurrent
// requests; it must be safe for concurrent use and return quickly. Put a
// [Queue] in front of anything slower than a few atomic additions.
type Hook interface {
	Observe(e Event)
}

// HookFunc adapts a function to [Hook].
type HookFunc func(e Event)

// Observe calls f(e).
func (f HookFunc) Observe(e Event) { f(e) }

// Tee returns a hook that passes each event to every non-nil hook in turn.
func Tee(hooks ...Hook) Hook {
	var hs []Hook
	for _, h := range hooks {
		if h != nil {
			hs = append(hs, h)
		}
	}
	return tee(hs)
}

type tee []Hook

func (t tee) Observe(e Event) {
	for _, h := range t {
		h.Observe(e)
	}
}

// Queue decouples a slow consumer from the servers: Observe never blocks;
// it hands the event to a goroutine that calls the consumer in order, or,
// when the buffer is full, drops the event and counts it. The goroutine
// takes the first event after a quiet spell at once and the events that
// follow it in batches every 5 ms, so that a stream of events does not
// wake it once for each: an event reaches the consumer up to 5 ms late,
// and the buffer must hold the events of 5 ms. Create one with
// [NewQueue]; Close stops the goroutine. Safe for concurrent use.
type Queue struct {
	ch      chan Event
	dropped atomic.Uint64
	done    chan struct{}
	mu      sync.RWMutex
	closed  bool
}

// NewQueue starts a queue of size events (1024 if size ≤ 0) in front of h.
func NewQueue(h Hook, size int) *Queue {
	if size <= 0 {
		size = 1024
	}
	q := &Queue{ch: make(chan Event, size), done: make(chan struct{})}
	go func() {
		defer close(q.done)
		for e := range q.ch {
			h.Observe(e)
			// A stream of events: let the next ones gather for a moment
			// and take them together, rather than being woken for each
			// (a thread woken per event is most of what a queue costs a
			// busy server). Quiet again: wait on the channel.
			for {
				time.Sleep(queueGather)
				n := len(q.ch)
				if n == 0 {
					break
				}
				for range n {
					h.Observe(<-q.ch)
				}
			}
		}
	}()
	return q
}

// queueGather is how long a [Queue]'s consumer lets events gather once
// one has come: the most an event waits behind the one before it.
const queueGather = 5 * time.Millisecond

// Observe queues e, or drops it if the queue is full or closed. A MAC is
// copied, so the caller's buffer may be reused.
func (q *Queue) Observe(e Event) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		q.dropped.Add(1)
		return
	}
	if len(q.ch) == cap(q.ch) {
		q.dropped.Add(1)
		return
	}
	if e.MAC != nil {
		e.MAC = append(net.HardwareAddr(nil), e.MAC...)
	}
	select {
	case q.ch <- e:
	default:
		q.dropped.Add(1)
	}
}

// Dropped returns how many events were lost because the consumer was
// behind (or the queue closed).
func (q *Queue) Dropped() uint64 { return q.dropped.Load() }

// Close stops accepting events and waits until the consumer has seen the
// queued ones.
func (q *Queue) Close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
	q.mu.Unlock()
	<-q.done
}
