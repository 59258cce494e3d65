// Command abuse floods examples/minimal-server inside network namespaces it
// creates, and prints what each flood did to the server: resident memory
// and open file descriptors before, at the peak of and after the flood, the
// log lines written during it, and how long a normal client (curl, tftp-hpa,
// busybox udhcpc) took to do its job before and during the flood.
//
//	cd bench && sudo go run ./abuse                 # all floods
//	cd bench && sudo go run ./abuse -only 3,4 -hold 30s
//
// It needs root, ip and ss (iproute2), curl, tftp (tftp-hpa) and busybox, and the
// Go toolchain to build the server from the repository (or -server BIN).
// Every packet goes between the namespaces only; they, the tmpfs of flood
// 6 and the scratch directory are removed on exit, on error and on
// SIGINT/SIGTERM. See README.md for the columns.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "helper" {
		os.Exit(helperMain(os.Args[2:]))
	}
	os.Exit(orchestrate())
}

// row is one line of the table.
type row struct {
	n                   int
	name                string
	before, peak, after usage
	end                 usage // as the flood ends, before the flooder lets go
	logs, warns         int
	cBefore, cDuring    clientResult
	summary, note       string
}

type app struct {
	ctx   context.Context
	lab   *lab
	dir   string
	bin   string
	hold  time.Duration
	big   int64
	small []byte
	runs  int // servers started, for file names
}

func orchestrate() int {
	only := flag.String("only", "", "run only these floods (comma-separated numbers 1-6)")
	hold := flag.Duration("hold", 20*time.Second, "how long floods 1 and 3 last, and the normal client's time limit during a flood")
	bin := flag.String("server", "", "minimal-server binary to test (default: build ../examples/minimal-server)")
	repo := flag.String("repo", "..", "repository root to build the server from")
	limit := flag.Duration("timeout", 10*time.Minute, "end the whole run after this long")
	keep := flag.Bool("keep", false, "keep the scratch directory (server logs, lease files) and say where it is")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "abuse: needs root (network namespaces, tmpfs)")
		return 1
	}
	for _, c := range []string{"ip", "ss", "curl", "tftp", "busybox", "timeout"} {
		if _, err := exec.LookPath(c); err != nil {
			fmt.Fprintf(os.Stderr, "abuse: %s not installed\n", c)
			return 1
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *limit)
	defer cancel()

	dir, err := os.MkdirTemp("", "pxekit-abuse-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "abuse:", err)
		return 1
	}
	if *keep {
		defer fmt.Fprintln(os.Stderr, "abuse: server logs kept in", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	a := &app{ctx: ctx, dir: dir, bin: *bin, hold: *hold}
	if a.bin == "" {
		a.bin = filepath.Join(dir, "minimal-server")
		c := exec.CommandContext(ctx, "go", "build", "-o", a.bin, "./examples/minimal-server")
		c.Dir, c.Stdout, c.Stderr = *repo, os.Stderr, os.Stderr
		if err := c.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "abuse: building the server:", err)
			return 1
		}
	}
	if err := a.makeRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "abuse:", err)
		return 1
	}
	l, err := newLab()
	defer l.close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "abuse:", err)
		return 1
	}
	a.lab = l

	floods := []struct {
		name string
		fn   func(*row) error
	}{
		{"HTTP idle connections", a.httpIdle},
		{"HTTP 1000 overlapping ranges", a.httpRanges},
		{"TFTP RRQ flood timeout=255", a.tftpRRQ},
		{"TFTP garbage/bad RRQs", a.tftpGarbage},
		{"DHCP DISCOVER flood", a.dhcpFlood},
		{"DHCP lease disk full", a.diskFull},
	}
	var rows []row
	for i, f := range floods {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), strconv.Itoa(i+1)) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(os.Stderr, "abuse: flood %d: %s\n", i+1, f.name)
		r := row{n: i + 1, name: f.name}
		if err := f.fn(&r); err != nil {
			r.note = "ERROR: " + err.Error()
		}
		rows = append(rows, r)
	}
	printTable(rows)
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "abuse: interrupted:", context.Cause(ctx))
		return 1
	}
	return 0
}

