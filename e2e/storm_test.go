package e2e

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pxekit/pxekit/internal/testenv"
	"github.com/pxekit/pxekit/pxeclient"
	"github.com/pxekit/pxekit/timeline"
)

// TestEmulatorMatchesQEMU checks package pxeclient against the firmware
// it emulates: QEMU's iPXE ROM boots the tree of TestBootPaths/bios-ipxe-script-http (the iPXE script
// over HTTP, then kernel and initrd) from minimal-server, then an
// emulated machine of profile "bios-ipxe" boots from the same server, and
// the server's timeline must show the two machines passing the same
// steps (stage, protocol, file) in the same order, and the emulator's own
// report must list the same files in that order.
func TestEmulatorMatchesQEMU(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	root := l.mkdir("tree")
	l.isoTree(root)
	l.pxekit("-range", labFirst+"-"+labLast, "-root", root, "-http", ":8080", "-ra")
	l.boot(biosIPXE, bootTimeout)
	realSteps := stepsUpTo(l.machine(timeline.StageInitrd), timeline.StageInitrd)

	// The emulated machine, in a namespace of its own joined to the lab
	// bridge.
	cli := testenv.NewNetNS(t)
	labIf, cliIf := testenv.Veth(t, l.ns, netip.MustParsePrefix("10.99.0.253/32"), cli, netip.MustParsePrefix("10.99.0.252/32"))
	l.ns.MustRun(t, "ip", "addr", "flush", "dev", labIf)
	l.ns.MustRun(t, "ip", "link", "set", labIf, "master", labBridge)
	conn := pxeclient.NewConn(cli.ListenBroadcastUDP(t, "0.0.0.0:68", cliIf))
	defer conn.Close()
	p, _ := pxeclient.ProfileByName("bios-ipxe")
	mac := net.HardwareAddr{0x52, 0x54, 0x00, 0x17, 0xe0, 0x01}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	rep := emulated(t, cli, cliIf, conn, p.Scaled(0.25), mac).Boot(ctx)
	t.Logf("emulated %s: stage %q err %v; files %+v", p.Name, rep.Stage, rep.Err, rep.Files)
	if rep.Err != nil || rep.Stage != pxeclient.StageLoaded {
		t.Fatalf("emulated boot: stage %q, error %v; want %q", rep.Stage, rep.Err, pxeclient.StageLoaded)
	}
	l.mac = mac.String()
	emSteps := stepsUpTo(l.machine(timeline.StageInitrd), timeline.StageInitrd)
	if strings.Join(emSteps, "\n") != strings.Join(realSteps, "\n") {
		t.Errorf("server timeline:\nQEMU iPXE:\n  %s\nemulated:\n  %s", strings.Join(realSteps, "\n  "), strings.Join(emSteps, "\n  "))
	}
	// The report's files, as the timeline classes them.
	var fromReport []string
	for _, f := range rep.Files {
		stage := map[string]timeline.Stage{pxeclient.KindBoot: timeline.StageBootProgram, pxeclient.KindConfig: timeline.StageMenu,
			pxeclient.KindKernel: timeline.StageKernel, pxeclient.KindInitrd: timeline.StageInitrd}[f.Kind]
		if f.Kind == pxeclient.KindBoot && f.Name == rep.ConfigFile {
			stage = timeline.StageMenu // the iPXE script is both
		}
		fromReport = append(fromReport, fmt.Sprintf("%v %s", stage, fileOf(f.Name)))
	}
	var fromReal []string
	for _, s := range realSteps[1:] { // after DHCP
		fromReal = append(fromReal, s[:strings.Index(s, " ")]+" "+s[strings.LastIndex(s, " ")+1:])
	}
	if strings.Join(fromReport, "|") != strings.Join(fromReal, "|") {
		t.Errorf("emulator's report lists %q; QEMU's boot fetched %q", fromReport, fromReal)
	}
}

// stepsUpTo returns m's steps up to stage as "stage proto file" lines.
func stepsUpTo(m timeline.Machine, stage timeline.Stage) []string {
	var out []string
	for _, s := range m.Steps {
		if s.Stage <= stage {
			out = append(out, fmt.Sprintf("%v %v %s", s.Stage, s.Proto, fileOf(s.File)))
		}
	}
	return out
}

// fileOf is a file's path without scheme, host and leading slash.
func fileOf(name string) string {
	if i := strings.Index(name, "://"); i >= 0 {
		name = name[i+3:]
		if j := strings.IndexByte(name, '/'); j >= 0 {
			name = name[j:]
		}
	}
	return strings.TrimPrefix(name, "/")
}

// emulated returns a pxeclient machine whose sockets live in ns, adding
// its leased address to dev.
func emulated(t *testing.T, ns *testenv.NetNS, dev string, conn *pxeclient.Conn, p *pxeclient.Profile, mac net.HardwareAddr) *pxeclient.Client {
	var mu sync.Mutex
	return &pxeclient.Client{
		Profile: p, MAC: mac, Conn: conn, Broadcast: true,
		OnLease: func(ctx context.Context, a netip.Prefix) error {
			mu.Lock()
			defer mu.Unlock()
			out, err := ns.Command(ctx, "ip", "addr", "replace", a.String(), "dev", dev).CombinedOutput()
			if err != nil {
				t.Errorf("ip addr replace %s: %v: %s", a, err, out)
			}
			return err
		},
		ListenPacket: ns.ListenPacket,
		Dial: func(ctx context.Context, network, laddr, raddr string) (c net.Conn, err error) {
			err = ns.Do(func() error {
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
