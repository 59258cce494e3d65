package netboot

import (
	"io"
	"net/http"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/pxekit/pxekit/events"
)

// ObserveHTTP wraps h (usually a [FileServer]) so that every request is
// reported to hook as [events.ProtoHTTP] events: [events.KindStart] when
// it arrives and [events.KindDone] when h returns, with Addr (the client's
// address), Type (the method), File (the cleaned path without its leading
// slash, as [FileServer] opens it), Offset (the first byte of a
// "bytes=N-" range, else 0), Size (the Content-Length h set, -1 if none),
// Bytes (body bytes written), Status, Duration and Outcome ("ok" for a
// 2xx or 3xx status, "not-found" for 404, "error" otherwise). A nil hook
// returns h. The wrapper keeps [http.ResponseController] working through
// Unwrap.
func ObserveHTTP(h http.Handler, hook events.Hook) http.Handler {
	if hook == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ap, _ := netip.ParseAddrPort(r.RemoteAddr)
		e := events.Event{
			Time: start, Proto: events.ProtoHTTP, Kind: events.KindStart,
			Addr: ap.Addr().Unmap(), Type: r.Method,
			File:   strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/"),
			Offset: rangeStart(r.Header.Get("Range")), Size: -1,
		}
		hook.Observe(e)
		ow := &observedWriter{ResponseWriter: w}
		h.ServeHTTP(ow, r)
		if ow.status == 0 {
			ow.status = http.StatusOK
		}
		e.Kind, e.Time = events.KindDone, time.Now()
		e.Duration = e.Time.Sub(start)
		e.Status, e.Bytes = ow.status, ow.n
		if n, err := strconv.ParseInt(w.Header().Get("Content-Length"), 10, 64); err == nil {
			e.Size = n
		}
		switch {
		case ow.status < 400:
			e.Outcome = "ok"
		case ow.status == http.StatusNotFound:
			e.Outcome = "not-found"
		default:
			e.Outcome = "error"
		}
		hook.Observe(e)
	})
}

// rangeStart returns N of a Range header "bytes=N-…", else 0.
func rangeStart(h string) int64 {
	spec, ok := strings.CutPrefix(h, "bytes=")
	if !ok {
		return 0
	}
	first, _, _ := strings.Cut(spec, "-")
	n, err := strconv.ParseInt(strings.TrimSpace(first), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

type observedWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *observedWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *observedWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

// ReadFrom counts what the ResponseWriter's own ReadFrom sent, so that a
// file still reaches the connection by sendfile(2).
func (w *observedWriter) ReadFrom(src io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(writerOnly{w.ResponseWriter}, src)
	}
	w.n += n
	return n, err
}

// Unwrap lets [http.ResponseController] reach the connection.
func (w *observedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// MarkGenerated returns a hook that passes every event on to h, with
// [events.Event.Generated] set on the TFTP and HTTP transfer events
// (start, options, done) of the files b makes itself: the boot
// configurations generated from the tree ([LayerGenerated]) and the
// machines' own ([LayerMachine]). It looks each name up in b
// ([Boot.Lookup], a Stat of the tree), so put it behind an
// [events.Queue], not where a server waits for it. A nil h discards.
func (b *Boot) MarkGenerated(h events.Hook) events.Hook {
	if h == nil {
		return events.HookFunc(func(events.Event) {})
	}
	return events.HookFunc(func(e events.Event) {
		if e.Proto == events.ProtoTFTP || e.Proto == events.ProtoHTTP {
			switch l, _ := b.Lookup(strings.TrimLeft(e.File, "/")); l {
			case LayerGenerated, LayerMachine:
				e.Generated = true
			}
		}
		h.Observe(e)
	})
}
