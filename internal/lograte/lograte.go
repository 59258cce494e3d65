// Package lograte limits the log lines that remote peers can cause. A
// server that logs one line per bad packet lets any client fill its logs
// (and its disk) at line rate; a [Limiter] lets through a few lines per
// message and client address, counts the rest, and writes one summary line
// per message and client when the interval ends.
//
// It is shared by pxekit's servers; it is not part of the public API.
package lograte

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"time"
)

// Defaults for the zero values of [Limiter] fields.
const (
	DefaultBurst    = 20
	DefaultInterval = 10 * time.Second
	DefaultMaxKeys  = 4096
	// DefaultMessageBurst, times Burst, is how many lines of one message
	// pass per Interval over all clients together.
	DefaultMessageBurst = 5
)

// A Limiter passes at most Burst lines per Interval for each pair of
// message and client address, and counts what it holds back. When a
// pair's interval has ended, the next line for it, any line after the
// next sweep (one per Interval), a timer (with the real clock) or
// [Limiter.Flush] writes one summary line for the pair:
//
//	level=WARN msg="tftp: request dropped: lines suppressed" client=192.0.2.7 suppressed=4711 interval=10s
//
// at the level of the lines it stands for, through the logger they were
// given to. At most MaxKeys pairs are tracked; lines for further pairs
// share one overflow pair (its summary names no client), so a flood from
// random addresses cannot grow memory.
//
// The zero value is ready to use with the defaults. Fields must not be
// changed after the first call. A Limiter is safe for concurrent use.
type Limiter struct {
	// Burst is how many lines each pair may log per Interval (default
	// DefaultBurst); a negative value turns limiting off.
	Burst int
	// Interval is the length of the window the Burst applies to (default
	// DefaultInterval).
	Interval time.Duration
	// MaxKeys bounds the pairs tracked (default DefaultMaxKeys).
	MaxKeys int
	// MessageBurst is how many lines of one message may pass per Interval
	// over all clients together (default DefaultMessageBurst × Burst), so
	// that a flood from many addresses, forged or not, is bounded too; the
	// lines held back by it are summed up in one line per message.
	MessageBurst int
	// Now, if set, replaces time.Now (tests). With it set no timer runs:
	// summaries are written by the next call after an interval ends, or
	// by Flush.
	Now func() time.Time

	mu        sync.Mutex
	keys      map[key]*entry
	msgs      map[string]*entry // message-wide windows
	overflow  entry
	nextSweep time.Time
	timer     *time.Timer
}

type key struct {
	msg    string
	client netip.Addr
}

// entry is one pair's window.
type entry struct {
	start      time.Time // when the window began
	n          int       // lines passed in the window
	suppressed int       // lines held back in the window
	log        *slog.Logger
	level      slog.Level
}

// summary is a summary line to write once the lock is released.
type summary struct {
	key      key
	overflow bool
	all      bool // message-wide: lines held back by MessageBurst
	n        int
	log      *slog.Logger
	level    slog.Level
}

// Log writes the line (msg with args, as [slog.Logger.Log] takes them) to
// log at level unless client has used up its lines for msg, and reports
// whether it did (see [Limiter.Allow]).
func (l *Limiter) Log(ctx context.Context, log *slog.Logger, level slog.Level, client netip.Addr, msg string, args ...any) bool {
	if !l.Allow(ctx, log, level, client, msg) {
		return false
	}
	if log != nil {
		log.Log(ctx, level, msg, args...)
	}
	return true
}

// Allow counts one line of msg for client and reports whether it may be
// written; the caller writes it (with [slog.Logger.LogAttrs], say). It
// first writes, to log, the summary of an interval of this pair that has
// ended and, once per interval, those of other pairs. Lines are counted
// whether or not log is enabled at level, so the result can also gate a
// reply to client. A nil log discards summaries too.
func (l *Limiter) Allow(ctx context.Context, log *slog.Logger, level slog.Level, client netip.Addr, msg string) bool {
	if l.Burst < 0 {
		return true
	}
	if log == nil {
		log = discard
	}
	now := l.now()
	iv := l.interval()
	k := key{msg, client}

	l.mu.Lock()
	var sums []summary
	if !now.Before(l.nextSweep) {
		sums = l.sweepLocked(now, false, sums)
	}
	e, over := l.entryLocked(k, now)
	if now.Sub(e.start) >= iv {
		if e.suppressed > 0 {
			sums = append(sums, summary{key: k, overflow: over, n: e.suppressed, log: e.log, level: e.level})
		}
		*e = entry{start: now}
	}
	e.log, e.level = log, level
	ok := e.n < l.burst()
	held := e
	if ok {
		m := l.msgs[msg]
		if m == nil {
			if l.msgs == nil {
				l.msgs = make(map[string]*entry)
			}
			m = &entry{start: now}
			l.msgs[msg] = m
		} else if now.Sub(m.start) >= iv {
			if m.suppressed > 0 {
				sums = append(sums, summary{key: key{msg: msg}, all: true, n: m.suppressed, log: m.log, level: m.level})
			}
			*m = entry{start: now}
		}
		m.log, m.level = log, level
		if m.n < l.messageBurst() {
			m.n++
			e.n++
		} else {
			ok, held = false, m
		}
	}
	if !ok {
		held.suppressed++
		if l.timer == nil && l.Now == nil {
			l.timer = time.AfterFunc(held.start.Add(iv).Sub(now), l.onTimer)
		}
	}
	l.mu.Unlock()

	l.write(ctx, sums)
	return ok
}

