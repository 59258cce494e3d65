package tftp

import (
	"encoding/binary"
	"io"
	"io/fs"

	"github.com/pin/tftp/v3/netascii"
)

// window owns the packets of a transfer: where blocks are read from, the
// buffers they are put in, and the window read ahead while the client
// takes in the one before.
type window struct {
	src       source
	bs, w     int
	rollover1 bool
	oack      []byte
	last      int64 // last block number, 0 while unknown
	lastLen   int   // data bytes in the last block, once read
	buf       []byte
	pkts      [][]byte
	// ahead is the first block of the window pkts holds when it was read
	// ahead, -1 when none.
	ahead     int64
	readAhead bool
	bufs      [3]*poolBuf // returned by release
	one       [1][]byte
}

// newWindow prepares the packets of a transfer of f (size -1 when
// unknown) with the agreed options. Windows are re-read from an
// io.ReaderAt when f is one and its size is known; otherwise one window is
// buffered. Call release when done.
func newWindow(f fs.File, size int64, netasc bool, a agreed) *window {
	bs, w := a.blockSize, a.windowSize
	win := &window{bs: bs, w: w, rollover1: a.rollover1, oack: a.oack, ahead: -1}
	pkt := getBuf(4 + bs)
	win.bufs[0] = pkt
	switch ra, ok := f.(io.ReaderAt); {
	case ok && !netasc && size >= 0:
		if 2*bs <= chunkSize {
			chunk := getBuf(chunkSize)
			win.bufs[1] = chunk
			win.src = newAtSource(ra, bs, chunk.b)
		} else {
			win.src = newAtSource(ra, bs, nil)
		}
		win.last = size/int64(bs) + 1
	case netasc:
		win.src = newSeqSource(netascii.ToReader(f), bs, w)
	default:
		win.src = newSeqSource(f, bs, w)
	}
	win.buf = pkt.b[:4+bs]
	win.buf[0], win.buf[1] = 0, opDATA
	// Windows are sent from a buffer of their own: windowsize × blksize is
	// bounded by MaxWindowBytes.
	if w > 1 {
		win.bufs[2] = getBuf(w * (4 + bs))
		win.pkts = make([][]byte, 0, w)
	} else {
		win.pkts = win.one[:0]
	}
	// Windows re-read from an io.ReaderAt are read ahead: the next window
	// is put together while the client takes in this one (the kernel has
	// copied it), and leaves as soon as its ACK comes.
	win.readAhead = w > 1 && win.last > 0
	return win
}

// release returns the buffers to the pool.
func (win *window) release() {
	for i, b := range win.bufs {
		if b != nil {
			putBuf(b)
			win.bufs[i] = nil
		}
	}
}

// load makes pkts the window that starts at block from and returns its
// last block; block 0 is the OACK. A window read ahead is reused.
func (win *window) load(from int64) (int64, error) {
	if win.ahead == from {
		win.ahead = -1
		return from + int64(len(win.pkts)) - 1, nil
	}
	win.ahead = -1
	return win.fill(from)
}

// prefetch reads the window after the one that ends at block end, when
// windows are read ahead and there is one; a failed read is left for
// load to repeat and report.
func (win *window) prefetch(end int64) {
	if win.readAhead && end > 0 && end < win.last {
		if _, err := win.fill(end + 1); err == nil {
			win.ahead = end + 1
		}
	}
}

// fill puts the packets of the window that starts at block from into
// pkts and returns its last block; block 0 is the OACK.
func (win *window) fill(from int64) (int64, error) {
	bs := win.bs
	to := from + int64(win.w) - 1
	if from == 0 {
		to = 0
	}
	if win.last > 0 && to > win.last {
		to = win.last
	}
	win.pkts = win.pkts[:0]
	for k := from; k <= to; k++ {
		if k == 0 {
			win.pkts = append(win.pkts, win.oack)
			break
		}
		p := win.buf
		if b := win.bufs[2]; b != nil {
			// Each block of a window has its own packet, so that the
			// window leaves in one system call.
			i := int(k-from) * (4 + bs)
			p = b.b[i : i+4+bs]
			p[0], p[1] = 0, opDATA
		}
		n, err := win.src.block(k, p[4:])
		if err != nil {
			return 0, err
		}
		if n < bs && (win.last == 0 || k < win.last) {
			win.last = k
		}
		if k == win.last {
			win.lastLen = n
		}
		binary.BigEndian.PutUint16(p[2:], wireBlock(k, win.rollover1))
		win.pkts = append(win.pkts, p[:4+n])
		if win.last > 0 && k >= win.last {
			to = k
			break
		}
	}
	return to, nil
}

// acked returns the file bytes that an ACK of block k acknowledges.
func (win *window) acked(k int64) int64 {
	if k < 1 {
		return 0
	}
	b := (k - 1) * int64(win.bs)
	if k == win.last {
		return b + int64(win.lastLen)
	}
	return b + int64(win.bs)
}
