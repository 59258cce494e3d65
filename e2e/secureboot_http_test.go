package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pxekit/pxekit/internal/testenv"
)

// trixieGRUBNet is Debian 13's signed network GRUB, which .ci/trixie-grub
// fetches (not installs) into /var/cache/pxekit/trixie-grub, or into
// $PXEKIT_TRIXIE_GRUB_DIR. Unlike Debian 12's it has the http module, and
// its SBAT level (grub,7; grub.debian,5) is above what Debian 12's shim
// 16.1 revokes (grub,5), so that shim starts it.
func trixieGRUBNet(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PXEKIT_TRIXIE_GRUB_DIR")
	if dir == "" {
		dir = "/var/cache/pxekit/trixie-grub"
	}
	p := filepath.Join(dir, "usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed")
	if _, err := os.Stat(p); err != nil {
		testenv.Unavailable(t, "Debian 13's signed network GRUB is missing: %v (run .ci/trixie-grub)", err)
	}
	return p
}
