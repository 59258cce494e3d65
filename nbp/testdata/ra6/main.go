// Command ra6 sends router advertisements with the M flag (addresses from
// DHCPv6) on one interface until it is killed, using package ra: iPXE
// starts DHCPv6 only after such an advertisement. capture6.sh uses it; it
// lives under testdata so that go build ./... and go test ./... skip it.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/pxekit/pxekit/ra"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: ra6 IFACE")
		os.Exit(2)
	}
	s := &ra.Server{Interface: os.Args[1], Managed: true, MaxInterval: 4 * time.Second}
	fmt.Fprintln(os.Stderr, "ra6:", s.ListenAndServe())
	os.Exit(1)
}
