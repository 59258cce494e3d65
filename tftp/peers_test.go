package tftp

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pintftp "github.com/pin/tftp/v3"
	"github.com/pxekit/pxekit/internal/testenv"
)

// Real clients nobody on this project wrote: curl, atftp, tftp-hpa's tftp
// and pin/tftp's client. Each download's sha256 must equal the source's.

type peerCase struct {
	name   string
	client string // curl, atftp, tftp-hpa
	file   string
	args   func(host, port, file, out string) []string
}

func splitHostPort(t testing.TB, addr string) (string, string) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}

func curlArgs(blksize int) func(host, port, file, out string) []string {
	return func(host, port, file, out string) []string {
		a := []string{"-sS", "--fail", "--max-time", "60", "-o", out}
		if blksize > 0 {
			a = append(a, "--tftp-blksize", fmt.Sprint(blksize))
		}
		return append(a, fmt.Sprintf("tftp://%s:%s/%s", host, port, file))
	}
}

func atftpArgs(opts ...string) func(host, port, file, out string) []string {
	return func(host, port, file, out string) []string {
		a := []string{"-g", "-r", file, "-l", out}
		for _, o := range opts {
			a = append(a, "--option", o)
		}
		return append(a, host, port)
	}
}

func tftpHPAArgs(mode string) func(host, port, file, out string) []string {
	return func(host, port, file, out string) []string {
		return []string{"-4", host, port, "-m", mode, "-c", "get", file, out}
	}
}

func lookClient(t testing.TB, client string) string {
	t.Helper()
	return testenv.NeedCommand(t, clientProgram[client])[0]
}

var execCommand = exec.Command

var clientProgram = map[string]string{"curl": "curl", "atftp": "atftp", "tftp-hpa": "tftp"}

func runClient(t *testing.T, cmd *exec.Cmd, out string) {
	t.Helper()
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatalf("%s wrote no file: %v\n%s", strings.Join(cmd.Args, " "), err, b)
	}
}

func TestRealClients(t *testing.T) {
	dir := t.TempDir()
	sums := map[string]string{
		"boot/pxelinux.0": randomFile(t, dir, "boot/pxelinux.0", 42_000, 1),
		"kernel":          randomFile(t, dir, "kernel", 1<<20+123, 2),
		"exact":           randomFile(t, dir, "exact", 1468*100, 3), // ends in an empty block
		"empty":           randomFile(t, dir, "empty", 0, 4),
	}
	hook := newCountingHook()
	addr := startServer(t, &Server{FS: os.DirFS(dir), Hook: hook})
	host, port := splitHostPort(t, addr)

	cases := []peerCase{
		{"curl/default", "curl", "kernel", curlArgs(0)},
		{"curl/1468", "curl", "kernel", curlArgs(1468)},
		{"curl/8192", "curl", "kernel", curlArgs(8192)},
		{"curl/exact-1468", "curl", "exact", curlArgs(1468)},
		// curl 7.88 fails on an empty file (error 71) against dnsmasq too;
		// atftp and tftp-hpa cover it.
		{"atftp/empty", "atftp", "empty", atftpArgs("blksize 1468", "tsize enable")},
		{"curl/leading-slash", "curl", "/boot/pxelinux.0", curlArgs(1468)},
		{"atftp/plain", "atftp", "kernel", atftpArgs()},
		{"atftp/blksize+tsize", "atftp", "kernel", atftpArgs("blksize 1468", "tsize enable")},
		{"atftp/windowsize4", "atftp", "kernel", atftpArgs("blksize 1468", "tsize enable", "windowsize 4")},
		{"atftp/windowsize16", "atftp", "kernel", atftpArgs("blksize 1468", "windowsize 16")},
		{"atftp/windowsize16-8192", "atftp", "kernel", atftpArgs("blksize 8192", "windowsize 16")},
		{"atftp/timeout", "atftp", "boot/pxelinux.0", atftpArgs("timeout 2", "blksize 1024")},
		{"atftp/exact-window", "atftp", "exact", atftpArgs("blksize 1468", "windowsize 8")},
		{"tftp-hpa/octet", "tftp-hpa", "kernel", tftpHPAArgs("octet")},
		{"tftp-hpa/backslash", "tftp-hpa", `boot\pxelinux.0`, tftpHPAArgs("octet")},
		{"tftp-hpa/empty", "tftp-hpa", "empty", tftpHPAArgs("octet")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bin := testenv.NeedCommand(t, clientProgram[tc.client])[0]
			out := filepath.Join(t.TempDir(), "out")
			cmd := exec.Command(bin, tc.args(host, port, tc.file, out)...)
			cmd.Dir = t.TempDir()
			runClient(t, cmd, out)
			clean, _ := CleanPath(tc.file)
			if got, want := fileSHA(t, out), sums[clean]; got != want {
				t.Errorf("%s: sha256 %s, want %s", tc.name, got, want)
			}
		})
	}
}

