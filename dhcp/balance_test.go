package dhcp

import (
	"math/rand/v2"
	"net"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// The table of RFC 3074 §6 holds 256 distinct values.
func TestLoadBalanceTableIsPermutation(t *testing.T) {
	var seen [256]bool
	for i, v := range loadbTable {
		if seen[v] {
			t.Fatalf("loadbTable[%d] = %d repeats", i, v)
		}
		seen[v] = true
	}
}

// Expected values follow by hand from the algorithm of RFC 3074 §5:
// the empty key hashes to its length 0; key {k} to T[1^k]; key {a,b} to
// T[T[2^b]^a]. T[0]=251, T[1]=175, T[3]=215, T[2]=119.
func TestLoadBalanceHash(t *testing.T) {
	T := func(i int) uint8 { return loadbTable[i] }
	cases := []struct {
		key  []byte
		want uint8
	}{
		{nil, 0},
		{[]byte{0x01}, 251},                 // T[1^1]=T[0]
		{[]byte{0x00}, 175},                 // T[1]
		{[]byte{0x02}, 215},                 // T[3]
		{[]byte{0x00, 0x00}, T(int(119))},   // T[T[2]^0] = T[119]
		{[]byte{0x05, 0x02}, T(251 ^ 0x05)}, // T[T[2^2]^5] = T[T[0]^5]
	}
	for _, c := range cases {
		if got := LoadBalanceHash(c.key); got != c.want {
			t.Errorf("LoadBalanceHash(%x) = %d, want %d", c.key, got, c.want)
		}
	}
	if T(119) != 150 || T(251^5) != 234 {
		t.Errorf("table entries T[119]=%d T[254]=%d, want 150 and 234 (RFC 3074 §6, as ISC dhcpd prints it ten a row)", T(119), T(251^5))
	}
}

// Random MACs split within a few percent between 2 and 3 servers, and
// every bucket has exactly one owner.
func TestSplitBalanced(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{2, 3} {
		count := make([]int, n)
		const clients = 30000
		for range clients {
			mac := make([]byte, 6)
			for i := range mac {
				mac[i] = byte(r.Uint32())
			}
			b := LoadBalanceHash(mac)
			owners := 0
			for i := range n {
				if (Split{Index: i, N: n}).Serves(b) {
					owners++
					count[i]++
				}
			}
			if owners != 1 {
				t.Fatalf("bucket %d has %d owners among %d", b, owners, n)
			}
		}
		for i, c := range count {
			if f := float64(c) * float64(n) / clients; f < 0.95 || f > 1.05 {
				t.Errorf("N=%d server %d got %d of %d clients (%.3f of fair share)", n, i, c, clients, f)
			}
		}
	}
}

func TestServerBalanced(t *testing.T) {
	mac := net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56}
	req, err := dhcpv4.NewDiscovery(mac)
	if err != nil {
		t.Fatal(err)
	}
	b := LoadBalanceHash(mac)
	mine := Split{Index: int(b) % 2, N: 2}
	peer := Split{Index: 1 - int(b)%2, N: 2}
	if !(&Server{Balancer: mine}).balanced(req) {
		t.Errorf("server owning bucket %d does not answer", b)
	}
	if (&Server{Balancer: peer}).balanced(req) {
		t.Errorf("server not owning bucket %d answers", b)
	}
	req.NumSeconds = 10
	if !(&Server{Balancer: peer, BalanceSecs: 10}).balanced(req) {
		t.Errorf("secs 10 >= BalanceSecs 10: peer's client not answered")
	}
	req.Options.Update(dhcpv4.OptClientIdentifier([]byte{1, 2, 3}))
	if got := LoadBalanceHash(BalanceKey(req)); got != LoadBalanceHash([]byte{1, 2, 3}) {
		t.Errorf("BalanceKey does not use option 61")
	}
}
