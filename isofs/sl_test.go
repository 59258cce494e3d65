package isofs

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pxekit/pxekit/internal/testenv"
)

// slTargets are link targets whose Rock Ridge SL records hold CURRENT,
// PARENT and ROOT components and empty ones (a doubled or a trailing
// slash), with the target xorriso extracts when it differs.
var slTargets = []struct{ target, want string }{
	{".//file", ""}, {"/tmp/..", ""}, {"//x", ""}, {"./a/./b", ""},
	{"a//b", ""}, {"/", ""}, {"../x", ""}, {".", ""}, {"/./tmp", ""},
	{"//", ""}, {"/..", ""}, {"..//..", ""}, {"a/.", ""}, {"file", ""},
	// xorriso drops a trailing slash when it records the link.
	{"a/", "a"}, {"./", "."},
}

// TestSymlinkComponents: ReadLink returns SL targets with their CURRENT
// and ROOT components and empty components as recorded, as xorriso
// extracts them, not cleaned.
func TestSymlinkComponents(t *testing.T) {
	testenv.NeedCommand(t, "xorriso")
	src := filepath.Join(t.TempDir(), "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, l := range slTargets {
		if err := os.Symlink(l.target, filepath.Join(src, "l"+string(rune('a'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	image := filepath.Join(t.TempDir(), "sl.iso")
	if out, err := exec.Command("xorriso", "-as", "mkisofs", "-R", "-o", image, src).CombinedOutput(); err != nil {
		t.Fatalf("xorriso: %v\n%s", err, out)
	}
	x := extracted(t, image, "any")
	fsys := openImage(t, image, Options{})
	for i, l := range slTargets {
		name := "l" + string(rune('a'+i))
		want := l.want
		if want == "" {
			want = l.target
		}
		if x[name].Link != want {
			t.Errorf("xorriso extracts %s -> %q, the test expects %q", name, x[name].Link, want)
		}
		got, err := fsys.ReadLink(name)
		if err != nil || got != want {
			t.Errorf("ReadLink(%s) = %q, %v; want %q (recorded from %q)", name, got, err, want, l.target)
		}
	}
}
