package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/events"
	"github.com/pxekit/pxekit/internal/promtext"
	"github.com/pxekit/pxekit/netboot"
	"github.com/pxekit/pxekit/timeline"
)

const hostile = `<script>alert("x")</script>` + "\n\\\"{}"

func newTestObserver(t *testing.T) (*observer, *httptest.Server) {
	t.Helper()
	tree := fstest.MapFS{
		"isolinux/isolinux.cfg": {Data: []byte("DEFAULT live\nTIMEOUT 50\nLABEL live\n  KERNEL /live/kern\n  APPEND initrd=/live/ird boot=live\n")},
		"live/kern":             {Data: []byte(strings.Repeat("k", 3000))},
		"live/ird":              {Data: []byte("initrd")},
		"_pxekit/status":        {Data: []byte("shadowed")},
	}
	boot, err := netboot.New(tree, &netboot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pool := &dhcp.Pool{First: netip.MustParseAddr("10.0.0.100"), Last: netip.MustParseAddr("10.0.0.109")}
	o := newObserver(boot, []*dhcp.Pool{pool}, []string{"pxelinux.0"}, nil)
	t.Cleanup(o.queue.Close)
	srv := httptest.NewServer(o.handler(&netboot.FileServer{FS: boot}))
	t.Cleanup(srv.Close)
	return o, srv
}

func get(t *testing.T, url string) (string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return string(b), resp.Header
}

// settle waits until the queue has handed every event to the timeline.
func settle(t *testing.T, o *observer, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("events did not arrive")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStatusAndMetrics(t *testing.T) {
	o, srv := newTestObserver(t)
	names := o.timeline.Names
	if names["live/kern"] != timeline.StageKernel || names["live/ird"] != timeline.StageInitrd || names["pxelinux.0"] != timeline.StageBootProgram {
		t.Errorf("stage names %v: want the menu's kernel and initrd, the boot program", names)
	}

	mac := net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56}
	ip := netip.MustParseAddr("127.0.0.1") // the HTTP client below
	for _, k := range []events.Kind{events.KindRequest, events.KindIdentified} {
		o.queue.Observe(events.Event{Proto: events.ProtoDHCP, Kind: k, MAC: mac, Type: "DISCOVER", Arch: hostile, Firmware: "bios", Host: hostile})
	}
	o.queue.Observe(events.Event{Proto: events.ProtoDHCP, Kind: events.KindReply, MAC: mac, Addr: ip, Type: "OFFER", Firmware: "bios", File: "pxelinux.0"})
	o.queue.Observe(events.Event{Proto: events.ProtoDHCP, Kind: events.KindIgnored, Type: "DISCOVER", Reason: events.ReasonNotBoot})
	o.queue.Observe(events.Event{Proto: events.ProtoTFTP, Kind: events.KindStart, Addr: ip, File: hostile})
	o.queue.Observe(events.Event{Proto: events.ProtoTFTP, Kind: events.KindDone, Addr: ip, File: hostile, Outcome: "not-found", Duration: 3 * time.Millisecond, Retransmits: 2})

	get(t, srv.URL+"/live/kern")
	if body, _ := get(t, srv.URL+"/_pxekit/status"); strings.Contains(body, "shadowed") || !strings.Contains(body, "status.json") {
		t.Errorf("/_pxekit/status is not the status page: %.100q", body)
	}
	settle(t, o, func() bool { m, _ := o.timeline.Machine(mac.String()); return m.Stage == timeline.StageKernel })

	body, hdr := get(t, srv.URL+"/_pxekit/status.json")
	if ct := hdr.Get("Content-Type"); ct != "application/json" {
		t.Errorf("status.json Content-Type %q", ct)
	}
	if strings.Contains(body, "<script") || strings.Contains(body, "</script") {
		t.Errorf("status.json carries client markup unescaped: %s", body)
	}
	var st statusJSON
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Machines) != 1 {
		t.Fatalf("machines %+v, want 1", st.Machines)
	}
	m := st.Machines[0]
	if m.MAC != mac.String() || m.Host != hostile || m.Stage != timeline.StageKernel || m.Bytes != 3000 || !strings.Contains(m.LastError, hostile) {
		t.Errorf("machine %+v", m)
	}

	page, hdr := get(t, srv.URL+"/_pxekit/status")
	if !strings.Contains(hdr.Get("Content-Security-Policy"), "default-src 'none'") || strings.Contains(page, ".innerHTML") {
		t.Errorf("status page: CSP %q, or it writes markup", hdr.Get("Content-Security-Policy"))
	}

	text, hdr := get(t, srv.URL+"/_pxekit/metrics")
	if !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Errorf("metrics Content-Type %q", hdr.Get("Content-Type"))
	}
	fams, err := promtext.Parse(strings.NewReader(text))
	if err != nil {
		t.Fatalf("metrics do not parse: %v\n%s", err, text)
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"pxekit_dhcp_requests_total", map[string]string{"type": "DISCOVER", "firmware": "bios"}, 1},
		{"pxekit_dhcp_replies_total", map[string]string{"type": "OFFER", "firmware": "bios"}, 1},
		{"pxekit_dhcp_ignored_total", map[string]string{"reason": events.ReasonNotBoot}, 1},
		{"pxekit_transfers_total", map[string]string{"proto": "tftp", "outcome": "not-found"}, 1},
		{"pxekit_transfers_total", map[string]string{"proto": "http", "outcome": "ok"}, 1},
		{"pxekit_transfer_bytes_total", map[string]string{"proto": "http"}, 3000},
		{"pxekit_transfers_active", map[string]string{"proto": "tftp"}, 0},
		{"pxekit_transfer_duration_seconds_bucket", map[string]string{"proto": "tftp", "le": "0.01"}, 1},
		{"pxekit_transfer_duration_seconds_count", map[string]string{"proto": "http"}, 1},
		{"pxekit_dhcp_pool_addresses", map[string]string{"pool": "10.0.0.100-10.0.0.109", "state": "size"}, 10},
		{"pxekit_tftp_retransmits_total", nil, 2},
		{"pxekit_machines", nil, 1},
		{"pxekit_events_dropped_total", nil, 0},
	} {
		if v, ok := promtext.Value(fams, c.name, c.labels); !ok || v != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
	if strings.Contains(text, "<script") {
		t.Error("metrics carry a client string")
	}
	// The status pages are not transfers.
	if v, _ := promtext.Value(fams, "pxekit_transfers_total", map[string]string{"proto": "http"}); v != 1 {
		t.Errorf("http transfers %v, want 1 (the status pages are not counted)", v)
	}
}

