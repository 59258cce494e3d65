package events

import (
	"net"
	"sync/atomic"
	"testing"
	"time"
)

func TestQueueDropsWhenConsumerIsSlow(t *testing.T) {
	release := make(chan struct{})
	var seen atomic.Int64
	q := NewQueue(HookFunc(func(e Event) {
		<-release
		seen.Add(1)
	}), 4)
	start := time.Now()
	mac := net.HardwareAddr{1, 2, 3, 4, 5, 6}
	for range 100 {
		q.Observe(Event{Kind: KindRequest, MAC: mac})
	}
	mac[0] = 9 // the queue copied the MAC
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("100 Observe calls behind a stuck consumer took %v", d)
	}
	// At most the buffer (4) and the one the consumer holds got through.
	if got := q.Dropped(); got < 95 || got > 96 {
		t.Errorf("Dropped() = %d, want 95 or 96", got)
	}
	close(release)
	q.Close()
	if got := seen.Load() + int64(q.Dropped()); got != 100 {
		t.Errorf("seen + dropped = %d, want 100", got)
	}
	q.Observe(Event{})
	if got := seen.Load() + int64(q.Dropped()); got != 101 {
		t.Errorf("after Close: seen + dropped = %d, want 101", got)
	}
}

func TestQueueCopiesMAC(t *testing.T) {
	got := make(chan string, 1)
	q := NewQueue(HookFunc(func(e Event) { got <- e.MAC.String() }), 1)
	mac := net.HardwareAddr{1, 2, 3, 4, 5, 6}
	q.Observe(Event{MAC: mac})
	mac[0] = 9
	q.Close()
	if s := <-got; s != "01:02:03:04:05:06" {
		t.Errorf("consumer saw MAC %s, want 01:02:03:04:05:06", s)
	}
}

func TestTee(t *testing.T) {
	var a, b int
	h := Tee(HookFunc(func(Event) { a++ }), nil, HookFunc(func(Event) { b++ }))
	h.Observe(Event{})
	h.Observe(Event{})
	if a != 2 || b != 2 {
		t.Errorf("Tee: hooks called %d and %d times, want 2 and 2", a, b)
	}
}

func TestProtoText(t *testing.T) {
	b, _ := ProtoHTTP.MarshalText()
	var p Proto
	if err := p.UnmarshalText(b); err != nil || p != ProtoHTTP {
		t.Errorf("round trip of %s: %v, %v", b, p, err)
	}
	if err := p.UnmarshalText([]byte("unknown")); err == nil {
		t.Error("unknown protocol accepted")
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{ProtoDHCP.String(), "dhcp"}, {ProtoHTTP.String(), "http"}, {Proto(0).String(), "unknown"},
		{KindReply.String(), "reply"}, {KindDone.String(), "done"}, {Kind(99).String(), "unknown"},
	} {
		if tc.got != tc.want {
			t.Errorf("String() = %q, want %q", tc.got, tc.want)
		}
	}
}

// TestQueueGathers: events that come 1 ms apart reach the consumer in
// batches, not one wake-up each; the first after a quiet spell at once.
func TestQueueGathers(t *testing.T) {
	var calls []time.Time
	q := NewQueue(HookFunc(func(Event) { calls = append(calls, time.Now()) }), 1024)
	t0 := time.Now()
	q.Observe(Event{})
	time.Sleep(time.Millisecond)
	for range 59 {
		q.Observe(Event{})
		time.Sleep(time.Millisecond)
	}
	q.Close() // after Close the consumer is done: calls is safe to read
	if len(calls) != 60 {
		t.Fatalf("consumer saw %d events, want 60", len(calls))
	}
	if d := calls[0].Sub(t0); d > queueGather/2+time.Millisecond {
		t.Errorf("first event after a quiet spell reached the consumer after %v, want at once", d)
	}
	wakes := 1
	for i := 1; i < len(calls); i++ {
		if calls[i].Sub(calls[i-1]) > 500*time.Microsecond {
			wakes++
		}
	}
	if wakes > 30 {
		t.Errorf("60 events 1 ms apart: the consumer woke %d times, want them gathered (about one wake per %v)", wakes, queueGather)
	}
}
