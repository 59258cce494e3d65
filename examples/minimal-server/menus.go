package main

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"strings"
	"time"

	"github.com/pxekit/pxekit/netboot"
	"github.com/pxekit/pxekit/tftp"
)

// logGenerated is the TFTP server's FileSource: it serves nothing of its
// own (the Boot is the server's FS) but logs each generated configuration
// a client fetches, with the name it asked for.
func logGenerated(b *netboot.Boot, log *slog.Logger) tftp.FileSource {
	return tftp.FileSourceFunc(func(_ context.Context, client netip.AddrPort, name string) (fs.File, error) {
		name = strings.TrimLeft(name, "/")
		if layer, gen := b.Lookup(name); layer == netboot.LayerGenerated {
			f, err := b.Open(name)
			if err == nil {
				st, _ := f.Stat()
				log.Info("generated file", "proto", "tftp", "peer", client.Addr(), "file", name, "as", gen, "bytes", st.Size())
			}
			return f, err
		}
		return nil, fs.ErrNotExist
	})
}

// httpHandler serves b over HTTP and logs one line per request.
func httpHandler(b *netboot.Boot, log *slog.Logger) http.Handler {
	files := &netboot.FileServer{FS: b}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		files.ServeHTTP(sw, r)
		args := []any{"peer", r.RemoteAddr, "file", name}
		switch layer, _ := b.Lookup(name); layer {
		case netboot.LayerGenerated:
			args = append(args, "generated", true)
		case netboot.LayerPrograms:
			args = append(args, "from", "this machine")
		}
		log.Info("http", append(args, "status", sw.status, "bytes", sw.n, "time", time.Since(start).Round(time.Millisecond))...)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection, so that
// netboot.FileServer's per-write deadline applies through the logging.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