// makeRoot writes the served tree: a 1 MiB file for HTTP and a 3000-byte
// file (six 512-byte TFTP blocks) for TFTP.
func (a *app) makeRoot() error {
	root := filepath.Join(a.dir, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		return err
	}
	big := make([]byte, 1<<20)
	_, _ = rand.Read(big)
	a.big = int64(len(big))
	a.small = []byte(strings.Repeat("pxekit abuse suite small file\n", 100))
	return errors.Join(
		os.WriteFile(filepath.Join(root, "big.bin"), big, 0o644),
		os.WriteFile(filepath.Join(root, "small.txt"), a.small, 0o644))
}

// start runs the server in full-DHCP mode on the lab's bridge, with its
// lease file at leases (a new one in the scratch directory when "").
func (a *app) start(leases string) (*server, error) {
	a.runs++
	if leases == "" {
		leases = filepath.Join(a.dir, fmt.Sprintf("leases-%d", a.runs))
	}
	return startServer(a.lab.srv, a.bin, filepath.Join(a.dir, fmt.Sprintf("server-%d.log", a.runs)),
		"-iface", "br0", "-range", poolFirst+"-"+poolLast, "-leases", leases,
		"-root", filepath.Join(a.dir, "root"), "-http", ":"+httpPort)
}

// flood runs one standard row: a fresh server, the client once before,
// the helper in the flood namespace, the client again (retried until it
// succeeds or hold runs out) as soon as the helper's load is in place.
func (a *app) flood(r *row, client normalClient, helper string, args ...string) error {
	s, err := a.start("")
	if err != nil {
		return err
	}
	defer s.stop()
	time.Sleep(300 * time.Millisecond)
	r.before = s.usage()
	r.cBefore = once(a.ctx, client, 15*time.Second)
	l0 := s.logLines()
	sm := s.sample()
	h, err := runHelper(a.ctx, a.lab.flood, helper, args...)
	if err != nil {
		sm.end()
		return err
	}
	endc := make(chan usage, 1)
	go func() { <-h.end; endc <- s.usage() }()
	<-h.ready
	r.cDuring = retry(a.ctx, client, time.Now().Add(a.hold))
	res := <-h.res
	r.end = <-endc
	r.logs, r.warns = countLogs(s.logSince(l0))
	r.note = firstWarning(s.logSince(l0))
	r.peak = sm.end()
	time.Sleep(time.Second)
	r.after = s.usage()
	r.summary = res.Summary
	if res.Err != "" {
		return errors.New(res.Err)
	}
	if !r.cDuring.ok {
		r.note += "; client during: " + r.cDuring.last
	}
	return nil
}

// firstWarning returns the first line logged at WARN or ERROR, shortened,
// or "".
func firstWarning(lines []string) string {
	for _, l := range lines {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			l = strings.TrimSpace(l)
			if len(l) > 160 {
				l = l[:160] + "…"
			}
			return "first warning: " + l
		}
	}
	return ""
}

func countLogs(lines []string) (n, warns int) {
	for _, l := range lines {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			warns++
		}
	}
	return len(lines), warns
}

func (a *app) curl() normalClient {
	return a.lab.curlClient(a.dir, "http://"+serverIP+":"+httpPort+"/big.bin", a.big)
}

func (a *app) tftp() normalClient { return a.lab.tftpClient(a.dir, "small.txt", a.small) }

func (a *app) httpIdle(r *row) error {
	return a.flood(r, a.curl(), "http-idle", "-n", "3000", "-addrs", "50", "-hold", a.hold.String())
}

func (a *app) httpRanges(r *row) error {
	return a.flood(r, a.curl(), "http-ranges", "-n", "1000")
}

func (a *app) tftpRRQ(r *row) error {
	return a.flood(r, a.tftp(), "tftp-rrq", "-per", "16", "-hold", a.hold.String())
}

func (a *app) tftpGarbage(r *row) error {
	return a.flood(r, a.tftp(), "tftp-garbage", "-n", "20000", "-dur", "5s")
}

