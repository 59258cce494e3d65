//go:build !linux

package tftp

import (
	"errors"
	"fmt"
)

// bindToDevice: binding a socket to an interface is Linux-only here.
func bindToDevice(fd uintptr, name string) error {
	return fmt.Errorf("tftp: binding to interface %q needs Linux (SO_BINDTODEVICE): %w", name, errors.ErrUnsupported)
}
