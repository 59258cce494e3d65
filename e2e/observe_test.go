package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/events"
	"github.com/pxekit/pxekit/internal/promtext"
	"github.com/pxekit/pxekit/internal/testenv"
	"github.com/pxekit/pxekit/timeline"
)

// labHTTP is the minimal server's HTTP address in the lab (its default
// -http :8080).
const labHTTP = "http://" + labServerIP + ":8080"

// fetch GETs a URL from inside the lab namespace with curl.
func (l *lab) fetch(url string) string {
	l.t.Helper()
	return l.ns.MustRun(l.t, "curl", "-sSfg", "--max-time", "10", url)
}

// status is what the server's /_pxekit/status.json says: the start-up
// notes and the machines.
type status struct {
	Notes []struct {
		Kind   string            `json:"kind"`
		Level  string            `json:"level"`
		Msg    string            `json:"msg"`
		Fields map[string]string `json:"fields"`
	} `json:"notes"`
	Machines []timeline.Machine `json:"machines"`
}

// status fetches and decodes /_pxekit/status.json, from labHTTP or, in a
// lab without IPv4, from l.statusBase.
func (l *lab) status() (status, string) {
	l.t.Helper()
	base := l.statusBase
	if base == "" {
		base = labHTTP
	}
	body := l.fetch(base + "/_pxekit/status.json")
	var st status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		l.t.Fatalf("status.json: %v\n%s", err, body)
	}
	return st, body
}

// machine returns the lab machine as the server's /_pxekit/status.json
// shows it, once it has reached stage (events arrive through a queue, so
// it waits a little), and fails the test if it does not.
func (l *lab) machine(stage timeline.Stage) timeline.Machine {
	l.t.Helper()
	return l.machineWhere(stage, "mac "+l.mac, func(m timeline.Machine) bool { return m.MAC == l.mac })
}

