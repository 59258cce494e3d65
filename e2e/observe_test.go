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
	return l.ns.MustRun(l.t, "curl", "-sSf", "--max-time", "10", url)
}

// machine returns the lab machine as the server's /_pxekit/status.json
// shows it, once it has reached stage (events arrive through a queue, so
// it waits a little), and fails the test if it does not.
func (l *lab) machine(stage timeline.Stage) timeline.Machine {
	l.t.Helper()
	var m timeline.Machine
	var body string
	for deadline := time.Now().Add(10 * time.Second); ; {
		body = l.fetch(labHTTP + "/_pxekit/status.json")
		var st struct {
			Machines []timeline.Machine `json:"machines"`
		}
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			l.t.Fatalf("status.json: %v\n%s", err, body)
		}
		for _, x := range st.Machines {
			if x.MAC == l.mac {
				m = x
			}
		}
		if m.Reached(stage) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !m.Reached(stage) {
		l.t.Fatalf("status.json: machine %s did not reach %v:\n%s", l.mac, stage, body)
	}
	return m
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
	for _, w := range want {
		if strings.Contains(dom, w) {
			return
		}
	}
	t.Errorf("the status page in Chromium does not show %s at %v or later; DOM:\n%s", l.mac, stage, tail(dom, 3000))
}
