// Command pxestorm boots N emulated PXE machines (package pxeclient) at
// once against any PXE server on a network segment, and prints how long
// each stage took across the storm.
//
//	ip netns exec clients pxestorm -iface veth1 -n 200 -profile ovmf-pxe -pid 1234
//
// Run it in a network namespace of its own, joined to the server's segment:
// it binds port 68 on -iface and adds every leased address to -iface over
// rtnetlink (with the lease's prefix length, so the server's subnet is
// routed), removing them at the end.
//
// Each machine has its own MAC (chaddr and option 61) and, once leased,
// its own source address, so the server sees N machines. All of them share
// one broadcast UDP socket on port 68, demultiplexed by transaction ID,
// rather than one macvlan interface each: that scales to thousands of
// clients without thousands of interfaces and sockets, and a DHCP server
// tells machines apart by chaddr and option 61, a TFTP or HTTP server by
// source address, which both differ. What they share is the Ethernet source
// address of -iface, and the broadcast flag is set on every request (a UDP
// socket cannot receive a unicast reply to an address it does not have
// yet), so a server that keys anything on the frame's MAC or that unicasts
// offers to chaddr is not tested as such.
//
// Each machine goes as far as the firmware and its loader would: DHCP, the
// boot program, the configuration, and the kernel and initrds that the
// configuration boots by default (-config-only stops before those).
//
// The output is one line per stage with p50, p90, p99 and max over the
// machines that reached it, then failures grouped by reason, DHCP and TFTP
// retransmissions, the bytes loaded and the aggregate throughput, and,
// with -pid, the server's CPU time during the storm and its peak RSS
// (VmHWM, the peak since the server started); and its own CPU time and how
// busy the machine was, which says whether the storm measured the server
// or ran out of CPU for server and emulator together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pxekit/pxekit/pxeclient"
)

type options struct {
	iface, profile, macPrefix string
	n, pid                    int
	ramp, timeout             time.Duration
	scale                     float64
	configOnly                bool
}

func main() {
	var o options
	flag.StringVar(&o.iface, "iface", "", "the network interface `NAME` on the server's segment (required)")
	flag.IntVar(&o.n, "n", 10, "number of machines")
	flag.StringVar(&o.profile, "profile", "ovmf-pxe", "firmware `NAME` ("+names()+"), or \"mix\" to cycle through them")
	flag.DurationVar(&o.ramp, "ramp", time.Second, "start the machines evenly over `DURATION`")
	flag.DurationVar(&o.timeout, "timeout", 3*time.Minute, "give each machine at most `DURATION`")
	flag.Float64Var(&o.scale, "scale", 1, "multiply the firmware's timeouts (DHCP 4, 8, 16, 32 s; TFTP 4 s for EDK2, 1 s for iPXE) by `F`")
	flag.StringVar(&o.macPrefix, "mac", "02:50:58", "the first three bytes of every `MAC`; the last three count the machines")
	flag.BoolVar(&o.configOnly, "config-only", false, "stop each machine at the configuration, before the kernel and initrds")
	flag.IntVar(&o.pid, "pid", 0, "report the CPU time and peak RSS of the server process `PID`")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout, log); err != nil {
		log.Error("pxestorm", "err", err)
		stop()
		os.Exit(1)
	}
}

func names() string {
	var s []string
	for _, p := range pxeclient.Profiles() {
		s = append(s, p.Name)
	}
	return strings.Join(s, ", ")
}

func run(ctx context.Context, o options, w io.Writer, log *slog.Logger) error {
	if o.iface == "" || o.n < 1 || o.n > 1<<24 {
		return errors.New("need -iface and 1 ≤ -n ≤ 16777216")
	}
	var profiles []*pxeclient.Profile
	for _, p := range pxeclient.Profiles() {
		if o.profile == "mix" || p.Name == o.profile {
			profiles = append(profiles, p.Scaled(o.scale))
		}
	}
	if len(profiles) == 0 {
		return fmt.Errorf("unknown profile %q (%s)", o.profile, names())
	}
	prefix, err := net.ParseMAC(o.macPrefix + ":00:00:00")
	if err != nil {
		return fmt.Errorf("-mac: %w", err)
	}
	conn, err := pxeclient.Listen(o.iface)
	if err != nil {
		return err
	}
	defer conn.Close()

	var addrs addrSet
	defer addrs.removeAll(o.iface, log)
	cpu0, _ := cpuTime(o.pid)
	self0 := selfCPU()
	busy0, total0, mok := machineCPU()
	reports := make([]*pxeclient.Report, o.n)
	addrTime := make([]time.Duration, o.n) // OnLease: the address added to -iface
	var wg sync.WaitGroup
	start := time.Now()
	for i := range o.n {
		at := start
		if o.n > 1 {
			at = start.Add(o.ramp * time.Duration(i) / time.Duration(o.n-1))
		}
		mac := slices.Clone(prefix)
		mac[3], mac[4], mac[5] = byte(i>>16), byte(i>>8), byte(i)
		c := &pxeclient.Client{
			Profile: profiles[i%len(profiles)], MAC: mac, Conn: conn, Broadcast: true,
			OnLease: func(ctx context.Context, a netip.Prefix) error {
				t := time.Now()
				err := addrs.add(ctx, o.iface, a)
				addrTime[i] = time.Since(t)
				return err
			},
			NoLoad: o.configOnly,
		}
		wg.Go(func() {
			select {
			case <-time.After(time.Until(at)):
			case <-ctx.Done():
			}
			cctx, cancel := context.WithTimeout(ctx, o.timeout)
			defer cancel()
			reports[i] = c.Boot(cctx)
		})
	}
	wg.Wait()
	wall := time.Since(start)
	cpu1, cerr := cpuTime(o.pid)
	self1 := selfCPU()
	busy1, total1, mok1 := machineCPU()
	last := pxeclient.StageLoaded
	if o.configOnly {
		last = pxeclient.StageConfig
	}
	printSummary(w, reports, wall, last)
	// Not a stage of the boot but time a machine waits between its ACK
	// and its first TFTP or HTTP request; it is in "whole boot".
	slices.Sort(addrTime)
	fmt.Fprintf(w, "%-16s %6d %10s %10s %10s %10s\n", "adding address", o.n, round(percentile(addrTime, .5)), round(percentile(addrTime, .9)), round(percentile(addrTime, .99)), round(addrTime[len(addrTime)-1]))
	// On one machine the emulator and the server share the CPUs: when the
	// machine was busy all the time, the storm measured how fast the two
	// together are, not the server alone.
	fmt.Fprintf(w, "pxestorm: CPU %.2f s during the storm", (self1 - self0).Seconds())
	if mok && mok1 && total1 > total0 {
		fmt.Fprintf(w, "; machine busy %.0f%% (%.1f of %.1f CPU-seconds)", 100*float64(busy1-busy0)/float64(total1-total0), (busy1 - busy0).Seconds(), (total1 - total0).Seconds())
	}
	fmt.Fprintln(w)
	if o.pid != 0 {
		if cerr != nil {
			return cerr
		}
		hwm, err := peakRSS(o.pid)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "server pid %d: CPU %.2f s during the storm, peak RSS %.1f MiB\n", o.pid, (cpu1 - cpu0).Seconds(), float64(hwm)/1024)
	}
	return nil
}

