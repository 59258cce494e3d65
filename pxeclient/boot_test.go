//go:build linux

package pxeclient_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pxekit/pxekit/internal/testenv"
	"github.com/pxekit/pxekit/pxeclient"
)

// seg is a server namespace and a client namespace joined by a veth pair;
// the client end has no address until a lease gives it one.
type seg struct {
	srv, cli     *testenv.NetNS
	srvIf, cliIf string
	srvAddr      netip.Addr
}

func newSeg(t *testing.T) *seg {
	t.Helper()
	s := &seg{srv: testenv.NewNetNS(t), cli: testenv.NewNetNS(t), srvAddr: netip.MustParseAddr("10.77.0.1")}
	s.srvIf, s.cliIf = testenv.Veth(t, s.srv, netip.MustParsePrefix("10.77.0.1/24"), s.cli, netip.MustParsePrefix("10.77.0.250/32"))
	// The /32 only brings the interface up with an address of its own
	// outside the pool; leases are added by OnLease.
	return s
}

// client returns a client of profile p whose sockets live in the client
// namespace.
func (s *seg) client(t *testing.T, conn *pxeclient.Conn, p *pxeclient.Profile, mac net.HardwareAddr) *pxeclient.Client {
	var mu sync.Mutex
	return &pxeclient.Client{
		Profile: p.Scaled(0.25), MAC: mac, Conn: conn, Broadcast: true,
		OnLease: func(ctx context.Context, a netip.Prefix) error {
			mu.Lock()
			defer mu.Unlock()
			out, err := s.cli.Command(ctx, "ip", "addr", "replace", a.String(), "dev", s.cliIf).CombinedOutput()
			if err != nil {
				t.Errorf("ip addr add %s: %v: %s", a, err, out)
			}
			return err
		},
		ListenPacket: s.cli.ListenPacket,
		Dial: func(ctx context.Context, network, laddr, raddr string) (c net.Conn, err error) {
			err = s.cli.Do(func() error {
				d := net.Dialer{}
				if laddr != "" {
					a, err := net.ResolveTCPAddr(network, laddr)
					if err != nil {
						return err
					}
					d.LocalAddr = a
				}
				c, err = d.DialContext(ctx, network, raddr)
				return err
			})
			return c, err
		},
	}
}

func (s *seg) conn(t *testing.T) *pxeclient.Conn {
	t.Helper()
	pc := s.cli.ListenBroadcastUDP(t, "0.0.0.0:68", s.cliIf)
	c := pxeclient.NewConn(pc)
	t.Cleanup(func() { c.Close() })
	return c
}

// tree writes a boot tree: boot programs by their well-known names (random
// bytes, several windows long) and a pxelinux default configuration.
func tree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, size := range treeSizes {
		b := make([]byte, int(size))
		_, _ = rand.Read(b)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "pxelinux.cfg"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pxelinux.cfg", "default"), []byte(treeConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const treeConfig = "DEFAULT linux\nLABEL linux\n  KERNEL vmlinuz\n  APPEND initrd=initrd.img\n"

// treeSizes are the boot programs of [tree] and their sizes.
var treeSizes = map[string]int64{"pxelinux.0": 46_000, "syslinux.efi": 200_003, "ipxe.efi": 300_001, "grubnetaa64.efi": 150_000}

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

// minimalServer builds examples/minimal-server once per test binary.
func minimalServer(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pxeclient-test")
		if err != nil {
			buildErr = err
			return
		}
		buildBin = filepath.Join(dir, "minimal-server")
		out, err := exec.Command("go", "build", "-o", buildBin, "../examples/minimal-server").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("%s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build minimal-server: %v", buildErr)
	}
	return buildBin
}

func waitFor(t *testing.T, buf *syncBuf, s string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if strings.Contains(buf.String(), s) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server did not print %q in %v:\n%s", s, d, buf.String())
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t *testing.T, cmd *exec.Cmd, ready string) *syncBuf {
	t.Helper()
	out := new(syncBuf)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("server output:\n%s", out.String())
		}
	})
	waitFor(t, out, ready, 20*time.Second)
	return out
}

