package isofs

import (
	"io"
	"os"
	"sync"
	"sync/atomic"
)

// Small files read in the order of the image (a walk that reads every
// file, a server copying a tree) would cost a system call each: in a
// 10,000-file image most of the work of such a walk. readAhead serves
// them from one window of the image instead, read ahead when the reads
// go forward, and stays out of the way otherwise.
const (
	smallFile  = 8 << 10  // files this size or smaller are read through the window
	windowSize = 64 << 10 // bytes read ahead at once
	maxGap     = 16 << 10 // a read this far past the last one still counts as in order
)

// readAhead is the [io.ReaderAt] small single-extent files are read
// through when each read of the image is a system call (see
// [costlyReads]). A read that falls in the window is copied from it. A read that
// misses it but starts at most maxGap bytes past the end of the previous
// small read fills the window with the windowSize bytes from its start;
// any other read goes to the image directly. So reads in image order cost
// a system call per window, and reads in any other order cost no more than
// without it.
//
// It is safe for concurrent use: the window is used under mu, and a read
// that finds mu held goes to the image directly rather than wait.
type readAhead struct {
	r     io.ReaderAt
	limit int64        // bytes of the volume
	next  atomic.Int64 // end of the previous small read, a hint

	mu  sync.Mutex
	off int64  // image offset of buf
	buf []byte // the window: len is what it holds, cap windowSize
}

func (ra *readAhead) ReadAt(p []byte, off int64) (int, error) {
	end := off + int64(len(p))
	last := ra.next.Swap(end)
	if len(p) > smallFile || !ra.mu.TryLock() {
		return ra.r.ReadAt(p, off)
	}
	defer ra.mu.Unlock()
	if off >= ra.off && end <= ra.off+int64(len(ra.buf)) {
		return copy(p, ra.buf[off-ra.off:]), nil
	}
	if off < last || off-last > maxGap || off >= ra.limit {
		return ra.r.ReadAt(p, off)
	}
	ra.fill(off)
	if end > off+int64(len(ra.buf)) {
		// Short of p (the end of r): let the image say why.
		return ra.r.ReadAt(p, off)
	}
	return copy(p, ra.buf), nil
}

// writeTo writes the n bytes of the image at off, a small file's, to w:
// from the window when they are in it or the reads go forward (as
// ReadAt), without copying them out of it. It reports false, having
// written nothing, when they do not come from the window; the caller
// then reads them itself. w is called with the window locked: a read
// through the window that w makes meanwhile goes to the image.
func (ra *readAhead) writeTo(w io.Writer, off, n int64) (written int64, ok bool, err error) {
	end := off + n
	last := ra.next.Swap(end)
	if n > smallFile || !ra.mu.TryLock() {
		return 0, false, nil
	}
	defer ra.mu.Unlock()
	if off < ra.off || end > ra.off+int64(len(ra.buf)) {
		if off < last || off-last > maxGap || off >= ra.limit {
			return 0, false, nil
		}
		ra.fill(off)
		if end > off+int64(len(ra.buf)) {
			return 0, false, nil // short: the caller's read says why
		}
	}
	m, err := w.Write(ra.buf[off-ra.off : end-ra.off])
	if err == nil && int64(m) < n {
		err = io.ErrShortWrite
	}
	return int64(m), true, err
}

// fill reads the window from off on; ra.mu is held.
func (ra *readAhead) fill(off int64) {
	if ra.buf == nil {
		ra.buf = make([]byte, windowSize)
	}
	k, _ := ra.r.ReadAt(ra.buf[:min(windowSize, ra.limit-off)], off)
	ra.off, ra.buf = off, ra.buf[:k]
}

// costlyReads reports whether each ReadAt of r is a system call: r is an
// [*os.File], or an [*io.SectionReader] of one. Reads of other readers
// (an image in memory) are as cheap as copying from the window.
func costlyReads(r io.ReaderAt) bool {
	if sr, ok := r.(*io.SectionReader); ok {
		r, _, _ = sr.Outer()
	}
	_, ok := r.(*os.File)
	return ok
}
