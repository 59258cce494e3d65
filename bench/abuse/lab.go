package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Addresses of the lab. The server's bridge holds 10.77.0.1/16; the pool
// handed out in full-DHCP mode is 10.77.0.10-10.77.0.250 (241 addresses,
// a /24 pool); the flood namespace has 10.77.1.1-10.77.1.65 and the normal
// client 10.77.2.2. Nothing routes out of the namespaces.
const (
	serverIP   = "10.77.0.1"
	poolFirst  = "10.77.0.10"
	poolLast   = "10.77.0.250"
	poolSize   = 241
	floodAddrs = 65 // 10.77.1.1 … 10.77.1.65
	clientIP   = "10.77.2.2"
	httpPort   = "8080"
)

// floodAddr returns the i-th flood source address (0-based).
func floodAddr(i int) string { return fmt.Sprintf("10.77.1.%d", i%floodAddrs+1) }

// lab is three network namespaces: the server's, with a bridge; the
// flooders'; and the normal client's, each joined to the bridge by a veth
// pair.
type lab struct {
	id                 string
	srv, flood, client string // namespace names
	floodIf, clientIf  string // interface names inside flood and client
	created            []string
	clientMACs         int
}

func newLab() (*lab, error) {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	l := &lab{id: id, srv: "pxab-s" + id, flood: "pxab-f" + id, client: "pxab-c" + id,
		floodIf: "abf" + id, clientIf: "abc" + id}
	for _, ns := range []string{l.srv, l.flood, l.client} {
		if err := run("ip", "netns", "add", ns); err != nil {
			return l, err
		}
		l.created = append(l.created, ns)
		if err := run("ip", "-n", ns, "link", "set", "lo", "up"); err != nil {
			return l, err
		}
	}
	var batch strings.Builder
	fmt.Fprintf(&batch, "link add br0 type bridge\n")
	fmt.Fprintf(&batch, "addr add %s/16 dev br0\n", serverIP)
	fmt.Fprintf(&batch, "link set br0 up\n")
	if err := ipBatch(l.srv, batch.String()); err != nil {
		return l, err
	}
	for _, p := range []struct{ port, peer, ns string }{{"abpf" + id, l.floodIf, l.flood}, {"abpc" + id, l.clientIf, l.client}} {
		if err := run("ip", "link", "add", p.port, "netns", l.srv, "type", "veth", "peer", "name", p.peer, "netns", p.ns); err != nil {
			return l, err
		}
		if err := ipBatch(l.srv, fmt.Sprintf("link set %s master br0\nlink set %s up\n", p.port, p.port)); err != nil {
			return l, err
		}
	}
	batch.Reset()
	for i := range floodAddrs {
		fmt.Fprintf(&batch, "addr add %s/16 dev %s\n", floodAddr(i), l.floodIf)
	}
	fmt.Fprintf(&batch, "link set %s up\n", l.floodIf)
	if err := ipBatch(l.flood, batch.String()); err != nil {
		return l, err
	}
	if err := ipBatch(l.client, fmt.Sprintf("addr add %s/16 dev %s\nlink set %s up\n", clientIP, l.clientIf, l.clientIf)); err != nil {
		return l, err
	}
	return l, nil
}

// newClientMAC gives the normal client's interface a new MAC address, so
// that its next DHCP exchange is a new client's.
func (l *lab) newClientMAC() error {
	l.clientMACs++
	mac := fmt.Sprintf("02:ab:%s:%s:%s:%02x", l.id[0:2], l.id[2:4], l.id[4:6], l.clientMACs%256)
	return ipBatch(l.client, fmt.Sprintf("link set %s down\nlink set %s address %s\nlink set %s up\n", l.clientIf, l.clientIf, mac, l.clientIf))
}

// close kills every process still inside the namespaces and removes them.
func (l *lab) close() {
	for _, ns := range l.created {
		if out, err := exec.Command("ip", "netns", "pids", ns).Output(); err == nil {
			for _, f := range strings.Fields(string(out)) {
				_ = exec.Command("kill", "-9", f).Run()
			}
		}
		_ = exec.Command("ip", "netns", "del", ns).Run()
	}
	l.created = nil
}

// in returns a command that runs name with args inside namespace ns.
func in(ns, name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

func ipBatch(ns, cmds string) error {
	c := exec.Command("ip", "-n", ns, "-batch", "-")
	c.Stdin = strings.NewReader(cmds)
	c.Stderr = os.Stderr
	if out, err := c.Output(); err != nil {
		return fmt.Errorf("ip -n %s -batch: %v: %s\n%s", ns, err, out, cmds)
	}
	return nil
}
