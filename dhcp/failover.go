package dhcp

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// A PeerStore is where the servers that share a pool say that they are
// alive: heartbeat rows in the shared database, so that the peers need
// no protocol of their own. Ages are measured on the store's clock, so
// the servers' clocks need not agree. Implementations must be safe for
// concurrent use.
type PeerStore interface {
	// Beat records that the server id is alive now.
	Beat(ctx context.Context, id string) error
	// Peers returns every server that has beaten, with the time since its
	// last beat.
	Peers(ctx context.Context) ([]Peer, error)
}

// Peer is a server sharing the pool, as a [PeerStore] last heard of it.
type Peer struct {
	ID  string
	Age time.Duration // since its last beat, on the store's clock
}

// Failover is a [Balancer] for servers that share a pool and a
// [PeerStore]: RFC 3074 load balancing whose split follows which servers
// are alive. Each server runs its own Failover with its own ID.
//
// The servers known are this one and every peer that has beaten within
// ForgetAfter, sorted by ID; bucket b belongs to the server at b mod N of
// that list (as [Split]). A server whose last beat is older than
// DeadAfter is down: its buckets go to the live servers, bucket b to the
// live server at b mod (live servers) in sorted order, until it beats
// again and gets them back. Until its first successful refresh a Failover
// serves every bucket (a shared [Allocator] store still gives no address
// twice); when the store cannot be reached it keeps the last split.
//
// Run beats and refreshes the split every Interval. Serves is lock-free.
// A Failover is safe for concurrent use; do not change its fields after
// Run starts.
type Failover struct {
	// ID names this server among its peers; it must be unique to it and
	// the same across restarts.
	ID string

	// Store holds the heartbeats, usually the lease store itself.
	Store PeerStore

	// Interval is the time between beats; zero means 1 second.
	Interval time.Duration

	// DeadAfter is the failover time: a peer silent for longer is down.
	// Zero means 5 × Interval.
	DeadAfter time.Duration

	// ForgetAfter drops a peer silent for longer from the split
	// altogether (a server taken out of service); zero means 1 hour.
	ForgetAfter time.Duration

	// Logger receives a warning when a peer goes down or the store
	// cannot be reached, and an info line when a peer comes (back) up;
	// nil discards.
	Logger *slog.Logger

	served atomic.Pointer[[256]bool]
	mu     sync.Mutex
	live   []string // the live peers of the last refresh, sorted
	failed bool     // the last refresh failed
}

func (f *Failover) interval() time.Duration {
	if f.Interval > 0 {
		return f.Interval
	}
	return time.Second
}

func (f *Failover) deadAfter() time.Duration {
	if f.DeadAfter > 0 {
		return f.DeadAfter
	}
	return 5 * f.interval()
}

func (f *Failover) forgetAfter() time.Duration {
	if f.ForgetAfter > 0 {
		return f.ForgetAfter
	}
	return time.Hour
}

func (f *Failover) logger() *slog.Logger {
	if f.Logger != nil {
		return f.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Serves reports whether this server answers bucket in the last split.
func (f *Failover) Serves(bucket uint8) bool {
	s := f.served.Load()
	return s == nil || s[bucket]
}

// Run beats and refreshes the split every Interval until ctx ends, and
// returns ctx's error. Failures are logged, and retried at the next beat.
func (f *Failover) Run(ctx context.Context) error {
	t := time.NewTicker(f.interval())
	defer t.Stop()
	for {
		f.Refresh(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Refresh beats once and recomputes the split from the peers' ages.
func (f *Failover) Refresh(ctx context.Context) error {
	err := f.Store.Beat(ctx, f.ID)
	var peers []Peer
	if err == nil {
		peers, err = f.Store.Peers(ctx)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		if !f.failed && ctx.Err() == nil {
			f.logger().Warn("dhcp: failover: peer store unreachable; keeping the last split", "id", f.ID, "err", err)
		}
		f.failed = true
		return err
	}
	if f.failed {
		f.logger().Info("dhcp: failover: peer store reachable again", "id", f.ID)
		f.failed = false
	}
	served, live := splitBuckets(f.ID, peers, f.deadAfter(), f.forgetAfter())
	for _, id := range f.live {
		if !slices.Contains(live, id) {
			f.logger().Warn("dhcp: failover: peer down; serving its clients", "id", f.ID, "peer", id, "dead_after", f.deadAfter())
		}
	}
	for _, id := range live {
		if f.live != nil && !slices.Contains(f.live, id) {
			f.logger().Info("dhcp: failover: peer up; its clients return to it", "id", f.ID, "peer", id)
		}
	}
	f.live = live
	f.served.Store(&served)
	return nil
}

// splitBuckets computes which buckets self serves among peers (see
// Failover), and the live servers, sorted.
func splitBuckets(self string, peers []Peer, deadAfter, forgetAfter time.Duration) (served [256]bool, live []string) {
	known := []string{self}
	live = []string{self}
	for _, p := range peers {
		if p.ID == self || slices.Contains(known, p.ID) {
			continue
		}
		if p.Age < forgetAfter {
			known = append(known, p.ID)
		}
		if p.Age < deadAfter {
			live = append(live, p.ID)
		}
	}
	slices.SortFunc(known, strings.Compare)
	slices.SortFunc(live, strings.Compare)
	for b := range served {
		owner := known[b%len(known)]
		if !slices.Contains(live, owner) {
			owner = live[b%len(live)]
		}
		served[b] = owner == self
	}
	return served, live
}
