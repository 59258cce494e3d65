package bootmenu

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pxekit/pxekit/internal/testenv"
)

// corpusDir is the shared corpus of real menus, beside the checkout.
const corpusDir = "../../shared/corpus/menus"

type corpusFile struct {
	name string // path relative to corpusDir
	kind string
	data []byte
}

// corpus returns the corpus files of the given kind listed in MANIFEST.tsv.
// It fails under CI when the corpus is missing and skips otherwise.
func corpus(t testing.TB, kind string) []corpusFile {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir, "MANIFEST.tsv"))
	if err != nil {
		testenv.Unavailable(t, "menu corpus missing: %v", err)
	}
	defer f.Close()
	var out []corpusFile
	sc := bufio.NewScanner(f)
	first := true
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if first {
			first = false
			continue
		}
		if len(cols) < 4 || cols[3] != kind {
			continue
		}
		data, err := os.ReadFile(filepath.Join(corpusDir, cols[0]))
		if err != nil {
			t.Fatalf("corpus file listed but unreadable: %v", err)
		}
		out = append(out, corpusFile{name: cols[0], kind: cols[3], data: data})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("no %s files in the corpus manifest", kind)
	}
	return out
}

func TestCorpusRoundTrip(t *testing.T) {
	files := corpus(t, "config")
	if len(files) < 100 {
		t.Errorf("corpus has %d config files, want at least 100", len(files))
	}
	for _, cf := range files {
		t.Run(cf.name, func(t *testing.T) {
			c, err := Parse(cf.data)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var buf bytes.Buffer
			if err := Format(&buf, c); err != nil {
				t.Fatalf("Format: %v", err)
			}
			if !bytes.Equal(buf.Bytes(), cf.data) {
				t.Fatalf("Format(Parse(x)) != x:\n%s", firstDiff(buf.Bytes(), cf.data))
			}
		})
	}
}

// firstDiff describes where two byte slices first differ.
func firstDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(0, i-40)
	return "got  …" + strings.ReplaceAll(string(got[lo:min(len(got), i+40)]), "\n", "⏎") +
		"\nwant …" + strings.ReplaceAll(string(want[lo:min(len(want), i+40)]), "\n", "⏎")
}
