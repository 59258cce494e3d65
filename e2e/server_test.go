package e2e

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pxekit/pxekit/internal/testenv"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildOut  []byte
)

// serverBinary builds examples/minimal-server once per test process with
// "go build", so the tests run the same program a reader of the README runs.
func serverBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pxekit-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "minimal-server")
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = "/usr/local/go/bin/go"
		}
		statSources("..")
		cmd := exec.Command(goBin, "build", "-o", binPath, "../examples/minimal-server")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("go build ./examples/minimal-server: %v\n%s", buildErr, buildOut)
	}
	return binPath
}

// statSources stats every Go source and go.mod/go.sum under root. The
// server is built by a go command of its own, whose reads the test cache
// does not see; files the test process itself stats are part of a cached
// result's key, so a change to the server's sources (or any package it
// uses) makes `go test ./e2e` run again instead of reporting a stale
// cached pass.
func statSources(root string) {
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if n := d.Name(); strings.HasSuffix(n, ".go") || n == "go.mod" || n == "go.sum" {
			os.Stat(p)
		}
		return nil
	})
}

// pxekit runs the minimal server in the lab namespace on the bridge with
// the given flags (-iface is added) and waits until it says it serves.
func (l *lab) pxekit(args ...string) *daemon {
	l.t.Helper()
	return l.pxekitIn(l.ns, args...)
}

func (l *lab) pxekitIn(ns *testenv.NetNS, args ...string) *daemon {
	l.t.Helper()
	bin := serverBinary(l.t)
	d := l.startIn(ns, bin, append([]string{"-iface", labBridge}, args...)...)
	d.waitOutput(l.t, readyLine, 20*time.Second)
	return d
}

// readyLine is what the minimal server logs once all its listeners are up.
const readyLine = "msg=ready"
