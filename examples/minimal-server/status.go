package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/pxekit/pxekit/bootmenu"
	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/events"
	"github.com/pxekit/pxekit/netboot"
	"github.com/pxekit/pxekit/timeline"
)

// statusPrefix is where the server's own pages live on its HTTP port,
// beside the served tree: /_pxekit/status (a page for people),
// /_pxekit/status.json (what it shows) and /_pxekit/metrics (Prometheus
// text). A file of the tree under _pxekit/ is not served over HTTP (TFTP
// still serves it); the server warns at start if the tree has one.
const statusPrefix = "/_pxekit/"

// observer receives every event of the three servers (through hook),
// behind queues so that no server waits for it, and feeds the timeline
// and the metrics, and the log lines of each step (events.LogHook) from a
// queue of their own, so that a slow terminal does not cost the status
// page its events.
type observer struct {
	hook     events.Hook   // what the servers call
	queue    *events.Queue // to metrics and timeline
	logq     *events.Queue // to the log, nil for none
	timeline *timeline.Timeline
	metrics  *metrics
	pools    []*dhcp.Pool
	notes    *notes // start-up notes, nil for none
}

// newObserver starts the queues; with a non-nil log each step is a line
// there too.
func newObserver(b *netboot.Boot, pools []*dhcp.Pool, programs []string, log *slog.Logger) *observer {
	o := &observer{
		timeline: &timeline.Timeline{Names: stageNames(b, programs), NoInitrd: kernelsAlone(b)},
		metrics:  newMetrics(),
		pools:    pools,
	}
	o.queue = events.NewQueue(events.Tee(o.metrics, o.timeline), 8192)
	o.hook = o.queue
	if log != nil {
		// The log's queue marks transfers of generated files
		// (generated=true), off the servers' goroutines.
		o.logq = events.NewQueue(b.MarkGenerated(events.LogHook(log)), 4096)
		toLog := events.Hook(o.logq)
		if !log.Enabled(context.Background(), slog.LevelDebug) {
			// Without -v only replies, unanswered requests and ended
			// transfers can make a line: queue no others.
			toLog = events.HookFunc(func(e events.Event) {
				switch e.Kind {
				case events.KindReply, events.KindIgnored, events.KindDone:
					o.logq.Observe(e)
				}
			})
		}
		o.hook = events.Tee(o.queue, toLog)
	}
	return o
}

// close stops the queues once their events are handled.
func (o *observer) close() {
	o.queue.Close()
	if o.logq != nil {
		o.logq.Close()
	}
}

// dropped counts the events that the timeline and metrics, or the log,
// lost.
func (o *observer) dropped() uint64 {
	n := o.queue.Dropped()
	if o.logq != nil {
		n += o.logq.Dropped()
	}
	return n
}

// stageNames names the stage of the files this server offers by name:
// the boot programs of the policy, the generated menus, and the kernels
// and initrds of the menu's entries. Other names go by timeline.Classify.
func stageNames(b *netboot.Boot, programs []string) map[string]timeline.Stage {
	names := map[string]timeline.Stage{}
	for _, p := range programs {
		if p != "" {
			names[strings.TrimPrefix(p, "/")] = timeline.StageBootProgram
		}
	}
	for _, g := range b.Generated() {
		names[strings.TrimPrefix(g, "/")] = timeline.StageMenu
	}
	if r := b.Menu(); r != nil && r.Menu != nil {
		for _, e := range r.Menu.All() {
			if e.Kernel != "" && (e.Type == bootmenu.KwLinux || e.Type == bootmenu.KwKernel) {
				names[strings.TrimPrefix(e.Kernel, "/")] = timeline.StageKernel
			}
			for _, i := range e.Initrds() {
				names[strings.TrimPrefix(i, "/")] = timeline.StageInitrd
			}
		}
	}
	return names
}