// bootAll boots each profile once and checks that it reached the
// configuration.
func bootAll(t *testing.T, s *seg, profiles []string) {
	conn := s.conn(t)
	for i, name := range profiles {
		t.Run(name, func(t *testing.T) {
			p, ok := pxeclient.ProfileByName(name)
			if !ok {
				t.Fatalf("no profile %q", name)
			}
			mac := net.HardwareAddr{0x52, 0x54, 0x00, 0x17, 0x00, byte(i + 1)}
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			rep := s.client(t, conn, p, mac).Boot(ctx)
			t.Logf("%s: stage %q err %v; addr %s file %q (%d bytes, %v) config %q after %q; offer %v ack %v proxy %v; retrans dhcp %d tftp %d",
				name, rep.Stage, rep.Err, rep.Addr, rep.BootFile, rep.BootBytes, rep.Boot, rep.ConfigFile, rep.ConfigTried, rep.Offer, rep.Ack, rep.Proxy, rep.DHCPRetrans, rep.TFTPRetrans)
			if rep.Stage != pxeclient.StageConfig || rep.Err != nil {
				t.Fatalf("Boot: stage %q, error %v; want %q", rep.Stage, rep.Err, pxeclient.StageConfig)
			}
			if size, ok := treeSizes[path.Base(rep.BootFile)]; ok && rep.BootBytes != size {
				t.Errorf("Boot: %d bytes of %s, want %d", rep.BootBytes, rep.BootFile, size)
			}
			wantCfg := int64(len(treeConfig))
			if strings.HasSuffix(rep.ConfigFile, ".ipxe") {
				wantCfg = rep.BootBytes // the generated iPXE script is the configuration
			}
			if rep.BootBytes == 0 || rep.ConfigBytes != wantCfg {
				t.Errorf("Boot: %d boot program bytes, %d config bytes; want > 0 and %d", rep.BootBytes, rep.ConfigBytes, wantCfg)
			}
		})
	}
}

var allProfiles = []string{"bios-ipxe", "ipxe-efi", "ovmf-pxe", "aavmf-pxe", "ovmf-http", "aavmf-http"}

func TestBootMinimalServer(t *testing.T) {
	s := newSeg(t)
	bin := minimalServer(t)
	root := tree(t)
	cmd := s.srv.Command(t.Context(), bin, "-iface", s.srvIf, "-range", "10.77.0.100-10.77.0.199", "-root", root, "-http", "10.77.0.1:8080")
	start(t, cmd, "serving")
	// minimal-server has no HTTP boot program for ARM64 (netboot's
	// policy covers x86-64 HTTP boot only), so aavmf-http is checked
	// against dnsmasq alone.
	bootAll(t, s, allProfiles[:5])
}

