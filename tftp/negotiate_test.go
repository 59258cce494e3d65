package tftp

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

func TestNegotiate(t *testing.T) {
	lim := limits{maxBlockSize: 1468, maxWindowSize: 16, maxWindowBytes: 8 * 1468, maxTimeout: 10 * time.Second}
	oack := func(kv ...any) []byte {
		b := binary.BigEndian.AppendUint16(nil, opOACK)
		for i := 0; i < len(kv); i += 2 {
			b = appendOption(b, kv[i].(string), int64(kv[i+1].(int)))
		}
		return b
	}
	tests := []struct {
		name     string
		req      request
		size     int64
		lim      limits
		bs, w    int
		roll1    bool
		maxRTO   time.Duration
		wantOACK []byte
	}{
		{name: "no options", req: request{mode: "octet"}, size: 100, lim: lim, bs: 512, w: 1, maxRTO: maxRTO},
		{name: "blksize clamped", req: request{mode: "octet", blksize: 65464, order: []string{"blksize"}}, size: 100, lim: lim,
			bs: 1468, w: 1, maxRTO: maxRTO, wantOACK: oack("blksize", 1468)},
		{name: "client order kept", req: request{mode: "octet", blksize: 1024, tsize: true, order: []string{"tsize", "blksize"}}, size: 4096, lim: lim,
			bs: 1024, w: 1, maxRTO: maxRTO, wantOACK: oack("tsize", 4096, "blksize", 1024)},
		{name: "tsize unknown size", req: request{mode: "octet", tsize: true, order: []string{"tsize"}}, size: -1, lim: lim,
			bs: 512, w: 1, maxRTO: maxRTO},
		{name: "tsize netascii", req: request{mode: "netascii", tsize: true, order: []string{"tsize"}}, size: 10, lim: lim,
			bs: 512, w: 1, maxRTO: maxRTO},
		{name: "window by count", req: request{mode: "octet", blksize: 512, window: 64, order: []string{"blksize", "windowsize"}}, size: 1, lim: lim,
			bs: 512, w: 16, maxRTO: maxRTO, wantOACK: oack("blksize", 512, "windowsize", 16)},
		{name: "window by bytes", req: request{mode: "octet", blksize: 1468, window: 64, order: []string{"blksize", "windowsize"}}, size: 1, lim: lim,
			bs: 1468, w: 8, maxRTO: maxRTO, wantOACK: oack("blksize", 1468, "windowsize", 8)},
		{name: "window bytes below one block", req: request{mode: "octet", blksize: 1468, window: 4, order: []string{"windowsize"}}, size: 1,
			lim: limits{maxBlockSize: 1468, maxWindowSize: 16, maxWindowBytes: 100, maxTimeout: time.Second},
			bs:  1468, w: 1, maxRTO: maxRTO, wantOACK: oack("windowsize", 1)},
		{name: "timeout accepted", req: request{mode: "octet", timeout: 3, order: []string{"timeout"}}, size: 1, lim: lim,
			bs: 512, w: 1, maxRTO: 3 * time.Second, wantOACK: oack("timeout", 3)},
		{name: "timeout over limit", req: request{mode: "octet", timeout: 255, order: []string{"timeout"}}, size: 1, lim: lim,
			bs: 512, w: 1, maxRTO: maxRTO},
		{name: "rollover 1", req: request{mode: "octet", rollover: 1, order: []string{"rollover"}}, size: 1, lim: lim,
			bs: 512, w: 1, roll1: true, maxRTO: maxRTO, wantOACK: oack("rollover", 1)},
		{name: "rollover 0 overrides server", req: request{mode: "octet", rollover: 0, order: []string{"rollover"}}, size: 1,
			lim: limits{maxBlockSize: 1468, maxWindowSize: 16, maxWindowBytes: 1 << 20, rolloverToOne: true},
			bs:  512, w: 1, maxRTO: maxRTO, wantOACK: oack("rollover", 0)},
		{name: "server rollover default", req: request{mode: "octet"}, size: 1,
			lim: limits{maxBlockSize: 1468, maxWindowSize: 16, maxWindowBytes: 1 << 20, rolloverToOne: true},
			bs:  512, w: 1, roll1: true, maxRTO: maxRTO},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := negotiate(&tt.req, tt.size, tt.lim)
			if a.blockSize != tt.bs || a.windowSize != tt.w || a.rollover1 != tt.roll1 || a.maxRTO != tt.maxRTO {
				t.Errorf("got blksize %d window %d rollover1 %v maxRTO %v; want %d %d %v %v",
					a.blockSize, a.windowSize, a.rollover1, a.maxRTO, tt.bs, tt.w, tt.roll1, tt.maxRTO)
			}
			if !bytes.Equal(a.oack, tt.wantOACK) || (a.oack == nil) != (tt.wantOACK == nil) {
				t.Errorf("OACK %q, want %q", a.oack, tt.wantOACK)
			}
		})
	}
}
