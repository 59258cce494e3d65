package tftp

import (
	"io"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	pintftp "github.com/pin/tftp/v3"
	"github.com/pxekit/pxekit/events"
)

func TestEventHook(t *testing.T) {
	var mu sync.Mutex
	var got []events.Event
	done := make(chan struct{}, 4)
	h := EventHook(events.HookFunc(func(e events.Event) {
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
		if e.Kind == events.KindDone {
			done <- struct{}{}
		}
	}))
	data := randomBytes(5000, 1)
	addr := startServer(t, &Server{FS: fstest.MapFS{"boot/vmlinuz": {Data: data}}, Hook: h})
	c, err := pintftp.NewClient(addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetBlockSize(1024)
	wt, err := c.Receive("boot/vmlinuz", "octet")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wt.WriteTo(io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Receive("missing", "octet"); err == nil {
		t.Fatal("missing file received")
	}
	for range 2 {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("no done event")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 5 {
		t.Fatalf("events %+v, want start, options, done, start, done", got)
	}
	find := func(file string, k events.Kind) events.Event {
		for _, e := range got {
			if e.File == file && e.Kind == k {
				return e
			}
		}
		t.Fatalf("no %v event for %s in %+v", k, file, got)
		return events.Event{}
	}
	s, d := find("boot/vmlinuz", events.KindStart), find("boot/vmlinuz", events.KindDone)
	if s.Proto != events.ProtoTFTP || !s.Addr.IsLoopback() {
		t.Errorf("start event %+v", s)
	}
	if d.Bytes != 5000 || d.Size != 5000 || d.Outcome != "ok" || d.Duration <= 0 || d.Retransmits != 0 || d.Addr != s.Addr || d.BlockSize != 1024 || d.WindowSize != 1 {
		t.Errorf("done event %+v", d)
	}
	if o := find("boot/vmlinuz", events.KindOptions); o.BlockSize != 1024 || o.WindowSize != 1 || o.Size != -1 || o.Addr != s.Addr || o.Time.Before(s.Time) || o.Time.After(d.Time) {
		t.Errorf("options event %+v", o)
	}
	if m := find("missing", events.KindDone); m.Outcome != "not-found" || m.Err == nil {
		t.Errorf("missing file: done event %+v", m)
	}
	find("missing", events.KindStart)
}

// TestOptionsEventTSizeTimeout: a client that asks for tsize (RFC 2349,
// value 0 in a read request) and a timeout gets them in the OACK, and the
// options event says the same: Size is the file's size, Timeout the
// timeout agreed. NoTransferLog leaves the transfer's log line out, not
// its events.
func TestOptionsEventTSizeTimeout(t *testing.T) {
	evc := make(chan events.Event, 8)
	h := EventHook(events.HookFunc(func(e events.Event) { evc <- e }))
	log, lb := newLogger()
	data := randomBytes(3000, 2)
	addr := startServer(t, &Server{FS: fstest.MapFS{"boot/vmlinuz": {Data: data}}, Hook: h, Logger: log, NoTransferLog: true})
	c := newRawClient(t, addr)
	c.sendRRQ("boot/vmlinuz", "octet", "tsize", "0", "timeout", "3", "blksize", "1024")
	oack := options(t, c.mustRecv())
	if oack["tsize"] != "3000" || oack["timeout"] != "3" {
		t.Fatalf("OACK %v, want tsize 3000 and timeout 3", oack)
	}
	c.send(ack(0))
	if got := c.fetch(1024); len(got) != len(data) {
		t.Fatalf("got %d bytes, want %d", len(got), len(data))
	}
	var opt, done events.Event
	for done.Kind == 0 {
		select {
		case e := <-evc:
			switch e.Kind {
			case events.KindOptions:
				opt = e
			case events.KindDone:
				done = e
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no done event")
		}
	}
	if opt.Kind != events.KindOptions || opt.Size != 3000 || opt.Timeout != 3*time.Second || opt.BlockSize != 1024 || opt.WindowSize != 1 || opt.File != "boot/vmlinuz" {
		t.Errorf("options event %+v, want tsize 3000, timeout 3s, blksize 1024, windowsize 1", opt)
	}
	if done.Outcome != "ok" || done.Bytes != 3000 {
		t.Errorf("done event %+v", done)
	}
	if s := lb.String(); strings.Contains(s, "transfer done") {
		t.Errorf("NoTransferLog: the log has the transfer's line:\n%s", s)
	}
}
