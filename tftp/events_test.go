package tftp

import (
	"io"
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