// addrSet adds leased addresses to the interface and remembers them.
type addrSet struct {
	mu    sync.Mutex
	addrs map[netip.Prefix]bool
}

func (s *addrSet) add(ctx context.Context, iface string, a netip.Prefix) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.addrs[a] {
		return nil
	}
	if err := setAddr(iface, a, true); err != nil {
		return fmt.Errorf("adding %s to %s: %w", a, iface, err)
	}
	if s.addrs == nil {
		s.addrs = make(map[netip.Prefix]bool)
	}
	s.addrs[a] = true
	return nil
}

func (s *addrSet) removeAll(iface string, log *slog.Logger) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for a := range s.addrs {
		// Removing the first address of a subnet may take the others
		// with it; those errors are expected.
		if err := setAddr(iface, a, false); err != nil {
			log.Debug("removing address", "addr", a, "err", err)
		}
	}
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d))*p+0.999999) - 1
	return d[max(0, min(i, len(d)-1))]
}

func printSummary(w io.Writer, reps []*pxeclient.Report, wall time.Duration, last string) {
	stages := []struct {
		name string
		get  func(*pxeclient.Report) time.Duration
	}{
		{"DISCOVER→OFFER", func(r *pxeclient.Report) time.Duration { return r.Offer }},
		{"REQUEST→ACK", func(r *pxeclient.Report) time.Duration { return r.Ack }},
		{"proxy 4011", func(r *pxeclient.Report) time.Duration { return r.Proxy }},
		{"boot program", func(r *pxeclient.Report) time.Duration { return r.Boot }},
		{"config search", func(r *pxeclient.Report) time.Duration { return r.Config }},
		{"kernel+initrd", func(r *pxeclient.Report) time.Duration { return r.Load }},
		{"whole boot (ok)", func(r *pxeclient.Report) time.Duration {
			if r.Err == nil {
				return r.Total
			}
			return 0
		}},
	}
	ok, bytes, dhcpRe, tftpRe, naks := 0, int64(0), 0, 0, 0
	fails := map[string]int{}
	for _, r := range reps {
		if r == nil {
			continue
		}
		if r.Err == nil {
			ok++
		} else {
			fails[fmt.Sprintf("stage %q: %v", r.Stage, r.Err)]++
		}
		for _, f := range r.Files {
			bytes += f.Bytes
		}
		dhcpRe += r.DHCPRetrans
		naks += r.NAKs
		tftpRe += r.TFTPRetrans
	}
	fmt.Fprintf(w, "%d machines, %d reached %q, %d failed; storm %.2f s\n", len(reps), ok, last, len(reps)-ok, wall.Seconds())
	fmt.Fprintf(w, "%-16s %6s %10s %10s %10s %10s\n", "stage", "n", "p50", "p90", "p99", "max")
	for _, s := range stages {
		var d []time.Duration
		for _, r := range reps {
			if r != nil && s.get(r) > 0 {
				d = append(d, s.get(r))
			}
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		if len(d) == 0 {
			continue
		}
		fmt.Fprintf(w, "%-16s %6d %10s %10s %10s %10s\n", s.name, len(d), round(percentile(d, .5)), round(percentile(d, .9)), round(percentile(d, .99)), round(d[len(d)-1]))
	}
	if len(fails) > 0 {
		fmt.Fprintln(w, "failures:")
		var keys []string
		for k := range fails {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %4d  %s\n", fails[k], k)
		}
	}
	fmt.Fprintf(w, "retransmissions: DHCP %d, TFTP %d; DHCPNAKs %d\n", dhcpRe, tftpRe, naks)
	fmt.Fprintf(w, "loaded %.1f MiB, %.1f MiB/s aggregate\n", float64(bytes)/(1<<20), float64(bytes)/(1<<20)/wall.Seconds())
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// cpuTime is the user+system CPU time of process pid (/proc/PID/stat
// fields 14 and 15), zero without a pid.
func cpuTime(pid int) (time.Duration, error) {
	if pid == 0 {
		return 0, nil
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("cannot parse /proc/PID/stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("short /proc/PID/stat")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const hz = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / hz, nil
}

// peakRSS is VmHWM of process pid in KiB.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmHWM")
}