// TestStatusStall: a UEFI machine that fetched an unsigned boot program
// and went silent is in status.json as stopped after the boot program,
// with the Secure Boot hint from the start-up check, and the page shows
// stalls.
func TestStatusStall(t *testing.T) {
	o, srv := newTestObserver(t)
	problems := []netboot.SecureBootProblem{
		{File: "snponly.efi", Role: "x86-64 UEFI boot program", Problem: "unsigned: firmware with Secure Boot on refuses it", Refused: true},
		{File: "grubx64.efi", Role: "GRUB loaded by http", Problem: "has no http module"},
	}
	refused := secureBootRefusals(problems)
	if len(refused) != 1 || !strings.Contains(refused["snponly.efi"], "unsigned") {
		t.Errorf("secureBootRefusals() = %q, want snponly.efi only", refused)
	}
	o.timeline.SecureBoot = refused
	o.timeline.StallAfter = time.Millisecond

	mac := net.HardwareAddr{0x52, 0x54, 0, 0xab, 0xcd, 0xef}
	ip := netip.MustParseAddr("10.0.0.101")
	o.queue.Observe(events.Event{Proto: events.ProtoDHCP, Kind: events.KindIdentified, MAC: mac, Type: "DISCOVER", Arch: "EFI x86-64", Firmware: "uefi"})
	o.queue.Observe(events.Event{Proto: events.ProtoDHCP, Kind: events.KindReply, MAC: mac, Addr: ip, Type: "OFFER", Firmware: "uefi", File: "snponly.efi"})
	o.queue.Observe(events.Event{Proto: events.ProtoTFTP, Kind: events.KindDone, Addr: ip, File: "snponly.efi", Outcome: "ok"})
	settle(t, o, func() bool { m, _ := o.timeline.Machine(mac.String()); return m.Stall != nil })

	body, _ := get(t, srv.URL+"/_pxekit/status.json")
	var st statusJSON
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Machines) != 1 || st.Machines[0].Stall == nil {
		t.Fatalf("status.json: %s, want one machine with a stall", body)
	}
	s := st.Machines[0].Stall
	if s.Message != timeline.StallMessage || s.File != "snponly.efi" || !strings.HasPrefix(s.Hint, "Secure Boot may have refused it: snponly.efi: unsigned") {
		t.Errorf("status.json stall %+v", *s)
	}
	if page, _ := get(t, srv.URL+"/_pxekit/status"); !strings.Contains(page, "m.stall.message") || !strings.Contains(page, "m.stall.hint") {
		t.Errorf("the status page does not show stalls")
	}
}