// kernelsAlone names the kernels that every menu entry naming them
// boots without an initrd: a machine silent after one is not stalled.
func kernelsAlone(b *netboot.Boot) map[string]bool {
	alone := map[string]bool{}
	r := b.Menu()
	if r == nil || r.Menu == nil {
		return alone
	}
	with := map[string]bool{}
	for _, e := range r.Menu.All() {
		if e.Kernel == "" || !e.IsLinux() {
			continue
		}
		k := strings.TrimPrefix(e.Kernel, "/")
		if len(e.Initrds()) > 0 {
			with[k] = true
		} else {
			alone[k] = true
		}
	}
	for k := range with {
		delete(alone, k)
	}
	return alone
}

// stallAfter is timeline.Timeline.StallAfter for -stall: 0 turns the
// report off.
func stallAfter(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}

// secureBootRefusals names the files that a machine with Secure Boot
// enforcing refuses, with why, for the timeline's hint on a machine that
// stops after one of them.
func secureBootRefusals(problems []netboot.SecureBootProblem) map[string]string {
	m := map[string]string{}
	for _, p := range problems {
		if p.Refused {
			m[strings.TrimPrefix(p.File, "/")] = p.File + ": " + p.Problem
		}
	}
	return m
}

// statusHandler serves the status pages under statusPrefix and nothing
// else: for -status, an address of their own.
func (o *observer) statusHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+statusPrefix+"metrics", o.serveMetrics)
	mux.HandleFunc("GET "+statusPrefix+"status.json", o.serveJSON)
	mux.HandleFunc("GET "+statusPrefix+"status", o.servePage)
	mux.HandleFunc("/", http.NotFound)
	return mux
}

// handler serves the status pages under statusPrefix and files (through
// netboot.ObserveHTTP, so that they become events) everywhere else.
func (o *observer) handler(files http.Handler) http.Handler {
	observed := netboot.ObserveHTTP(files, o.hook)
	mux := o.statusHandler()
	// Only the status paths go through the mux: it answers a path that
	// is not clean ("EFI/boot//grubx64.efi", as shim asks for its
	// second stage) with a redirect that firmware does not follow.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, statusPrefix) {
			mux.ServeHTTP(w, r)
			return
		}
		observed.ServeHTTP(w, r)
	})
}

