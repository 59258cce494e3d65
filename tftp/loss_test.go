package tftp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/internal/testenv"
)

// lossyNamespace makes a network namespace whose input hook drops pct
// percent of UDP packets at random. On the namespace's loopback every
// packet passes input once, so both directions lose packets. (A drop on
// output would return an error to the sender instead of losing the packet
// silently.)
func lossyNamespace(t *testing.T, pct int) *testenv.NetNS {
	t.Helper()
	testenv.NeedCommand(t, "nft")
	ns := testenv.NewNetNS(t)
	ns.MustRun(t, "nft", "add", "table", "inet", "loss")
	ns.MustRun(t, "nft", "add chain inet loss input { type filter hook input priority 0 ; }")
	ns.MustRun(t, "nft", "add", "rule", "inet", "loss", "input", "meta", "l4proto", "udp",
		"numgen", "random", "mod", "100", "<", fmt.Sprint(pct), "counter", "drop")
	return ns
}

// serveInNS runs srv in ns: Serve runs on a thread inside the namespace, so
// the transfer sockets it opens are there too.
func serveInNS(t *testing.T, ns *testenv.NetNS, srv *Server) string {
	t.Helper()
	conn, err := ns.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- ns.Do(func() error { return srv.Serve(conn) }) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve = %v", err)
		}
	})
	return conn.LocalAddr().String()
}

// TestLoss downloads 1 MiB through 2% and 5% packet loss, lock-step and
// windowed, with real clients and with the test's own windowed client.
func TestLoss(t *testing.T) {
	dir := t.TempDir()
	want := randomFile(t, dir, "initrd", 1<<20, 42)
	for _, pct := range []int{2, 5} {
		t.Run(fmt.Sprintf("%d%%", pct), func(t *testing.T) {
			ns := lossyNamespace(t, pct)
			hook := newCountingHook()
			addr := serveInNS(t, ns, &Server{FS: os.DirFS(dir), Hook: hook})
			host, port := splitHostPort(t, addr)
			// atftp answers a repeated block with one extra ACK and then
			// waits for its own timer (--tftp-timeout, 5 s by default);
			// set it to 1 s, as the option tells the server.
			atftpLoss := func(opts ...string) func(host, port, file, out string) []string {
				return func(host, port, file, out string) []string {
					return append([]string{"--tftp-timeout", "1"}, atftpArgs(opts...)(host, port, file, out)...)
				}
			}
			clients := []peerCase{
				{"curl/1468", "curl", "initrd", curlArgs(1468)},
				{"atftp/1468", "atftp", "initrd", atftpLoss("blksize 1468", "timeout 1")},
				{"atftp/1468-window16", "atftp", "initrd", atftpLoss("blksize 1468", "windowsize 16", "timeout 1")},
			}
			for _, tc := range clients {
				t.Run(tc.name, func(t *testing.T) {
					bin := lookClient(t, tc.client)
					out := filepath.Join(t.TempDir(), "out")
					ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
					defer cancel()
					start := time.Now()
					for attempt := 1; ; attempt++ {
						cmd := ns.Command(ctx, bin, tc.args(host, port, tc.file, out)...)
						b, err := cmd.CombinedOutput()
						if err == nil {
							break
						}
						// atftp 0.8 aborts with "unexpected OACK" when its ACK
						// of the OACK is lost and the server (any server)
						// retransmits the OACK. That is the client's failure;
						// start it again, as a user would.
						if tc.client == "atftp" && attempt < 3 && strings.Contains(string(b), "unexpected OACK") {
							t.Logf("attempt %d: atftp aborted on a retransmitted OACK; retrying", attempt)
							continue
						}
						t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
					}
					if got := fileSHA(t, out); got != want {
						t.Fatalf("sha256 %s, want %s", got, want)
					}
					t.Logf("%d%% loss, %s: 1 MiB in %v", pct, tc.name, time.Since(start).Round(time.Millisecond))
				})
			}
			// Windowed client written for this test (see windowClient),
			// against the normal server and one in single-port mode.
			single := serveInNS(t, ns, &Server{FS: os.DirFS(dir), SinglePort: true})
			for _, srv := range []struct{ name, addr string }{{"windowClient/1468-window16", addr}, {"single-port/windowClient/1468-window16", single}} {
				t.Run(srv.name, func(t *testing.T) {
					c, err := ns.ListenPacket("udp4", "127.0.0.1:0")
					if err != nil {
						t.Fatal(err)
					}
					defer c.Close()
					sa, _ := net.ResolveUDPAddr("udp4", srv.addr)
					start := time.Now()
					got, err := windowClient(c.(*net.UDPConn), sa, "initrd", 1468, 16, 50*time.Millisecond)
					if err != nil {
						t.Fatal(err)
					}
					if s := sha(got); s != want {
						t.Fatalf("sha256 %s, want %s (%d bytes)", s, want, len(got))
					}
					t.Logf("%d%% loss, %s: 1 MiB in %v", pct, srv.name, time.Since(start).Round(time.Millisecond))
				})
			}
		})
	}
}
