package ra_test

import (
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"time"

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

// On a v6-only boot segment with a stateless DHCPv6 server for the boot
// options, hosts form addresses from the prefix and ask DHCPv6 only for
// other configuration (the O flag).
func ExampleServer_Advertisement_prefix() {
	s := &ra.Server{
		Other: true,
		Prefixes: []ra.Prefix{{
			Prefix: netip.MustParsePrefix("2001:db8:16::/64"),
			OnLink: true, Autonomous: true,
			ValidLifetime: 2 * time.Hour, PreferredLifetime: time.Hour,
		}},
	}
	msg := s.Advertisement(nil)
	fmt.Printf("header % x\n", msg[:16])
	fmt.Printf("prefix % x\n", msg[16:])
	// Output:
	// header 86 00 00 00 00 40 00 00 00 00 00 00 00 00 00 00
	// prefix 03 04 40 c0 00 00 1c 20 00 00 0e 10 00 00 00 00 20 01 0d b8 00 16 00 00 00 00 00 00 00 00 00 00
}
