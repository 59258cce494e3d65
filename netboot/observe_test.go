package netboot

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/pxekit/pxekit/events"
)

func TestObserveHTTP(t *testing.T) {
	var mu sync.Mutex
	var got []events.Event
	hook := events.HookFunc(func(e events.Event) { mu.Lock(); got = append(got, e); mu.Unlock() })
	body := strings.Repeat("k", 1000)
	srv := httptest.NewServer(ObserveHTTP(&FileServer{FS: fstest.MapFS{"install/vmlinuz": {Data: []byte(body)}}}, hook))
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/install//vmlinuz", nil)
	req.Header.Set("Range", "bytes=100-")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	resp, err = http.Get(srv.URL + "/nothing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	mu.Lock()
	defer mu.Unlock()
	if len(got) != 4 {
		t.Fatalf("events %+v, want 4", got)
	}
	s, d := got[0], got[1]
	if s.Kind != events.KindStart || s.Proto != events.ProtoHTTP || s.File != "install/vmlinuz" || s.Offset != 100 || !s.Addr.IsLoopback() || s.Type != "GET" {
		t.Errorf("start event %+v", s)
	}
	if d.Kind != events.KindDone || d.Status != http.StatusPartialContent || d.Bytes != 900 || d.Size != 900 || d.Outcome != "ok" || d.Duration <= 0 {
		t.Errorf("done event %+v, want 206 with 900 bytes", d)
	}
	if m := got[3]; m.Status != http.StatusNotFound || m.Outcome != "not-found" || m.File != "nothing" {
		t.Errorf("missing file: done event %+v", m)
	}
	if h := ObserveHTTP(http.NotFoundHandler(), nil); h == nil {
		t.Error("ObserveHTTP(h, nil) = nil")
	}
}

func TestMarkGenerated(t *testing.T) {
	b, err := New(fstest.MapFS{
		"isolinux/isolinux.cfg": {Data: []byte("DEFAULT install\nLABEL install\n  KERNEL /install/vmlinuz\n")},
		"install/vmlinuz":       {Data: []byte("k")},
	}, &Options{HTTPBase: "http://:8080/"})
	if err != nil {
		t.Fatal(err)
	}
	var got []events.Event
	h := b.MarkGenerated(events.HookFunc(func(e events.Event) { got = append(got, e) }))
	for _, c := range []struct {
		e    events.Event
		want bool
	}{
		{events.Event{Proto: events.ProtoHTTP, Kind: events.KindDone, File: "boot.ipxe"}, true},
		{events.Event{Proto: events.ProtoTFTP, Kind: events.KindDone, File: "pxelinux.cfg/default"}, true},
		{events.Event{Proto: events.ProtoTFTP, Kind: events.KindStart, File: "/pxelinux.cfg/01-52-54-00-12-34-56"}, true},
		{events.Event{Proto: events.ProtoHTTP, Kind: events.KindDone, File: "grub/grub.cfg"}, true},
		{events.Event{Proto: events.ProtoHTTP, Kind: events.KindDone, File: "install/vmlinuz"}, false},
		{events.Event{Proto: events.ProtoTFTP, Kind: events.KindDone, File: "isolinux/isolinux.cfg"}, false},
		{events.Event{Proto: events.ProtoTFTP, Kind: events.KindDone, File: "nothing"}, false},
		{events.Event{Proto: events.ProtoDHCP, Kind: events.KindReply, File: "boot.ipxe"}, false},
	} {
		got = got[:0]
		h.Observe(c.e)
		if len(got) != 1 || got[0].Generated != c.want || got[0].File != c.e.File {
			t.Errorf("MarkGenerated passed %+v as %+v, want Generated %v", c.e, got, c.want)
		}
	}
	b.MarkGenerated(nil).Observe(events.Event{Proto: events.ProtoHTTP, File: "boot.ipxe"}) // discards
}
