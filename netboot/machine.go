package netboot

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/bootmenu"
	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/dhcp6"
	"github.com/pxekit/pxekit/nbp"
)

// Plan is what one machine boots, as [Options.Machine] decides it. The
// zero Plan boots the menu of the tree like any other machine.
type Plan struct {
	// LocalDisk sends the machine to its own disk (pxelinux LOCALBOOT,
	// iPXE sanboot of the first disk, GRUB exit): installed once, it
	// then boots what it installed.
	LocalDisk bool `json:"local_disk,omitempty"`

	// Entry boots the menu entry of this LABEL at once, without showing
	// the menu.
	Entry string `json:"entry,omitempty"`

	// Kernel, Initrds and Cmdline boot a kernel of the machine's own: a
	// name the Boot serves (such as a Files name) or an http:// URL.
	Kernel  string   `json:"kernel,omitempty"`
	Initrds []string `json:"initrds,omitempty"`
	Cmdline string   `json:"cmdline,omitempty"`
}

func (p Plan) zero() bool {
	return !p.LocalDisk && p.Entry == "" && p.Kernel == "" && len(p.Initrds) == 0 && p.Cmdline == ""
}

// MachineFunc decides what a machine boots when it asks the DHCP server
// for its boot file. An error is logged and the machine gets the menu.
type MachineFunc func(ctx context.Context, c nbp.Client) (Plan, error)

// maxPlans bounds the plans a Boot remembers between a machine's DHCP
// request and its loader's fetches: the oldest is forgotten first.
const maxPlans = 4096

// planTTL is how long a plan is served after the DHCP request that made
// it: enough for a slow firmware's whole boot.
const planTTL = 10 * time.Minute

type plans struct {
	mu    sync.Mutex
	m     map[string]planEntry // by the pxelinux-style "01-aa-bb-…" name
	uuid  map[string]string    // pxelinux UUID name → key of m
	order []string
}

type planEntry struct {
	files map[string][]byte // per-machine configurations by name
	uuid  string            // the machine's pxelinux UUID name, if any
	at    time.Time
}

// machineName is the hardware type and address as pxelinux writes them
// ("01-52-54-00-12-34-56").
func machineName(mac net.HardwareAddr) string {
	var b strings.Builder
	b.WriteString("01")
	for _, x := range mac {
		fmt.Fprintf(&b, "-%02x", x)
	}
	return b.String()
}

// Per-machine file names. pxelinux asks for pxelinux.cfg/01-<mac> before
// the default; GRUB (2.04 and later) for grub.cfg-01-<mac> beside its
// grub.cfg; iPXE clients are sent the per-machine script by name.
func machineFiles(name string) (pxelinux, ipxe, grub string) {
	return "pxelinux.cfg/" + name, "boot-" + name + ".ipxe", "grub/grub.cfg-" + name
}

// Decider returns the DHCP decider of b: p's choice, and, when
// Options.Machine is set, the machine's own plan, which the Boot then
// serves under the names the machine's loader asks for (iPXE clients are
// sent the per-machine script instead of p.IPXEScript).
func (b *Boot) Decider(p *nbp.Policy) dhcp.Decider {
	if b.machine == nil {
		return p
	}
	return dhcp.DeciderFunc(func(ctx context.Context, req *dhcpv4.DHCPv4) (dhcp.Boot, error) {
		c, err := nbp.Identify(req)
		if err != nil || len(c.MAC) == 0 {
			return p.Decide(ctx, req)
		}
		return b.planned(ctx, c, p).Decide(ctx, req)
	})
}

// Decider6 is [Boot.Decider] for DHCPv6: a machine that boots over IPv6
// gets its own plan too, found by the MAC of its DUID (DUID-LL or
// DUID-LLT; a machine with another DUID gets p's choice).
func (b *Boot) Decider6(p *nbp.Policy) dhcp6.Decider {
	if b.machine == nil {
		return p
	}
	return dhcp6.DeciderFunc(func(ctx context.Context, req *dhcpv6.Message) (dhcp6.Boot, error) {
		c, err := nbp.Identify6(req)
		if err != nil || len(c.MAC) == 0 {
			return p.Decide6(ctx, req)
		}
		return b.planned(ctx, c, p).Decide6(ctx, req)
	})
}

// planned asks Options.Machine for c's plan, serves it under the names
// c's loaders ask for, and returns the policy that sends c to it: p with
// the per-machine iPXE script, or p itself when c boots the menu (no
// plan, a failed hook, a plan that cannot be served: the plan served
// before is then forgotten).
func (b *Boot) planned(ctx context.Context, c nbp.Client, p *nbp.Policy) *nbp.Policy {
	name := machineName(c.MAC)
	plan, err := b.machine(ctx, c)
	if err != nil {
		b.log.Warn("machine plan failed: booting the menu", "mac", c.MAC.String(), "err", err)
		b.plans.forget(name)
		return p
	}
	if plan.zero() {
		b.plans.forget(name)
		return p
	}
	files, err := b.renderPlan(plan, name)
	if err != nil {
		b.log.Warn("machine plan cannot be served: booting the menu", "mac", c.MAC.String(), "err", err)
		b.plans.forget(name)
		return p
	}
	b.plans.put(name, c.UUID(), files)
	b.log.Info("machine plan", "mac", c.MAC.String(), "plan", plan.String())
	if p.IPXEScript == "" {
		return p
	}
	_, ipxe, _ := machineFiles(name)
	q := *p
	q.IPXEScript = strings.TrimSuffix(p.IPXEScript, IPXEScript) + ipxe
	if len(p.IPXEScripts) > 0 {
		q.IPXEScripts = map[iana.Arch]string{}
		for a, s := range p.IPXEScripts {
			if s != "" {
				s = q.IPXEScript
			}
			q.IPXEScripts[a] = s
		}
	}
	return &q
}

