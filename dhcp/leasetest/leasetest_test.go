package leasetest_test

import (
	"path/filepath"
	"testing"

	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/dhcp/leasetest"
)

func TestFileStore(t *testing.T) {
	leasetest.Run(t, func(t *testing.T) func() dhcp.LeaseStore {
		path := filepath.Join(t.TempDir(), "leases")
		return func() dhcp.LeaseStore { return &dhcp.FileStore{Path: path} }
	})
}
