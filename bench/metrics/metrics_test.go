// Package metrics checks minimal-server's /metrics with the Prometheus
// project's own text-format parser (github.com/prometheus/common/expfmt),
// which pxekit's module does not depend on: its own tests use a strict
// parser of their own (internal/promtext), and this one, in the bench
// module, makes sure the two agree with what Prometheus itself reads.
package metrics

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pxekit/pxekit/internal/testenv"
)

// TestMetricsParse runs minimal-server in a network namespace of its own
// (loopback only), fetches a file over TFTP (curl) and over HTTP and one
// that does not exist, then parses /_pxekit/metrics with expfmt and checks
// the families, their types and the counts those transfers must show.
func TestMetricsParse(t *testing.T) {
	ns := testenv.NewNetNS(t)
	curl := testenv.NeedCommand(t, "curl")[0]
	dir := t.TempDir()
	bin := filepath.Join(dir, "minimal-server")
	build := exec.Command("go", "build", "-o", bin, "./examples/minimal-server")
	build.Dir = "../.." // in pxekit's own module, with its go.sum
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "hello.txt"), []byte(strings.Repeat("pxekit\n", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := ns.Command(ctx, bin, "-proxy", "-root", root, "-http", "127.0.0.1:8080", "-ipv6", "off")
	var out testenv.Buffer
	srv.Stdout, srv.Stderr = &out, &out
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		srv.Wait()
		if t.Failed() {
			t.Logf("minimal-server output:\n%s", out.String())
		}
	}()
	get := func(args ...string) string {
		t.Helper()
		b, err := ns.Command(context.Background(), curl, append([]string{"-sS", "--max-time", "10"}, args...)...).Output()
		if err != nil {
			t.Fatalf("curl %v: %v", args, err)
		}
		return string(b)
	}
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), "msg=ready"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("minimal-server not ready")
		}
	}
	if got := get("tftp://127.0.0.1/hello.txt"); len(got) != 7000 {
		t.Fatalf("TFTP: %d bytes, want 7000", len(got))
	}
	if got := get("http://127.0.0.1:8080/hello.txt"); len(got) != 7000 {
		t.Fatalf("HTTP: %d bytes, want 7000", len(got))
	}
	get("-o", "/dev/null", "http://127.0.0.1:8080/nothing-here")
	time.Sleep(500 * time.Millisecond) // events go through a queue

	const url = "http://127.0.0.1:8080/_pxekit/metrics"
	if ct := get("-o", "/dev/null", "-w", "%{content_type}", url); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want text/plain (the text format)", ct)
	}
	body := get(url)
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("expfmt: %v\n%s", err, body)
	}
	// No DHCP client here: the DHCP families have no samples yet, and
	// are checked for their type only where they appear.
	for name, f := range fams {
		if strings.HasPrefix(name, "pxekit_dhcp_") && strings.HasSuffix(name, "_total") && f.GetType() != dto.MetricType_COUNTER {
			t.Errorf("%s is a %v, want a counter", name, f.GetType())
		}
	}
	want := map[string]dto.MetricType{
		"pxekit_transfers_total":           dto.MetricType_COUNTER,
		"pxekit_transfer_bytes_total":      dto.MetricType_COUNTER,
		"pxekit_transfer_duration_seconds": dto.MetricType_HISTOGRAM,
		"pxekit_transfers_active":          dto.MetricType_GAUGE,
		"pxekit_events_dropped_total":      dto.MetricType_COUNTER,
	}
	for name, typ := range want {
		f, ok := fams[name]
		if !ok {
			t.Errorf("no family %s", name)
			continue
		}
		if f.GetType() != typ {
			t.Errorf("%s is a %v, want %v", name, f.GetType(), typ)
		}
	}
	// The two downloads of 7000 bytes, one per protocol.
	bytes := map[string]float64{}
	if f := fams["pxekit_transfer_bytes_total"]; f != nil {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "proto" {
					bytes[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	if bytes["tftp"] < 7000 || bytes["http"] < 7000 {
		t.Errorf("transfer bytes by protocol %v, want at least 7000 each", bytes)
	}
	if f := fams["pxekit_transfer_duration_seconds"]; f != nil {
		var n uint64
		for _, m := range f.GetMetric() {
			n += m.GetHistogram().GetSampleCount()
		}
		if n < 3 {
			t.Errorf("duration histogram counts %d transfers, want at least 3", n)
		}
	}
}