// Flush writes the summary of every pair that has held lines back, whether
// or not its interval has ended, and starts those pairs afresh. A server
// calls it when it shuts down.
func (l *Limiter) Flush() {
	l.mu.Lock()
	sums := l.sweepLocked(l.now(), true, nil)
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	l.mu.Unlock()
	l.write(context.Background(), sums)
}

// onTimer writes the summaries of the intervals that have ended, and
// waits again for those still running.
func (l *Limiter) onTimer() {
	now := l.now()
	iv := l.interval()
	l.mu.Lock()
	l.timer = nil
	sums := l.sweepLocked(now, false, nil)
	var next time.Time
	pending := func(e *entry) {
		if end := e.start.Add(iv); e.suppressed > 0 && (next.IsZero() || end.Before(next)) {
			next = end
		}
	}
	for _, e := range l.keys {
		pending(e)
	}
	for _, e := range l.msgs {
		pending(e)
	}
	pending(&l.overflow)
	if !next.IsZero() {
		l.timer = time.AfterFunc(max(next.Sub(now), time.Millisecond), l.onTimer)
	}
	l.mu.Unlock()
	l.write(context.Background(), sums)
}

// entryLocked returns k's entry, creating it if there is room, else the
// overflow entry.
func (l *Limiter) entryLocked(k key, now time.Time) (*entry, bool) {
	if e := l.keys[k]; e != nil {
		return e, false
	}
	if l.keys == nil {
		l.keys = make(map[key]*entry)
	}
	if len(l.keys) >= l.maxKeys() {
		if l.overflow.start.IsZero() {
			l.overflow.start = now
		}
		return &l.overflow, true
	}
	e := &entry{start: now}
	l.keys[k] = e
	return e, false
}

// sweepLocked forgets the pairs whose interval has ended (all of them
// with all) and returns their summaries, appended to sums.
func (l *Limiter) sweepLocked(now time.Time, all bool, sums []summary) []summary {
	iv := l.interval()
	l.nextSweep = now.Add(iv)
	for k, e := range l.keys {
		if all || now.Sub(e.start) >= iv {
			if e.suppressed > 0 {
				sums = append(sums, summary{key: k, n: e.suppressed, log: e.log, level: e.level})
			}
			delete(l.keys, k)
		}
	}
	for msg, e := range l.msgs {
		if all || now.Sub(e.start) >= iv {
			if e.suppressed > 0 {
				sums = append(sums, summary{key: key{msg: msg}, all: true, n: e.suppressed, log: e.log, level: e.level})
			}
			delete(l.msgs, msg)
		}
	}
	if e := &l.overflow; !e.start.IsZero() && (all || now.Sub(e.start) >= iv) {
		if e.suppressed > 0 {
			sums = append(sums, summary{overflow: true, n: e.suppressed, log: e.log, level: e.level})
		}
		*e = entry{}
	}
	return sums
}

func (l *Limiter) write(ctx context.Context, sums []summary) {
	iv := l.interval()
	for _, s := range sums {
		if s.all {
			s.log.Log(ctx, s.level, s.key.msg+": lines suppressed",
				"client", "many", "suppressed", s.n, "interval", iv)
			continue
		}
		if s.overflow {
			s.log.Log(ctx, s.level, "lograte: lines suppressed (more clients than tracked)",
				"suppressed", s.n, "interval", iv)
			continue
		}
		s.log.Log(ctx, s.level, s.key.msg+": lines suppressed",
			"client", s.key.client, "suppressed", s.n, "interval", iv)
	}
}

func (l *Limiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *Limiter) burst() int {
	if l.Burst == 0 {
		return DefaultBurst
	}
	return l.Burst
}

func (l *Limiter) messageBurst() int {
	if l.MessageBurst > 0 {
		return l.MessageBurst
	}
	return DefaultMessageBurst * l.burst()
}

func (l *Limiter) interval() time.Duration {
	if l.Interval <= 0 {
		return DefaultInterval
	}
	return l.Interval
}

func (l *Limiter) maxKeys() int {
	if l.MaxKeys <= 0 {
		return DefaultMaxKeys
	}
	return l.MaxKeys
}

var discard = slog.New(slog.DiscardHandler)
