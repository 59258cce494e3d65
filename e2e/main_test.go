package e2e

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestMain raises go test's -parallel, unless it was given, to twice the
// QEMU slots plus two, and removes the server binary that serverBinary
// built, so that no test run leaves it behind in the temporary directory.
//
// qemuSlots, not -parallel, bounds the boots that run at once. With
// -parallel at its default (GOMAXPROCS, 2 in CI) a test held its place
// while it built its tree or image, started its servers and made its
// checks after the boot, and no other boot could use the free QEMU slot
// meanwhile; with more places, that work overlaps the boots of others.
func TestMain(m *testing.M) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		_ = flag.Set("test.parallel", strconv.Itoa(2*qemuParallel()+2))
	}
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
