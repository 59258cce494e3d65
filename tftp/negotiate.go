package tftp

import (
	"encoding/binary"
	"time"
)

// limits are the server's bounds on what a client may negotiate.
type limits struct {
	maxBlockSize   int
	maxWindowSize  int
	maxWindowBytes int           // windowsize × blksize bound
	maxTimeout     time.Duration // largest acknowledged timeout option
	rolloverToOne  bool          // block numbers wrap to 1 unless the client says
}

func (s *Server) limits() limits {
	return limits{
		maxBlockSize:   s.maxBlockSize(),
		maxWindowSize:  s.maxWindowSize(),
		maxWindowBytes: s.maxWindowBytes(),
		maxTimeout:     s.maxClientTimeout(),
		rolloverToOne:  s.RolloverToOne,
	}
}

// agreed is the outcome of option negotiation for one request.
type agreed struct {
	blockSize  int
	windowSize int
	rollover1  bool          // block numbers wrap to 1 rather than 0
	maxRTO     time.Duration // retransmission interval bound
	backoffCap time.Duration // how far repeated timeouts stretch it
	tsize      int64         // the tsize acknowledged, -1 when none
	timeout    time.Duration // the RFC 2349 timeout acknowledged, 0 when none
	// oack is the OACK packet, nil when no option is acknowledged (the
	// transfer then starts with DATA block 1).
	oack []byte
}

// negotiate answers a request's options (RFC 2347): only what the client
// asked for, in its order, within lim. size is the file's size, -1 when
// unknown; tsize is acknowledged only for a known size in octet mode.
// It does no I/O.
func negotiate(req *request, size int64, lim limits) agreed {
	a := agreed{
		blockSize:  defaultBlockSize,
		windowSize: 1,
		rollover1:  lim.rolloverToOne,
		maxRTO:     maxRTO,
		backoffCap: maxBackoff,
		tsize:      -1,
	}
	if req.blksize > 0 {
		a.blockSize = min(req.blksize, lim.maxBlockSize)
	}
	if req.window > 0 {
		a.windowSize = min(req.window, lim.maxWindowSize, max(1, lim.maxWindowBytes/a.blockSize))
	}
	netasc := req.mode == "netascii"
	oack := binary.BigEndian.AppendUint16(make([]byte, 0, 64), opOACK)
	for _, k := range req.order {
		switch k {
		case "blksize":
			oack = appendOption(oack, k, int64(a.blockSize))
		case "tsize":
			if size >= 0 && !netasc {
				a.tsize = size
				oack = appendOption(oack, k, size)
			}
		case "timeout":
			// A timeout over the server's limit is not acknowledged
			// (RFC 2349 allows no other value in the OACK): the
			// server's own timer applies.
			if d := time.Duration(req.timeout) * time.Second; d <= lim.maxTimeout {
				a.maxRTO, a.backoffCap = d, 2*d
				a.timeout = d
				oack = appendOption(oack, k, int64(req.timeout))
			}
		case "windowsize":
			oack = appendOption(oack, k, int64(a.windowSize))
		case "rollover":
			a.rollover1 = req.rollover == 1
			oack = appendOption(oack, k, int64(req.rollover))
		}
	}
	if len(oack) > 2 {
		a.oack = oack
	}
	return a
}