// String describes the plan for a log line.
func (p Plan) String() string {
	switch {
	case p.LocalDisk:
		return "local disk"
	case p.Entry != "":
		return "entry " + p.Entry
	case p.Kernel != "":
		return strings.TrimSpace(fmt.Sprintf("kernel %s initrd %s %s", p.Kernel, strings.Join(p.Initrds, ","), p.Cmdline))
	}
	return "menu"
}

// renderPlan writes the per-machine configurations of plan.
func (b *Boot) renderPlan(plan Plan, name string) (map[string][]byte, error) {
	r := &bootmenu.Resolved{Menu: &bootmenu.Menu{}, Timeout: 100 * time.Millisecond}
	var e *bootmenu.Entry
	switch {
	case plan.LocalDisk:
		e = &bootmenu.Entry{Action: bootmenu.ActionBoot, Type: bootmenu.KwLocalBoot, Label: "local", Kernel: "0"}
	case plan.Entry != "":
		if b.menu == nil {
			return nil, fmt.Errorf("entry %q: the tree has no menu", plan.Entry)
		}
		found := b.menu.Menu.Entry(plan.Entry)
		if found == nil {
			return nil, fmt.Errorf("entry %q: no such label", plan.Entry)
		}
		c := *found
		e = &c
	case plan.Kernel != "":
		e = &bootmenu.Entry{Action: bootmenu.ActionBoot, Type: bootmenu.KwLinux, Label: "machine", Kernel: plan.Kernel, Append: plan.Cmdline}
		e.SetInitrds(plan.Initrds...)
	default:
		return nil, fmt.Errorf("a plan without a kernel names neither an entry nor the local disk")
	}
	e.Default, e.Hidden = true, false
	e.Display = "pxekit: " + plan.String()
	r.Menu.Entries = []*bootmenu.Entry{e}
	r.Default = e.Label
	pxe, ipxe, grub := machineFiles(name)
	files := map[string][]byte{}
	var buf bytes.Buffer
	if err := bootmenu.RenderPXELinux(&buf, r); err != nil {
		return nil, err
	}
	files[pxe] = bytes.Clone(buf.Bytes())
	buf.Reset()
	if err := bootmenu.RenderIPXE(&buf, r, &bootmenu.IPXEScriptOptions{InitrdArg: true}); err != nil {
		return nil, err
	}
	files[ipxe] = bytes.Clone(buf.Bytes())
	buf.Reset()
	if err := bootmenu.RenderGRUB(&buf, r, nil); err != nil {
		return nil, err
	}
	files[grub] = bytes.Clone(buf.Bytes())
	return files, nil
}

// put remembers the files of the machine called name, whose pxelinux
// UUID name is uuid ("" if it sent none): pxelinux asks for
// pxelinux.cfg/<uuid> before pxelinux.cfg/01-<mac>, so both get the
// machine's menu.
func (p *plans) put(name, uuid string, files map[string][]byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m, p.uuid = map[string]planEntry{}, map[string]string{}
	}
	if old, ok := p.m[name]; ok {
		delete(p.uuid, old.uuid)
	} else {
		p.order = append(p.order, name)
	}
	p.m[name] = planEntry{files: files, uuid: uuid, at: time.Now()}
	if uuid != "" {
		p.uuid[uuid] = name
	}
	for len(p.order) > maxPlans {
		delete(p.uuid, p.m[p.order[0]].uuid)
		delete(p.m, p.order[0])
		p.order = p.order[1:]
	}
}

func (p *plans) forget(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.m[name]
	if !ok {
		return
	}
	delete(p.uuid, e.uuid)
	delete(p.m, name)
	for i, n := range p.order {
		if n == name {
			p.order = append(p.order[:i], p.order[i+1:]...)
			break
		}
	}
}

// file returns a per-machine configuration by the name a loader asks for.
func (p *plans) file(name string) ([]byte, bool) {
	var key string
	switch {
	case strings.HasPrefix(name, "pxelinux.cfg/01-"):
		key = strings.TrimPrefix(name, "pxelinux.cfg/")
	case strings.HasPrefix(name, "boot-01-") && strings.HasSuffix(name, ".ipxe"):
		key = strings.TrimSuffix(strings.TrimPrefix(name, "boot-"), ".ipxe")
	case strings.Contains(name, "grub.cfg-01-"):
		key = name[strings.Index(name, "grub.cfg-")+len("grub.cfg-"):]
		_, _, name = machineFiles(key)
	case strings.HasPrefix(name, "pxelinux.cfg/"):
		p.mu.Lock()
		key = p.uuid[strings.TrimPrefix(name, "pxelinux.cfg/")]
		p.mu.Unlock()
		if key == "" {
			return nil, false
		}
		name, _, _ = machineFiles(key)
	default:
		return nil, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.m[key]
	if !ok || time.Since(e.at) > planTTL {
		return nil, false
	}
	d, ok := e.files[name]
	return d, ok
}
