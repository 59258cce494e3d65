package promtext

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	good := `# HELP a_total Things.
# TYPE a_total counter
a_total{k="x\"y\\z\n",j="2"} 3
a_total 4 1700000000000
# TYPE h histogram
h_bucket{le="0.1"} 1
h_bucket{le="+Inf"} 2
h_sum 0.5
h_count 2
`
	fams, err := Parse(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := Value(fams, "a_total", map[string]string{"k": "x\"y\\z\n"}); !ok || v != 3 {
		t.Errorf("Value = %v, %v", v, ok)
	}
	if fams["a_total"].Help != "Things." {
		t.Errorf("help %q", fams["a_total"].Help)
	}
	for _, bad := range []string{
		"a 1\n",                                    // no TYPE
		"# TYPE a counter\na{k=x} 1\n",             // unquoted
		"# TYPE a counter\na{k=\"x\\q\"} 1\n",      // bad escape
		"# TYPE a counter\na{k=\"\xff\"} 1\n",      // not UTF-8
		"# TYPE a counter\na{k=\"x\"} one\n",       // bad value
		"# TYPE a counter\na{k=\"x\"}\n",           // no value
		"# TYPE a counter\na{k=\"x} 1\n",           // unterminated
		"# TYPE a counter\na{1k=\"x\"} 1\n",        // bad label name
		"# TYPE 1a counter\n",                      // bad name
		"# TYPE a counter\na{k=\"x\",k=\"y\"} 1\n", // duplicate
		"# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", // decreasing
		"# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_count 2\n",                          // no +Inf
		"# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 3\n",                       // count disagrees
	} {
		if _, err := Parse(strings.NewReader(bad)); err == nil {
			t.Errorf("Parse(%q) accepted it", bad)
		}
	}
}
