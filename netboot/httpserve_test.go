package netboot

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
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
