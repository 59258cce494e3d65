//go:build !linux

package tftp

import (
	"net"
	"time"
)

// newBatchWriter: without sendmmsg(2), windows are sent one packet at a
// time.
func newBatchWriter(*net.UDPConn) batchWriter { return nil }

// threadWait: waiting on the goroutine's own thread is Linux-only.
type threadWait struct{ efd int }

func (w *threadWait) init()  { w.efd = -1 }
func (w *threadWait) close() {}
func (w *threadWait) wake()  {}

func (l *sockLink) threadRead([]byte, time.Time) (int, bool, error) { return 0, true, errWait }
