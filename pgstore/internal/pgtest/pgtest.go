//go:build linux

// Package pgtest starts a real PostgreSQL server for pgstore's tests: the
// Debian postgresql package's initdb and postgres, as an unprivileged user
// (postgres refuses to run as root), in a temporary directory, listening
// on a Unix socket only. Nothing here is for library users.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pxekit/pxekit/internal/testenv"
)

// Server is a running PostgreSQL server of a test.
type Server struct {
	Dir  string // socket directory; the cluster is in Dir/data
	User string // the superuser, with trust authentication

	bin  string
	cred *syscall.Credential
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

// BinDir returns the newest /usr/lib/postgresql/N/bin that has initdb and
// postgres, "" when none.
func BinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(a))))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(b))))
		return va - vb
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		d := filepath.Dir(dirs[i])
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	return ""
}

// Start creates a cluster in a new temporary directory and starts a
// server on it; both are removed when the test ends. Without the
// postgresql package the test stops (skip, or failure in CI: see
// testenv.Unavailable).
func Start(t testing.TB) *Server {
	t.Helper()
	bin := BinDir()
	if bin == "" {
		testenv.Unavailable(t, "PostgreSQL server not installed (apt-get install postgresql)")
	}
	dir, err := os.MkdirTemp("", "pxekit-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &Server{Dir: dir, User: "pxekit", bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			testenv.Unavailable(t, "no unprivileged user to run postgres as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	out, err := s.command("initdb", "-D", filepath.Join(dir, "data"), "-U", s.User, "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions").CombinedOutput()
	if err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	if s.log, err = os.Create(filepath.Join(dir, "log")); err != nil {
		t.Fatal(err)
	}
	if s.cred != nil {
		os.Chown(s.log.Name(), int(s.cred.Uid), int(s.cred.Gid))
	}
	t.Cleanup(func() {
		s.Stop()
		s.log.Close()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Logf("postgres log:\n%s", lastLines(string(b), 40))
		}
	})
	s.Restart(t)
	return s
}

func lastLines(s string, n int) string {
	l := strings.Split(s, "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Env = append(os.Environ(), "HOME="+s.Dir, "LC_ALL=C.UTF-8")
	cmd.Dir = s.Dir
	// A test binary killed (its -timeout) takes its postgres along:
	// SIGQUIT is postgres's immediate shutdown.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGQUIT}
	return cmd
}

// Restart starts the server again after Stop (Start starts it once) and
// waits until it accepts connections.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	cmd := s.command("postgres", "-D", filepath.Join(s.Dir, "data"), "-k", s.Dir, "-c", "listen_addresses=",
		"-c", "fsync=off", "-c", "max_connections=200", "-p", "5432")
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("postgres: %v", err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func(done chan struct{}) { cmd.Wait(); close(done) }(s.done)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := pgx.Connect(ctx, s.URL("postgres"))
		cancel()
		if err == nil {
			c.Close(context.Background())
			return
		}
		select {
		case <-s.done:
			t.Fatalf("postgres exited at start: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("postgres not ready after 30 s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops the server (fast shutdown: open connections are closed) and
// waits for it to exit.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// URL is the connection string of database db on s.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://%s@/%s?host=%s&port=5432&sslmode=disable", s.User, db, s.Dir)
}

// NewDB creates an empty database with a unique name and returns its URL.
func (s *Server) NewDB(t testing.TB) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	name := "t" + hex.EncodeToString(b)
	ctx := context.Background()
	c, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	return s.URL(name)
}
