package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server is one run of examples/minimal-server in the server namespace,
// its stderr going to a file.
type server struct {
	cmd     *exec.Cmd
	pid     int
	ns      string
	logPath string
	done    chan struct{}
}

// startServer starts bin in namespace ns with args and waits until it logs
// "ready".
func startServer(ns, bin, logPath string, args ...string) (*server, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := &server{cmd: in(ns, bin, args...), ns: ns, logPath: logPath, done: make(chan struct{})}
	s.cmd.Stdout, s.cmd.Stderr = f, f
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	// "ip netns exec" execs the program in place: the pid is the server's.
	s.pid = s.cmd.Process.Pid
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(logPath)
		if bytes.Contains(b, []byte("msg=ready")) {
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("server exited at start:\n%s", b)
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.stop()
	return nil, fmt.Errorf("server not ready after 10 s")
}

// stop sends SIGTERM, and SIGKILL if the server has not ended 5 s later.
func (s *server) stop() {
	if s == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// logLines is the number of lines the server has written so far.
func (s *server) logLines() int {
	b, _ := os.ReadFile(s.logPath)
	return bytes.Count(b, []byte("\n"))
}

// logSince returns the lines written after the first n.
func (s *server) logSince(n int) []string {
	b, _ := os.ReadFile(s.logPath)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if n >= len(lines) {
		return nil
	}
	return lines[n:]
}

// usage is a sample of the server's resident memory (KiB), its open file
// descriptors, and the kernel memory queued in the sockets of its
// namespace (KiB), which RSS does not show.
type usage struct{ rssKiB, fds, sockKiB int }

var skmem = regexp.MustCompile(`skmem:\(r(\d+),.*?,w(\d+),`)

// sockMem sums what ss reports as received-but-unread (r) and queued for
// sending (w) over every TCP and UDP socket in the server's namespace,
// orphaned ones included.
func (s *server) sockMem() int {
	out, err := in(s.ns, "ss", "-tuamn").Output()
	if err != nil {
		return -1
	}
	var sum int
	for _, m := range skmem.FindAllSubmatch(out, -1) {
		r, _ := strconv.Atoi(string(m[1]))
		w, _ := strconv.Atoi(string(m[2]))
		sum += r + w
	}
	return sum / 1024
}

// usage samples everything.
func (s *server) usage() usage {
	u := s.procUsage()
	u.sockKiB = s.sockMem()
	return u
}

// procUsage samples RSS and descriptors only.
func (s *server) procUsage() usage {
	var u usage
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				u.rssKiB, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			}
		}
	}
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.pid)); err == nil {
		u.fds = len(ents)
	}
	return u
}

// sampler records the highest usage seen every 100 ms (socket memory
// every 500 ms) until stopped.
type sampler struct {
	mu   sync.Mutex
	peak usage
	stop chan struct{}
	wg   sync.WaitGroup
}

func (s *server) sample() *sampler {
	sm := &sampler{stop: make(chan struct{})}
	sm.wg.Add(1)
	go func() {
		defer sm.wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			u := s.procUsage()
			if i%5 == 0 {
				u.sockKiB = s.sockMem()
			}
			sm.mu.Lock()
			sm.peak.rssKiB = max(sm.peak.rssKiB, u.rssKiB)
			sm.peak.fds = max(sm.peak.fds, u.fds)
			sm.peak.sockKiB = max(sm.peak.sockKiB, u.sockKiB)
			sm.mu.Unlock()
			select {
			case <-sm.stop:
				return
			case <-t.C:
			}
		}
	}()
	return sm
}

func (sm *sampler) end() usage {
	close(sm.stop)
	sm.wg.Wait()
	return sm.peak
}
