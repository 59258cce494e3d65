// Package promtext parses Prometheus' text exposition format (version
// 0.0.4) strictly, for tests that check what a server exposes: every line
// is a HELP or TYPE comment or a sample, metric and label names are valid,
// label values are UTF-8, quoted with only \\, \" and \n escapes, values are
// floats, every sample belongs to a family declared by TYPE before it, and
// a histogram's buckets are cumulative, end with le="+Inf", and agree with
// its _count.
package promtext

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Sample is one line "name{labels} value".
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Family is the samples of one TYPE.
type Family struct {
	Name, Type, Help string
	Samples          []Sample
}

var (
	metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// Parse reads the exposition in r.
func Parse(r io.Reader) (map[string]*Family, error) {
	fams := map[string]*Family{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if err := parseLine(fams, line); err != nil {
			return nil, fmt.Errorf("line %d %q: %w", n, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, f := range fams {
		if f.Type == "histogram" {
			if err := checkHistogram(f); err != nil {
				return nil, fmt.Errorf("histogram %s: %w", f.Name, err)
			}
		}
	}
	return fams, nil
}

func parseLine(fams map[string]*Family, line string) error {
	if line == "" {
		return nil
	}
	if rest, ok := strings.CutPrefix(line, "#"); ok {
		f := strings.Fields(rest)
		if len(f) < 2 || (f[0] != "HELP" && f[0] != "TYPE") {
			return nil // a plain comment
		}
		if !metricName.MatchString(f[1]) {
			return fmt.Errorf("bad metric name %q", f[1])
		}
		fam := fams[f[1]]
		if fam == nil {
			fam = &Family{Name: f[1]}
			fams[f[1]] = fam
		}
		if f[0] == "TYPE" {
			if len(f) != 3 || !slices.Contains([]string{"counter", "gauge", "histogram", "summary", "untyped"}, f[2]) {
				return fmt.Errorf("bad TYPE")
			}
			if fam.Type != "" || len(fam.Samples) > 0 {
				return fmt.Errorf("TYPE of %s again or after its samples", f[1])
			}
			fam.Type = f[2]
		} else {
			_, help, _ := strings.Cut(strings.TrimSpace(rest), f[1])
			fam.Help = strings.TrimSpace(help)
		}
		return nil
	}
	s, err := parseSample(line)
	if err != nil {
		return err
	}
	fam := fams[s.Name]
	if fam == nil {
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(s.Name, suf); ok && fams[base] != nil && (fams[base].Type == "histogram" || fams[base].Type == "summary") {
				fam = fams[base]
			}
		}
	}
	if fam == nil || fam.Type == "" {
		return fmt.Errorf("sample of %s without a TYPE", s.Name)
	}
	fam.Samples = append(fam.Samples, s)
	return nil
}

func parseSample(line string) (Sample, error) {
	s := Sample{Labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i < 0 {
		return s, fmt.Errorf("no value")
	}
	s.Name = line[:i]
	if !metricName.MatchString(s.Name) {
		return s, fmt.Errorf("bad metric name %q", s.Name)
	}
	rest := line[i:]
	if rest[0] == '{' {
		rest = rest[1:]
		for {
			if r, ok := strings.CutPrefix(rest, "}"); ok {
				rest = r
				break
			}
			eq := strings.IndexByte(rest, '=')
			if eq < 0 {
				return s, fmt.Errorf("bad label")
			}
			name := rest[:eq]
			if !labelName.MatchString(name) {
				return s, fmt.Errorf("bad label name %q", name)
			}
			if _, dup := s.Labels[name]; dup {
				return s, fmt.Errorf("label %s twice", name)
			}
			rest = rest[eq+1:]
			if !strings.HasPrefix(rest, `"`) {
				return s, fmt.Errorf("label %s: value not quoted", name)
			}
			var v strings.Builder
			j := 1
			for ; j < len(rest) && rest[j] != '"'; j++ {
				if rest[j] == '\\' {
					j++
					if j == len(rest) {
						break
					}
					switch rest[j] {
					case '\\':
						v.WriteByte('\\')
					case '"':
						v.WriteByte('"')
					case 'n':
						v.WriteByte('\n')
					default:
						return s, fmt.Errorf("label %s: bad escape \\%c", name, rest[j])
					}
					continue
				}
				if rest[j] == '\n' {
					return s, fmt.Errorf("line feed in label value")
				}
				v.WriteByte(rest[j])
			}
			if j >= len(rest) {
				return s, fmt.Errorf("label %s: unterminated value", name)
			}
			if !utf8.ValidString(v.String()) {
				return s, fmt.Errorf("label %s: value is not UTF-8", name)
			}
			s.Labels[name] = v.String()
			rest = rest[j+1:]
			if r, ok := strings.CutPrefix(rest, ","); ok {
				rest = r
			} else if !strings.HasPrefix(rest, "}") {
				return s, fmt.Errorf("junk after label %s", name)
			}
		}
	}
	f := strings.Fields(rest)
	if len(f) < 1 || len(f) > 2 || !strings.HasPrefix(rest, " ") {
		return s, fmt.Errorf("want one value and an optional timestamp")
	}
	v, err := parseFloat(f[0])
	if err != nil {
		return s, err
	}
	s.Value = v
	if len(f) == 2 {
		if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
			return s, fmt.Errorf("bad timestamp %q", f[1])
		}
	}
	return s, nil
}

func parseFloat(s string) (float64, error) {
	switch s {
	case "+Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	case "NaN":
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("bad value %q", s)
	}
	return v, nil
}

// checkHistogram checks each series of a histogram (by labels other than le).
func checkHistogram(f *Family) error {
	type series struct {
		les    []float64
		counts []float64
		count  float64
		hasCnt bool
	}
	by := map[string]*series{}
	key := func(s Sample) string {
		var k []string
		for n, v := range s.Labels {
			if n != "le" {
				k = append(k, n+"="+v)
			}
		}
		slices.Sort(k)
		return strings.Join(k, ",")
	}
	for _, s := range f.Samples {
		se := by[key(s)]
		if se == nil {
			se = &series{}
			by[key(s)] = se
		}
		switch s.Name {
		case f.Name + "_bucket":
			le, err := parseFloat(s.Labels["le"])
			if err != nil {
				return fmt.Errorf("bucket without a valid le: %w", err)
			}
			se.les, se.counts = append(se.les, le), append(se.counts, s.Value)
		case f.Name + "_count":
			se.count, se.hasCnt = s.Value, true
		case f.Name + "_sum":
		default:
			return fmt.Errorf("sample %s in a histogram", s.Name)
		}
	}
	for k, se := range by {
		if len(se.les) == 0 || !math.IsInf(se.les[len(se.les)-1], 1) {
			return fmt.Errorf("series {%s}: last bucket is not +Inf", k)
		}
		for i := 1; i < len(se.les); i++ {
			if se.les[i] <= se.les[i-1] || se.counts[i] < se.counts[i-1] {
				return fmt.Errorf("series {%s}: buckets not increasing", k)
			}
		}
		if !se.hasCnt || se.count != se.counts[len(se.counts)-1] {
			return fmt.Errorf("series {%s}: _count %v, +Inf bucket %v", k, se.count, se.counts[len(se.counts)-1])
		}
	}
	return nil
}

// Value returns the value of the sample of family name (or, for a
// histogram, the sample named name) whose labels include all of labels,
// and whether there is one.
func Value(fams map[string]*Family, name string, labels map[string]string) (float64, bool) {
	for _, f := range fams {
		for _, s := range f.Samples {
			if s.Name != name {
				continue
			}
			ok := true
			for k, v := range labels {
				ok = ok && s.Labels[k] == v
			}
			if ok {
				return s.Value, true
			}
		}
	}
	return 0, false
}