// TestNetascii fetches a text file in netascii mode with tftp-hpa, which
// converts CR LF back to LF; the result must equal the source.
func TestNetascii(t *testing.T) {
	bin := testenv.NeedCommand(t, "tftp")[0]
	dir := t.TempDir()
	var text bytes.Buffer
	for i := range 3000 {
		fmt.Fprintf(&text, "line %d\twith a bare CR\r in it\n", i)
	}
	if err := os.WriteFile(filepath.Join(dir, "menu.txt"), text.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	hook := newCountingHook()
	host, port := splitHostPort(t, startServer(t, &Server{FS: os.DirFS(dir), Hook: hook}))
	out := filepath.Join(t.TempDir(), "out")
	runClient(t, exec.Command(bin, tftpHPAArgs("netascii")(host, port, "menu.txt", out)...), out)
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, text.Bytes()) {
		t.Errorf("netascii download differs: got %d bytes, want %d", len(got), text.Len())
	}
	tr := hook.wait(t)
	if tr.Outcome != OutcomeOK || tr.Bytes <= int64(text.Len()) {
		t.Errorf("hook: outcome %v, %d bytes on the wire; want ok and more than %d (CR LF)", tr.Outcome, tr.Bytes, text.Len())
	}
}

// TestRollover sends files of more than 65535 blocks to real clients,
// which expect block 65535 to be followed by block 0.
func TestRollover(t *testing.T) {
	dir := t.TempDir()
	small := randomFile(t, dir, "small-blocks", 70_000*8+3, 7) // 70001 blocks at blksize 8
	host, port := splitHostPort(t, startServer(t, &Server{FS: os.DirFS(dir)}))
	for _, tc := range []peerCase{
		{"curl/blksize8", "curl", "small-blocks", curlArgs(8)},
		{"atftp/blksize8", "atftp", "small-blocks", atftpArgs("blksize 8")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin := testenv.NeedCommand(t, clientProgram[tc.client])[0]
			out := filepath.Join(t.TempDir(), "out")
			cmd := exec.Command(bin, tc.args(host, port, tc.file, out)...)
			runClient(t, cmd, out)
			if got := fileSHA(t, out); got != small {
				t.Errorf("sha256 %s, want %s", got, small)
			}
		})
	}
	t.Run("tftp-hpa/512", func(t *testing.T) {
		// tftp-hpa's client negotiates nothing: 512-byte blocks, so a
		// rollover takes more than 32 MiB.
		bin := testenv.NeedCommand(t, "tftp")[0]
		big := randomFile(t, dir, "big", 65536*512+1000, 8)
		out := filepath.Join(t.TempDir(), "out")
		runClient(t, exec.Command(bin, tftpHPAArgs("octet")(host, port, "big", out)...), out)
		if got := fileSHA(t, out); got != big {
			t.Errorf("sha256 %s, want %s", got, big)
		}
	})
}

// TestPinClient downloads with pin/tftp's client, with and without options.
func TestPinClient(t *testing.T) {
	dir := t.TempDir()
	want := randomFile(t, dir, "f", 300_000, 9)
	addr := startServer(t, &Server{FS: os.DirFS(dir)})
	for _, blk := range []int{0, 1468, 65464} {
		t.Run(fmt.Sprint(blk), func(t *testing.T) {
			c, err := pintftp.NewClient(addr)
			if err != nil {
				t.Fatal(err)
			}
			c.SetTimeout(2 * time.Second)
			if blk > 0 {
				c.SetBlockSize(blk)
				c.RequestTSize(true)
			}
			wt, err := c.Receive("f", "octet")
			if err != nil {
				t.Fatal(err)
			}
			if n, ok := wt.(pintftp.IncomingTransfer).Size(); blk > 0 && (!ok || n != 300_000) {
				t.Errorf("tsize = %d, %v; want 300000", n, ok)
			}
			var b bytes.Buffer
			if _, err := wt.WriteTo(&b); err != nil {
				t.Fatal(err)
			}
			if got := sha(b.Bytes()); got != want {
				t.Errorf("sha256 %s, want %s", got, want)
			}
		})
	}
}

// TestConcurrentClients runs 16 curl downloads at once.
func TestConcurrentClients(t *testing.T) {
	bin := testenv.NeedCommand(t, "curl")[0]
	dir := t.TempDir()
	want := randomFile(t, dir, "initrd", 512<<10, 10)
	hook := newCountingHook()
	host, port := splitHostPort(t, startServer(t, &Server{FS: os.DirFS(dir), Hook: hook}))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	outDir := t.TempDir()
	errc := make(chan error, 16)
	for i := range 16 {
		go func() {
			out := filepath.Join(outDir, fmt.Sprint(i))
			b, err := exec.CommandContext(ctx, bin, curlArgs(1468)(host, port, "initrd", out)...).CombinedOutput()
			if err != nil {
				err = fmt.Errorf("curl %d: %v: %s", i, err, b)
			}
			errc <- err
		}()
	}
	for range 16 {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
	for i := range 16 {
		if got := fileSHA(t, filepath.Join(outDir, fmt.Sprint(i))); got != want {
			t.Errorf("client %d: sha256 %s, want %s", i, got, want)
		}
	}
}
