//go:build linux

// Package testenv holds what pxekit's tests share to reach real peers: the
// rule that a test which cannot run is skipped on a developer's machine but
// fails in CI, and network namespaces that a test creates, uses and removes.
//
// Nothing here is for library users; it is imported only from _test.go
// files. It uses Linux network namespaces, and so do the tests: the
// library's packages build elsewhere, their tests run on Linux.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// InCI reports whether the tests run in CI (the CI environment variable is
// set to a non-empty value other than "false" or "0").
func InCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "false" && v != "0"
}

// Unavailable stops the test because something it needs is missing: it
// skips on a developer's machine and fails in CI, where everything the tests
// need is installed by .ci/run.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("unavailable in CI: %s", msg)
	}
	t.Skipf("unavailable: %s (set CI=true to turn this skip into a failure)", msg)
}

// NeedRoot stops the test (see [Unavailable]) unless it runs as root.
func NeedRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "needs root")
	}
}

// NeedCommand returns the path of each named program, and stops the test
// (see [Unavailable]) when one is not installed. It also looks in /usr/sbin
// and /sbin, which a non-root PATH often lacks.
func NeedCommand(t testing.TB, names ...string) []string {
	t.Helper()
	paths := make([]string, len(names))
	for i, name := range names {
		p, err := LookPath(name)
		if err != nil {
			Unavailable(t, "program %q not installed", name)
		}
		paths[i] = p
	}
	return paths
}

// LookPath is exec.LookPath that also searches /usr/sbin and /sbin.
func LookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := dir + "/" + name
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("testenv: %s not found", name)
}

// NetNS is a network namespace that a test created. Its loopback interface
// is up. It is removed, with every process still running in it, when the
// test ends.
type NetNS struct {
	// Name is the name under /run/netns, usable with "ip netns exec".
	Name string
}

// NewNetNS creates a network namespace for the test, brings its loopback
// up, and registers its removal with t.Cleanup. It needs root and the ip
// command; without them it stops the test (see [Unavailable]).
func NewNetNS(t testing.TB) *NetNS {
	t.Helper()
	NeedRoot(t)
	NeedCommand(t, "ip")
	ns := &NetNS{Name: "pxk" + randomHex(5)}
	if out, err := exec.Command("ip", "netns", "add", ns.Name).CombinedOutput(); err != nil {
		Unavailable(t, "ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() {
		// Kill what still runs inside, then remove the namespace.
		if out, err := exec.Command("ip", "netns", "pids", ns.Name).Output(); err == nil {
			for _, f := range strings.Fields(string(out)) {
				_ = exec.Command("kill", "-9", f).Run()
			}
		}
		_ = exec.Command("ip", "netns", "del", ns.Name).Run()
	})
	ns.MustRun(t, "ip", "link", "set", "lo", "up")
	return ns
}

// Command returns a command that runs name with args inside the namespace.
func (ns *NetNS) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}

// MustRun runs a command inside the namespace and fails the test when it
// fails. It returns the combined output.
func (ns *NetNS) MustRun(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := ns.Command(context.Background(), name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("in netns %s: %s %s: %v\n%s", ns.Name, name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Do runs fn on an OS thread that has entered the namespace. Sockets that fn
// opens stay in the namespace after Do returns and may be used from any
// goroutine. fn must not start goroutines that expect to be in the namespace.
func (ns *NetNS) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// The thread is left locked on every path that may have changed its
		// namespace, so that it exits with the goroutine and is never reused.
		orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		target, err := os.Open("/run/netns/" + ns.Name)
		if err != nil {
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("testenv: setns %s: %w", ns.Name, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err == nil {
			runtime.UnlockOSThread()
		}
		errc <- ferr
	}()
	return <-errc
}

// ListenPacket opens a packet socket inside the namespace (see [net.ListenPacket]).
func (ns *NetNS) ListenPacket(network, addr string) (net.PacketConn, error) {
	var c net.PacketConn
	err := ns.Do(func() (err error) {
		c, err = net.ListenPacket(network, addr)
		return err
	})
	return c, err
}

// Listen opens a stream listener inside the namespace (see [net.Listen]).
func (ns *NetNS) Listen(network, addr string) (net.Listener, error) {
	var l net.Listener
	err := ns.Do(func() (err error) {
		l, err = net.Listen(network, addr)
		return err
	})
	return l, err
}

// ListenBroadcastUDP opens a udp4 socket inside the namespace on addr with
// SO_REUSEADDR and SO_BROADCAST set, bound to the interface dev when dev is
// not empty, as DHCP servers and clients open theirs. The socket is closed
// when the test ends; an error fails the test.
func (ns *NetNS) ListenBroadcastUDP(t testing.TB, addr, dev string) *net.UDPConn {
	t.Helper()
	var c net.PacketConn
	err := ns.Do(func() (err error) {
		lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = errors.Join(
					unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1),
					unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_BROADCAST, 1))
				if dev != "" && serr == nil {
					serr = unix.BindToDevice(int(fd), dev)
				}
			})
			return errors.Join(err, serr)
		}}
		c, err = lc.ListenPacket(context.Background(), "udp4", addr)
		return err
	})
	if err != nil {
		t.Fatalf("listen %s in %s: %v", addr, ns.Name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.UDPConn)
}

// PacketServer is the shape of pxekit's packet servers (net/http.Server's
// Serve and Shutdown on a net.PacketConn).
type PacketServer interface {
	Serve(conn net.PacketConn) error
	Shutdown(ctx context.Context) error
}

// Serve runs s.Serve on each conn in its own goroutine. When the test ends
// it calls s.Shutdown with a 5 s deadline and checks that Shutdown
// succeeded and that every Serve returned an error matching closed (the
// server's ErrServerClosed), failing the test otherwise.
func Serve(t testing.TB, s PacketServer, closed error, conns ...net.PacketConn) {
	t.Helper()
	errc := make(chan error, len(conns))
	for _, c := range conns {
		go func() { errc <- s.Serve(c) }()
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		for range conns {
			if err := <-errc; !errors.Is(err, closed) {
				t.Errorf("Serve returned %v, want %v", err, closed)
			}
		}
	})
}

// Start starts cmd, whose Stdout and Stderr must be unset, with its
// combined output collected. When the test ends the process is killed and
// waited for, and, if the test failed, its output is logged under name.
func Start(t testing.TB, cmd *exec.Cmd, name string) {
	t.Helper()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})
}

// Veth connects two namespaces with a veth pair, gives each end the address
// (with prefix length) given for it, and brings both ends up. It returns the
// interface names in a and in b.
func Veth(t testing.TB, a *NetNS, addrA netip.Prefix, b *NetNS, addrB netip.Prefix) (ifA, ifB string) {
	t.Helper()
	id := randomHex(4)
	ifA, ifB = "va"+id, "vb"+id
	if out, err := exec.Command("ip", "link", "add", ifA, "netns", a.Name, "type", "veth", "peer", "name", ifB, "netns", b.Name).CombinedOutput(); err != nil {
		t.Fatalf("ip link add veth: %v: %s", err, out)
	}
	a.MustRun(t, "ip", "addr", "add", addrA.String(), "dev", ifA)
	b.MustRun(t, "ip", "addr", "add", addrB.String(), "dev", ifB)
	a.MustRun(t, "ip", "link", "set", ifA, "up")
	b.MustRun(t, "ip", "link", "set", ifB, "up")
	return ifA, ifB
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n*2]
}
