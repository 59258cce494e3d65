package netboot

import (
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// FileServer serves the files of an [fs.FS] over HTTP for boot clients:
// regular files with ranges (casper, UEFI HTTP boot of an ISO, resumed
// downloads), no directory listings unless Listing is set, and a bounded
// answer to hostile range requests. A regular file that FS opens as an
// *os.File (a [Dir]'s) is sent by sendfile(2) where the platform has it,
// through any ResponseWriter wrappers that pass ReadFrom on (as
// [ObserveHTTP]'s does) and a [LimitListener]'s connections. So is a file
// whose data is one contiguous run of an image file, from the image: a
// file with a method Section() (*io.SectionReader, bool) whose section
// lies in an *os.File (or an [io.SectionReader] of one), as a
// [github.com/pxekit/pxekit/isofs.File] of an image opened with [os.Open]
// does. Each such request opens the image again by its name, and copies
// the body instead when that is not the file the image was read from.
// Other files are copied. The zero value of each field but FS is a safe
// default. A FileServer is safe for concurrent use.
type FileServer struct {
	// FS is the served tree; use [Dir] for a directory so that no link
	// leads out of it.
	FS fs.FS
	// Listing turns directory listings on; off, a directory is 404.
	Listing bool
	// MaxRanges caps the ranges of one request (default 16). A request
	// with more, or with ranges that overlap, gets the whole file (RFC
	// 9110 §14.2 lets a server ignore Range): never more bytes than the
	// file has, whatever the client asks.
	MaxRanges int
	// WriteIdle is how long one write to a client may take before the
	// connection is dropped (default 30 s); a file sent with sendfile(2)
	// is written in pieces of 64 KiB, each with this deadline. A client
	// that stops reading, or reads a byte a minute, loses its connection,
	// while a slow but moving download of any size goes on.
	WriteIdle time.Duration
}

// ServeHTTP implements [http.Handler].
func (s *FileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" {
		name = "."
	}
	fi, err := fs.Stat(s.FS, name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		http.NotFound(w, r)
		return
	case errors.Is(err, fs.ErrPermission):
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	case err != nil:
		http.Error(w, "cannot read "+name, http.StatusInternalServerError)
		return
	case fi.IsDir() && !s.Listing:
		http.NotFound(w, r)
		return
	}
	if !s.rangesOK(r.Header.Get("Range")) {
		r.Header.Del("Range")
	}
	if ct, ok := bootTypes[strings.ToLower(path.Ext(name))]; ok && fi.Mode().IsRegular() {
		w.Header().Set("Content-Type", ct)
	}
	ww := &deadlineWriter{ResponseWriter: w, rc: http.NewResponseController(w), idle: s.writeIdle()}
	if fi.Mode().IsRegular() && plainPath(r.URL.Path) {
		if f, err := s.FS.Open(name); err == nil {
			defer f.Close()
			if of, ok := f.(*os.File); ok {
				if st, err := of.Stat(); err == nil && st.Mode().IsRegular() {
					// A file of the operating system (a [Dir]) goes to
					// ServeContent as it is, so that its body reaches
					// the connection by sendfile(2): ServeFileFS wraps
					// every file, which costs a copy through user space.
					http.ServeContent(ww, r, st.Name(), st.ModTime(), of)
					return
				}
			}
			if body, ok := openSection(f); ok {
				// A file that is one run of an image file (an
				// isofs.File of an image opened from disk) is sent
				// from the image by sendfile(2) too.
				defer body.Close()
				if st, err := f.Stat(); err == nil {
					http.ServeContent(ww, r, st.Name(), st.ModTime(), body)
					return
				}
			}
		}
	}
	http.ServeFileFS(ww, r, s.FS, name)
}

// sectioner is a file whose data is one run of an image, such as an
// isofs.File of one extent.
type sectioner interface {
	Section() (*io.SectionReader, bool)
}

