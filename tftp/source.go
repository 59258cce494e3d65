package tftp

import (
	"errors"
	"fmt"
	"io"
)

// A source yields the blocks of a file by number (1-based). A block shorter
// than the block size is the last one.
type source interface {
	block(k int64, dst []byte) (int, error)
}

// chunkSize is how much of a file an io.ReaderAt source reads at once: one
// read per chunk rather than per block, while keeping a lock-step transfer
// at blksize 1468 under 64 KiB of heap.
const chunkSize = 32 << 10

// atSource reads blocks from an io.ReaderAt, through a chunk of whole
// blocks when blocks are small. Windows are re-read on retransmission, so
// nothing but the chunk is buffered.
type atSource struct {
	r     io.ReaderAt
	bs    int64
	per   int64  // blocks per chunk; 0: read blocks directly
	chunk []byte // per*bs bytes
	cIdx  int64  // chunk held, -1 for none
	cLen  int
}

func newAtSource(r io.ReaderAt, bs int, chunk []byte) *atSource {
	s := &atSource{r: r, bs: int64(bs), cIdx: -1}
	if per := int64(len(chunk)) / int64(bs); per >= 2 {
		s.per = per
		s.chunk = chunk[:per*int64(bs)]
	}
	return s
}

func (s *atSource) block(k int64, dst []byte) (int, error) {
	off := (k - 1) * s.bs
	if s.per == 0 {
		n, err := s.r.ReadAt(dst[:s.bs], off)
		if err == io.EOF || (err == nil && n == int(s.bs)) {
			return n, nil
		}
		return n, readError(err)
	}
	idx := (k - 1) / s.per
	if idx != s.cIdx {
		n, err := s.r.ReadAt(s.chunk, idx*s.per*s.bs)
		if err != nil && err != io.EOF {
			s.cIdx = -1
			return 0, readError(err)
		}
		s.cIdx, s.cLen = idx, n
	}
	o := int((k - 1 - idx*s.per) * s.bs)
	if o >= s.cLen {
		return 0, nil
	}
	return copy(dst[:s.bs], s.chunk[o:min(o+int(s.bs), s.cLen)]), nil
}

func readError(err error) error {
	if err == nil {
		err = io.ErrNoProgress
	}
	return fmt.Errorf("tftp: reading file: %w", err)
}

// seqSource reads blocks in order from an io.Reader (generated files,
// netascii conversion) and keeps the last window of them for
// retransmission.
type seqSource struct {
	r    io.Reader
	bs   int
	w    int64
	ring []byte // w blocks
	lens []int
	next int64 // next block to read from r
	eof  bool
}

var errBehindWindow = errors.New("tftp: block no longer buffered")

func newSeqSource(r io.Reader, bs, window int) *seqSource {
	return &seqSource{r: r, bs: bs, w: int64(window), ring: make([]byte, bs*window), lens: make([]int, window), next: 1}
}

func (s *seqSource) block(k int64, dst []byte) (int, error) {
	if k < s.next-s.w || k < 1 {
		return 0, errBehindWindow
	}
	for s.next <= k {
		slot := int((s.next - 1) % s.w)
		buf := s.ring[slot*s.bs : (slot+1)*s.bs]
		n := 0
		if !s.eof {
			var err error
			n, err = io.ReadFull(s.r, buf)
			switch err {
			case nil:
			case io.EOF, io.ErrUnexpectedEOF:
				s.eof = true
			default:
				return 0, readError(err)
			}
		}
		s.lens[slot] = n
		s.next++
	}
	slot := int((k - 1) % s.w)
	return copy(dst[:s.bs], s.ring[slot*s.bs:slot*s.bs+s.lens[slot]]), nil
}
