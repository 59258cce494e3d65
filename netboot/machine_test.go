package netboot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/dhcp6"
	"github.com/pxekit/pxekit/nbp"
)

// capture decodes a DHCPDISCOVER that real firmware sent (nbp/testdata).
func capture(t *testing.T, name string) *dhcpv4.DHCPv4 {
	t.Helper()
	b, err := os.ReadFile("../nbp/testdata/captures/" + name + ".bin")
	if err != nil {
		t.Fatal(err)
	}
	req, err := dhcpv4.FromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestMachinePlans(t *testing.T) {
	req := capture(t, "ipxe-bios-e1000")
	mac := req.ClientHWAddr
	name := machineName(mac)
	var plan Plan
	var asked []nbp.Client
	b, err := New(isoTree(), &Options{
		Programs: programsFS(),
		HTTPBase: "http://10.0.0.1:8080/",
		Machine: func(_ context.Context, c nbp.Client) (Plan, error) {
			asked = append(asked, c)
			if plan.Cmdline == "fail" {
				return Plan{}, errors.New("webhook down")
			}
			return plan, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := b.Policy(nil)
	if err != nil {
		t.Fatal(err)
	}
	d := b.Decider(p)
	decide := func() string {
		t.Helper()
		r, err := d.Decide(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		return r.File
	}

	// The zero plan: the menu, like every machine.
	if f := decide(); f != "http://10.0.0.1:8080/boot.ipxe" {
		t.Errorf("zero plan: file %q", f)
	}
	if len(asked) != 1 || asked[0].MAC.String() != mac.String() || !asked[0].IPXE {
		t.Errorf("hook asked with %+v", asked)
	}

	// Local disk: every loader of this machine is sent to its disk; other
	// machines still get the menu.
	plan = Plan{LocalDisk: true}
	if f := decide(); f != "http://10.0.0.1:8080/boot-"+name+".ipxe" {
		t.Fatalf("local disk: file %q", f)
	}
	if s := read(t, b, "boot-"+name+".ipxe"); !strings.Contains(s, "\nexit\n") {
		t.Errorf("per-machine iPXE script does not exit to the disk:\n%s", s)
	}
	if s := read(t, b, "pxelinux.cfg/"+name); !strings.Contains(strings.ToUpper(s), "LOCALBOOT") {
		t.Errorf("per-machine pxelinux menu:\n%s", s)
	}
	// pxelinux asks for the UUID name first.
	if c, _ := nbp.Identify(req); c.UUID() == "" {
		t.Error("the capture has no UUID")
	} else if s := read(t, b, "pxelinux.cfg/"+c.UUID()); !strings.Contains(strings.ToUpper(s), "LOCALBOOT") {
		t.Errorf("pxelinux.cfg/<uuid> is not the machine's menu:\n%s", s)
	}
	if s := read(t, b, "debian-installer/amd64/grub/grub.cfg-"+name); !strings.Contains(s, "exit") {
		t.Errorf("per-machine GRUB configuration:\n%s", s)
	}
	if s := read(t, b, "pxelinux.cfg/01-00-11-22-33-44-55"); !strings.Contains(s, "/live/vmlinuz") {
		t.Errorf("another machine does not get the menu:\n%s", s)
	}

	// One entry of the menu, booted at once.
	plan = Plan{Entry: "safe"}
	decide()
	s := read(t, b, "pxelinux.cfg/"+name)
	if !strings.Contains(s, "nomodeset") || strings.Contains(s, "components") {
		t.Errorf("entry plan menu:\n%s", s)
	}

	// A kernel of its own.
	plan = Plan{Kernel: "pxelinux.0", Initrds: []string{"ldlinux.c32"}, Cmdline: "console=ttyS0"}
	decide()
	s = read(t, b, "boot-"+name+".ipxe")
	if !strings.Contains(s, "pxelinux.0") || !strings.Contains(s, "ldlinux.c32") || !strings.Contains(s, "console=ttyS0") {
		t.Errorf("kernel plan script:\n%s", s)
	}

	// A plan that cannot be served, or a failing hook: the menu.
	plan = Plan{Entry: "nosuch"}
	if f := decide(); f != "http://10.0.0.1:8080/boot.ipxe" {
		t.Errorf("bad plan: file %q", f)
	}
	if layer, _ := b.Lookup("boot-" + name + ".ipxe"); layer != LayerNone {
		t.Errorf("a bad plan left the old one served (%v)", layer)
	}
	plan = Plan{Cmdline: "fail"}
	if f := decide(); f != "http://10.0.0.1:8080/boot.ipxe" {
		t.Errorf("failing hook: file %q", f)
	}
}

func TestPlansBounded(t *testing.T) {
	var p plans
	for i := range maxPlans + 10 {
		p.put(machineName([]byte{0, 0, 0, 0, byte(i >> 8), byte(i)}), fmt.Sprint("uuid-", i), map[string][]byte{})
	}
	if len(p.m) != maxPlans || len(p.order) != maxPlans || len(p.uuid) != maxPlans {
		t.Errorf("%d plans kept (%d in order), want %d", len(p.m), len(p.order), maxPlans)
	}
	if _, ok := p.m[machineName([]byte{0, 0, 0, 0, 0, 0})]; ok {
		t.Error("the oldest plan was kept")
	}
}

// TestMachinePlans6 gives a machine that boots over IPv6 its own plan,
// found by the MAC in its DUID: iPXE is sent the per-machine script, and
// the menu comes back when the plan does.
func TestMachinePlans6(t *testing.T) {
	mac := net.HardwareAddr{0x52, 0x54, 0, 0x66, 0, 1}
	name := machineName(mac)
	var plan Plan
	var asked []nbp.Client
	b, err := New(isoTree(), &Options{
		Programs: programsFS(),
		HTTPBase: "http://:8080/",
		Machine: func(_ context.Context, c nbp.Client) (Plan, error) {
			asked = append(asked, c)
			return plan, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := b.Policy(nil)
	if err != nil {
		t.Fatal(err)
	}
	d := b.Decider6(p)
	m, err := dhcpv6.NewSolicit(mac, dhcpv6.WithArchType(iana.EFI_X86_64))
	if err != nil {
		t.Fatal(err)
	}
	m.AddOption(&dhcpv6.OptUserClass{UserClasses: [][]byte{[]byte("iPXE")}})
	req, err := dhcpv6.MessageFromBytes(m.ToBytes())
	if err != nil {
		t.Fatal(err)
	}
	ctx := dhcp6.WithArrival(context.Background(), dhcp6.Arrival{Local: netip.MustParseAddr("2001:db8::1")})
	decide := func() string {
		t.Helper()
		r, err := d.Decide6(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return r.URL
	}

	if u := decide(); u != "http://[2001:db8::1]:8080/boot.ipxe" {
		t.Errorf("zero plan: URL %q", u)
	}
	if len(asked) != 1 || asked[0].MAC.String() != mac.String() || !asked[0].V6 || !asked[0].IPXE {
		t.Errorf("hook asked with %+v", asked)
	}
	plan = Plan{Kernel: "pxelinux.0", Cmdline: "console=ttyS0"}
	if u := decide(); u != "http://[2001:db8::1]:8080/boot-"+name+".ipxe" {
		t.Errorf("kernel plan: URL %q", u)
	}
	if s := read(t, b, "boot-"+name+".ipxe"); !strings.Contains(s, "pxelinux.0") || !strings.Contains(s, "console=ttyS0") {
		t.Errorf("kernel plan script:\n%s", s)
	}
	plan = Plan{}
	if u := decide(); u != "http://[2001:db8::1]:8080/boot.ipxe" {
		t.Errorf("plan withdrawn: URL %q", u)
	}
	if layer, _ := b.Lookup("boot-" + name + ".ipxe"); layer != LayerNone {
		t.Errorf("a withdrawn plan is still served (%v)", layer)
	}
}
