package netboot

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

func get(t *testing.T, url, rng string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestFileServerRefusesOutside(t *testing.T) {
	root, _, _ := linkTree(t)
	d, err := Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	srv := httptest.NewServer(&FileServer{FS: d})
	defer srv.Close()
	for path, want := range map[string]int{
		"/ok.txt": 200, "/inside": 200,
		"/abs": 403, "/rel": 403, "/etc/secret": 403, "/etc": 403, "/etc/": 403,
		"/sub/": 404, "/": 404, "/../out/secret": 404,
	} {
		code, body := get(t, srv.URL+path, "")
		if code != want || strings.Contains(string(body), "secret\n") {
			t.Errorf("GET %s = %d %q, want %d", path, code, body, want)
		}
	}
}

func TestFileServerRanges(t *testing.T) {
	dir := t.TempDir()
	data := strings.Repeat("0123456789abcdef", 4096) // 64 KiB
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	d, _ := Dir(dir)
	defer d.Close()
	srv := httptest.NewServer(&FileServer{FS: d})
	defer srv.Close()
	if code, b := get(t, srv.URL+"/f", "bytes=10-19"); code != 206 || string(b) != data[10:20] {
		t.Errorf("one range: %d %q", code, b)
	}
	if code, b := get(t, srv.URL+"/f", "bytes=0-9,100-109"); code != 206 || len(b) < 20 || len(b) > 1000 {
		t.Errorf("two ranges: %d, %d bytes", code, len(b))
	}
	var many []string
	for range 1000 {
		many = append(many, "0-65535")
	}
	code, b := get(t, srv.URL+"/f", "bytes="+strings.Join(many, ","))
	if len(b) > len(data) {
		t.Errorf("1000 overlapping ranges: %d, %d bytes for a %d-byte file", code, len(b), len(data))
	}
	if code, b := get(t, srv.URL+"/f", "bytes=0-100,50-150"); len(b) > len(data) || code != 200 {
		t.Errorf("overlapping ranges: %d, %d bytes", code, len(b))
	}
}

func TestFileServerStalledReader(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "big"), make([]byte, 64<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	d, _ := Dir(dir)
	defer d.Close()
	done := make(chan struct{}, 1)
	fsrv := &FileServer{FS: d, WriteIdle: 300 * time.Millisecond}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fsrv.ServeHTTP(w, r)
		done <- struct{}{}
	}))
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n") // and never read
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("a client that stopped reading still holds its download after 20 s")
	}
}

func TestLimitListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := HTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") }))
	go hs.Serve(LimitListener(ln, 0, 2))
	defer hs.Close()
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(b), "HTTP/1.1 503") {
		t.Fatalf("third connection from one client got %q, want 503", b)
	}
	held[0].Close()
	time.Sleep(100 * time.Millisecond)
	if code, body := get(t, "http://"+ln.Addr().String()+"/", ""); code != 200 || string(body) != "hi" {
		t.Errorf("after a connection closed: %d %q", code, body)
	}
}

func TestBootContentTypes(t *testing.T) {
	fsys := fstest.MapFS{
		"snponly.efi": {Data: []byte("MZ")},
		"image.ISO":   {Data: []byte("CD001")},
		"vmlinuz":     {Data: []byte{0x4d, 0x5a, 0, 1, 2, 0xff}},
	}
	srv := httptest.NewServer(&FileServer{FS: fsys})
	defer srv.Close()
	for name, want := range map[string]string{"snponly.efi": "application/efi", "image.ISO": "application/vnd.efi-iso", "vmlinuz": "application/octet-stream"} {
		resp, err := http.Get(srv.URL + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Content-Type"); got != want {
			t.Errorf("%s: Content-Type %q, want %q", name, got, want)
		}
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (l *limitListener) counts() (n, waiting, busy, evicted int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := l.waiting.front(); c != nil; c = c.next {
		waiting++
	}
	return l.n, waiting, l.busy, l.evicted
}

// TestLimitListenerEvictsWaiting fills the total cap with connections that
// serve no request (two that never sent one, then two idle after a
// kept-alive request): each new client is served at once, in place of the
// connection that waited longest.
func TestLimitListenerEvictsWaiting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := HTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") }))
	ll := LimitListener(ln, 4, 64).(*limitListener)
	go hs.Serve(ll)
	defer hs.Close()
	addr := ln.Addr().String()
	// fetch sends a request on c and reads the answer, leaving c open.
	fetch := func(c net.Conn) (int, string, error) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return 0, "", err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b), err
	}
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	var held []net.Conn
	for i := range 4 {
		c := dial()
		held = append(held, c)
		if i < 2 {
			// Let the server see it before the next one.
			waitFor(t, "a new connection", func() bool { _, w, _, _ := ll.counts(); return w == i+1 })
			continue
		}
		if code, _, err := fetch(c); code != 200 {
			t.Fatalf("filling connection %d: %d %v", i, code, err)
		}
	}
	waitFor(t, "4 waiting connections", func() bool { n, w, _, _ := ll.counts(); return n == 4 && w == 4 })

	for i := range 3 {
		// Each client keeps its connection, so each needs a slot.
		code, body, err := fetch(dial())
		if code != 200 || body != "hi" {
			t.Fatalf("client %d with the cap full of waiting connections: %d %q %v, want 200 \"hi\"", i, code, body, err)
		}
	}
	if _, _, busy, evicted := ll.counts(); busy != 0 || evicted != 3 {
		t.Errorf("busy %d, evicted %d; want 0, 3", busy, evicted)
	}
	// The three that waited longest were closed, oldest first: the two
	// that never sent a request, then the first idle one.
	for i, c := range held {
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		closed := !errors.Is(err, os.ErrDeadlineExceeded)
		if want := i < 3; closed != want {
			t.Errorf("held connection %d: closed %v (%v), want %v", i, closed, err, want)
		}
	}
}

// TestLimitListenerKeepsDownloads: with every slot serving a request, a
// new connection gets 503 and no download is cut off.
func TestLimitListenerKeepsDownloads(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var inside sync.WaitGroup
	inside.Add(4)
	hs := HTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "8")
		io.WriteString(w, "part")
		w.(http.Flusher).Flush()
		inside.Done()
		<-release
		io.WriteString(w, "rest")
	}))
	ll := LimitListener(ln, 4, 64).(*limitListener)
	go hs.Serve(ll)
	defer hs.Close()
	addr := ln.Addr().String()
	var held []net.Conn
	for range 4 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		held = append(held, c)
	}
	inside.Wait()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(b), "HTTP/1.1 503") {
		t.Fatalf("fifth connection with every slot downloading got %q, want 503", b)
	}
	close(release)
	for i, c := range held {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, err := io.ReadAll(c)
		if err != nil || !strings.HasSuffix(string(b), "partrest") {
			t.Errorf("download %d: %q, %v; want it whole", i, b, err)
		}
	}
	if _, _, busy, evicted := ll.counts(); busy != 1 || evicted != 0 {
		t.Errorf("busy %d, evicted %d; want 1, 0", busy, evicted)
	}
}