func (o *observer) serveMetrics(w http.ResponseWriter, r *http.Request) {
	g := gauges{machines: o.timeline.Len(), dropped: o.dropped()}
	for _, p := range o.pools {
		g.pools = append(g.pools, poolUse{name: p.First.String() + "-" + p.Last.String(), size: int(u32(p.Last) - u32(p.First) + 1), bound: len(p.Leases())})
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	o.metrics.write(w, g)
}

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// statusJSON is what /_pxekit/status.json answers.
type statusJSON struct {
	Now      time.Time          `json:"now"`
	Dropped  uint64             `json:"dropped_events"`
	Notes    []note             `json:"notes"` // what the server found at start-up
	Machines []timeline.Machine `json:"machines"`
}

func (o *observer) serveJSON(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	// encoding/json escapes <, > and & in strings, so that a host name
	// or file name a client sent cannot become markup anywhere.
	st := statusJSON{Now: time.Now(), Dropped: o.dropped(), Notes: []note{}, Machines: o.timeline.Machines()}
	if o.notes != nil {
		st.Notes = o.notes.all()
	}
	_ = json.NewEncoder(w).Encode(st)
}

func (o *observer) servePage(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write([]byte(statusPage))
}

// statusPage shows the machines of status.json, refreshed every two
// seconds. Client strings reach the page only through textContent, never
// as markup.
const statusPage = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pxekit: machines</title>
<link rel="icon" href="data:,">
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; margin: 0 0 .3em; }
#info { color: #666; margin-bottom: 1em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35em .6em; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f4f4f4; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.stage { font-weight: 600; }
.steps { color: #555; font-size: .9em; }
.err { color: #b00; font-size: .9em; }
.mono { font-family: ui-monospace, monospace; }
#notes { list-style: none; padding: 0; margin: 0 0 1em; }
#notes li { padding: .2em .5em; margin: .15em 0; border-left: 3px solid #9ab; background: #f7f9fa; }
#notes li.warn { border-color: #c60; background: #fff6ec; }
#notes .fields { color: #555; font-size: .9em; font-family: ui-monospace, monospace; }
</style></head>
<body>
<h1>pxekit: machines</h1>
<div id="info">loading…</div>
<ul id="notes"></ul>
<table>
<thead><tr><th>machine</th><th>address</th><th>arch / firmware</th><th>stage</th><th>steps</th><th>bytes</th><th>since last step</th><th>last error</th></tr></thead>
<tbody id="machines"></tbody>
</table>
<script>
"use strict";
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
function bytes(n) {
  const u = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + " " + u[i];
}
function ago(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
  return Math.floor(s / 3600) + " h " + Math.floor(s % 3600 / 60) + " min";
}
async function refresh() {
  try {
    const r = await fetch("status.json", {cache: "no-store"});
    const st = await r.json();
    const now = Date.parse(st.now);
    const body = document.getElementById("machines");
    const rows = [];
    for (const m of st.machines) {
      const tr = el("tr");
      tr.dataset.key = m.key;
      tr.dataset.stage = m.stage;
      const name = el("td", "mono", m.mac || m.key);
      if (m.host) { name.append(el("br")); name.append(el("span", "", m.host)); }
      tr.append(name);
      tr.append(el("td", "mono", m.addr || ""));
      tr.append(el("td", "", [m.arch, m.firmware].filter(Boolean).join(" / ")));
      const stage = el("td", "stage", m.stage);
      stage.dataset.stage = m.stage;
      if (m.fetching.length) { stage.append(el("br")); stage.append(el("span", "steps", "fetching " + m.fetching.join(", "))); }
      if (m.stall) {
        stage.dataset.stall = m.stall.stage;
        stage.append(el("br"));
        stage.append(el("span", "err stall", m.stall.message + (m.stall.file ? " " + m.stall.file : "") + ", silent for " + ago(now - Date.parse(m.stall.since))));
        if (m.stall.hint) { stage.append(el("br")); stage.append(el("span", "err hint", m.stall.hint)); }
      }
      tr.append(stage);
      const steps = el("td", "steps");
      const t0 = m.steps.length ? Date.parse(m.steps[0].time) : 0;
      steps.textContent = m.steps.map(s => s.stage + " +" + ((Date.parse(s.time) - t0) / 1000).toFixed(1) + "s").join(" → ");
      if (m.tftp_options) { steps.append(el("br")); steps.append(el("span", "", "tftp " + m.tftp_options.file + ": blksize " + m.tftp_options.blksize + ", windowsize " + m.tftp_options.windowsize + (m.tftp_options.tsize >= 0 ? ", tsize " + m.tftp_options.tsize : ""))); }
      const recent = (m.recent || []).slice(-3).map(x => x.file + " " + (x.outcome === "ok" ? "✓" : x.outcome));
      if (recent.length) { steps.append(el("br")); steps.append(el("span", "", "last: " + recent.join(", "))); }
      tr.append(steps);
      tr.append(el("td", "num", bytes(m.bytes)));
      const last = m.steps.length ? Date.parse(m.steps[m.steps.length - 1].time) : Date.parse(m.last);
      tr.append(el("td", "num", ago(now - last)));
      tr.append(el("td", "err", m.last_error || ""));
      rows.push(tr);
    }
    body.replaceChildren(...rows);
    const notes = [];
    for (const n of st.notes || []) {
      const li = el("li", n.level, (n.level === "warn" ? "warning: " : "") + n.msg);
      li.dataset.kind = n.kind;
      const f = Object.entries(n.fields || {}).map(([k, v]) => k + "=" + v).join("  ");
      if (f) { li.append(el("br")); li.append(el("span", "fields", f)); }
      notes.push(li);
    }
    document.getElementById("notes").replaceChildren(...notes);
    document.getElementById("info").textContent = st.machines.length + " machine(s), updated " +
      new Date(now).toLocaleTimeString() + (st.dropped_events ? ", " + st.dropped_events + " events dropped" : "");
  } catch (e) {
    document.getElementById("info").textContent = "cannot reach the server: " + e;
  }
}
refresh();
setInterval(refresh, 2000);
</script>
</body></html>
`
