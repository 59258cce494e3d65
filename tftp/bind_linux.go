//go:build linux

package tftp

import "golang.org/x/sys/unix"

// bindToDevice binds the socket fd to the named interface (SO_BINDTODEVICE).
func bindToDevice(fd uintptr, name string) error {
	return unix.BindToDevice(int(fd), name)
}
