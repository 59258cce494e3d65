package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// A normal client is a real peer program doing its job once: it returns
// nil when the job was done, or why not.
type normalClient func(ctx context.Context) error

// clientResult is how a normal client fared: how long from its first
// attempt until one succeeded, in how many attempts, or that none did.
type clientResult struct {
	ok    bool
	took  time.Duration
	tries int
	last  string // last failure
}

func (r clientResult) String() string {
	if r.tries == 0 {
		return "-"
	}
	if r.ok {
		if r.tries == 1 {
			return fmt.Sprintf("%.2fs", r.took.Seconds())
		}
		return fmt.Sprintf("%.2fs (%d tries)", r.took.Seconds(), r.tries)
	}
	if r.tries == 1 {
		return fmt.Sprintf("FAIL %.1fs", r.took.Seconds())
	}
	return fmt.Sprintf("FAIL %.1fs (%d tries)", r.took.Seconds(), r.tries)
}

// retry runs c until it succeeds or until deadline, and times it.
func retry(ctx context.Context, c normalClient, deadline time.Time) clientResult {
	var r clientResult
	start := time.Now()
	for {
		r.tries++
		actx, cancel := context.WithDeadline(ctx, deadline)
		err := c(actx)
		cancel()
		r.took = time.Since(start)
		if err == nil {
			r.ok = true
			return r
		}
		r.last = err.Error()
		if time.Now().Add(200*time.Millisecond).After(deadline) || ctx.Err() != nil {
			return r
		}
		select {
		case <-ctx.Done():
			return r
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// once runs c one time, for at most limit, and times it.
func once(ctx context.Context, c normalClient, limit time.Duration) clientResult {
	start := time.Now()
	actx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	err := c(actx)
	r := clientResult{ok: err == nil, took: time.Since(start), tries: 1}
	if err != nil {
		r.last = err.Error()
	}
	return r
}

func inCtx(ctx context.Context, ns, name string, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, name}, args...)...)
	c.WaitDelay = time.Second // a grandchild holding the output pipe
	return c
}

// curlClient downloads url with curl and checks that want bytes arrived.
func (l *lab) curlClient(dir, url string, want int64) normalClient {
	out := filepath.Join(dir, "curl.out")
	return func(ctx context.Context) error {
		_ = os.Remove(out)
		b, err := inCtx(ctx, l.client, "curl", "-s", "-o", out, "-w", "%{http_code}", "--max-time", "10", url).Output()
		if err != nil {
			return fmt.Errorf("curl: %v (http %s)", err, b)
		}
		fi, err := os.Stat(out)
		if string(b) != "200" || err != nil || fi.Size() != want {
			return fmt.Errorf("curl: http %s", b)
		}
		return nil
	}
}

// tftpClient fetches name with tftp-hpa and compares it with want.
func (l *lab) tftpClient(dir, name string, want []byte) normalClient {
	out := filepath.Join(dir, "tftp.out")
	return func(ctx context.Context) error {
		_ = os.Remove(out)
		// tftp-hpa retries for 25 s by default; a 5 s attempt is enough on
		// a veth, and the loop in retry tries again.
		b, err := inCtx(ctx, l.client, "timeout", "-s", "KILL", "5", "tftp", "-m", "binary", serverIP, "-c", "get", name, out).CombinedOutput()
		got, rerr := os.ReadFile(out)
		if err != nil || rerr != nil || !bytes.Equal(got, want) {
			return fmt.Errorf("tftp: %v %s", err, strings.TrimSpace(string(b)))
		}
		return nil
	}
}

// dhcpClient gets a lease with busybox udhcpc (3 DISCOVERs 2 s apart),
// configuring nothing. fresh gives the client a new MAC address first.
func (l *lab) dhcpClient(fresh bool) normalClient {
	return func(ctx context.Context) error {
		if fresh {
			if err := l.newClientMAC(); err != nil {
				return err
			}
		}
		b, err := inCtx(ctx, l.client, "busybox", "udhcpc", "-i", l.clientIf, "-f", "-q", "-n", "-t", "3", "-T", "2", "-s", "/bin/true").CombinedOutput()
		if err != nil || !bytes.Contains(b, []byte("obtained")) {
			return fmt.Errorf("udhcpc: %v %s", err, lastLine(b))
		}
		return nil
	}
}

func lastLine(b []byte) string {
	s := strings.Split(strings.TrimSpace(string(b)), "\n")
	return s[len(s)-1]
}
