package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain removes the server binary that serverBinary built, so that no
// test run leaves it behind in the temporary directory.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
