package dhcp

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkParseLeaseFile decodes a lease file of 10000 leases and 10000
// journal lines, as FileStore.Load does on every start.
func BenchmarkParseLeaseFile(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("# pxekit dhcp leases: ADDR MAC EXPIRY(unix) HOSTNAME, or ADDR - (deleted)\n")
	for i := range 20000 {
		fmt.Fprintf(&sb, "10.%d.%d.%d 52:54:00:%02x:%02x:%02x %d %q\n", i>>16&255, i>>8&255, i&255, i>>16&255, i>>8&255, i&255, 1800000000+i, fmt.Sprint("host", i%10000))
	}
	data := []byte(sb.String())
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseLeaseFile(data); err != nil {
			b.Fatal(err)
		}
	}
}
