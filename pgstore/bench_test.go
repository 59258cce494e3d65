package pgstore_test

import (
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/pgstore"
	"github.com/pxekit/pxekit/pgstore/internal/pgtest"
)

// BenchmarkDORA measures what the database allows, without DHCP: per
// operation the statements one DORA exchange of a new client costs a
// server on a shared pool (a Lookup of the client, a Claim of the offer,
// a Claim of the lease), from many goroutines at once over one Store
// (one server's 32 connections) or two (two servers'). Its DORA/s is
// the ceiling of the database for any number of servers on this
// machine.
//
//	cd pgstore && go test -run XXX -bench DORA -benchtime 5s
func BenchmarkDORA(b *testing.B) {
	pg := pgtest.Start(b)
	for _, stores := range []int{1, 2} {
		b.Run(map[int]string{1: "one-server", 2: "two-servers"}[stores], func(b *testing.B) {
			url := pg.NewDB(b)
			sts := make([]*pgstore.Store, stores)
			for i := range sts {
				sts[i] = open(b, url)
				defer sts[i].Close()
			}
			var next, which atomic.Uint32
			b.SetParallelism(32) // with GOMAXPROCS 2: 64 goroutines, as many as the stores' connections
			b.ReportAllocs()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				st := sts[int(which.Add(1))%len(sts)]
				for pb.Next() {
					n := next.Add(1)
					mac := net.HardwareAddr{2, 0x18, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
					l := dhcp.Lease{Addr: netip.AddrFrom4([4]byte{10, byte(n >> 16), byte(n >> 8), byte(n)}), MAC: mac}
					if _, _, err := st.Lookup(b.Context(), mac, nil); err != nil {
						b.Fatal(err)
					}
					l.Expiry = time.Now().Add(10 * time.Second)
					if err := st.Claim(b.Context(), l, true); err != nil {
						b.Fatal(err)
					}
					l.Expiry = time.Now().Add(time.Hour)
					if err := st.Claim(b.Context(), l, false); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "DORA/s")
		})
	}
}