func (a *app) dhcpFlood(r *row) error {
	return a.flood(r, a.lab.dhcpClient(true), "dhcp-discover", "-n", "300", "-within", "500ms", "-if", a.lab.floodIf)
}

// diskFull puts the lease file on a 64 KiB tmpfs, gets a lease, fills the
// tmpfs, asks for leases as new clients until the server logs a write
// error, asks once more, frees the space and asks again.
func (a *app) diskFull(r *row) error {
	mnt := filepath.Join(a.dir, "leasefs")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		return err
	}
	if err := run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt); err != nil {
		return err
	}
	defer func() { _ = run("umount", "-l", mnt) }()
	s, err := a.start(filepath.Join(mnt, "leases"))
	if err != nil {
		return err
	}
	defer s.stop()
	client := a.lab.dhcpClient(true)
	time.Sleep(300 * time.Millisecond)
	r.before = s.usage()
	r.cBefore = once(a.ctx, client, 15*time.Second)

	fill := filepath.Join(mnt, "fill")
	f, err := os.Create(fill)
	if err != nil {
		return err
	}
	var filled int64
	chunk := make([]byte, 512)
	for {
		n, err := f.Write(chunk)
		filled += int64(n)
		if err != nil {
			break
		}
	}
	f.Close()
	// The lease file's last page still has room: new clients get leases
	// until an append needs a page that the tmpfs no longer has.
	l0 := s.logLines()
	sm := s.sample()
	var acked int
	var first clientResult
	deadline := time.Now().Add(a.hold)
	for a.ctx.Err() == nil && time.Now().Before(deadline) && acked < 200 {
		first = once(a.ctx, client, 10*time.Second)
		if firstWarning(s.logSince(l0)) != "" {
			break
		}
		if first.ok {
			acked++
		}
	}
	firstErr := firstWarning(s.logSince(l0))
	if firstErr != "" {
		r.cDuring = once(a.ctx, client, 10*time.Second)
	}
	r.end = s.usage()
	r.logs, r.warns = countLogs(s.logSince(l0))
	if err := os.Remove(fill); err != nil {
		return err
	}
	afterFull := retry(a.ctx, client, time.Now().Add(a.hold))
	r.peak = sm.end()
	r.after = s.usage()
	r.summary = fmt.Sprintf("lease file on a 64 KiB tmpfs, filled with %d bytes: %d new clients got leases into the file's last page, the next one %s (first write error); client during = the one after; space freed: new client %s",
		filled, acked, first, afterFull)
	if !afterFull.ok {
		r.summary += " (" + afterFull.last + ")"
	}
	if firstErr != "" {
		r.note = firstErr
	} else {
		r.note = fmt.Sprintf("no warning or error logged while the disk was full (%d clients got leases)", acked)
	}
	if !r.cDuring.ok {
		r.note += "; client during: " + r.cDuring.last
	}
	return nil
}

func mib(kib int) string {
	if kib < 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f", float64(kib)/1024)
}

func printTable(rows []row) {
	fmt.Println()
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tflood\tRSS MiB before/peak/end/after\tfds before/peak/end/after\tsock MiB before/peak/end/after\tlog lines (warn+)\tclient before\tclient during")
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%s\t%s/%s/%s/%s\t%d/%d/%d/%d\t%s/%s/%s/%s\t%d (%d)\t%s\t%s\n", r.n, r.name,
			mib(r.before.rssKiB), mib(r.peak.rssKiB), mib(r.end.rssKiB), mib(r.after.rssKiB),
			r.before.fds, r.peak.fds, r.end.fds, r.after.fds,
			mib(r.before.sockKiB), mib(r.peak.sockKiB), mib(r.end.sockKiB), mib(r.after.sockKiB),
			r.logs, r.warns, r.cBefore, r.cDuring)
	}
	tw.Flush()
	fmt.Println()
	for _, r := range rows {
		fmt.Printf("%d. %s\n", r.n, r.summary)
		if r.note != "" {
			fmt.Printf("   %s\n", r.note)
		}
	}
}
