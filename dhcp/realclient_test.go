package dhcp

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/internal/testenv"
)

// realClient is a DHCP client program (busybox udhcpc or ISC dhclient)
// running in a namespace of the test, with lease and pid files of its own
// in a temporary directory. Its script configures the interface (address,
// and the default route through the first router, so that a renewal can
// reach a server behind a router) and appends one line per event to a
// file, in the same shape for both programs:
//
//	EVENT ip=A mask=M routers=R dns=D serverid=S lease=SECONDS
//
// where EVENT is the program's own name for it (udhcpc: bound, renew;
// dhclient: BOUND, RENEW, REBIND).
type realClient struct {
	t      *testing.T
	name   string // "udhcpc" or "dhclient"
	ns     *testenv.NetNS
	iface  string
	dir    string
	events string
	cmd    *exec.Cmd
}

// startUdhcpc runs busybox udhcpc in the foreground on iface in ns until
// the test ends; it retries its DISCOVER every second.
func startUdhcpc(t *testing.T, ns *testenv.NetNS, iface string) *realClient {
	t.Helper()
	busybox := testenv.NeedCommand(t, "busybox")[0]
	c := newRealClient(t, "udhcpc", ns, iface)
	script := c.script(`echo "$1 ip=$ip mask=$mask routers=$router dns=$dns serverid=$serverid lease=$lease" >> ` + c.events + `
case "$1" in
bound|renew)
	ip addr replace "$ip/$mask" dev "$interface"
	for r in $router; do ip route replace default via "$r" dev "$interface"; break; done ;;
deconfig) ip addr flush dev "$interface" ;;
esac
`)
	c.start(ns.Command(t.Context(), busybox, "udhcpc", "-i", iface, "-f", "-s", script, "-t", "20", "-T", "1", "-A", "1"))
	return c
}

// startDhclient runs ISC dhclient in the foreground on iface in ns until
// the test ends, with its lease and pid files in the test's directory.
func startDhclient(t *testing.T, ns *testenv.NetNS, iface string) *realClient {
	t.Helper()
	dhclient := testenv.NeedCommand(t, "dhclient")[0]
	c := newRealClient(t, "dhclient", ns, iface)
	c.script(`echo "$reason ip=$new_ip_address mask=$new_subnet_mask routers=$new_routers dns=$new_domain_name_servers serverid=$new_dhcp_server_identifier lease=$new_dhcp_lease_time" >> ` + c.events + `
case "$reason" in
BOUND|RENEW|REBIND|REBOOT)
	ip addr replace "$new_ip_address/$new_subnet_mask" dev "$interface"
	for r in $new_routers; do ip route replace default via "$r" dev "$interface"; break; done ;;
RELEASE|EXPIRE|FAIL|STOP) ip addr flush dev "$interface" ;;
esac
`)
	c.start(ns.Command(t.Context(), dhclient, c.dhclientArgs("-d")...))
	return c
}

// dhclientArgs are dhclient's arguments for this client's files, after
// first (-d to run, -r to release).
func (c *realClient) dhclientArgs(first string) []string {
	return []string{first, "-4", "-sf", filepath.Join(c.dir, "script"), "-lf", filepath.Join(c.dir, "dhclient.leases"),
		"-pf", filepath.Join(c.dir, "dhclient.pid"), c.iface}
}

func newRealClient(t *testing.T, name string, ns *testenv.NetNS, iface string) *realClient {
	dir := t.TempDir()
	return &realClient{t: t, name: name, ns: ns, iface: iface, dir: dir, events: filepath.Join(dir, "events")}
}

// script writes the client's event script and returns its path.
func (c *realClient) script(body string) string {
	p := filepath.Join(c.dir, "script")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		c.t.Fatal(err)
	}
	return p
}

func (c *realClient) start(cmd *exec.Cmd) {
	c.cmd = cmd
	testenv.Start(c.t, cmd, c.name+" on "+c.iface)
}

// lines returns the event lines written so far.
func (c *realClient) lines() []string {
	b, _ := os.ReadFile(c.events)
	var out []string
	for l := range strings.SplitSeq(string(b), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// wait returns the first event line after the first skip lines whose
// event is one of reasons, and its index; it fails the test after d.
func (c *realClient) wait(skip int, d time.Duration, reasons ...string) (string, int) {
	c.t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		ls := c.lines()
		for i := skip; i < len(ls); i++ {
			for _, r := range reasons {
				if strings.HasPrefix(ls[i], r+" ") {
					return ls[i], i
				}
			}
		}
	}
	c.t.Fatalf("%s on %s: no %v event in %v; events:\n%s", c.name, c.iface, reasons, d, strings.Join(c.lines(), "\n"))
	return "", 0
}

// field returns the value of key in an event line ("" when absent).
func field(line, key string) string {
	for f := range strings.FieldsSeq(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}

// addr is the ip= field of an event line as an address (invalid when
// absent).
func addr(line string) netip.Addr {
	a, _ := netip.ParseAddr(field(line, "ip"))
	return a
}
