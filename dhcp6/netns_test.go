package dhcp6

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/pxekit/pxekit/internal/testenv"
)

// v6Segment makes a server and a client namespace joined by a veth pair
// with DAD off (so link-local addresses are usable at once) and
// 2001:db8:16::1/64 on the server end. It returns the namespaces and the
// interface names.
func v6Segment(t *testing.T) (srv, cli *testenv.NetNS, srvIf, cliIf string) {
	t.Helper()
	srv, cli = testenv.NewNetNS(t), testenv.NewNetNS(t)
	srvIf, cliIf = "h16s"+srv.Name[3:], "h16c"+cli.Name[3:]
	if out, err := exec.Command("ip", "link", "add", srvIf, "netns", srv.Name, "type", "veth", "peer", "name", cliIf, "netns", cli.Name).CombinedOutput(); err != nil {
		t.Fatalf("ip link add: %v: %s", err, out)
	}
	for _, x := range []struct {
		ns  *testenv.NetNS
		dev string
	}{{srv, srvIf}, {cli, cliIf}} {
		x.ns.MustRun(t, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf."+x.dev+".accept_dad=0")
		x.ns.MustRun(t, "ip", "link", "set", x.dev, "up")
	}
	srv.MustRun(t, "ip", "-6", "addr", "add", "2001:db8:16::1/64", "dev", srvIf, "nodad")
	// Wait for both link-local addresses.
	deadline := time.Now().Add(5 * time.Second)
	for _, x := range []struct {
		ns  *testenv.NetNS
		dev string
	}{{srv, srvIf}, {cli, cliIf}} {
		for !strings.Contains(x.ns.MustRun(t, "ip", "-6", "addr", "show", "dev", x.dev, "scope", "link"), "fe80") {
			if time.Now().After(deadline) {
				t.Fatalf("no link-local address on %s", x.dev)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return srv, cli, srvIf, cliIf
}

// serve6 runs s on [::]:547 inside ns.
func serve6(t *testing.T, ns *testenv.NetNS, s *Server) {
	t.Helper()
	c, err := ns.ListenPacket("udp6", "[::]:547")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	testenv.Serve(t, s, ErrServerClosed, c)
}

// bootDecider answers every client that sends option 61 with a fixed
// path on the arrival address, as nbp.Policy would.
var bootDecider = DeciderFunc(func(ctx context.Context, req *dhcpv6.Message) (Boot, error) {
	if req.Options.GetOne(dhcpv6.OptionClientArchType) == nil {
		return Boot{}, ErrNoBoot
	}
	a, _ := ArrivalFromContext(ctx)
	return Boot{URL: "tftp://" + URLHost(a.Local) + "/ipxe.efi", Params: []string{"console=ttyS0"}}, nil
})

// TestStatelessDhclient: ISC dhclient -6 -S (Information-Request) on a
// veth in its own namespace gets the boot file URL and parameters from
// the Server, answered on the interface's link-local address.
func TestStatelessDhclient(t *testing.T) {
	testenv.NeedCommand(t, "dhclient", "sysctl")
	srv, cli, srvIf, cliIf := v6Segment(t)
	serve6(t, srv, &Server{Decider: bootDecider, Interface: srvIf, ServerAddr: netip.MustParseAddr("2001:db8:16::1")})

	dir := t.TempDir()
	conf := filepath.Join(dir, "dhclient6.conf")
	// Option 61 (x64 UEFI) sent, 59 and 60 requested, as a PXE client.
	if err := os.WriteFile(conf, []byte(`option dhcp6.client-arch-type code 61 = unsigned integer 16;
option dhcp6.bootfile-url code 59 = string;
option dhcp6.bootfile-param code 60 = string;
send dhcp6.client-arch-type 7;
also request dhcp6.bootfile-url, dhcp6.bootfile-param;
`), 0o644); err != nil {
		t.Fatal(err)
	}
	lease := filepath.Join(dir, "dhclient6.leases")
	// dhclient -S keeps no lease: its script gets the options as
	// new_dhcp6_* variables, and writes them down.
	env := filepath.Join(dir, "env")
	script := filepath.Join(dir, "script")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nenv >> "+env+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()
	out, err := cli.Command(ctx, "dhclient", "-6", "-S", "-1", "-v", "-cf", conf, "-lf", lease,
		"-pf", filepath.Join(dir, "pid"), "-sf", script, cliIf).CombinedOutput()
	if err != nil {
		t.Fatalf("dhclient -6 -S: %v\n%s", err, out)
	}
	// dhclient stays running after a stateless reply; stop it by its pid.
	if b, err := os.ReadFile(filepath.Join(dir, "pid")); err == nil {
		_ = exec.Command("kill", strings.TrimSpace(string(b))).Run()
	}
	got, err := os.ReadFile(env)
	if err != nil {
		t.Fatalf("script output: %v\ndhclient output:\n%s", err, out)
	}
	for _, want := range []string{"new_dhcp6_bootfile_url=tftp://[2001:db8:16::1]/ipxe.efi", "new_dhcp6_server_id="} {
		if !strings.Contains(string(got), want) {
			t.Errorf("dhclient's script environment lacks %q:\n%s\ndhclient output:\n%s", want, got, out)
		}
	}
	if !strings.Contains(string(out), "RCV: Reply message on "+cliIf+" from fe80::") {
		t.Errorf("reply did not come from a link-local address:\n%s", out)
	}
}
