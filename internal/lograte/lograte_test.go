package lograte

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a slog.Handler that keeps each record as one line of text:
// the message, then key=value attributes.
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	b.WriteString(rec.Level.String() + " " + rec.Message)
	rec.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	r.mu.Lock()
	r.lines = append(r.lines, b.String())
	r.mu.Unlock()
	return nil
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.lines
	r.lines = nil
	return l
}

// clock is a fake clock that moves only when told.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newFake(burst int, iv time.Duration, maxKeys int) (*Limiter, *clock, *slog.Logger, *recorder) {
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	rec := &recorder{}
	return &Limiter{Burst: burst, Interval: iv, MaxKeys: maxKeys, Now: c.now}, c, slog.New(rec), rec
}

var (
	a1 = netip.MustParseAddr("192.0.2.1")
	a2 = netip.MustParseAddr("192.0.2.2")
)

func logN(l *Limiter, log *slog.Logger, client netip.Addr, msg string, n int) (passed int) {
	for i := range n {
		if l.Log(context.Background(), log, slog.LevelWarn, client, msg, "i", i) {
			passed++
		}
	}
	return passed
}

func TestBurstAndSummary(t *testing.T) {
	l, c, log, rec := newFake(3, 10*time.Second, 0)
	if got := logN(l, log, a1, "bad", 10); got != 3 {
		t.Errorf("Log passed %d of 10 lines, want 3", got)
	}
	want := []string{"WARN bad i=0", "WARN bad i=1", "WARN bad i=2"}
	if got := rec.take(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("lines %q, want %q", got, want)
	}
	c.advance(9 * time.Second)
	if logN(l, log, a1, "bad", 1) != 0 {
		t.Error("line passed before the interval ended")
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("lines %q before the interval ended, want none", got)
	}
	c.advance(time.Second)
	if logN(l, log, a1, "bad", 1) != 1 {
		t.Error("line held back after the interval ended")
	}
	want = []string{"WARN bad: lines suppressed client=192.0.2.1 suppressed=8 interval=10s", "WARN bad i=0"}
	if got := rec.take(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after the interval: lines %q, want %q", got, want)
	}
	// A quiet interval has no summary.
	c.advance(10 * time.Second)
	logN(l, log, a1, "bad", 1)
	if got := rec.take(); len(got) != 1 {
		t.Errorf("after a quiet interval: lines %q, want one", got)
	}
}

func TestKeys(t *testing.T) {
	l, _, log, rec := newFake(2, time.Second, 0)
	for _, k := range []struct {
		client netip.Addr
		msg    string
	}{{a1, "x"}, {a1, "y"}, {a2, "x"}, {netip.Addr{}, "x"}} {
		if got := logN(l, log, k.client, k.msg, 5); got != 2 {
			t.Errorf("%v %q: passed %d of 5, want 2 (pairs are separate)", k.client, k.msg, got)
		}
	}
	if n := len(rec.take()); n != 8 {
		t.Errorf("%d lines, want 8", n)
	}
}

func TestSweep(t *testing.T) {
	l, c, log, rec := newFake(1, time.Second, 0)
	l.MessageBurst = 1 << 30
	for i := range 100 {
		logN(l, log, netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), "m", 2)
	}
	rec.take()
	if n := len(l.keys); n != 100 {
		t.Fatalf("%d keys tracked, want 100", n)
	}
	c.advance(time.Second)
	logN(l, log, a1, "other", 1)
	got := rec.take()
	if len(got) != 101 || !strings.Contains(got[0], "m: lines suppressed client=10.0.0.") || !strings.Contains(got[100], "other") {
		t.Errorf("after the interval: %d lines (%q ... %q), want 100 summaries then the line", len(got), got[0], got[len(got)-1])
	}
	if n := len(l.keys); n != 1 {
		t.Errorf("%d keys tracked after the sweep, want 1", n)
	}
}

func TestMaxKeys(t *testing.T) {
	l, c, log, rec := newFake(2, time.Second, 3)
	passed := 0
	for i := range 100_000 {
		passed += logN(l, log, netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), "m", 1)
	}
	if n := len(l.keys); n != 3 {
		t.Errorf("%d keys tracked, want MaxKeys=3", n)
	}
	if passed != 3+2 { // three tracked clients, two lines of the overflow
		t.Errorf("%d lines passed, want 5", passed)
	}
	rec.take()
	c.advance(time.Second)
	l.Log(context.Background(), log, slog.LevelWarn, a1, "m")
	want := "WARN lograte: lines suppressed (more clients than tracked) suppressed=99995 interval=1s"
	if got := rec.take(); len(got) != 2 || got[0] != want {
		t.Errorf("after the interval: %q, want %q then the line", got, want)
	}
}

