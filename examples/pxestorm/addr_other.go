//go:build !linux

package main

import (
	"net/netip"
	"os/exec"
)

// setAddr adds or removes an address with ip(8) (Linux has the netlink
// version; pxestorm needs Linux anyway).
func setAddr(iface string, a netip.Prefix, add bool) error {
	op := "replace"
	if !add {
		op = "del"
	}
	return exec.Command("ip", "addr", op, a.String(), "dev", iface).Run()
}
