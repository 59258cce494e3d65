package tftp

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pxekit/pxekit/internal/testenv"
	"github.com/pxekit/pxekit/isofs"
)

// lookupDepths are the directory depths BenchmarkLookupDepth opens a file
// at: the cost per name should grow with the depth, not its square.
var lookupDepths = []int{1, 4, 16, 64}

// deepTree makes under dir, for each depth d of lookupDepths, a file at
// depth d (d-1 directories "dNN" above it), and returns the names.
func deepTree(tb testing.TB, dir string) map[int]string {
	tb.Helper()
	names := make(map[int]string)
	for _, d := range lookupDepths {
		elems := make([]string, 0, d)
		for i := range d - 1 {
			elems = append(elems, fmt.Sprintf("d%02d", i))
		}
		sub := filepath.Join(append([]string{dir, fmt.Sprintf("depth%d", d)}, elems...)...)
		if err := os.MkdirAll(sub, 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, "file"), []byte("x\n"), 0o644); err != nil {
			tb.Fatal(err)
		}
		names[d] = strings.Join(append(append([]string{fmt.Sprintf("depth%d", d)}, elems...), "file"), "/")
	}
	return names
}

// BenchmarkLookupDepth opens (and closes) a file d directories deep the
// way a transfer does (openFS: links resolved under the server's rule), on
// an xorriso-made image given directly as the server's FS and on
// os.DirFS. The per-element cost (ns/op divided by d) should stay flat as
// d grows.
func BenchmarkLookupDepth(b *testing.B) {
	xorriso := testenv.NeedCommand(b, "xorriso")[0]
	src := b.TempDir()
	names := deepTree(b, src)
	iso := filepath.Join(b.TempDir(), "deep.iso")
	if out, err := exec.Command(xorriso, "-as", "mkisofs", "-R", "-o", iso, src).CombinedOutput(); err != nil {
		b.Fatalf("xorriso: %v\n%s", err, out)
	}
	f, err := os.Open(iso)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	img, err := isofs.Open(f)
	if err != nil {
		b.Fatal(err)
	}
	for _, fsys := range []struct {
		name string
		s    *Server
	}{{"isofs", &Server{FS: img}}, {"dirfs", &Server{FS: os.DirFS(src)}}} {
		for _, d := range lookupDepths {
			b.Run(fmt.Sprintf("%s/depth=%d", fsys.name, d), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					file, err := fsys.s.openFS(names[d])
					if err != nil {
						b.Fatal(err)
					}
					file.Close()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(d), "ns/elem")
			})
		}
	}
}
