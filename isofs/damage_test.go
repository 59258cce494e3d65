package isofs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pxekit/pxekit/internal/testenv"
)

// makeDamageImage has xorriso make a Rock Ridge and Joliet image of about
// 1 MiB whose directory d holds a.txt, bad.txt and c.txt (and a 1 MiB
// file, big.bin, to give the image its size).
func makeDamageImage(t *testing.T) []byte {
	t.Helper()
	xorriso := testenv.NeedCommand(t, "xorriso")[0]
	src := t.TempDir()
	files := map[string]string{
		"top.txt":   "top\n",
		"d/a.txt":   "a\n",
		"d/bad.txt": "bad\n",
		"d/c.txt":   "c\n",
		"big.bin":   strings.Repeat("x", 1<<20),
	}
	for name, body := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "damage.iso")
	cmd := exec.Command(xorriso, "-outdev", out, "-padding", "0", "-joliet", "on", "-map", src, "/")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xorriso: %v\n%s", err, b)
	}
	img, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestDamagedEntry checks that one damaged record leaves its directory
// readable: the entry is not listed, opening it reports the damage, its
// neighbours are served, and Check names it.
func TestDamagedEntry(t *testing.T) {
	base := makeDamageImage(t)
	if errs := mustOpen(t, base, Options{}).Check(); errs != nil {
		t.Fatalf("Check() of the intact image = %v, want nil", errs)
	}
	tests := []struct {
		name    string
		mutate  func(t *testing.T, b []byte)
		badPath string // what Check reports
		openErr bool   // opening d/bad.txt reports ErrCorrupt (not only ErrNotExist)
	}{
		{"extent past the end", func(t *testing.T, b []byte) {
			put32(b, record(t, b, "D", "BAD.TXT")+2, uint32(len(b)/2048+100))
		}, "d/bad.txt", true},
		{"size 4 GiB", func(t *testing.T, b []byte) {
			put32(b, record(t, b, "D", "BAD.TXT")+10, 0xffffffff)
		}, "d/bad.txt", true},
		{"multi-extent without its last extent", func(t *testing.T, b []byte) {
			b[record(t, b, "D", "BAD.TXT")+25] |= flagMultiExtent
		}, "d/bad.txt", true},
		{"SUSP entry longer than the area", func(t *testing.T, b []byte) {
			r := record(t, b, "D", "BAD.TXT")
			i := bytes.Index(b[r:r+int(b[r])], []byte("PX"))
			b[r+i+2] = 250
		}, "d/BAD.TXT", false}, // the Rock Ridge name is lost with its entries
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := bytes.Clone(base)
			tt.mutate(t, img)
			fsys := mustOpen(t, img, Options{})

			list, err := fsys.ReadDir("d")
			if err != nil {
				t.Fatalf("ReadDir(d) = %v, want the undamaged entries", err)
			}
			var names []string
			for _, e := range list {
				names = append(names, e.Name())
			}
			if want := []string{"a.txt", "c.txt"}; !slices.Equal(names, want) {
				t.Errorf("ReadDir(d) = %q, want %q", names, want)
			}
			for _, name := range []string{"d/a.txt", "d/c.txt", "top.txt"} {
				b, err := fsys.ReadFile(name)
				if err != nil || len(b) == 0 {
					t.Errorf("ReadFile(%s) = %q, %v", name, b, err)
				}
			}
			_, err = fsys.Open("d/bad.txt")
			var pe *fs.PathError
			var fe *FormatError
			switch {
			case !errors.As(err, &pe):
				t.Errorf("Open(d/bad.txt) = %v, want a *fs.PathError", err)
			case tt.openErr && (!errors.Is(err, ErrCorrupt) || !errors.As(err, &fe)):
				t.Errorf("Open(d/bad.txt) = %v, want a *FormatError wrapping ErrCorrupt", err)
			case !tt.openErr && !errors.Is(err, fs.ErrNotExist):
				t.Errorf("Open(d/bad.txt) = %v, want fs.ErrNotExist", err)
			}
			if err := fstest.TestFS(fsys, "d/a.txt", "d/c.txt", "top.txt", "big.bin"); err != nil {
				t.Error(err)
			}

			errs := fsys.Check()
			if len(errs) != 1 || !errors.As(errs[0], &pe) || pe.Path != tt.badPath || !errors.Is(errs[0], ErrCorrupt) {
				t.Errorf("Check() = %v, want one error for %s wrapping ErrCorrupt", errs, tt.badPath)
			}

			// An HTTP server lists the directory instead of failing with 500.
			srv := httptest.NewServer(http.FileServerFS(fsys))
			defer srv.Close()
			resp, err := http.Get(srv.URL + "/d/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("c.txt")) || bytes.Contains(body, []byte("bad.txt")) {
				t.Errorf("GET /d/: %s\n%s", resp.Status, body)
			}

			// The Joliet tree has records of its own, which are intact.
			if _, err := mustOpen(t, img, Options{Names: NamesJoliet}).ReadFile("d/bad.txt"); err != nil {
				t.Errorf("Joliet ReadFile(d/bad.txt) = %v", err)
			}
		})
	}
}

func mustOpen(t *testing.T, img []byte, opts Options) *FS {
	t.Helper()
	fsys, err := OpenWith(bytes.NewReader(img), opts)
	if err != nil {
		t.Fatalf("OpenWith(%+v) = %v", opts, err)
	}
	return fsys
}