func TestQuoteLabel(t *testing.T) {
	if got := quote("a\"b\\c\nd"); got != `"a\"b\\c\nd"` {
		t.Errorf("quote = %s", got)
	}
}

// FuzzMetrics feeds events with arbitrary strings where the servers put
// message types, firmware families, reasons and outcomes, and checks that
// /_pxekit/metrics stays well-formed text.
func FuzzMetrics(f *testing.F) {
	f.Add("DISCOVER", "bios", "not-boot-client", "ok", int64(10), int64(3))
	f.Add("a\"b\\c\nd", "{}", "\x00\xff", "", int64(-1), int64(-5))
	f.Fuzz(func(t *testing.T, typ, fw, reason, outcome string, n, ms int64) {
		m := newMetrics()
		for _, k := range []events.Kind{events.KindRequest, events.KindReply, events.KindIgnored} {
			m.Observe(events.Event{Proto: events.ProtoDHCP, Kind: k, Type: typ, Firmware: fw, Reason: reason})
		}
		for _, p := range []events.Proto{events.ProtoTFTP, events.ProtoHTTP, events.Proto(9)} {
			m.Observe(events.Event{Proto: p, Kind: events.KindStart})
			m.Observe(events.Event{Proto: p, Kind: events.KindDone, Outcome: outcome, Bytes: n, Duration: time.Duration(ms) * time.Millisecond})
		}
		var b strings.Builder
		m.write(&b, gauges{pools: []poolUse{{name: typ, size: 10, bound: 3}}})
		if _, err := promtext.Parse(strings.NewReader(b.String())); err != nil {
			t.Fatalf("metrics do not parse: %v\n%s", err, b.String())
		}
	})
}

