package dhcp

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakePeers is a PeerStore whose ages the test sets.
type fakePeers struct {
	mu    sync.Mutex
	ages  map[string]time.Duration
	err   error
	beats map[string]int
}

func (p *fakePeers) Beat(ctx context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.ages[id] = 0
	p.beats[id]++
	return nil
}

func (p *fakePeers) Peers(ctx context.Context) ([]Peer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Peer
	for id, a := range p.ages {
		out = append(out, Peer{ID: id, Age: a})
	}
	return out, p.err
}

func (p *fakePeers) set(id string, age time.Duration) {
	p.mu.Lock()
	p.ages[id] = age
	p.mu.Unlock()
}

func owners(fs ...*Failover) (counts []int, overlap, gap int) {
	counts = make([]int, len(fs))
	for b := range 256 {
		n := 0
		for i, f := range fs {
			if f.Serves(uint8(b)) {
				counts[i]++
				n++
			}
		}
		switch {
		case n > 1:
			overlap++
		case n == 0:
			gap++
		}
	}
	return counts, overlap, gap
}

// TestFailoverSplit: two servers split the buckets as Split does; when
// one stops beating for longer than DeadAfter the other serves every
// bucket, and the buckets return when it beats again. A third server's
// death shares its buckets between the two others.
func TestFailoverSplit(t *testing.T) {
	ctx := context.Background()
	st := &fakePeers{ages: map[string]time.Duration{}, beats: map[string]int{}}
	a := &Failover{ID: "a", Store: st, DeadAfter: 3 * time.Second}
	b := &Failover{ID: "b", Store: st, DeadAfter: 3 * time.Second}
	if got, _, _ := owners(a); got[0] != 256 {
		t.Fatalf("before its first refresh a serves %d buckets, want 256", got[0])
	}
	refresh := func(fs ...*Failover) {
		t.Helper()
		for _, f := range fs {
			if err := f.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	refresh(a, b, a)
	if got, ov, gap := owners(a, b); got[0] != 128 || got[1] != 128 || ov != 0 || gap != 0 {
		t.Fatalf("both alive: buckets %v, overlap %d, gap %d; want 128 each", got, ov, gap)
	}
	for bk := range 256 {
		if a.Serves(uint8(bk)) != (Split{Index: 0, N: 2}).Serves(uint8(bk)) {
			t.Fatalf("bucket %d: a serves %v, Split{0,2} %v", bk, a.Serves(uint8(bk)), !a.Serves(uint8(bk)))
		}
	}

	st.set("b", 2*time.Second) // late, not dead
	refresh(a)
	if got, _, _ := owners(a); got[0] != 128 {
		t.Fatalf("b silent 2 s of 3: a serves %d, want 128", got[0])
	}
	st.set("b", 4*time.Second)
	refresh(a)
	if got, _, _ := owners(a); got[0] != 256 {
		t.Fatalf("b silent 4 s: a serves %d, want 256", got[0])
	}
	refresh(b) // b is back
	refresh(a)
	if got, ov, gap := owners(a, b); got[0] != 128 || got[1] != 128 || ov != 0 || gap != 0 {
		t.Fatalf("b back: buckets %v, overlap %d, gap %d; want 128 each", got, ov, gap)
	}

	c := &Failover{ID: "c", Store: st, DeadAfter: 3 * time.Second}
	refresh(c, a, b, c)
	if got, ov, gap := owners(a, b, c); ov != 0 || gap != 0 || got[0] < 85 || got[2] < 85 {
		t.Fatalf("three alive: buckets %v, overlap %d, gap %d", got, ov, gap)
	}
	st.set("b", time.Minute)
	refresh(a, c)
	if got, ov, gap := owners(a, c); ov != 0 || gap != 0 || got[0]+got[1] != 256 || got[0] < 120 || got[1] < 120 {
		t.Fatalf("b dead: a and c serve %v, overlap %d, gap %d; want b's shared", got, ov, gap)
	}
	st.set("b", 2*time.Hour) // forgotten: the split is between a and c alone
	refresh(a, c)
	if got, _, _ := owners(a, c); got[0] != 128 || got[1] != 128 {
		t.Fatalf("b forgotten: %v, want 128 each", got)
	}

	// The store fails: the last split stays.
	st.mu.Lock()
	st.err = errors.New("connection refused")
	st.mu.Unlock()
	if err := a.Refresh(ctx); err == nil {
		t.Fatal("Refresh with the store down: no error")
	}
	if got, _, _ := owners(a); got[0] != 128 {
		t.Fatalf("store down: a serves %d, want its last 128", got[0])
	}
}

// TestFailoverRun: Run beats every Interval until its context ends.
func TestFailoverRun(t *testing.T) {
	st := &fakePeers{ages: map[string]time.Duration{}, beats: map[string]int{}}
	f := &Failover{ID: "a", Store: st, Interval: 10 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := f.Run(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %v, want the context's error", err)
	}
	st.mu.Lock()
	n := st.beats["a"]
	st.mu.Unlock()
	if n < 5 {
		t.Errorf("%d beats in 200 ms at 10 ms intervals", n)
	}
}
