//go:build linux

package tftp

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

// TestEngineRunsLockStep fails unless a lock-step transfer's blocks are
// sent by the engine (engine_linux.go) in a few runs, not with a wake-up
// of the transfer's goroutine for every ACK; and noEngine must keep them
// off it.
func TestEngineRunsLockStep(t *testing.T) {
	const blocks = 4000
	for _, off := range []bool{false, true} {
		hook := newCountingHook()
		srv := &Server{Files: zeroFiles, BusyPoll: -1, NoTransferLog: true, Hook: hook}
		srv.noEngine = off
		c := newBenchClient(t, startServer(t, srv))
		s0, b0 := streams.Load(), streamed.Load()
		if n := c.get(t, strconv.Itoa(blocks*1468-1), 1468, 1); n != blocks*1468-1 {
			t.Fatalf("got %d bytes", n)
		}
		hook.wait(t)
		runs, sent := streams.Load()-s0, streamed.Load()-b0
		t.Logf("noEngine=%v: %d blocks in %d engine runs", off, sent, runs)
		switch {
		case off && sent != 0:
			t.Errorf("noEngine: the engine sent %d blocks", sent)
		case !off && (sent < blocks-5 || runs > 5):
			t.Errorf("the engine sent %d of %d blocks in %d runs, want nearly all in a few", sent, blocks, runs)
		}
	}
}

// lockStepTo downloads from c's server in lock step up to block stop,
// which it receives but does not acknowledge, and returns the bytes so far.
func lockStepTo(t *testing.T, c *rawClient, name string, stop uint16) []byte {
	t.Helper()
	c.sendRRQ(name, "octet", "blksize", "512")
	var out []byte
	for want := uint16(1); ; {
		p := c.mustRecv()
		switch binary.BigEndian.Uint16(p) {
		case opOACK:
			c.send(ack(0))
			continue
		case opDATA:
		default:
			t.Fatalf("got %x, want DATA", p[:min(len(p), 40)])
		}
		blk := binary.BigEndian.Uint16(p[2:])
		if blk != want {
			continue
		}
		out = append(out, p[4:]...)
		if blk == stop {
			return out
		}
		c.send(ack(blk))
		want++
	}
}

// TestEngineLostACK: an ACK lost while the engine runs the transfer; the
// transfer is handed back when its timer ends, the block is sent again,
// and the file arrives whole.
func TestEngineLostACK(t *testing.T) {
	data := randomBytes(400*512+100, 7)
	hook := newCountingHook()
	files := FileSourceFunc(func(context.Context, netip.AddrPort, string) (fs.File, error) {
		return BytesFile("f", data), nil
	})
	srv := &Server{Files: files, BusyPoll: -1, Hook: hook}
	c := newRawClient(t, startServer(t, srv))
	b0 := streamed.Load()
	got := lockStepTo(t, c, "f", 300)
	start := time.Now()
	p := c.mustRecv() // the repeat of block 300: its ACK never left
	if binary.BigEndian.Uint16(p) != opDATA || binary.BigEndian.Uint16(p[2:]) != 300 {
		t.Fatalf("got %x, want block 300 again", p[:min(len(p), 8)])
	}
	t.Logf("block 300 again after %v", time.Since(start))
	c.send(ack(300))
	got = append(got, c.fetchFrom(301, 512)...)
	if !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes, want the %d of the file", len(got), len(data))
	}
	if tr := hook.wait(t); tr.Outcome != OutcomeOK {
		t.Errorf("outcome %v (%v), want ok", tr.Outcome, tr.Err)
	}
	if streamed.Load()-b0 < 250 {
		t.Errorf("the engine sent %d blocks, want most of them", streamed.Load()-b0)
	}
}

// engineAt200 starts a server and a lock-step download of 1,000 blocks
// from it, stopped at block 200 (received, not acknowledged), where the
// engine runs the transfer.
func engineAt200(t *testing.T) (*Server, *countingHook, *rawClient) {
	t.Helper()
	hook := newCountingHook()
	srv := &Server{Files: zeroFiles, BusyPoll: -1, Hook: hook}
	c := newRawClient(t, startServer(t, srv))
	lockStepTo(t, c, strconv.Itoa(1000*512), 200)
	return srv, hook, c
}

// TestEngineClientError: an error packet from the client while the
// engine runs the transfer ends it as aborted, with the client's error.
func TestEngineClientError(t *testing.T) {
	_, hook, c := engineAt200(t)
	c.send(appendError(nil, errNotDefined, "user cancelled"))
	tr := hook.wait(t)
	var ce *ClientError
	if tr.Outcome != OutcomeAborted || !errors.As(tr.Err, &ce) || ce.Message != "user cancelled" {
		t.Errorf("outcome %v, err %v; want aborted with the client's error", tr.Outcome, tr.Err)
	}
}

// TestEngineNewRequest: a new request from the same client port while
// the engine runs the transfer ends it and is served.
func TestEngineNewRequest(t *testing.T) {
	_, hook, c := engineAt200(t)
	c.send(ack(200)) // block 201 follows; the client starts over instead
	c.sendRRQ("1000", "octet")
	if tr := hook.wait(t); tr.Outcome != OutcomeCanceled {
		t.Errorf("first transfer: outcome %v (%v), want canceled", tr.Outcome, tr.Err)
	}
	for {
		p := c.mustRecv()
		if binary.BigEndian.Uint16(p) == opDATA && binary.BigEndian.Uint16(p[2:]) == 1 && len(p) == 4+512 {
			c.send(ack(1))
			break
		}
	}
	if got := c.fetchFrom(2, 512); len(got) != 1000-512 {
		t.Errorf("second transfer: %d bytes after the first block, want %d", len(got), 1000-512)
	}
	if tr := hook.wait(t); tr.Outcome != OutcomeOK || tr.Bytes != 1000 {
		t.Errorf("second transfer: outcome %v, %d bytes", tr.Outcome, tr.Bytes)
	}
}

// TestEngineClose: Close ends a transfer the engine runs at once, with an
// error packet to the client, not when the client would have given up.
func TestEngineClose(t *testing.T) {
	srv, hook, c := engineAt200(t)
	c.send(ack(200))
	start := time.Now()
	srv.Close()
	tr := hook.wait(t)
	if tr.Outcome != OutcomeCanceled {
		t.Errorf("outcome %v (%v), want canceled", tr.Outcome, tr.Err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the transfer ended %v after Close", d)
	}
	for {
		p := c.mustRecv()
		if binary.BigEndian.Uint16(p) == opERROR {
			break
		}
	}
}