// TestBootDnsmasq boots every profile from a server nobody here wrote:
// dnsmasq for DHCP and TFTP (net/http serves the HTTP boot URLs, which
// dnsmasq cannot).
func TestBootDnsmasq(t *testing.T) {
	bin := testenv.NeedCommand(t, "dnsmasq")[0]
	s := newSeg(t)
	root := tree(t)
	l, err := s.srv.Listen("tcp4", "10.77.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.FileServer(http.Dir(root))}
	go func() { _ = hs.Serve(l) }()
	t.Cleanup(func() { hs.Close() })
	args := []string{
		"--no-daemon", "--conf-file=/dev/null", "--port=0", "--user=root", "--group=root",
		"--interface=" + s.srvIf, "--bind-interfaces", "--pid-file=",
		"--dhcp-range=10.77.0.100,10.77.0.199,255.255.255.0,1h",
		"--dhcp-leasefile=" + filepath.Join(t.TempDir(), "leases"),
		"--no-ping", "--log-dhcp", "--log-facility=-",
		"--enable-tftp", "--tftp-root=" + root,
		"--dhcp-match=set:bios,option:client-arch,0",
		"--dhcp-match=set:efi64,option:client-arch,7",
		"--dhcp-match=set:arm64,option:client-arch,11",
		"--dhcp-match=set:http64,option:client-arch,16",
		"--dhcp-match=set:httparm,option:client-arch,19",
		"--dhcp-boot=tag:bios,pxelinux.0",
		"--dhcp-boot=tag:efi64,syslinux.efi",
		"--dhcp-boot=tag:arm64,grubnetaa64.efi",
		"--dhcp-boot=tag:http64,http://10.77.0.1:8080/ipxe.efi",
		"--dhcp-boot=tag:httparm,http://10.77.0.1:8080/grubnetaa64.efi",
		"--dhcp-option-force=tag:http64,60,HTTPClient",
		"--dhcp-option-force=tag:httparm,60,HTTPClient",
	}
	start(t, s.srv.Command(t.Context(), bin, args...), "started")
	bootAll(t, s, allProfiles)
}

// TestBootProxy boots the PXE profiles from minimal-server as proxyDHCP
// (-proxy) beside dnsmasq handing out addresses only, on a bridge in the
// client namespace: the client must take its boot file from the proxy
// offer, or, for iPXE, from the ACK of a REQUEST to port 4011.
func TestBootProxy(t *testing.T) {
	dnsmasq := testenv.NeedCommand(t, "dnsmasq")[0]
	srv, dhcpNS, cli := testenv.NewNetNS(t), testenv.NewNetNS(t), testenv.NewNetNS(t)
	srvIf, cliA := testenv.Veth(t, srv, netip.MustParsePrefix("10.77.0.1/24"), cli, netip.MustParsePrefix("10.77.0.251/32"))
	dhcpIf, cliB := testenv.Veth(t, dhcpNS, netip.MustParsePrefix("10.77.0.2/24"), cli, netip.MustParsePrefix("10.77.0.252/32"))
	cli.MustRun(t, "ip", "link", "add", "br0", "type", "bridge")
	for _, ifc := range []string{cliA, cliB} {
		cli.MustRun(t, "ip", "addr", "flush", "dev", ifc)
		cli.MustRun(t, "ip", "link", "set", ifc, "master", "br0")
	}
	cli.MustRun(t, "ip", "addr", "add", "10.77.0.250/32", "dev", "br0")
	cli.MustRun(t, "ip", "link", "set", "br0", "up")
	s := &seg{srv: srv, cli: cli, srvIf: srvIf, cliIf: "br0", srvAddr: netip.MustParseAddr("10.77.0.1")}

	start(t, dhcpNS.Command(t.Context(), dnsmasq,
		"--no-daemon", "--conf-file=/dev/null", "--port=0", "--user=root", "--group=root",
		"--interface="+dhcpIf, "--bind-interfaces", "--pid-file=",
		"--dhcp-range=10.77.0.100,10.77.0.199,255.255.255.0,1h",
		"--dhcp-leasefile="+filepath.Join(t.TempDir(), "leases"),
		"--no-ping", "--log-dhcp", "--log-facility=-"), "started")
	root := tree(t)
	start(t, srv.Command(t.Context(), minimalServer(t), "-iface", srvIf, "-proxy", "-root", root, "-http", "10.77.0.1:8080"), "serving")
	conn := s.conn(t)
	for i, name := range []string{"bios-ipxe", "ipxe-efi", "ovmf-pxe", "aavmf-pxe", "ovmf-http"} {
		t.Run(name, func(t *testing.T) {
			p, _ := pxeclient.ProfileByName(name)
			mac := net.HardwareAddr{0x52, 0x54, 0x00, 0x17, 0x01, byte(i + 1)}
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			rep := s.client(t, conn, p, mac).Boot(ctx)
			t.Logf("%s: stage %q err %v; addr %s server %s file %q (%d bytes) config %q; proxy %v",
				name, rep.Stage, rep.Err, rep.Addr, rep.Server, rep.BootFile, rep.BootBytes, rep.ConfigFile, rep.Proxy)
			if rep.Stage != pxeclient.StageConfig || rep.Err != nil {
				t.Fatalf("Boot: stage %q, error %v; want %q", rep.Stage, rep.Err, pxeclient.StageConfig)
			}
			if rep.Addr.Addr().Compare(netip.MustParseAddr("10.77.0.100")) < 0 || rep.Server != s.srvAddr {
				t.Errorf("Boot: address %s from dnsmasq's pool, boot server %s; want 10.77.0.100… and %s", rep.Addr, rep.Server, s.srvAddr)
			}
			if got, want := rep.Proxy != 0, p.Proxy4011; got != want {
				t.Errorf("Boot: asked port 4011: %v, want %v (profile.Proxy4011)", got, want)
			}
		})
	}
}
