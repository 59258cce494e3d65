package main

import (
	"io"
	"sync"
	"time"
)

// logWriter passes the log on to w in batches: a line after a quiet
// spell (none written for every) is written at once; the lines that
// follow it closely are collected and written together every, so that a
// busy server (a line per DHCP reply, hundreds a second) makes one write
// per interval instead of one per line. Close writes what is left.
type logWriter struct {
	w     io.Writer
	every time.Duration

	mu    sync.Mutex
	buf   []byte
	last  time.Time   // when buf was last written
	timer *time.Timer // pending write of buf, nil for none
}

// logBatchMax is where a batch is written before its time.
const logBatchMax = 64 << 10

func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	switch {
	case len(l.buf) >= logBatchMax:
		l.flushLocked()
	case l.timer != nil: // written with the batch
	case time.Since(l.last) >= l.every:
		l.flushLocked()
	default:
		l.timer = time.AfterFunc(l.every-time.Since(l.last), l.flush)
	}
	return len(p), nil
}

func (l *logWriter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.timer = nil
	l.flushLocked()
}

func (l *logWriter) flushLocked() {
	if len(l.buf) > 0 {
		l.w.Write(l.buf) // nowhere to report a failing log
		l.buf = l.buf[:0]
	}
	l.last = time.Now()
}

// Close writes the lines not yet written.
func (l *logWriter) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	l.flushLocked()
	return nil
}
