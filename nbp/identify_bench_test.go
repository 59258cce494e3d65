package nbp

import (
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// BenchmarkIdentify measures Identify on real firmware's requests; it runs
// on every DHCP request a boot server gets.
func BenchmarkIdentify(b *testing.B) {
	for _, name := range []string{"ovmf-pxe", "ipxe-bios-e1000", "aavmf-http"} {
		req := readCapture(b, name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Identify(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPolicyDecide measures identification plus the policy choice.
func BenchmarkPolicyDecide(b *testing.B) {
	req := readCapture(b, "ovmf-pxe")
	p := &Policy{}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Decide(b.Context(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// TestIdentifyAllocs holds Identify to its allocation budget: the copy of
// the MAC address, nothing else, for the requests firmware sends.
func TestIdentifyAllocs(t *testing.T) {
	for _, name := range []string{"ovmf-pxe", "ipxe-bios-e1000", "aavmf-http"} {
		req := readCapture(t, name)
		n := testing.AllocsPerRun(100, func() {
			if _, err := Identify(req); err != nil {
				t.Fatal(err)
			}
		})
		if n > 1 {
			t.Errorf("Identify(%s) allocates %v times, want at most 1", name, n)
		}
	}
}

// BenchmarkFromBytes is the yardstick for BenchmarkIdentify: insomniacslk's
// decoding of the same captured packet, which a server does before
// Identify on every request.
func BenchmarkFromBytes(b *testing.B) {
	req := readCapture(b, "ovmf-pxe")
	raw := req.ToBytes()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dhcpv4.FromBytes(raw); err != nil {
			b.Fatal(err)
		}
	}
}
