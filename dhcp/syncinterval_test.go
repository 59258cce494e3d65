package dhcp

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestFileStoreSyncInterval: Saves that never overlap, one every 5 ms,
// share their writes when SyncInterval asks for it, and each returns only
// once its line is in the file.
func TestFileStoreSyncInterval(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval time.Duration
		maxWrite uint64 // at most, of 20 Saves over 95 ms
		minWrite uint64
	}{
		{"interval", 50 * time.Millisecond, 4, 1},
		// Without it the writes batch only when they overlap: with a
		// write shorter than 5 ms, one per Save.
		{"none", 0, 20, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "leases")
			s := &FileStore{Path: path, SyncInterval: tc.interval}
			if _, err := s.Load(context.Background()); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make(chan error, 20)
			for i := range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					l := Lease{Addr: netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)}), MAC: net.HardwareAddr{2, 0, 0, 0, 0, byte(i)}, Expiry: time.Unix(1800000000, 0)}
					if err := s.Save(context.Background(), l); err != nil {
						errs <- err
						return
					}
					b, err := os.ReadFile(path)
					if err != nil {
						errs <- err
						return
					}
					if line := appendLeaseLine(nil, l); !bytes.Contains(b, line) {
						errs <- fmt.Errorf("Save(%v) returned before %q was in the file", l.Addr, line)
					}
				}()
				time.Sleep(5 * time.Millisecond)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			s.mu.Lock()
			w := s.writes
			s.mu.Unlock()
			if w > tc.maxWrite || w < tc.minWrite {
				t.Errorf("20 Saves 5 ms apart with SyncInterval %v: %d writes, want %d to %d", tc.interval, w, tc.minWrite, tc.maxWrite)
			}
		})
	}
}

// TestFileStoreSyncIntervalQuiet: after a quiet spell a change is written
// at once; one right behind it waits for the interval.
func TestFileStoreSyncIntervalQuiet(t *testing.T) {
	const interval = 400 * time.Millisecond
	s := &FileStore{Path: filepath.Join(t.TempDir(), "leases"), SyncInterval: interval}
	l := Lease{Addr: netip.MustParseAddr("10.0.0.1"), MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, Expiry: time.Unix(1800000000, 0)}
	if err := s.Save(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	time.Sleep(interval + 50*time.Millisecond)
	t0 := time.Now()
	if err := s.Save(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > interval/2 {
		t.Errorf("Save after a quiet spell took %v, want it written at once (interval %v)", d, interval)
	}
	t0 = time.Now()
	if err := s.Delete(context.Background(), l.Addr); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d < interval/2 {
		t.Errorf("Delete right after a Save took %v, want it to wait for SyncInterval %v", d, interval)
	}
}
