package isofs

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/pxekit/pxekit/internal/testenv"
)

// TestPlainNameCollision: genisoimage records a file "12345678" as
// "12345678.;1" and truncates a directory "12345678x" to "12345678", so
// in the plain ECMA-119 tree both are called "12345678". Both must be
// listed, named as xorriso -read_fs ecma119 names them (the directory gets
// "_" appended).
func TestPlainNameCollision(t *testing.T) {
	testenv.NeedCommand(t, "genisoimage", "xorriso")
	src := filepath.Join(t.TempDir(), "src")
	for _, d := range []string{"12345678x", "12345678y", "sub/ABCDEFGHx"} {
		if err := os.MkdirAll(filepath.Join(src, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range map[string]string{
		"12345678":           "file\n",
		"12345678x/in.txt":   "in x\n",
		"12345678y/in.txt":   "in y\n",
		"12345678z.":         "z\n",
		"sub/ABCDEFGH":       "sub file\n",
		"sub/ABCDEFGHx/deep": "deep\n",
	} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	image := filepath.Join(t.TempDir(), "collide.iso")
	if out, err := exec.Command("genisoimage", "-quiet", "-o", image, src).CombinedOutput(); err != nil {
		t.Fatalf("genisoimage: %v\n%s", err, out)
	}
	want := extracted(t, image, "ecma119")
	fsys := openImage(t, image, Options{Names: NamesPlain})
	got := listFS(t, fsys)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files differ from xorriso -read_fs ecma119 (-want +got):\n%s", diff)
	}
	if len(got) < 9 {
		t.Errorf("listed %d entries, want at least 9: %v", len(got), got)
	}
	if err := fstest.TestFS(fsys, "12345678", "SUB/ABCDEFGH"); err != nil {
		t.Error(err)
	}
}

// TestRenameDuplicates checks the renaming rule on names that the
// renaming itself could collide with.
func TestRenameDuplicates(t *testing.T) {
	dir := func(name string) node { return node{name: name, mode: fs.ModeDir} }
	file := func(name string) node { return node{name: name} }
	nodes := []node{dir("A"), file("A"), file("A"), file("A_"), dir("A"), file("B")}
	var got []string
	for _, n := range sortNodes(nodes) {
		got = append(got, n.name)
	}
	want := []string{"A", "A_", "A_2", "A_3", "A_4", "B"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sortNodes names (-want +got):\n%s", diff)
	}
}
