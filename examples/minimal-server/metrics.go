package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/pxekit/pxekit/events"
)

// metrics counts events for /_pxekit/metrics, written in Prometheus' text
// exposition format (version 0.0.4) by hand: a dozen counters do not earn
// the Prometheus client library (and its dependencies) a place in the
// module, and the library packages stay free of any metrics stack. Every
// label value comes from a small fixed set (message types, firmware
// families, reasons, protocols, outcomes), never from client strings, so
// the series are bounded. Safe for concurrent use.
type metrics struct {
	mu       sync.Mutex
	requests map[[2]string]uint64 // type, firmware
	replies  map[[2]string]uint64
	ignored  map[string]uint64    // reason
	done     map[[2]string]uint64 // proto, outcome
	bytes    map[string]uint64    // proto
	active   map[string]int64     // proto
	hist     map[string]*histogram
	retrans  uint64 // TFTP data packets sent again
}

// durationBuckets are the upper bounds, in seconds, of the transfer
// duration histogram: from a menu file to an ISO image.
var durationBuckets = []float64{0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300}

type histogram struct {
	counts []uint64 // per bucket, not cumulative; last is +Inf
	sum    float64
	n      uint64
}

func newMetrics() *metrics {
	return &metrics{
		requests: map[[2]string]uint64{}, replies: map[[2]string]uint64{},
		ignored: map[string]uint64{}, done: map[[2]string]uint64{},
		bytes: map[string]uint64{}, active: map[string]int64{"tftp": 0, "http": 0}, hist: map[string]*histogram{},
	}
}

// Observe implements events.Hook.
func (m *metrics) Observe(e events.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fw := e.Firmware
	if fw == "" {
		fw = "none"
	}
	proto := e.Proto.String()
	switch e.Kind {
	case events.KindRequest:
		m.requests[[2]string{e.Type, fw}]++
	case events.KindReply:
		m.replies[[2]string{e.Type, fw}]++
	case events.KindIgnored:
		m.ignored[e.Reason]++
	case events.KindStart:
		m.active[proto]++
	case events.KindDone:
		m.active[proto]--
		m.done[[2]string{proto, e.Outcome}]++
		m.bytes[proto] += uint64(max(e.Bytes, 0))
		m.retrans += uint64(max(e.Retransmits, 0))
		h := m.hist[proto]
		if h == nil {
			h = &histogram{counts: make([]uint64, len(durationBuckets)+1)}
			m.hist[proto] = h
		}
		s := e.Duration.Seconds()
		i, _ := slices.BinarySearch(durationBuckets, s)
		h.counts[i]++
		h.sum += s
		h.n++
	}
}

// gauges are read when /_pxekit/metrics is scraped.
type gauges struct {
	pools    []poolUse // full DHCP only
	machines int
	dropped  uint64
}

// poolUse is one full-DHCP pool: its range FIRST-LAST, addresses and
// bound leases.
type poolUse struct {
	name        string
	size, bound int
}

// write writes every metric in the text format.
func (m *metrics) write(w io.Writer, g gauges) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pair := func(name, help, l1, l2 string, v map[[2]string]uint64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", name, help, name)
		for _, k := range sortedKeys(v) {
			fmt.Fprintf(w, "%s{%s=%s,%s=%s} %d\n", name, l1, quote(k[0]), l2, quote(k[1]), v[k])
		}
	}
	one := func(name, help, typ, l string, v map[string]uint64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		for _, k := range sortedKeys(v) {
			fmt.Fprintf(w, "%s{%s=%s} %d\n", name, l, quote(k), v[k])
		}
	}
	pair("pxekit_dhcp_requests_total", "DHCP requests decoded, by message type and firmware family.", "type", "firmware", m.requests)
	pair("pxekit_dhcp_replies_total", "DHCP replies sent, by message type and firmware family.", "type", "firmware", m.replies)
	one("pxekit_dhcp_ignored_total", "DHCP requests left unanswered, by reason.", "counter", "reason", m.ignored)
	pair("pxekit_transfers_total", "TFTP and HTTP transfers finished, by protocol and outcome.", "proto", "outcome", m.done)
	one("pxekit_transfer_bytes_total", "Bytes sent by TFTP (acknowledged) and HTTP.", "counter", "proto", m.bytes)
	active := map[string]uint64{}
	for k, v := range m.active {
		active[k] = uint64(max(v, 0))
	}
	one("pxekit_transfers_active", "TFTP and HTTP transfers in progress.", "gauge", "proto", active)
	fmt.Fprintf(w, "# HELP pxekit_tftp_retransmits_total TFTP data packets sent more than once (lost or late acknowledgements).\n# TYPE pxekit_tftp_retransmits_total counter\npxekit_tftp_retransmits_total %d\n", m.retrans)

	const hn = "pxekit_transfer_duration_seconds"
	fmt.Fprintf(w, "# HELP %s Time from request to end of TFTP and HTTP transfers.\n# TYPE %s histogram\n", hn, hn)
	for _, proto := range sortedKeys(m.hist) {
		h := m.hist[proto]
		var cum uint64
		for i, le := range durationBuckets {
			cum += h.counts[i]
			fmt.Fprintf(w, "%s_bucket{proto=%s,le=%s} %d\n", hn, quote(proto), quote(strconv.FormatFloat(le, 'g', -1, 64)), cum)
		}
		fmt.Fprintf(w, "%s_bucket{proto=%s,le=\"+Inf\"} %d\n", hn, quote(proto), h.n)
		fmt.Fprintf(w, "%s_sum{proto=%s} %s\n", hn, quote(proto), formatFloat(h.sum))
		fmt.Fprintf(w, "%s_count{proto=%s} %d\n", hn, quote(proto), h.n)
	}
	if len(g.pools) > 0 {
		fmt.Fprintf(w, "# HELP pxekit_dhcp_pool_addresses Addresses of each full-DHCP pool, all and bound.\n# TYPE pxekit_dhcp_pool_addresses gauge\n")
		for _, p := range g.pools {
			fmt.Fprintf(w, "pxekit_dhcp_pool_addresses{pool=%s,state=\"size\"} %d\n", quote(p.name), p.size)
			fmt.Fprintf(w, "pxekit_dhcp_pool_addresses{pool=%s,state=\"bound\"} %d\n", quote(p.name), p.bound)
		}
	}
	fmt.Fprintf(w, "# HELP pxekit_machines Machines in the boot timeline.\n# TYPE pxekit_machines gauge\npxekit_machines %d\n", g.machines)
	fmt.Fprintf(w, "# HELP pxekit_events_dropped_total Events lost because the timeline and metrics were behind.\n# TYPE pxekit_events_dropped_total counter\npxekit_events_dropped_total %d\n", g.dropped)
}

func sortedKeys[K interface{ comparable }, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b K) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	return keys
}

// quote writes a label value as the text format wants it: valid UTF-8
// (bad bytes become U+FFFD) in double quotes, with backslash, double
// quote and line feed escaped.
func quote(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func formatFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
