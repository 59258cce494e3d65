package bootmenu

import (
	"testing"
	"testing/fstest"
)

// TestResolveNameFromRoot checks that Resolve looks its file name up from
// the root of the file system and applies Dir only to the names the
// configuration mentions (ResolveOptions.Dir).
func TestResolveNameFromRoot(t *testing.T) {
	fsys := fstest.MapFS{
		"isolinux/isolinux.cfg": {Data: []byte("label top\ninclude txt.cfg\n")},
		"isolinux/txt.cfg":      {Data: []byte("label txt\n")},
		// What Resolve would read if it joined Dir to its name as well.
		"isolinux/isolinux/isolinux.cfg": {Data: []byte("label wrong\n")},
	}
	for _, name := range []string{"isolinux/isolinux.cfg", "/isolinux/isolinux.cfg", "::isolinux/isolinux.cfg"} {
		r, err := Resolve(fsys, name, &ResolveOptions{Dir: "isolinux"})
		if err != nil {
			t.Fatalf("Resolve(%q, Dir isolinux): %v", name, err)
		}
		if got := labels(r.Menu); got != "top txt" {
			t.Errorf("Resolve(%q, Dir isolinux) entries = %q, want %q", name, got, "top txt")
		}
		if len(r.Files) == 0 || r.Files[0] != "isolinux/isolinux.cfg" {
			t.Errorf("Resolve(%q, Dir isolinux) read %q first, want isolinux/isolinux.cfg", name, r.Files)
		}
	}
}
