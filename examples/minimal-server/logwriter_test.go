package main

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

// countWriter records each Write it gets.
type countWriter struct {
	mu     sync.Mutex
	writes []string
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = append(c.writes, string(p))
	return len(p), nil
}

func (c *countWriter) get() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.writes...)
}

// TestLogWriter: a line after a quiet spell is written at once, the lines
// right behind it together after the interval, and Close writes the rest.
func TestLogWriter(t *testing.T) {
	const every = 200 * time.Millisecond
	cw := &countWriter{}
	lw := &logWriter{w: cw, every: every}
	lw.Write([]byte("a\n"))
	if got := cw.get(); len(got) != 1 || got[0] != "a\n" {
		t.Fatalf("after the first line: writes %q, want [\"a\\n\"] at once", got)
	}
	for _, l := range []string{"b\n", "c\n", "d\n"} {
		lw.Write([]byte(l))
	}
	if got := cw.get(); len(got) != 1 {
		t.Fatalf("lines right behind the first: writes %q, want them held back", got)
	}
	time.Sleep(every + 200*time.Millisecond)
	if got := cw.get(); len(got) != 2 || got[1] != "b\nc\nd\n" {
		t.Fatalf("after the interval: writes %q, want [a, bcd]", got)
	}
	time.Sleep(every + 100*time.Millisecond)
	lw.Write([]byte("e\n")) // the interval has passed since the last write
	lw.Write([]byte("f\n"))
	lw.Close()
	if got := cw.get(); len(got) != 4 || got[2] != "e\n" || got[3] != "f\n" {
		t.Fatalf("after Close: writes %q, want [a, bcd, e, f]", got)
	}
	big := bytes.Repeat([]byte("x"), logBatchMax)
	lw.Write([]byte("g\n"))
	lw.Write(big)
	if got := cw.get(); len(got) != 5 {
		t.Fatalf("a batch of %d bytes: %d writes, want it written before its time", logBatchMax, len(got))
	}
	lw.Close()
}