// openSection opens the body of f when f is a [sectioner] whose run lies in
// a regular *os.File: the image opened again, for this request alone.
//
// Sharing the image's own *os.File among requests cannot work: Go's
// sendfile(2) path (net.TCPConn.ReadFrom) sends from the source file's
// current offset and moves it, so two requests at once would each send
// from wherever the other left it, and serializing them would make every
// download wait for the slowest client. A sendfile with an explicit
// offset on the connection's descriptor would have to bypass net/http's
// response (its Content-Length accounting, its buffered headers). A file
// opened per request has an offset of its own and reaches sendfile
// through net/http as a Dir's file does, for the cost of an open and two
// fstat calls; it must be the very file the image was read from
// ([os.SameFile]), else (the image renamed or replaced since, a relative
// name after a change of directory, no permission) the body is copied
// from f as before.
func openSection(f fs.File) (*imageSection, bool) {
	sf, ok := f.(sectioner)
	if !ok {
		return nil, false
	}
	sr, ok := sf.Section()
	if !ok {
		return nil, false
	}
	r, off, n := sr.Outer()
	// An image that is a part of a file (a partition): its section's
	// outer reader, at the section's offset.
	for depth := 0; depth < 8; depth++ {
		outer, ok := r.(*io.SectionReader)
		if !ok {
			break
		}
		or, base, size := outer.Outer()
		if off < 0 || n < 0 || off > size || n > size-off {
			return nil, false
		}
		r, off = or, base+off
	}
	img, ok := r.(*os.File)
	if !ok || off < 0 || n <= 0 {
		return nil, false
	}
	st, err := img.Stat()
	if err != nil || !st.Mode().IsRegular() || off > st.Size() || n > st.Size()-off {
		return nil, false
	}
	own, err := os.Open(img.Name())
	if err != nil {
		return nil, false
	}
	ost, err := own.Stat()
	if err != nil || !os.SameFile(st, ost) {
		own.Close()
		return nil, false
	}
	if _, err := own.Seek(off, io.SeekStart); err != nil {
		own.Close()
		return nil, false
	}
	return &imageSection{f: own, base: off, size: n}, true
}

// imageSection is a body read from the image file f at base, size bytes:
// an io.ReadSeeker for [http.ServeContent] that is also a [syscall.Conn],
// so that net's sendfile(2) path takes it as it takes an *os.File. f's
// offset is always base plus the offset in the body, which is what
// sendfile sends from: Read and Seek move both, and a sendfile moves f's
// alone, so pos is read back from f after one (stale), unless
// [deadlineWriter] knows how far it went (sent). Not for concurrent use;
// one request owns it.
type imageSection struct {
	f          *os.File
	base, size int64
	pos        int64
	stale      bool // f's offset may have moved since pos was right
}

func (s *imageSection) sync() error {
	if !s.stale {
		return nil
	}
	at, err := s.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	s.pos, s.stale = at-s.base, false
	return nil
}

// sent records that a ReadFrom given s at offset start sent n bytes of
// it: when it did not fail, every byte it took from f (by sendfile or by
// Read) reached the connection, so f's offset is start+n, and the next
// piece needs no lseek to learn it.
func (s *imageSection) sent(start, n int64, err error) {
	if err != nil {
		s.stale = true
		return
	}
	s.pos, s.stale = start+n, false
}

// remaining returns the bytes of the body after the offset.
func (s *imageSection) remaining() int64 {
	if s.sync() != nil {
		return 0
	}
	return max(0, s.size-s.pos)
}

func (s *imageSection) Read(p []byte) (int, error) {
	rest := s.remaining()
	if rest == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := s.f.Read(p)
	s.pos += int64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF // the image is shorter than it was
	}
	return n, err
}

var errSeek = errors.New("netboot: seek before the start of the body")

func (s *imageSection) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		if err := s.sync(); err != nil {
			return 0, err
		}
		offset += s.pos
	case io.SeekEnd:
		offset += s.size
	default:
		return 0, errSeek
	}
	if offset < 0 {
		return 0, errSeek
	}
	if _, err := s.f.Seek(s.base+offset, io.SeekStart); err != nil {
		s.stale = true
		return 0, err
	}
	s.pos, s.stale = offset, false
	return offset, nil
}

// SyscallConn hands f to net's sendfile(2) path, which sends from f's
// offset, at most the N of the [io.LimitedReader] around s (ServeContent's
// length, and [deadlineWriter] cuts each piece to the body's end).
func (s *imageSection) SyscallConn() (syscall.RawConn, error) {
	s.stale = true
	return s.f.SyscallConn()
}

func (s *imageSection) Close() error { return s.f.Close() }

// plainPath reports whether ServeFileFS would serve the file at p as it
// is, without its refusal of ".." or its redirect of ".../index.html".
func plainPath(p string) bool {
	if strings.HasSuffix(p, "/index.html") {
		return false
	}
	for e := range strings.FieldsFuncSeq(p, func(r rune) bool { return r == '/' || r == '\\' }) {
		if e == ".." {
			return false
		}
	}
	return true
}