func TestFlush(t *testing.T) {
	l, _, log, rec := newFake(1, time.Hour, 1)
	logN(l, log, a1, "m", 4)
	logN(l, log, a2, "m", 3) // overflow
	rec.take()
	l.Flush()
	got := rec.take()
	want := []string{
		"WARN lograte: lines suppressed (more clients than tracked) suppressed=2 interval=1h0m0s",
		"WARN m: lines suppressed client=192.0.2.1 suppressed=3 interval=1h0m0s",
	}
	if len(got) == 2 && strings.HasPrefix(got[0], "WARN m") {
		got[0], got[1] = got[1], got[0]
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Flush wrote %q, want %q", got, want)
	}
	if logN(l, log, a1, "m", 1) != 1 {
		t.Error("after Flush: line held back, want a fresh window")
	}
	l.Flush()
	if got := rec.take(); len(got) != 1 {
		t.Errorf("second Flush: %q, want only the line", got)
	}
}

func TestUnlimitedAndNilLogger(t *testing.T) {
	l, _, log, rec := newFake(-1, time.Second, 0)
	if got := logN(l, log, a1, "m", 50); got != 50 {
		t.Errorf("Burst -1: passed %d of 50", got)
	}
	if n := len(rec.take()); n != 50 {
		t.Errorf("Burst -1: %d lines, want 50", n)
	}
	var z Limiter
	z.Now = l.Now
	if got := logN(&z, nil, a1, "m", 50); got != DefaultBurst {
		t.Errorf("zero Limiter, nil logger: passed %d, want DefaultBurst", got)
	}
}

// TestLevel: the summary has the level of the lines it stands for.
func TestLevel(t *testing.T) {
	l, c, log, rec := newFake(1, time.Second, 0)
	for range 3 {
		l.Log(context.Background(), log, slog.LevelDebug, a1, "m")
	}
	c.advance(time.Second)
	l.Flush()
	if got := rec.take(); len(got) != 2 || !strings.HasPrefix(got[1], "DEBUG m: lines suppressed") {
		t.Errorf("lines %q, want a DEBUG summary", got)
	}
}

// TestTimer: with the real clock, the summary comes when the interval
// ends even if no further line is logged.
func TestTimer(t *testing.T) {
	rec := &recorder{}
	log := slog.New(rec)
	l := &Limiter{Burst: 1, Interval: 50 * time.Millisecond}
	logN(l, log, a1, "m", 3)
	deadline := time.Now().Add(5 * time.Second)
	var got []string
	for time.Now().Before(deadline) && len(got) < 2 {
		time.Sleep(10 * time.Millisecond)
		rec.mu.Lock()
		got = append([]string(nil), rec.lines...)
		rec.mu.Unlock()
	}
	if len(got) != 2 || !strings.HasPrefix(got[1], "WARN m: lines suppressed client=192.0.2.1 suppressed=2") {
		t.Errorf("lines %q, want the line and a summary of 2", got)
	}
	l.Flush()
}

func TestConcurrent(t *testing.T) {
	rec := &recorder{}
	log := slog.New(rec)
	l := &Limiter{Burst: 5, Interval: time.Hour, MaxKeys: 8, MessageBurst: 1 << 30}
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed := 0
	for g := range 8 {
		wg.Go(func() {
			n := 0
			for i := range 1000 {
				n += logN(l, log, netip.AddrFrom4([4]byte{10, 0, byte(g), byte(i % 4)}), "m", 1)
			}
			mu.Lock()
			passed += n
			mu.Unlock()
		})
	}
	wg.Wait()
	// 32 pairs: 8 tracked (5 lines each), the rest share the overflow's 5.
	if passed != 8*5+5 {
		t.Errorf("%d lines passed, want 45", passed)
	}
	l.Flush()
	sum := 0
	for _, line := range rec.take() {
		var n int
		if i := strings.Index(line, "suppressed="); i >= 0 {
			fmt.Sscanf(line[i:], "suppressed=%d", &n)
			sum += n
		}
	}
	if sum != 8000-passed {
		t.Errorf("summaries count %d suppressed lines, want %d", sum, 8000-passed)
	}
}

func BenchmarkLog(b *testing.B) {
	l := &Limiter{}
	log := slog.New(slog.DiscardHandler)
	b.ReportAllocs()
	for b.Loop() {
		l.Log(context.Background(), log, slog.LevelWarn, a1, "m")
	}
	l.Flush()
}

// A flood of one message from many addresses (forged ones cost nothing)
// is bounded as a whole, and summed up in one line.
func TestMessageBurst(t *testing.T) {
	l, c, log, rec := newFake(20, time.Second, 0)
	passed := 0
	for i := range 4000 {
		passed += logN(l, log, netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), "m", 5)
	}
	if want := DefaultMessageBurst * 20; passed != want {
		t.Errorf("%d lines passed, want %d", passed, want)
	}
	rec.take()
	c.advance(time.Second)
	logN(l, log, a1, "m", 1)
	got := rec.take()
	if len(got) != 2 || got[0] != "WARN m: lines suppressed client=many suppressed=19900 interval=1s" {
		t.Errorf("after the interval: %q, want one message-wide summary of 19900 and the line", got)
	}
}
