package netboot

import (
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pxekit/pxekit/events"
)

// sendfileListener hands out connections that record what reaches their
// ReadFrom: the bytes that came as net's sendfile(2) path takes them (an
// *io.LimitedReader over a syscall.Conn, such as an *os.File, or one such
// file) and the bytes that came otherwise.
type sendfileListener struct {
	net.Listener
	mu               sync.Mutex
	sendfile, copied int64
}

func (l *sendfileListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &sendfileConn{TCPConn: c.(*net.TCPConn), l: l}, nil
}

type sendfileConn struct {
	*net.TCPConn
	l *sendfileListener
}

func (c *sendfileConn) ReadFrom(r io.Reader) (int64, error) {
	src := r
	if lr, ok := r.(*io.LimitedReader); ok {
		src = lr.R
	}
	_, kernel := src.(syscall.Conn)
	n, err := c.TCPConn.ReadFrom(r)
	c.l.mu.Lock()
	if kernel {
		c.l.sendfile += n
	} else {
		c.l.copied += n
	}
	c.l.mu.Unlock()
	return n, err
}

// TestFileServerSendfile checks that a file of a [Dir], served the way
// minimal-server serves it (ObserveHTTP, FileServer, HTTPServer and
// LimitListener), reaches the connection's ReadFrom as a file, which is
// what lets net/http send it with sendfile(2); every wrapper on the way
// (the observer's counting writer, the write deadlines, the listener's
// connection, net/http's wrapping of an fs.File) used to hide it, and each
// body was copied through user space. The body and the observer's byte
// count must stay right, for a whole file and a range.
func TestFileServerSendfile(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 4<<20+123)
	rand.Read(data)
	if err := os.WriteFile(filepath.Join(dir, "initrd.img"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var mu sync.Mutex
	var done []events.Event
	finished := make(chan struct{}, 3)
	hook := events.HookFunc(func(e events.Event) {
		if e.Kind == events.KindDone {
			mu.Lock()
			done = append(done, e)
			mu.Unlock()
			finished <- struct{}{}
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sl := &sendfileListener{Listener: ln}
	hs := HTTPServer(ObserveHTTP(&FileServer{FS: d}, hook))
	go hs.Serve(LimitListener(sl, 0, 0))
	defer hs.Close()
	url := "http://" + ln.Addr().String() + "/initrd.img"

	for _, tc := range []struct {
		rng  string
		want []byte
	}{
		{"", data},
		{"bytes=1000000-", data[1000000:]},
		{"bytes=100-2099999", data[100:2100000]},
	} {
		sl.mu.Lock()
		sl.sendfile, sl.copied = 0, 0
		sl.mu.Unlock()
		_, body := get(t, url, tc.rng)
		if !bytes.Equal(body, tc.want) {
			t.Errorf("GET %q: %d bytes, not the file's %d", tc.rng, len(body), len(tc.want))
		}
		select { // the handler counts its last piece after the client has it
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Fatalf("GET %q: the handler did not return", tc.rng)
		}
		sl.mu.Lock()
		sf, cp := sl.sendfile, sl.copied
		sl.mu.Unlock()
		// net/http copies the first 512 bytes itself (its sniffing).
		if sf < int64(len(tc.want))-512 || cp != 0 {
			t.Errorf("GET %q: %d of %d bytes reached the connection as a file (%d otherwise), want all but at most 512", tc.rng, sf, len(tc.want), cp)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(done) != 3 || done[0].Bytes != int64(len(data)) || done[1].Bytes != int64(len(data)-1000000) || done[2].Bytes != 2099900 {
		t.Errorf("observed %+v, want 3 requests of %d, %d and 2099900 bytes", done, len(data), len(data)-1000000)
	}
}

// TestFileServerSlowReader checks that the write deadline covers a piece
// of a file sent by ReadFrom, not the whole of it: a client that takes
// the file steadily, but more slowly than the whole of it fits in
// WriteIdle, gets all of it.
func TestFileServerSlowReader(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 16<<20)
	rand.Read(data)
	if err := os.WriteFile(filepath.Join(dir, "big"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	d, _ := Dir(dir)
	defer d.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := HTTPServer(&FileServer{FS: d, WriteIdle: time.Second})
	go hs.Serve(LimitListener(ln, 0, 0))
	defer hs.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(64 << 10)
	io.WriteString(c, "GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	var got bytes.Buffer
	buf := make([]byte, 64<<10)
	start := time.Now()
	for {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := c.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			break
		}
		time.Sleep(10 * time.Millisecond) // at most 64 KiB per 10 ms: 2.5 s or more for the file
	}
	took := time.Since(start)
	body := got.Bytes()
	if i := bytes.Index(body, []byte("\r\n\r\n")); i >= 0 {
		body = body[i+4:]
	}
	if !bytes.Equal(body, data) {
		t.Errorf("a client reading steadily for %v got %d of %d bytes", took.Round(time.Millisecond), len(body), len(data))
	}
}