// bootTypes are the media types UEFI HTTP boot firmware reads (UEFI 2.x
// HTTP boot; EDK2's HttpBootCheckImageType): an EFI program is run, an ISO
// image becomes a RAM disk the firmware boots from. Firmware falls back to
// the name's extension, but a generic type from the system's mime table
// ("application/x-iso9660-image") says nothing it knows.
var bootTypes = map[string]string{
	".efi": "application/efi",
	".iso": "application/vnd.efi-iso",
}

func (s *FileServer) writeIdle() time.Duration {
	if s.WriteIdle > 0 {
		return s.WriteIdle
	}
	return 30 * time.Second
}

// rangesOK reports whether a Range header may be answered as it is: at
// most MaxRanges ranges, none overlapping another. A header that does not
// parse is left to net/http, which answers it with 416 or the whole file.
func (s *FileServer) rangesOK(h string) bool {
	spec, ok := strings.CutPrefix(h, "bytes=")
	if !ok || !strings.Contains(spec, ",") {
		return true
	}
	limit := s.MaxRanges
	if limit <= 0 {
		limit = 16
	}
	parts := strings.Split(spec, ",")
	if len(parts) > limit {
		return false
	}
	// Boot clients ask for one range; several that are open-ended,
	// suffixes or overlapping only multiply the bytes sent.
	type span struct{ a, b int64 }
	var spans []span
	for _, p := range parts {
		first, last, ok := strings.Cut(strings.TrimSpace(p), "-")
		if !ok {
			return true // malformed: net/http answers it
		}
		a, err1 := strconv.ParseInt(first, 10, 64)
		b, err2 := strconv.ParseInt(last, 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		for _, y := range spans {
			if a <= y.b && y.a <= b {
				return false
			}
		}
		spans = append(spans, span{a, b})
	}
	return true
}

// deadlineWriter gives every write to the client its own deadline.
type deadlineWriter struct {
	http.ResponseWriter
	rc   *http.ResponseController
	idle time.Duration
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.idle))
	return w.ResponseWriter.Write(p)
}

// sendPiece is how much of a body one deadline covers when it is sent
// with ReadFrom: a client must take 64 KiB within WriteIdle, about what a
// Write of io.Copy's 32 KiB buffer asked, while a file goes to the kernel
// in a few calls per megabyte.
const sendPiece = 64 << 10

// ReadFrom passes src on to the ResponseWriter's own ReadFrom (net/http's
// reaches the connection's, which sends an *os.File with sendfile(2)) in
// pieces of sendPiece, each with its own write deadline. An
// *io.LimitedReader (io.CopyN's) is taken apart and its N kept up to date,
// since the kernel's path only looks through one of them.
func (w *deadlineWriter) ReadFrom(src io.Reader) (int64, error) {
	rf, ok := w.ResponseWriter.(io.ReaderFrom)
	if !ok {
		return io.Copy(writerOnly{w}, src)
	}
	lr, limited := src.(*io.LimitedReader)
	piece := &io.LimitedReader{R: src}
	if limited {
		piece.R = lr.R
	}
	var total int64
	for {
		n := int64(sendPiece)
		if limited {
			n = min(n, lr.N)
		}
		sec, _ := piece.R.(*imageSection)
		var start int64
		if sec != nil {
			// Sendfile would go on into the rest of the image.
			n = min(n, sec.remaining())
			start = sec.pos
		}
		if n <= 0 {
			return total, nil
		}
		_ = w.rc.SetWriteDeadline(time.Now().Add(w.idle))
		piece.N = n
		m, err := rf.ReadFrom(piece)
		if sec != nil {
			sec.sent(start, m, err)
		}
		total += m
		if limited {
			lr.N -= m
		}
		if err != nil || m < n {
			return total, err
		}
	}
}

// writerOnly hides a writer's ReadFrom from io.Copy.
type writerOnly struct{ io.Writer }

// Unwrap lets [http.ResponseController] reach the connection.
func (w *deadlineWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// HTTPServer returns an [http.Server] for h with the timeouts a boot
// server needs on a network where anything may connect: 10 s to send the
// request headers, 30 s for the rest of a request, 60 s idle between
// requests on a kept-alive connection, and 8 KiB of headers. Downloads
// have no overall time limit: [FileServer] bounds each write instead, so a
// slow firmware fetching a large root file system is not cut off. Pair it
// with [LimitListener]: its ConnState is [LimitConnState], which tells the
// listener which connections are serving a request.
func HTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    8 << 10,
		ConnState:         LimitConnState,
	}
}