// TestNotes: the start-up notes are logged once each and shown in
// status.json, in order, with their fields; the -status handler serves
// the status pages and nothing of the tree.
func TestNotes(t *testing.T) {
	o, srv := newTestObserver(t)
	var logged strings.Builder
	log := slog.New(slog.NewTextHandler(&logged, nil))
	o.notes = &notes{}
	o.notes.info(log, noteServing, "serving", "files", "directory /srv", "address", netip.MustParseAddr("10.0.0.1"), "bios_boot", "pxelinux.0")
	o.notes.warn(log, noteSecureBoot, "secure boot: clients with Secure Boot on cannot boot this", "file", hostile, "role", "BIOS boot program")
	o.notes.keep("warn", noteImage, "kept, not logged")

	if got := strings.Count(logged.String(), "\n"); got != 2 || !strings.Contains(logged.String(), "level=WARN msg=\"secure boot") || strings.Contains(logged.String(), "kept") {
		t.Errorf("log:\n%s\nwant the two notes that are not kept only", logged.String())
	}
	body, _ := get(t, srv.URL+"/_pxekit/status.json")
	var st statusJSON
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	want := []note{
		{Kind: noteServing, Level: "info", Msg: "serving", Fields: map[string]string{"files": "directory /srv", "address": "10.0.0.1", "bios_boot": "pxelinux.0"}},
		{Kind: noteSecureBoot, Level: "warn", Msg: "secure boot: clients with Secure Boot on cannot boot this", Fields: map[string]string{"file": hostile, "role": "BIOS boot program"}},
		{Kind: noteImage, Level: "warn", Msg: "kept, not logged"},
	}
	if diff := cmp.Diff(want, st.Notes); diff != "" {
		t.Errorf("status.json notes (-want +got):\n%s", diff)
	}
	if strings.Contains(body, "<script") {
		t.Errorf("status.json carries markup unescaped: %s", body)
	}

	ss := httptest.NewServer(o.statusHandler())
	defer ss.Close()
	if body, _ := get(t, ss.URL+"/_pxekit/status.json"); !strings.Contains(body, `"kind":"serving"`) {
		t.Errorf("-status status.json = %.200s, want the notes", body)
	}
	resp, err := http.Get(ss.URL + "/live/kern")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("-status serves the tree: GET /live/kern = %s, want 404", resp.Status)
	}
}

// syncBuilder is a strings.Builder safe for the log queue's goroutine.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestStepLog: the observer's log lines are events.LogHook's, one per
// step, at info level only those of replies and ended transfers.
func TestStepLog(t *testing.T) {
	boot, err := netboot.New(fstest.MapFS{"pxelinux.0": {Data: []byte("x")}}, &netboot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuilder
	o := newObserver(boot, nil, nil, slog.New(slog.NewTextHandler(&out, nil)))
	mac := net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56}
	ip := netip.MustParseAddr("10.0.0.100")
	o.hook.Observe(events.Event{Proto: events.ProtoDHCP, Kind: events.KindRequest, MAC: mac, Type: "DISCOVER"})
	o.hook.Observe(events.Event{Proto: events.ProtoDHCP, Kind: events.KindReply, MAC: mac, Addr: ip, Type: "OFFER", File: "pxelinux.0"})
	o.hook.Observe(events.Event{Proto: events.ProtoTFTP, Kind: events.KindStart, Addr: ip, File: "pxelinux.0"})
	o.hook.Observe(events.Event{Proto: events.ProtoTFTP, Kind: events.KindDone, Addr: ip, File: "pxelinux.0", Outcome: "ok", Bytes: 1})
	o.close()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `msg="dhcp: reply" type=OFFER mac=52:54:00:12:34:56 addr=10.0.0.100 file=pxelinux.0`) ||
		!strings.Contains(lines[1], `msg="tftp: transfer done" peer=10.0.0.100 file=pxelinux.0 outcome=ok bytes=1`) {
		t.Errorf("log:\n%s\nwant the reply and the transfer, one line each", out.String())
	}
	if m, ok := o.timeline.Machine(mac.String()); !ok || m.Stage != timeline.StageBootProgram {
		t.Errorf("the timeline has %+v, want the machine at the boot program", m)
	}
}

