//go:build !linux

package dhcp

import "net/netip"

// The server needs Linux's socket interface (SO_BINDTODEVICE, IP_PKTINFO);
// elsewhere the package's option types and handlers still build and work,
// and Serve and ListenAndServe return an error that wraps
// errors.ErrUnsupported.
const serverSupported = false

func setSockopts(uintptr, string) error      { return errNoServer }
func setBroadcast(uintptr)                   {}
func socketIfName(uintptr, int) string       { return "" }
func socketIfIndex(uintptr, string) int      { return 0 }
func newPktinfo() pktinfo                    { return nil }
func (p pktinfo) set(int, netip.Addr) []byte { return nil }
func parsePktinfo([]byte, *inbound)          {}