// machineWhere is machine for the machine that is, as what says, the one
// for which is returns true: for machines that the timeline knows by
// address only (DHCPv6 clients: the v6 server has no events yet).
func (l *lab) machineWhere(stage timeline.Stage, what string, is func(timeline.Machine) bool) timeline.Machine {
	l.t.Helper()
	var m timeline.Machine
	var body string
	for deadline := time.Now().Add(10 * time.Second); ; {
		var st status
		st, body = l.status()
		for _, x := range st.Machines {
			if is(x) {
				m = x
			}
		}
		if m.Reached(stage) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !m.Reached(stage) {
		l.t.Fatalf("status.json: machine (%s) did not reach %v:\n%s", what, stage, body)
	}
	return m
}

// requireNote fails the test unless status.json has a start-up note of
// kind whose fields match every one of fields: "key=value" for a field
// that is value, "key~text" for one that contains text.
func (l *lab) requireNote(kind string, fields ...string) {
	l.t.Helper()
	if ok, st := l.hasNote(kind, fields...); !ok {
		l.t.Errorf("status.json has no %q note with %q; notes:\n%s", kind, fields, st)
	}
}

// hasNote reports whether status.json has a note as requireNote wants
// it, and returns the notes as JSON for a failure message.
func (l *lab) hasNote(kind string, fields ...string) (bool, string) {
	l.t.Helper()
	st, _ := l.status()
	for _, n := range st.Notes {
		if n.Kind == kind && noteMatches(n.Fields, fields) {
			return true, ""
		}
	}
	b, _ := json.MarshalIndent(st.Notes, "", "  ")
	return false, string(b)
}

func noteMatches(have map[string]string, want []string) bool {
	for _, w := range want {
		if k, v, ok := strings.Cut(w, "="); ok && !strings.Contains(k, "~") {
			if got, ok := have[k]; !ok || got != v {
				return false
			}
			continue
		}
		k, v, _ := strings.Cut(w, "~")
		if got, ok := have[k]; !ok || !strings.Contains(got, v) {
			return false
		}
	}
	return true
}

// transfers returns m's recent transfers of file over proto that ended
// with outcome.
func transfers(m timeline.Machine, proto events.Proto, file, outcome string) []timeline.Transfer {
	var out []timeline.Transfer
	for _, x := range m.Recent {
		if x.Proto == proto && x.File == file && x.Outcome == outcome {
			out = append(out, x)
		}
	}
	return out
}

// requireTransfer fails the test unless m has a recent transfer of file
// over proto that ended with outcome, and returns the last one.
func requireTransfer(t *testing.T, m timeline.Machine, proto events.Proto, file, outcome string) timeline.Transfer {
	t.Helper()
	xs := transfers(m, proto, file, outcome)
	if len(xs) == 0 {
		t.Errorf("machine %s: no %v transfer of %q with outcome %q; recent %+v", m.Key, proto, file, outcome, m.Recent)
		return timeline.Transfer{}
	}
	return xs[len(xs)-1]
}

// requireStep fails the test unless m reached stage by proto with a file
// that has the prefix.
func requireStep(t *testing.T, m timeline.Machine, stage timeline.Stage, proto events.Proto, prefix string) {
	t.Helper()
	for _, s := range m.Steps {
		if s.Stage == stage && s.Proto == proto && strings.HasPrefix(s.File, prefix) {
			return
		}
	}
	t.Errorf("machine %s: no %v step over %v with a file %q…; steps %+v", m.MAC, stage, proto, prefix, m.Steps)
}

// requireStepEnds is requireStep for a file with the suffix.
func requireStepEnds(t *testing.T, m timeline.Machine, stage timeline.Stage, proto events.Proto, suffix string) {
	t.Helper()
	for _, s := range m.Steps {
		if s.Stage == stage && s.Proto == proto && strings.HasSuffix(s.File, suffix) {
			return
		}
	}
	t.Errorf("machine %s: no %v step over %v with a file …%q; steps %+v", m.MAC, stage, proto, suffix, m.Steps)
}

// requireStepsInOrder fails the test unless m's steps are in stage and
// time order, starting with DHCP.
func requireStepsInOrder(t *testing.T, m timeline.Machine) {
	t.Helper()
	if len(m.Steps) == 0 || m.Steps[0].Stage != timeline.StageDHCP {
		t.Errorf("machine %s: steps %+v, want DHCP first", m.MAC, m.Steps)
		return
	}
	for i := 1; i < len(m.Steps); i++ {
		if m.Steps[i].Stage <= m.Steps[i-1].Stage || m.Steps[i].Time.Before(m.Steps[i-1].Time) {
			t.Errorf("machine %s: steps out of order: %+v", m.MAC, m.Steps)
		}
	}
}

// metrics fetches /_pxekit/metrics and parses it strictly.
func (l *lab) metrics() map[string]*promtext.Family {
	l.t.Helper()
	text := l.fetch(labHTTP + "/_pxekit/metrics")
	fams, err := promtext.Parse(strings.NewReader(text))
	if err != nil {
		l.t.Fatalf("/_pxekit/metrics does not parse: %v\n%s", err, text)
	}
	return fams
}

// requireMetricIs fails the test unless the sample is want.
func requireMetricIs(t *testing.T, fams map[string]*promtext.Family, name string, labels map[string]string, want float64) {
	t.Helper()
	if v, ok := promtext.Value(fams, name, labels); !ok || v != want {
		t.Errorf("metric %s%v = %v (present %v), want %v", name, labels, v, ok, want)
	}
}

// requireMetric fails the test unless the sample is at least min.
func requireMetric(t *testing.T, fams map[string]*promtext.Family, name string, labels map[string]string, min float64) {
	t.Helper()
	if v, ok := promtext.Value(fams, name, labels); !ok || v < min {
		t.Errorf("metric %s%v = %v (present %v), want at least %v", name, labels, v, ok, min)
	}
}

// requireBrowserShows loads /_pxekit/status in headless Chromium (Debian's
// chromium package) inside the lab namespace, lets its script fetch
// status.json, and fails the test unless the DOM has the lab machine's
// row at stage or later. A screenshot of the page is saved in the test's
// artifact directory (go test -artifacts keeps it).
func (l *lab) requireBrowserShows(stage timeline.Stage) {
	t := l.t
	t.Helper()
	chromium := testenv.NeedCommand(t, "chromium")[0]
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--user-data-dir=" + filepath.Join(l.dir, "chromium"),
		"--window-size=1280,800", "--virtual-time-budget=5000"}
	url := labHTTP + "/_pxekit/status"
	dom := l.ns.MustRun(t, chromium, append(args, "--dump-dom", url)...)
	shot := filepath.Join(t.ArtifactDir(), "status.png")
	l.ns.MustRun(t, chromium, append(args, "--screenshot="+shot, url)...)
	if fi, err := os.Stat(shot); err != nil || fi.Size() == 0 {
		t.Errorf("no screenshot of the status page: %v", err)
	} else {
		t.Logf("status page screenshot: %s", shot)
	}

	// The row is <tr data-key="MAC" data-stage="STAGE">; the page writes
	// no markup of its own from client strings, so a plain search is safe.
	want := []string{}
	for s := stage; s <= timeline.StageRootFS; s++ {
		want = append(want, `<tr data-key="`+l.mac+`" data-stage="`+s.String()+`">`)
	}
	// The start-up notes are on the page too: what is served, at least.
	if !strings.Contains(dom, `<li class="info" data-kind="serving">`) {
		t.Errorf("the status page in Chromium does not show the start-up note of what is served; DOM:\n%s", tail(dom, 3000))
	}
	for _, w := range want {
		if strings.Contains(dom, w) {
			return
		}
	}
	t.Errorf("the status page in Chromium does not show %s at %v or later; DOM:\n%s", l.mac, stage, tail(dom, 3000))
}
