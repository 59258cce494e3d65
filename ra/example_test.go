package ra_test

import (
	"fmt"
	"log"
	"log/slog"
	"net"
	"os"

	"github.com/pxekit/pxekit/ra"
)

// Answer router solicitations on eth0 beside a boot server, so that iPXE
// does not wait 13 s for a router.
func Example() {
	s := &ra.Server{Interface: "eth0", Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	go func() {
		if err := s.ListenAndServe(); err != nil && err != ra.ErrServerClosed {
			log.Print(err)
		}
	}()
	defer s.Close()
}

// The advertisement announces no router, no prefix and no DHCPv6.
func ExampleServer_Advertisement() {
	mac, _ := net.ParseMAC("52:54:00:12:34:56")
	fmt.Printf("% x\n", (&ra.Server{}).Advertisement(mac))
	// Output:
	// 86 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 01 52 54 00 12 34 56
}
