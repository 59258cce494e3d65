package tftp

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestFinalACKMissing drives a client that has every block but whose ACK
// of the last one is lost, in the three ways a finished client shows it:
// its port is closed (ICMP port unreachable), it answers the repeated
// block with error 5, or it is silent. Each transfer is done, with
// FinalACKMissing set and every byte counted; a client that stops before
// the last block still times out.
func TestFinalACKMissing(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), make([]byte, 1500), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		stopAt   uint16 // the client stops after receiving this block
		end      func(c *rawClient)
		outcome  Outcome
		missing  bool
		wantByte int64
	}{
		{"port closed", 3, func(c *rawClient) { c.conn.Close() }, OutcomeOK, true, 1500},
		{"unknown TID", 3, func(c *rawClient) {
			if p := c.recv(5 * time.Second); p == nil || binary.BigEndian.Uint16(p) != opDATA {
				c.t.Errorf("no retransmission of the last block: %x", p)
			}
			c.send([]byte{0, opERROR, 0, errUnknownTID, 'x', 0})
		}, OutcomeOK, true, 1500},
		{"silent", 3, func(c *rawClient) {}, OutcomeOK, true, 1500},
		{"silent before the end", 2, func(c *rawClient) {}, OutcomeTimeout, false, 512},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hook := newCountingHook()
			addr := startServer(t, &Server{FS: os.DirFS(dir), Hook: hook, Timeout: 300 * time.Millisecond})
			c := newRawClient(t, addr)
			c.sendRRQ("f", "octet")
			for want := uint16(1); ; want++ {
				p := c.mustRecv()
				if binary.BigEndian.Uint16(p) != opDATA || binary.BigEndian.Uint16(p[2:]) != want {
					t.Fatalf("got %x, want DATA %d", p[:min(len(p), 8)], want)
				}
				if want == tc.stopAt {
					break
				}
				c.send(ack(want))
			}
			tc.end(c)
			tr := hook.wait(t)
			if tr.Outcome != tc.outcome || tr.FinalACKMissing != tc.missing || tr.Bytes != tc.wantByte {
				t.Errorf("transfer %v, final ACK missing %v, %d bytes (%v); want %v, %v, %d",
					tr.Outcome, tr.FinalACKMissing, tr.Bytes, tr.Err, tc.outcome, tc.missing, tc.wantByte)
			}
		})
	}
}
