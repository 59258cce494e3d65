//go:build !linux

package tftp

import "net/netip"

// engineLink: the lock-step engine is Linux-only (engine_linux.go);
// elsewhere every transfer socket is the net package's.
func engineLink(netip.Addr, netip.AddrPort, string) link { return nil }