// TestStepLogGenerated: the log line of an HTTP or TFTP transfer of a
// file the server generated says generated=true, and a tree file's does
// not.
func TestStepLogGenerated(t *testing.T) {
	boot, err := netboot.New(fstest.MapFS{
		"isolinux/isolinux.cfg": {Data: []byte("DEFAULT live\nLABEL live\n  KERNEL /live/kern\n")},
		"live/kern":             {Data: []byte("kernel")},
	}, &netboot.Options{HTTPBase: "http://:8080/"})
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuilder
	o := newObserver(boot, nil, nil, slog.New(slog.NewTextHandler(&out, nil)))
	srv := httptest.NewServer(o.handler(&netboot.FileServer{FS: boot}))
	defer srv.Close()
	for _, name := range []string{"boot.ipxe", "live/kern"} {
		resp, err := http.Get(srv.URL + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", name, resp.Status)
		}
	}
	ip := netip.MustParseAddr("10.0.0.100")
	o.hook.Observe(events.Event{Proto: events.ProtoTFTP, Kind: events.KindDone, Addr: ip, File: "pxelinux.cfg/default", Outcome: "ok", Bytes: 1})
	o.close()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "msg=http ") || !strings.Contains(lines[0], "file=boot.ipxe generated=true status=200") ||
		!strings.Contains(lines[1], "file=live/kern status=200") || strings.Contains(lines[1], "generated") ||
		!strings.Contains(lines[2], "file=pxelinux.cfg/default generated=true outcome=ok") {
		t.Errorf("log:\n%s\nwant boot.ipxe's and pxelinux.cfg/default's lines with generated=true, live/kern's without", out.String())
	}
}

// TestStatusStallStages: a machine silent after the kernel of an entry
// with an initrd is reported stopped there; one after a kernel its
// menu boots alone is not; -stall 0 turns the report off.
func TestStatusStallStages(t *testing.T) {
	boot, err := netboot.New(fstest.MapFS{
		"isolinux/isolinux.cfg": {Data: []byte("DEFAULT live\nLABEL live\n  KERNEL /live/kern\n  APPEND initrd=/live/ird\nLABEL memtest\n  KERNEL /memtest\n")},
		"live/kern":             {Data: []byte("k")},
		"live/ird":              {Data: []byte("i")},
		"memtest":               {Data: []byte("m")},
		"pxelinux.0":            {Data: []byte("p")},
	}, &netboot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := newObserver(boot, nil, []string{"pxelinux.0"}, nil)
	defer o.close()
	if !o.timeline.NoInitrd["memtest"] || o.timeline.NoInitrd["live/kern"] {
		t.Errorf("NoInitrd = %v, want memtest only", o.timeline.NoInitrd)
	}
	o.timeline.StallAfter = stallAfter(time.Millisecond)
	machine := func(last byte, kernel string) net.HardwareAddr {
		mac := net.HardwareAddr{0x52, 0x54, 0, 0xab, 0xcd, last}
		ip := netip.AddrFrom4([4]byte{10, 0, 0, last})
		o.queue.Observe(events.Event{Proto: events.ProtoDHCP, Kind: events.KindReply, MAC: mac, Addr: ip, Type: "ACK", Firmware: "bios", File: "pxelinux.0"})
		for _, f := range []string{"pxelinux.0", "pxelinux.cfg/default", kernel} {
			o.queue.Observe(events.Event{Proto: events.ProtoTFTP, Kind: events.KindDone, Addr: ip, File: f, Outcome: "ok"})
		}
		return mac
	}
	live, memtest := machine(1, "live/kern"), machine(2, "memtest")
	// The queue hands events over in batches: wait until both machines'
	// kernels are in, so that a stall is judged after the last event.
	settle(t, o, func() bool {
		m, _ := o.timeline.Machine(live.String())
		n, _ := o.timeline.Machine(memtest.String())
		return m.Stage == timeline.StageKernel && m.Stall != nil && n.Stage == timeline.StageKernel
	})
	if m, _ := o.timeline.Machine(live.String()); m.Stall.Message != "stopped after the kernel" || m.Stall.File != "live/kern" {
		t.Errorf("live machine: stall %+v, want stopped after the kernel live/kern", *m.Stall)
	}
	if m, _ := o.timeline.Machine(memtest.String()); m.Stage != timeline.StageKernel || m.Stall != nil {
		t.Errorf("memtest machine: stage %v, stall %+v; want the kernel stage, no stall", m.Stage, m.Stall)
	}
	o.timeline.StallAfter = stallAfter(0)
	if m, _ := o.timeline.Machine(live.String()); m.Stall != nil {
		t.Errorf("-stall 0: stall %+v, want none", *m.Stall)
	}
}
