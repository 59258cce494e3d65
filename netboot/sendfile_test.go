package netboot

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pxekit/pxekit/events"
	"github.com/pxekit/pxekit/internal/testenv"
	"github.com/pxekit/pxekit/isofs"
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
	body, took := slowGet(t, ln.Addr().String())
	if !bytes.Equal(body, data) {
		t.Errorf("a client reading steadily for %v got %d of %d bytes", took.Round(time.Millisecond), len(body), len(data))
	}
}

// makeISO has xorriso make an image (Rock Ridge) of files and returns its
// path.
func makeISO(t *testing.T, files map[string][]byte) string {
	t.Helper()
	xorriso := testenv.NeedCommand(t, "xorriso")[0]
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	for name, data := range files {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	image := filepath.Join(dir, "image.iso")
	if out, err := exec.Command(xorriso, "-as", "mkisofs", "-R", "-quiet", "-o", image, src).CombinedOutput(); err != nil {
		t.Fatalf("xorriso: %v\n%s", err, out)
	}
	return image
}

// openISO opens the image at path from disk, as minimal-server -iso does.
func openISO(t *testing.T, path string) *isofs.FS {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	img, err := isofs.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// recordedServer serves fsys the way minimal-server does (ObserveHTTP,
// FileServer, HTTPServer, LimitListener) on loopback through a
// sendfileListener, and returns its base URL, the listener and the
// observer's done events, one per request as each handler returns.
func recordedServer(t *testing.T, fsys fs.FS, wrap func(net.Listener) net.Listener) (string, *sendfileListener, chan events.Event) {
	t.Helper()
	done := make(chan events.Event, 256)
	hook := events.HookFunc(func(e events.Event) {
		if e.Kind == events.KindDone {
			done <- e
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sl := &sendfileListener{Listener: ln}
	var inner net.Listener = sl
	if wrap != nil {
		inner = wrap(sl)
	}
	hs := HTTPServer(ObserveHTTP(&FileServer{FS: fsys}, hook))
	go hs.Serve(LimitListener(inner, 0, 0))
	t.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String() + "/", sl, done
}

func (l *sendfileListener) take() (sendfile, copied int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	sendfile, copied = l.sendfile, l.copied
	l.sendfile, l.copied = 0, 0
	return sendfile, copied
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// TestFileServerSendfileISO checks that a file of an ISO image opened from
// disk (isofs over the image's *os.File, as minimal-server -iso serves
// it) reaches the connection by sendfile, from the image, with the bytes
// of the file: whole, in ranges, as HEAD, with the observer's counts and
// net/http's headers right. Before, every such body was read into a
// buffer and written to the socket.
func TestFileServerSendfileISO(t *testing.T) {
	initrd := randomBytes(4<<20 + 123)
	kernel := randomBytes(1<<20 + 7) // no known extension: net/http sniffs it
	small := randomBytes(3000)
	image := makeISO(t, map[string][]byte{"install/initrd.img": initrd, "install/vmlinuz": kernel, "small.bin": small})
	base, sl, done := recordedServer(t, openISO(t, image), nil)

	for _, tc := range []struct {
		method, file, rng string
		status            int
		want              []byte
		contentRange      string
		length            int64
	}{
		{"GET", "install/initrd.img", "", 200, initrd, "", int64(len(initrd))},
		{"GET", "install/initrd.img", "bytes=1000000-", 206, initrd[1000000:], fmt.Sprintf("bytes 1000000-%d/%d", len(initrd)-1, len(initrd)), int64(len(initrd) - 1000000)},
		{"GET", "install/initrd.img", "bytes=100-2099999", 206, initrd[100:2100000], fmt.Sprintf("bytes 100-2099999/%d", len(initrd)), 2099900},
		{"GET", "install/initrd.img", "bytes=-70000", 206, initrd[len(initrd)-70000:], fmt.Sprintf("bytes %d-%d/%d", len(initrd)-70000, len(initrd)-1, len(initrd)), 70000},
		{"GET", "install/vmlinuz", "", 200, kernel, "", int64(len(kernel))},
		{"GET", "install/vmlinuz", "bytes=4096-", 206, kernel[4096:], fmt.Sprintf("bytes 4096-%d/%d", len(kernel)-1, len(kernel)), int64(len(kernel) - 4096)},
		{"GET", "small.bin", "", 200, small, "", int64(len(small))},
		{"HEAD", "install/initrd.img", "", 200, nil, "", int64(len(initrd))},
		{"HEAD", "install/initrd.img", "bytes=10-19", 206, nil, fmt.Sprintf("bytes 10-19/%d", len(initrd)), 10},
	} {
		name := tc.method + " " + tc.file + " " + tc.rng
		req, _ := http.NewRequest(tc.method, base+tc.file, nil)
		if tc.rng != "" {
			req.Header.Set("Range", tc.rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != tc.status || !bytes.Equal(body, tc.want) {
			t.Errorf("%s: %d, %d bytes (%v); want %d, the file's %d", name, resp.StatusCode, len(body), err, tc.status, len(tc.want))
		}
		if got := resp.Header.Get("Content-Range"); got != tc.contentRange {
			t.Errorf("%s: Content-Range %q, want %q", name, got, tc.contentRange)
		}
		if resp.ContentLength != tc.length {
			t.Errorf("%s: Content-Length %d, want %d", name, resp.ContentLength, tc.length)
		}
		var e events.Event
		select { // the handler counts its last piece after the client has it
		case e = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the handler did not return", name)
		}
		if e.Bytes != int64(len(tc.want)) || e.Size != tc.length {
			t.Errorf("%s: observed %d bytes of %d, want %d of %d", name, e.Bytes, e.Size, len(tc.want), tc.length)
		}
		sf, cp := sl.take()
		// net/http copies the first 512 bytes itself (its sniffing).
		if sf < int64(len(tc.want))-512 || cp != 0 {
			t.Errorf("%s: %d of %d bytes reached the connection as a file (%d otherwise), want all but at most 512", name, sf, len(tc.want), cp)
		}
	}

	// Several ranges come as multipart/byteranges, copied: right all the same.
	status, body := get(t, base+"install/initrd.img", "bytes=0-99,5000-5099")
	<-done
	if status != 206 || !bytes.Contains(body, initrd[:100]) || !bytes.Contains(body, initrd[5000:5100]) {
		t.Errorf("two ranges: %d, %d bytes without the ranges' bytes", status, len(body))
	}
}

// TestFileServerSendfileISOParallel has many clients fetch ranges of one
// file of an image at once: each gets its own bytes, by sendfile. Go's
// sendfile sends from the source file's offset, so bodies that shared
// the image's *os.File would send from each other's offsets.
func TestFileServerSendfileISOParallel(t *testing.T) {
	data := randomBytes(8 << 20)
	other := randomBytes(1 << 20)
	image := makeISO(t, map[string][]byte{"live/filesystem.squashfs": data, "live/other": other})
	base, sl, done := recordedServer(t, openISO(t, image), nil)
	const clients = 16
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range 4 {
				file, want := "live/filesystem.squashfs", data
				if (c+i)%5 == 0 {
					file, want = "live/other", other
				}
				a := (c*7919 + i*104729) % (len(want) / 2)
				b := a + len(want)/3 + c*1000
				rng := fmt.Sprintf("bytes=%d-%d", a, b)
				if i == 3 {
					rng, a, b = "", 0, len(want)-1
				}
				req, _ := http.NewRequest("GET", base+file, nil)
				if rng != "" {
					req.Header.Set("Range", rng)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || !bytes.Equal(body, want[a:b+1]) {
					t.Errorf("client %d: GET %s %q: %d bytes (%v), not the file's %d at %d", c, file, rng, len(body), err, b+1-a, a)
				}
			}
		})
	}
	wg.Wait()
	var total int64
	for range clients * 4 {
		select {
		case e := <-done:
			total += e.Bytes
		case <-time.After(10 * time.Second):
			t.Fatal("a handler did not return")
		}
	}
	sf, cp := sl.take()
	if sf < total-clients*4*512 || cp != 0 {
		t.Errorf("%d of %d bytes reached the connections as a file (%d otherwise)", sf, total, cp)
	}
}

// TestFileServerSendfileISOSlowReader checks that a file of an image sent
// by sendfile gets a write deadline per piece, as a Dir's does: a client
// that reads steadily, more slowly than the whole file fits in WriteIdle,
// gets all of it.
func TestFileServerSendfileISOSlowReader(t *testing.T) {
	data := randomBytes(16 << 20)
	fsys := openISO(t, makeISO(t, map[string][]byte{"big": data}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sl := &sendfileListener{Listener: ln}
	hs := HTTPServer(&FileServer{FS: fsys, WriteIdle: time.Second})
	go hs.Serve(LimitListener(sl, 0, 0))
	defer hs.Close()
	body, took := slowGet(t, ln.Addr().String())
	if !bytes.Equal(body, data) {
		t.Errorf("a client reading steadily for %v got %d of %d bytes", took.Round(time.Millisecond), len(body), len(data))
	}
	if sf, _ := sl.take(); sf < int64(len(data))-512 {
		t.Errorf("%d of %d bytes went by sendfile", sf, len(data))
	}
}

// failingSendfileConn sends every other piece by sendfile, and does with
// the others what net's sendfile path does when sendfile(2) refuses the
// source (EINVAL, ENOSYS: handled false): it has taken the source's
// descriptor, then copies through the source's Read instead, which must
// go on where the previous sendfile stopped.
type failingSendfileConn struct {
	*sendfileConn
	calls int
}

func (c *failingSendfileConn) ReadFrom(r io.Reader) (int64, error) {
	if c.calls++; c.calls%2 == 1 {
		return c.sendfileConn.ReadFrom(r)
	}
	src := r
	if lr, ok := r.(*io.LimitedReader); ok {
		src = lr.R
	}
	if sc, ok := src.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			rc.Read(func(uintptr) bool { return true })
		}
	}
	n, err := io.Copy(struct{ io.Writer }{c.TCPConn}, r)
	c.l.mu.Lock()
	c.l.copied += n
	c.l.mu.Unlock()
	return n, err
}

type failingSendfileListener struct{ net.Listener }

func (l failingSendfileListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &failingSendfileConn{sendfileConn: c.(*sendfileConn)}, nil
}

// TestFileServerISOFallback checks the bodies of files of an image where
// sendfile cannot be had: a sendfile that fails falls back to copying
// the right bytes (from where the sendfile before it stopped), and an
// image in memory, an image file replaced on disk since it was opened
// (the reopened file would be another) are copied from the image that
// was opened, right.
func TestFileServerISOFallback(t *testing.T) {
	data := randomBytes(3<<20 + 5)
	files := map[string][]byte{"boot/initrd.img": data}
	image := makeISO(t, files)
	check := func(t *testing.T, base string, sl *sendfileListener, done chan events.Event, wantSendfile, wantCopied bool) {
		t.Helper()
		for _, rng := range []string{"", "bytes=700000-", "bytes=5-1999999"} {
			want := data
			switch rng {
			case "bytes=700000-":
				want = data[700000:]
			case "bytes=5-1999999":
				want = data[5:2000000]
			}
			_, body := get(t, base+"boot/initrd.img", rng)
			<-done
			if !bytes.Equal(body, want) {
				t.Errorf("GET %q: %d bytes, not the file's %d", rng, len(body), len(want))
			}
			if sf, cp := sl.take(); (sf > 0) != wantSendfile || (cp > 0) != wantCopied {
				t.Errorf("GET %q: %d bytes by sendfile and %d copied to the connection, want some of each: %v, %v", rng, sf, cp, wantSendfile, wantCopied)
			}
		}
	}
	t.Run("sendfile fails", func(t *testing.T) {
		base, sl, done := recordedServer(t, openISO(t, image), func(l net.Listener) net.Listener { return failingSendfileListener{l} })
		check(t, base, sl, done, true, true)
	})
	t.Run("in memory", func(t *testing.T) {
		b, err := os.ReadFile(image)
		if err != nil {
			t.Fatal(err)
		}
		fsys, err := isofs.Open(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		base, sl, done := recordedServer(t, fsys, nil)
		check(t, base, sl, done, false, true)
	})
	t.Run("replaced", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "image.iso")
		b, err := os.ReadFile(image)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		fsys := openISO(t, p)
		base, sl, done := recordedServer(t, fsys, nil)
		check(t, base, sl, done, true, false)
		// Another image of the same layout, other bytes, under the name.
		other := makeISO(t, map[string][]byte{"boot/initrd.img": randomBytes(len(data))})
		if err := os.Rename(other, p); err != nil {
			t.Fatal(err)
		}
		check(t, base, sl, done, false, true)
	})
}

// TestImageSectionBounded checks that a body of an image given to the
// writer's ReadFrom without a limit stops at the file's end: sendfile
// itself would go on into the rest of the image (the next file's bytes).
func TestImageSectionBounded(t *testing.T) {
	first, second := randomBytes(300000), randomBytes(300000)
	fsys := openISO(t, makeISO(t, map[string][]byte{"a": first, "b": second}))
	f, err := fsys.Open("a")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sent := make(chan int64, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sl := &sendfileListener{Listener: ln}
	hs := HTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := openSection(f)
		if !ok {
			t.Error("openSection: no section for a file of an image on disk")
			sent <- 0
			return
		}
		defer body.Close()
		w.Header().Set("Content-Length", fmt.Sprint(len(first)))
		ww := &deadlineWriter{ResponseWriter: w, rc: http.NewResponseController(w), idle: time.Minute}
		n, _ := ww.ReadFrom(body)
		sent <- n
	}))
	go hs.Serve(LimitListener(sl, 0, 0))
	defer hs.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	all, _ := io.ReadAll(c)
	body := all
	if i := bytes.Index(all, []byte("\r\n\r\n")); i >= 0 {
		body = all[i+4:]
	}
	if n := <-sent; n != int64(len(first)) || !bytes.Equal(body, first) {
		t.Errorf("ReadFrom sent %d bytes, the client got %d; want the file's %d", n, len(body), len(first))
	}
	if sf, _ := sl.take(); sf == 0 {
		t.Error("nothing went by sendfile")
	}
}

// aliasFS serves the file of its image at target under the name alias
// too, as [Boot] serves a name shim asks for ([LayerAlias]).
type aliasFS struct {
	fs.FS
	alias, target string
}

func (a aliasFS) Open(name string) (fs.File, error) {
	if name != a.alias {
		return a.FS.Open(name)
	}
	f, err := a.FS.Open(a.target)
	if err != nil {
		return nil, err
	}
	return aliasFile(f, name), nil
}

// TestFileServerSendfileISOAlias checks that a file of an image served
// under an alias still goes by sendfile.
func TestFileServerSendfileISOAlias(t *testing.T) {
	data := randomBytes(2<<20 + 1)
	fsys := openISO(t, makeISO(t, map[string][]byte{"EFI/debian/grubx64.efi": data}))
	base, sl, done := recordedServer(t, aliasFS{fsys, "grubx64.efi", "EFI/debian/grubx64.efi"}, nil)
	_, body := get(t, base+"grubx64.efi", "")
	<-done
	if !bytes.Equal(body, data) {
		t.Errorf("GET the alias: %d bytes, not the file's %d", len(body), len(data))
	}
	if sf, cp := sl.take(); sf < int64(len(data))-512 || cp != 0 {
		t.Errorf("GET the alias: %d of %d bytes by sendfile (%d otherwise)", sf, len(data), cp)
	}
}

// slowGet fetches /big from addr over a connection with a small receive
// buffer, reading at most 64 KiB per 10 ms, and returns the body and how
// long it took.
func slowGet(t *testing.T, addr string) ([]byte, time.Duration) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
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
	return body, took
}