// LimitConnState is an [http.Server] ConnState hook (the one [HTTPServer]
// installs) that tells a [LimitListener] the state of each connection it
// accepted; connections from other listeners are ignored. Call it from
// your own ConnState when you build the server yourself. Without it the
// listener cannot tell a waiting connection from a busy one and evicts
// none.
func LimitConnState(c net.Conn, state http.ConnState) {
	if tc, ok := c.(interface{ NetConn() net.Conn }); ok { // *tls.Conn
		c = tc.NetConn()
	}
	if lc, ok := c.(*limitConn); ok {
		lc.l.setState(lc, state)
	}
}

// LimitListener caps the connections accepted from ln: at most total in
// all and perClient from one IP address (defaults, for 0: 1024 and 64).
//
// When the total cap is reached, a new connection takes the place of the
// connection that has waited longest without serving a request: one that
// has not yet sent a complete request header ([http.StateNew]) or sits idle
// between kept-alive requests ([http.StateIdle]). That connection is
// closed, so that a flood of connections that send nothing cannot lock a
// client out until their header timeouts free them. A connection that is
// serving a request (a download) is never closed. The listener learns the
// states from [LimitConnState], which [HTTPServer] installs.
//
// A connection over a cap that can take no other's place is not refused
// silently: it gets "503 Service Unavailable" with Retry-After and is
// closed, and accepting goes on. The per-client cap is never lifted by
// eviction.
func LimitListener(ln net.Listener, total, perClient int) net.Listener {
	if total <= 0 {
		total = 1024
	}
	if perClient <= 0 {
		perClient = 64
	}
	return &limitListener{Listener: ln, total: total, perClient: perClient, by: map[netip.Addr]int{}}
}

type limitListener struct {
	net.Listener
	total, perClient int

	mu      sync.Mutex
	n       int
	by      map[netip.Addr]int
	waiting connList // connections in StateNew or StateIdle, longest waiting first
	busy    int      // connections answered 503, for tests and logs
	evicted int      // waiting connections closed to make room, for tests and logs
}

const busyReply = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := remoteAddr(c)
		l.mu.Lock()
		var victim *limitConn
		if l.n >= l.total && l.by[addr] < l.perClient {
			if victim = l.waiting.front(); victim != nil {
				l.evicted++
				l.releaseLocked(victim)
			}
		}
		if l.n >= l.total || l.by[addr] >= l.perClient {
			l.busy++
			l.mu.Unlock()
			go func() {
				_ = c.SetWriteDeadline(time.Now().Add(time.Second))
				_, _ = c.Write([]byte(busyReply))
				_ = c.Close()
			}()
			continue
		}
		l.n++
		l.by[addr]++
		l.mu.Unlock()
		if victim != nil {
			// Its server goroutine sees the read fail and closes it
			// again, which releases nothing twice.
			_ = victim.Conn.Close()
		}
		return &limitConn{Conn: c, l: l, addr: addr}, nil
	}
}

// setState records a connection's state from [LimitConnState].
func (l *limitListener) setState(c *limitConn, state http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.released {
		return
	}
	switch state {
	case http.StateNew, http.StateIdle:
		l.waiting.remove(c)
		l.waiting.pushBack(c)
	default: // StateActive, StateHijacked, StateClosed
		l.waiting.remove(c)
	}
}

// releaseLocked gives c's slot back; l.mu is held.
func (l *limitListener) releaseLocked(c *limitConn) {
	if c.released {
		return
	}
	c.released = true
	l.waiting.remove(c)
	l.n--
	if l.by[c.addr]--; l.by[c.addr] <= 0 {
		delete(l.by, c.addr)
	}
}

func remoteAddr(c net.Conn) netip.Addr {
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

type limitConn struct {
	net.Conn
	l    *limitListener
	addr netip.Addr

	// guarded by l.mu
	released   bool
	prev, next *limitConn
	listed     bool
}

// ReadFrom lets net/http's response reach the connection's own ReadFrom
// (a *net.TCPConn's, which sends an *os.File with sendfile(2)): without
// it, every body is copied through user space.
func (c *limitConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(c.Conn, r)
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.l.mu.Lock()
	c.l.releaseLocked(c)
	c.l.mu.Unlock()
	return err
}

// connList is an intrusive doubly linked list of connections, so that
// every state change is O(1) and allocates nothing.
type connList struct{ head, tail *limitConn }

func (q *connList) front() *limitConn { return q.head }

func (q *connList) pushBack(c *limitConn) {
	c.prev, c.next, c.listed = q.tail, nil, true
	if q.tail != nil {
		q.tail.next = c
	} else {
		q.head = c
	}
	q.tail = c
}

func (q *connList) remove(c *limitConn) {
	if !c.listed {
		return
	}
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		q.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		q.tail = c.prev
	}
	c.prev, c.next, c.listed = nil, nil, false
}
