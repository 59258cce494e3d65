package dhcp

import (
	"context"
	"net"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkFileStorePaced saves one lease every 2 ms, each from a
// goroutine of its own as the server's REQUESTs do (500 REQUESTs/s, which
// never overlap on a fast disk), with and without SyncInterval, and
// reports the writes (each an fsync) and the process's CPU time per Save.
func BenchmarkFileStorePaced(b *testing.B) {
	for _, bc := range []struct {
		name     string
		interval time.Duration
	}{{"interval=0", 0}, {"interval=10ms", 10 * time.Millisecond}} {
		b.Run(bc.name, func(b *testing.B) {
			s := &FileStore{Path: filepath.Join(b.TempDir(), "leases"), SyncInterval: bc.interval}
			if _, err := s.Load(context.Background()); err != nil {
				b.Fatal(err)
			}
			var wg sync.WaitGroup
			var r0, r1 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
			w0 := s.writes
			tick := time.NewTicker(2 * time.Millisecond)
			defer tick.Stop()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				<-tick.C
				i++
				l := Lease{Addr: addrOf(0x0a000000 + uint32(i)), MAC: net.HardwareAddr{2, 0, 0, byte(i >> 16), byte(i >> 8), byte(i)}, Expiry: time.Unix(1800000000, 0)}
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := s.Save(context.Background(), l); err != nil {
						b.Error(err)
					}
				}()
			}
			wg.Wait()
			syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
			cpu := time.Duration(r1.Utime.Nano() - r0.Utime.Nano() + r1.Stime.Nano() - r0.Stime.Nano())
			b.ReportMetric(float64(s.writes-w0)/float64(i), "writes/op")
			b.ReportMetric(float64(cpu.Microseconds())/float64(i), "cpu-µs/op")
		})
	}
}
