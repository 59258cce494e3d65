package tftp

import (
	"runtime"
	"slices"
	"time"
)

// Design notes on busy polling (measured here; the contract is in the
// package doc and [Server.BusyPoll]):
//
// When the client answers from another CPU within microseconds, polling
// the socket saves the wake-up, which costs more than the wait: lock-step
// downloads by curl on loopback ran about 1.4 times faster. When the
// client is slow, or is a goroutine of the same process (which runs
// soonest when the transfer's thread sleeps), polling is wasted or slower.
// So each transfer measures round trips both ways, now and then, and
// polls only if that is not slower; it stops polling when polls keep
// missing, and never polls while as many transfers run as GOMAXPROCS.
// Waiting in ppoll(2) on the transfer's own thread was also tried and
// dropped: a client goroutine in the same process became 3.5 times slower.

// Waiting for an ACK by polling the socket.
//
// A transfer normally sleeps in the runtime's network poller until the
// client's ACK arrives. When the client answers within microseconds from
// another CPU (a client on the same host, a fast LAN), the wake-up costs
// more than the wait: the packet is noticed by the poller on some thread,
// and the goroutine then waits to be scheduled, often on another CPU.
// Polling the socket for a short while before sleeping avoids that. It
// does not pay when the client is slow, and it hurts when the client is a
// goroutine of the same process: that goroutine runs soonest when the
// transfer's thread sleeps and hands it the processor. So each transfer
// measures both ways and keeps the faster one.
const (
	// spinProbe is the number of round trips measured each way.
	spinProbe = 64
	// spinKeep is the number of round trips between two measurements,
	// spinFirst the number before the first: a short transfer is over
	// before polling could pay for its measurement.
	spinKeep  = 2048
	spinFirst = 256
	// A wait that polled in vain costs the whole poll time. A
	// measurement of polling ends early, as a loss for polling, after
	// spinMaxMisses such waits or spinMaxRun in a row; while polling is
	// kept, spinMaxRun in a row turn it off until the next measurement.
	spinMaxMisses = spinProbe / 8
	spinMaxRun    = 3
)

// spinPolicy chooses, round trip by round trip, whether a transfer polls.
// Make it with newSpinPolicy.
type spinPolicy struct {
	// allowed is asked at the start of each measurement; polling stays
	// off while it says no.
	allowed func() bool

	on     bool // the current round trips poll
	left   int  // round trips left in the current phase
	phase  spinPhase
	misses int       // polls in vain in the measurement
	run    int       // polls in vain in a row
	prev   time.Time // the last call of next
	n      int       // round trips measured in this phase
	d      [spinProbe]time.Duration
	sleep  time.Duration // median round trip of the last measurement that slept
}

func newSpinPolicy(allowed func() bool) spinPolicy {
	return spinPolicy{allowed: allowed, left: spinFirst}
}

type spinPhase uint8

const (
	spinKeeping  spinPhase = iota // using the last choice
	spinSleeping                  // measuring round trips that sleep
	spinPolling                   // measuring round trips that poll
)

// next is called before each wait for an ACK and reports whether that wait
// polls.
func (p *spinPolicy) next(now time.Time) bool {
	if p.phase != spinKeeping && p.n < len(p.d) {
		p.d[p.n] = now.Sub(p.prev)
		p.n++
	}
	p.prev = now
	if p.left > 0 {
		p.left--
		return p.on
	}
	switch p.phase {
	case spinKeeping:
		if !p.allowed() {
			p.on, p.left = false, spinKeep-1
			return false
		}
		p.phase, p.on = spinSleeping, false
	case spinSleeping:
		p.sleep = median(p.d[:p.n])
		p.phase, p.on, p.misses, p.run = spinPolling, true, 0, 0
	case spinPolling:
		p.keep(median(p.d[:p.n]) <= p.sleep)
		return p.on
	}
	p.n, p.left = 0, spinProbe-1
	return p.on
}

// sleeps reports how many more round trips, counting the current one,
// sleep before next must be called again: while the policy keeps the
// choice not to poll, the rest of the phase; otherwise 0 (every round
// trip goes through next).
func (p *spinPolicy) sleeps() int {
	if p.phase != spinKeeping || p.on {
		return 0
	}
	return p.left
}

// skip counts n round trips that slept without a call of next (see
// sleeps).
func (p *spinPolicy) skip(n int) {
	p.left = max(p.left-n, 0)
}

// median sorts d and returns its middle value. Round trips are compared
// by their median: a scheduling hiccup of a millisecond in one of them
// would outweigh the microseconds that polling saves on all the others.
func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[len(d)/2]
}

// keep ends a measurement with a choice.
func (p *spinPolicy) keep(on bool) {
	p.phase, p.on, p.left, p.misses, p.run = spinKeeping, on, spinKeep-1, 0, 0
}

// polled is told, after a wait that polled, whether the ACK came while it
// polled.
func (p *spinPolicy) polled(hit bool) {
	if hit {
		p.run = 0
		return
	}
	p.misses++
	p.run++
	switch {
	case p.phase == spinPolling && (p.run >= spinMaxRun || p.misses > spinMaxMisses):
		p.keep(false)
	case p.phase == spinKeeping && p.run >= spinMaxRun:
		p.on, p.run = false, 0 // until the next measurement
	}
}

// spinAllowed reports whether a transfer may poll: only while fewer
// transfers run than GOMAXPROCS, so that polling transfers leave at least
// one processor to the rest of the program.
func (s *Server) spinAllowed() bool {
	procs := runtime.GOMAXPROCS(0)
	if procs < 2 {
		return false
	}
	s.mu.Lock()
	n := len(s.transfers)
	s.mu.Unlock()
	return n < procs
}

// maxBusyPoll bounds Server.BusyPoll: a wait that polls notices neither
// its deadline nor a wake-up before the poll time is over.
const maxBusyPoll = time.Millisecond

// busyPoll is how long one wait polls; 0: never.
func (s *Server) busyPoll() time.Duration {
	switch {
	case s.BusyPoll < 0:
		return 0
	case s.BusyPoll == 0:
		return DefaultBusyPoll
	}
	return min(s.BusyPoll, maxBusyPoll)
}
