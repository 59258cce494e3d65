// Command minimal-server is a PXE boot server assembled from pxekit's
// packages: DHCP (proxyDHCP beside an existing DHCP server, or a full DHCP
// server with a lease file), TFTP and HTTP serving one file tree, which is a
// directory, an ISO image read in place, or an embedded default menu.
//
//	minimal-server -iso debian.iso -iface eth0 -proxy
//	minimal-server -root /srv/tftp -iface eth0 -range 10.0.0.100-10.0.0.199 -leases leases.txt
//	minimal-server            # embedded default: a menu with local disk and iPXE shell
//
// With -iso it reads the image's isolinux/syslinux configuration (or, for
// images that boot only through GRUB, such as Ubuntu 22.04+ and Fedora
// 37+, its grub.cfg) and offers its entries as a pxelinux menu (pxelinux.cfg/*), an iPXE script (boot.ipxe)
// and a GRUB configuration (any */grub.cfg), generated at start and served
// when a client asks; a file of the same name in the served tree always
// wins. Boot programs the image lacks (distribution images carry no
// pxelinux.0) come from this machine's Debian packages pxelinux,
// syslinux-common, syslinux-efi and ipxe, as in the default tree.
//
// Clients that already run iPXE get boot.ipxe (over HTTP unless -http "",
// from the server's address on the client's segment); BIOS clients the
// -bios-boot program, x86-64 UEFI the -efi-boot one, ARM64 UEFI the
// tree's ARM64 shim or GRUB (over HTTP boot too, by URL), x86-64 UEFI HTTP
// boot clients the URL of an iPXE EFI build, or with -http-boot-image the URL
// of the ISO image itself, which the firmware downloads whole into RAM
// and boots as a CD from its El Torito EFI boot image (a warning at start
// says when the image has none). Where the tree or image has a
// signed shim (bootnetx64.efi, shimx64.efi, or an image's
// EFI/boot/bootx64.efi), UEFI clients get it over TFTP and HTTP boot
// alike, and it loads the signed GRUB beside it (grubx64.efi, or
// Debian's grubnetx64.efi under that name), which reads the generated
// configuration under its built-in prefix: the chain a machine with
// Secure Boot on accepts. A boot program such a machine would refuse
// (unsigned, like syslinux.efi and Debian's iPXE builds) is a warning at
// start-up. A program named with -bios-boot
// or -efi-boot that is not iPXE wins over boot.ipxe, so "-bios-boot
// pxelinux.0" boots pxelinux even on QEMU's iPXE ROM. -ra answers IPv6
// router solicitations, which saves iPXE 13 s of waiting for a router.
// DHCPv6 boot clients are answered too: statelessly (boot URLs only) by
// default when the interface has a global IPv6 address (-ipv6 auto),
// and with addresses of a prefix under -ipv6 stateful -ipv6-prefix
// PREFIX (leases in -ipv6-leases FILE); the router advertisements of
// -ra then carry the M flag and the prefix on-link (O for stateless).
// The HTTP port also serves /_pxekit/status, a page of the machines seen
// and how far each got (DHCP, boot program, menu, kernel, initrd, root
// file system), a machine that went silent for 30 s (-stall DURATION)
// after DHCP, its boot program, its menu or its kernel marked as stopped
// there ("stopped after the boot program", with "Secure Boot may have
// refused it" when that program is one the start-up check found a
// Secure Boot machine refuses and the machine is UEFI), refreshed live
// from /_pxekit/status.json, and
// /_pxekit/metrics in Prometheus' text format; the tree's own _pxekit/
// directory, if any, is not served over HTTP. status.json's "notes" are
// what the server found at start-up (what it serves, warnings), which
// the page shows too; -status ADDR serves these pages on an address of
// their own as well, also with -http "".
// One log line is written per client step (DHCP reply with the boot file,
// file sent with bytes, time and rate), rendered from the same events as
// the status page (events.LogHook); warnings say when a boot client gets
// no answer because of the server (no boot program for its architecture,
// no free address) and when a transfer fails. -v adds every DHCP request,
// the unanswered ones with the reason, transfer starts, the TFTP options
// agreed and size probes. A line after a quiet moment is written at once;
// the lines that follow it closely are written together every 50 ms, and
// the events reach the status page within 5 ms (events.Queue).
//
// Binding ports 67 and 69 needs root or CAP_NET_BIND_SERVICE; without them
// the server says so and exits with status 1. SIGINT and SIGTERM shut it
// down cleanly, leases saved.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/insomniacslk/dhcp/iana"
	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/dhcp6"
	"github.com/pxekit/pxekit/isofs"
	"github.com/pxekit/pxekit/netboot"
	"github.com/pxekit/pxekit/ra"
	"github.com/pxekit/pxekit/tftp"
	"github.com/pxekit/pxekit/timeline"
)

func main() {
	os.Exit(run())
}

type options struct {
	iface, rng, root, iso, http, leases, biosBoot, efiBoot, allowLinks string
	subnet, router, dns, domain, ntp, route, search                    string
	mtu                                                                uint
	defaultEntry, kernel, initrd, cmdline, api, appendArgs             string
	plain                                                              bool
	timeout, stall                                                     time.Duration
	proxy, ra, verbose, httpBootImage                                  bool
	ipv6, status, ipv6Prefix, ipv6Range, ipv6Leases                    string
}

func run() int {
	var o options
	flag.StringVar(&o.iface, "iface", "", "serve on the network interface `NAME` only (default: all)")
	flag.BoolVar(&o.proxy, "proxy", false, "answer as proxyDHCP beside an existing DHCP server (the default unless -range is given)")
	flag.StringVar(&o.rng, "range", "", "be a full DHCP server handing out addresses `FIRST-LAST[,FIRST-LAST…]` (one range per subnet; relayed subnets need -subnet)")
	flag.StringVar(&o.subnet, "subnet", "", "full DHCP: the clients' subnets `PREFIX[,PREFIX…]`, e.g. 10.0.0.0/16, each for the range it holds (default: the subnet of -iface, or of the interface, that holds the range)")
	flag.StringVar(&o.router, "router", "", "full DHCP: default routers `ADDR[,ADDR…]` handed out with a lease, each to the clients of its subnet (default: none)")
	flag.StringVar(&o.dns, "dns", "", "full DHCP: DNS servers `ADDR[,ADDR…]` handed out with a lease (default: none)")
	flag.StringVar(&o.domain, "domain", "", "full DHCP: the clients' domain `NAME` (option 15)")
	flag.StringVar(&o.search, "search", "", "full DHCP: the clients' domain search list `NAME[,NAME…]` (option 119)")
	flag.StringVar(&o.ntp, "ntp", "", "full DHCP: NTP servers `ADDR[,ADDR…]` handed out with a lease (option 42)")
	flag.UintVar(&o.mtu, "mtu", 0, "full DHCP: the clients' interface `MTU` (option 26, at least 68; default: not sent)")
	flag.StringVar(&o.route, "route", "", "full DHCP: classless static routes `PREFIX=ROUTER[,…]` (option 121), each to the clients of the subnet that holds its router; the first -router of a subnet is added as its default route, since clients that take option 121 ignore option 3")
	flag.StringVar(&o.leases, "leases", "", "keep full-DHCP leases in `FILE` (default: in memory)")
	flag.StringVar(&o.root, "root", "", "serve the directory `DIR`")
	flag.StringVar(&o.allowLinks, "allow-links", "", "serve files that -root's symbolic links lead to in the directories `DIR[,DIR…]` (default: nothing outside -root, over every protocol)")
	flag.StringVar(&o.iso, "iso", "", "serve the ISO image `FILE` (read in place, never mounted)")
	flag.StringVar(&o.http, "http", ":8080", "serve the same files over HTTP on `ADDR` (\"\" turns HTTP off)")
	flag.StringVar(&o.status, "status", "", "serve the status page, status.json and metrics (under /_pxekit/) on `ADDR` too, e.g. a management address, or with -http \"\" (default: on the -http port only)")
	flag.BoolVar(&o.httpBootImage, "http-boot-image", false, "with -iso: hand UEFI HTTP boot clients the image itself, which the firmware boots as a RAM disk (the whole image in the client's RAM; the image needs an EFI El Torito boot image), instead of iPXE")
	flag.StringVar(&o.biosBoot, "bios-boot", "", "boot program `FILE` for BIOS clients (default: pxelinux.0, lpxelinux.0 or undionly.kpxe)")
	flag.StringVar(&o.efiBoot, "efi-boot", "", "boot program `FILE` for UEFI clients (default: the signed shim bootnetx64.efi, shimx64.efi or EFI/boot/bootx64.efi, else grubx64.efi, syslinux.efi or ipxe.efi)")
	flag.StringVar(&o.defaultEntry, "default", "", "boot the menu entry `LABEL` when nobody chooses (default: the image's own)")
	flag.DurationVar(&o.timeout, "timeout", 0, "boot the default entry after `DURATION` in every generated menu, for machines without a keyboard (default: the image's own, which may wait for ever)")
	flag.StringVar(&o.kernel, "kernel", "", "boot every machine straight into the kernel `FILE` of this machine (or an http:// URL), with -initrd and -cmdline, instead of a menu")
	flag.StringVar(&o.initrd, "initrd", "", "initrds for -kernel: `FILE[,FILE…]` of this machine or http:// URLs")
	flag.StringVar(&o.cmdline, "cmdline", "", "kernel command line for -kernel")
	flag.StringVar(&o.api, "api", "", "ask `URL` what each machine boots: GET URL?mac=…&uuid=…&arch=…&firmware=… answering JSON {\"local_disk\": true} or {\"entry\": LABEL} or {\"kernel\", \"initrds\", \"cmdline\"}; {} boots the menu")
	flag.BoolVar(&o.plain, "plain", false, "serve the image's kernel lines as written (default: add what makes a recognised distribution fetch its root file system from this server)")
	flag.StringVar(&o.appendArgs, "append", "", "add kernel `ARGS` to every entry of the menu (each replaces the image's argument of the same name)")
	flag.StringVar(&o.ipv6, "ipv6", "auto", "DHCPv6 `MODE`: \"stateless\" gives boot clients boot URLs only (option 59, beside SLAAC or another DHCPv6 server: the v6 proxyDHCP), \"stateful\" hands out addresses of -ipv6-prefix too, \"off\" answers no DHCPv6; \"auto\" is stateless when the interface (-iface, else any) has a global IPv6 address, else off. TFTP listens on udp6 whenever the host has IPv6")
	flag.StringVar(&o.ipv6Prefix, "ipv6-prefix", "", "-ipv6 stateful: hand out addresses of `PREFIX`, e.g. 2001:db8:99::/64, all but its first 256 and last 128 (default: the /64 of -iface's global IPv6 address)")
	flag.StringVar(&o.ipv6Range, "ipv6-range", "", "-ipv6 stateful: hand out only the addresses `FIRST-LAST` of -ipv6-prefix")
	flag.StringVar(&o.ipv6Leases, "ipv6-leases", "", "-ipv6 stateful: keep the DHCPv6 leases in `FILE`, not the one of -leases (default: in memory)")
	flag.BoolVar(&o.ra, "ra", false, "answer IPv6 router solicitations with a router advertisement (M flag with -ipv6 stateful and its prefix on-link, O flag with stateless), which saves iPXE a 13 s wait")
	flag.DurationVar(&o.stall, "stall", timeline.DefaultStallAfter, "report a machine as stopped on the status page when it is silent for `DURATION` after DHCP, its boot program, its menu or its kernel (0 never)")
	flag.BoolVar(&o.verbose, "v", false, "log at debug level too (every DHCP request, unanswered ones with the reason, dropped datagrams, transfer starts, TFTP options and size probes)")
	flag.Parse()
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	// Lines that come close together (a line per DHCP reply under load)
	// are written together, every 50 ms, not with a write system call
	// each.
	lw := &logWriter{w: os.Stderr, every: 50 * time.Millisecond}
	log := slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: level}))
	err := serve(o, log)
	lw.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "minimal-server:", err)
		return 1
	}
	return 0
}

// leaseSyncInterval spaces the syncs of the lease files: the REQUESTs of
// 10 ms share one fsync (each ACK still waits for its lease to be on
// disk), which at a steady few hundred REQUESTs a second is most of the
// server's CPU otherwise (dhcp.FileStore.SyncInterval).
const leaseSyncInterval = 10 * time.Millisecond

func serve(o options, log *slog.Logger) error {
	nt := &notes{}
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	if o.proxy && o.rng != "" {
		return errors.New("-proxy and -range exclude each other")
	}
	if o.root != "" && o.iso != "" {
		return errors.New("-root and -iso exclude each other")
	}
	if o.iface != "" {
		if _, err := net.InterfaceByName(o.iface); err != nil {
			return fmt.Errorf("-iface %s: %w", o.iface, err)
		}
	}

	if o.ra && o.iface == "" {
		return errors.New("-ra needs -iface: router advertisements go out on one named interface")
	}
	if o.httpBootImage && (o.iso == "" || o.http == "") {
		return errors.New("-http-boot-image needs -iso and -http: it hands out the image's URL")
	}
	switch o.ipv6 {
	case "auto", "off", "stateless", "stateful":
	default:
		return fmt.Errorf("-ipv6 %q: want auto, off, stateless or stateful", o.ipv6)
	}
	if o.ipv6 != "stateful" && (o.ipv6Prefix != "" || o.ipv6Range != "" || o.ipv6Leases != "") {
		return errors.New("-ipv6-prefix, -ipv6-range and -ipv6-leases need -ipv6 stateful: stateless DHCPv6 hands out no addresses")
	}
	if o.ipv6Leases != "" && o.ipv6Leases == o.leases {
		return errors.New("-ipv6-leases and -leases name the same file; give each its own")
	}
	if isDBURL(o.leases) {
		return errors.New("-leases postgres://…: a shared PostgreSQL lease store lives in the pgstore module, so that this module needs no database driver; run its server instead (in a checkout: cd pgstore && go run ./examples/dhcpd -leases postgres://…) (see README.md, \"Several servers, one pool\")")
	}
	if o.leases != "" && o.rng == "" {
		return errors.New("-leases needs -range: proxyDHCP hands out no addresses, so it keeps no leases")
	}
	if o.rng == "" && (o.subnet != "" || o.router != "" || o.dns != "" || o.domain != "") {
		return errors.New("-subnet, -router, -dns and -domain need -range: proxyDHCP hands out no addresses")
	}

	// The served tree, and this machine's boot programs where it has none.
	var tree fs.FS
	var what string
	switch {
	case o.root != "":
		var allow []string
		if o.allowLinks != "" {
			allow = strings.Split(o.allowLinks, ",")
		}
		d, err := netboot.Dir(o.root, allow...)
		if err != nil {
			return fmt.Errorf("-root %s: %w", o.root, err)
		}
		defer d.Close()
		tree, what = d, "directory "+o.root
	case o.iso != "":
		// By its absolute name: netboot's FileServer opens the image
		// again by that name for each HTTP request, to send files of
		// it by sendfile(2).
		abs, err := filepath.Abs(o.iso)
		if err != nil {
			return err
		}
		f, err := os.Open(abs)
		if err != nil {
			return err
		}
		defer f.Close()
		img, err := isofs.Open(f)
		if err != nil {
			return fmt.Errorf("%s: %w", o.iso, err)
		}
		if damage := img.Check(); len(damage) > 0 {
			for _, err := range damage[:min(len(damage), 10)] {
				nt.warn(log, noteDamagedImage, "damaged image: entry skipped", "image", o.iso, "err", err)
			}
			nt.warn(log, noteDamagedImage, "damaged image: the entries above are not served, the rest is", "image", o.iso, "damaged", len(damage))
		}
		if o.httpBootImage {
			warnNoEFIBoot(img, o.iso, log, nt)
		}
		tree, what = img, "ISO image "+o.iso
	default:
		sub, err := fs.Sub(defaultFiles, "default")
		if err != nil {
			return err
		}
		tree, what = sub, "embedded default menu (boot.ipxe, pxelinux.cfg/default)"
	}
	found := netboot.DebianPrograms()
	var image string
	if o.iso != "" {
		// The image itself, for initramfs that download it (casper) and
		// for UEFI HTTP boot of the ISO.
		abs, err := filepath.Abs(o.iso)
		if err != nil {
			return err
		}
		image = filepath.Base(abs)
		if !strings.HasSuffix(strings.ToLower(image), ".iso") {
			image += ".iso"
		}
		found[image] = abs
	}
	machine, err := machinePlans(o, found, log, nt)
	if err != nil {
		return err
	}
	programs, err := netboot.Files(found)
	if err != nil {
		return err
	}
	if len(found) > 0 {
		nt.info(log, notePrograms, "boot programs from this machine, used where the tree has none", "programs", describePrograms(programs))
	}

	// URLs without a host get the server's address on the client's
	// segment from the DHCP server (nbp.Policy.Decide), unless -http
	// names one. Kernel command lines need a literal address: the one of
	// -iface, or of the first interface that is up.
	var httpBase string
	if o.http != "" {
		host, port, err := net.SplitHostPort(o.http)
		if err != nil {
			return fmt.Errorf("-http %s: %w", o.http, err)
		}
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			host = ""
		}
		httpBase = "http://" + net.JoinHostPort(host, port) + "/"
	}
	var host string
	if ip := interfaceAddr(o.iface); ip.IsValid() {
		host = ip.String()
	}
	boot, err := netboot.New(tree, &netboot.Options{
		Programs: programs, HTTPBase: httpBase, Host: host, Image: image,
		Plain: o.plain, Append: o.appendArgs, Default: o.defaultEntry, Timeout: o.timeout,
		Machine: machine, Logger: log,
	})
	if err != nil {
		return err
	}
	// netboot logged these already; keep them for the status page.
	if f := boot.Family(); f != nil {
		nt.keep("info", noteImageFamily, "image family", "family", f.Name, "evidence", strings.Join(f.Evidence, ","), "serve", strings.Join(f.Serve, ","))
	}
	for _, w := range boot.Warnings() {
		nt.keep("warn", noteImage, w)
	}
	popts := &netboot.PolicyOptions{BIOS: o.biosBoot, EFI: o.efiBoot}
	if o.httpBootImage {
		popts.HTTPImage = image
	}
	policy, err := boot.Policy(popts)
	if err != nil {
		return fmt.Errorf("-bios-boot/-efi-boot/-http-boot-image: %w", err)
	}
	if policy.TFTP[iana.INTEL_X86PC] == "" && policy.TFTP[iana.EFI_X86_64] == "" {
		return fmt.Errorf("no boot program to offer: %s has none and this machine has none of Debian's (install them with: apt-get install %s), or name one with -bios-boot/-efi-boot", what, netboot.DebianPackages)
	}
	// Most UEFI machines boot with Secure Boot on; say what they refuse.
	if shim := boot.Shim(); shim != "" {
		nt.info(log, noteShim, "secure boot: UEFI clients get the signed shim, which loads its second stage beside it", "shim", shim)
	}
	// One line per file and problem, naming every role it plays.
	var problems []netboot.SecureBootProblem
	roles := map[string][]string{}
	for _, p := range boot.SecureBoot(policy) {
		k := p.File + "\x00" + p.Problem
		if roles[k] == nil {
			problems = append(problems, p)
		}
		roles[k] = append(roles[k], p.Role)
	}
	for _, p := range problems {
		nt.warn(log, noteSecureBoot, "secure boot: clients with Secure Boot on cannot boot this", "file", p.File, "role", strings.Join(roles[p.File+"\x00"+p.Problem], ", "), "problem", p.Problem, "signer", p.Program.Signer)
	}
	for _, n := range []string{"pxelinux.0", "ldlinux.c32", "snponly.efi", "ipxe.efi", "undionly.kpxe"} {
		if layer, _ := boot.Lookup(n); layer == netboot.LayerNone {
			nt.warn(log, noteMissing, "boot program missing: clients that need it cannot boot", "program", n, "install", "apt-get install "+netboot.DebianPackages)
		}
	}

	ds := &dhcp.Server{Interface: o.iface, Decider: boot.Decider(policy), Logger: log}
	mode := "proxyDHCP"
	if o.rng != "" {
		pools, err := newPools(o)
		if err != nil {
			return err
		}
		var store dhcp.LeaseStore
		if o.leases != "" {
			store = &dhcp.FileStore{Path: o.leases, Logger: log, SyncInterval: leaseSyncInterval}
		}
		mode = "full DHCP"
		for i, p := range pools {
			p.Store = store
			mode += fmt.Sprintf(" [%v-%v subnet %v", p.First, p.Last, p.Subnet)
			if len(p.Routers) > 0 {
				mode += fmt.Sprintf(" routers %v", p.Routers)
			}
			if len(p.DNS) > 0 {
				mode += fmt.Sprintf(" dns %v", p.DNS)
			}
			mode += "]"
			if i == 0 {
				ds.Pool = p
			} else {
				ds.Pools = append(ds.Pools, p)
			}
		}
	}
	pool6, err := newPool6(o, log)
	if err != nil {
		return err
	}
	if pool6 != nil && pool6.Store != nil {
		if c, ok := pool6.Store.(interface{ Close() error }); ok {
			defer c.Close()
		}
	}
	var offered []string
	for _, p := range policy.TFTP {
		offered = append(offered, p)
	}
	allPools := ds.Pools
	if ds.Pool != nil {
		allPools = append([]*dhcp.Pool{ds.Pool}, ds.Pools...)
	}
	warnNeighbours(log, nt, allPools, neighLimit(neighPath))
	obs := newObserver(boot, allPools, offered, log)
	obs.notes = nt
	obs.timeline.SecureBoot = secureBootRefusals(problems)
	obs.timeline.StallAfter = stallAfter(o.stall)
	for name := range found { // -kernel and -initrd, served under names of their own
		switch {
		case name == "pxekit-kernel":
			obs.timeline.Names[name] = timeline.StageKernel
		case strings.HasPrefix(name, "pxekit-initrd-"):
			obs.timeline.Names[name] = timeline.StageInitrd
		}
	}
	defer obs.close()
	// The servers log trouble; each step's line comes from its event
	// (events.LogHook, in obs).
	ds.Hook, ds.NoReplyLog = obs.hook, true
	ts := &tftp.Server{FS: boot, Files: logGenerated(boot, log), Logger: log, NoTransferLog: true, Hook: tftp.EventHook(obs.hook)}
	if layer, _ := boot.Lookup(strings.Trim(statusPrefix, "/")); layer != netboot.LayerNone {
		nt.warn(log, noteShadowed, "the served tree has "+statusPrefix+", where the status pages are: its files are not served over HTTP", "dir", statusPrefix)
	}

	// Bind everything before serving anything, so that a missing privilege
	// is reported once and clearly.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// DHCP on port 67, and for proxyDHCP on port 4011 too.
	dports := []string{":67"}
	if ds.Pool == nil {
		dports = append(dports, ":4011")
	}
	var dconns []net.PacketConn
	for _, a := range dports {
		c, err := dhcp.Listen(o.iface, a)
		if err != nil {
			for _, c := range dconns {
				c.Close()
			}
			return privilegeHint(err, "UDP port "+strings.TrimPrefix(a, ":")+" (DHCP)")
		}
		dconns = append(dconns, c)
	}
	closeDHCP := func() {
		for _, c := range dconns {
			c.Close()
		}
	}
	if err := ds.LoadPools(ctx); err != nil {
		closeDHCP()
		return err
	}
	tconn, err := net.ListenPacket("udp4", ":69")
	if err != nil {
		closeDHCP()
		return privilegeHint(err, "UDP port 69 (TFTP)")
	}
	// TFTP over IPv6 as well (PXEv6 firmware fetches tftp://[addr]/…),
	// on a socket of its own; a host without IPv6 serves v4 only.
	tconn6, err := net.ListenPacket("udp6", "[::]:69")
	if err != nil {
		nt.warn(log, noteTFTP6Off, "TFTP over IPv6 off", "err", err)
	}
	errc := make(chan error, 8)
	for _, c := range dconns {
		go func() { errc <- ds.Serve(c) }()
	}
	go func() { errc <- ts.Serve(tconn) }()
	if tconn6 != nil {
		go func() { errc <- ts.Serve(tconn6) }()
	}
	var hs *http.Server
	if o.http != "" {
		ln, err := net.Listen("tcp", o.http)
		if err != nil {
			return privilegeHint(err, "TCP "+o.http+" (HTTP)")
		}
		hs = netboot.HTTPServer(obs.handler(&netboot.FileServer{FS: boot}))
		go func() { errc <- hs.Serve(netboot.LimitListener(ln, 0, 0)) }()
	}
	var ss *http.Server
	if o.status != "" {
		ln, err := net.Listen("tcp", o.status)
		if err != nil {
			return privilegeHint(err, "TCP "+o.status+" (status)")
		}
		ss = netboot.HTTPServer(obs.statusHandler())
		go func() { errc <- ss.Serve(ln) }()
	}
	var s6 *dhcp6.Server
	v6mode := o.ipv6
	if v6mode == "auto" && tconn6 != nil && globalAddr6(o.iface).IsValid() {
		v6mode = "stateless (auto)"
	}
	if v6mode == "stateless" || v6mode == "stateful" || v6mode == "stateless (auto)" {
		if tconn6 == nil {
			return privilegeHint(errors.New("no TFTP over IPv6 (see the warning above)"), "UDP6 port 69 (TFTP over IPv6)")
		}
		s6 = &dhcp6.Server{Interface: o.iface, Decider: boot.Decider6(policy), Logger: log, Pool: pool6, Hook: obs.hook, NoReplyLog: true}
		if pool6 != nil {
			v6mode = fmt.Sprintf("stateful [%v", pool6.Prefix)
			if o.ipv6Range != "" {
				v6mode += " " + o.ipv6Range
			}
			v6mode += "]"
		}
		auto := strings.HasSuffix(v6mode, "(auto)")
		go func() {
			err := s6.ListenAndServe("")
			switch {
			case err == nil || errors.Is(err, dhcp6.ErrServerClosed):
			case auto:
				// Another DHCPv6 server on this host, or no privilege:
				// -ipv6 auto gives up quietly; v4 and TFTP go on.
				log.Warn("DHCPv6 off (-ipv6 auto)", "err", err)
			default:
				errc <- err
			}
		}()
	}
	var rs *ra.Server
	if o.ra {
		rs = &ra.Server{Interface: o.iface, Logger: log}
		configureRA(rs, pool6, s6 != nil)
		go func() {
			if err := rs.ListenAndServe(); err != nil && !errors.Is(err, ra.ErrServerClosed) {
				log.Warn("router advertisements off", "err", err)
			}
		}()
	}

	serverIP, httpShown := interfaceAddr(o.iface), httpBase
	if serverIP.IsValid() {
		httpShown = strings.Replace(httpBase, "://:", "://"+serverIP.String()+":", 1)
	}
	nt.info(log, noteServing, "serving", "files", what, "dhcp", mode, "dhcp6", v6mode, "iface", ifaceName(o.iface), "address", serverIP,
		"bios_boot", policy.TFTP[iana.INTEL_X86PC], "efi_boot", policy.TFTP[iana.EFI_X86_64], "arm64_boot", policy.TFTP[iana.EFI_ARM64],
		"http_boot", policy.HTTP[iana.EFI_X86_64_HTTP],
		"generated", strings.Join(boot.Generated(), ","), "tftp", tftpShown(tconn6 != nil), "http", httpShown)
	if httpShown != "" {
		nt.info(log, noteStatus, "status", "page", httpShown+strings.TrimPrefix(statusPrefix, "/")+"status", "metrics", httpShown+strings.TrimPrefix(statusPrefix, "/")+"metrics")
	}
	if o.status != "" {
		nt.info(log, noteStatus, "status", "page", "http://"+o.status+statusPrefix+"status", "metrics", "http://"+o.status+statusPrefix+"metrics")
	}
	log.Info("ready")

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down", "signal", context.Cause(ctx))
	case runErr = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = ds.Shutdown(sctx)
	_ = ts.Shutdown(sctx)
	if hs != nil {
		_ = hs.Shutdown(sctx)
	}
	if ss != nil {
		_ = ss.Shutdown(sctx)
	}
	if rs != nil {
		_ = rs.Close()
	}
	if s6 != nil {
		_ = s6.Shutdown(sctx)
	}
	if pool6 != nil {
		log.Info("leases", "ipv6", true, "bound", len(pool6.Leases()), "file", o.ipv6Leases)
	}
	if ds.Pool != nil {
		n := len(ds.Pool.Leases())
		for _, p := range ds.Pools {
			n += len(p.Leases())
		}
		log.Info("leases", "bound", n, "file", o.leases)
	}
	log.Info("stopped")
	if runErr != nil && !errors.Is(runErr, dhcp.ErrServerClosed) && !errors.Is(runErr, tftp.ErrServerClosed) && !errors.Is(runErr, http.ErrServerClosed) {
		return runErr
	}
	return nil
}

// warnNoEFIBoot warns when the image has no El Torito boot image for EFI,
// which UEFI HTTP boot of the image as a RAM disk needs.
func warnNoEFIBoot(img *isofs.FS, name string, log *slog.Logger, nt *notes) {
	imgs, err := img.BootImages()
	if err != nil {
		nt.warn(log, noteNoEFIBootImage, "-http-boot-image: cannot read the image's El Torito boot catalog: UEFI HTTP boot clients may not boot it", "image", name, "err", err)
		return
	}
	var platforms []string
	for _, b := range imgs {
		if b.Platform == isofs.PlatformEFI {
			return
		}
		platforms = append(platforms, b.Platform.String())
	}
	nt.warn(log, noteNoEFIBootImage, "-http-boot-image: the image has no El Torito boot image for EFI: UEFI HTTP boot clients cannot boot it", "image", name, "boot_images", strings.Join(platforms, ","))
}

// privilegeHint explains a permission error when binding a port.
func privilegeHint(err error, what string) error {
	if errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("binding %s needs root or CAP_NET_BIND_SERVICE (and CAP_NET_RAW for -iface): run it with sudo, or grant them with setcap cap_net_bind_service,cap_net_raw+ep on the binary: %w", what, err)
	}
	return fmt.Errorf("binding %s: %w", what, err)
}

// tftpShown is the TFTP listener of the "serving" log line.
func tftpShown(v6 bool) string {
	if v6 {
		return "udp :69 (v4 and v6)"
	}
	return "udp :69 (v4)"
}

func ifaceName(s string) string {
	if s == "" {
		return "all"
	}
	return s
}

// newPools builds the full-DHCP pools of -range (one per range), -subnet,
// -router, -dns, -domain, -search, -ntp, -mtu and -route. A range takes
// the -subnet that holds it, or else the subnet of the interface (-iface, or any) that holds it, or
// else the /24 around its first address; each router goes to the pool
// whose subnet holds it, and so does each route; DNS, domain, search
// list, NTP and MTU go to every pool.
func newPools(o options) ([]*dhcp.Pool, error) {
	var subnets []netip.Prefix
	for f := range strings.SplitSeq(o.subnet, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil || !p.Addr().Is4() {
			return nil, fmt.Errorf("-subnet %q: want IPv4 prefixes such as 10.0.0.0/16", o.subnet)
		}
		subnets = append(subnets, p.Masked())
	}
	routers, err := dhcp.ParseAddrs(o.router)
	if err != nil {
		return nil, fmt.Errorf("-router: %w", err)
	}
	dns, err := dhcp.ParseAddrs(o.dns)
	if err != nil {
		return nil, fmt.Errorf("-dns: %w", err)
	}
	ntp, err := dhcp.ParseAddrs(o.ntp)
	if err != nil {
		return nil, fmt.Errorf("-ntp: %w", err)
	}
	routes, err := dhcp.ParseRoutes(o.route)
	if err != nil {
		return nil, fmt.Errorf("-route: %w", err)
	}
	if o.mtu != 0 && (o.mtu < 68 || o.mtu > 65535) {
		return nil, fmt.Errorf("-mtu %d: want 68 to 65535", o.mtu)
	}
	var search dhcp.DomainSearch
	for f := range strings.SplitSeq(o.search, ",") {
		if f = strings.TrimSpace(f); f != "" {
			search = append(search, f)
		}
	}
	if len(search) > 0 {
		if _, err := search.MarshalBinary(); err != nil {
			return nil, fmt.Errorf("-search: %w", err)
		}
	}
	var pools []*dhcp.Pool
	for r := range strings.SplitSeq(o.rng, ",") {
		first, last, err := dhcp.ParseRange(r)
		if err != nil {
			return nil, fmt.Errorf("-range: %w", err)
		}
		p := &dhcp.Pool{First: first, Last: last, DNS: dns, Domain: o.domain, NTP: ntp, MTU: uint16(o.mtu), Search: search}
		for _, sub := range subnets {
			if sub.Contains(first) && sub.Contains(last) {
				p.Subnet = sub
			}
		}
		if !p.Subnet.IsValid() {
			// What the server finds at start; it refuses to start with
			// -iface and a range outside it: say so before binding.
			sub, err := dhcp.InterfaceSubnet(o.iface, first, last)
			if err != nil && o.iface != "" {
				return nil, fmt.Errorf("-range %s: %w (give -subnet for a relayed range)", r, err)
			}
			if err != nil {
				sub, _ = first.Prefix(24)
			}
			p.Subnet = sub
		}
		for _, q := range pools {
			if q.Subnet.Overlaps(p.Subnet) {
				return nil, fmt.Errorf("-range %s: subnet %v overlaps that of %v-%v: give one range per subnet", r, p.Subnet, q.First, q.Last)
			}
		}
		pools = append(pools, p)
	}
	for _, a := range routers {
		var to *dhcp.Pool
		for _, p := range pools {
			if p.Subnet.Contains(a) {
				to = p
			}
		}
		if to == nil {
			return nil, fmt.Errorf("-router %v: in no subnet of -range (a router is on its clients' segment)", a)
		}
		to.Routers = append(to.Routers, a)
	}
	for _, rt := range routes {
		var to *dhcp.Pool
		for _, p := range pools {
			if p.Subnet.Contains(rt.Router) || rt.Router.IsUnspecified() && len(pools) == 1 {
				to = p
			}
		}
		if to == nil {
			return nil, fmt.Errorf("-route %v: router in no subnet of -range (a router is on its clients' segment)", rt)
		}
		to.Routes = append(to.Routes, rt)
	}
	return pools, nil
}

// interfaceAddr returns the first IPv4 address of the named interface, or of
// the first interface that is up and not loopback when name is empty, for
// the start-up message only: the URLs handed to clients carry the address
// on each client's segment.
func interfaceAddr(name string) netip.Addr {
	return firstAddr(name, func(ip netip.Addr) bool { return ip.Is4() })
}

// firstAddr returns the first address that is of the named interface
// (of any interface that is up and not loopback when name is empty), and
// that ok accepts; invalid when there is none.
func firstAddr(name string, ok func(netip.Addr) bool) netip.Addr {
	var ifs []net.Interface
	if name != "" {
		if ifi, err := net.InterfaceByName(name); err == nil {
			ifs = []net.Interface{*ifi}
		}
	} else {
		all, _ := net.Interfaces()
		for _, ifi := range all {
			if ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagLoopback == 0 {
				ifs = append(ifs, ifi)
			}
		}
	}
	for _, ifi := range ifs {
		addrs, _ := ifi.Addrs()
		for _, a := range addrs {
			if n, isNet := a.(*net.IPNet); isNet {
				if ip, valid := netip.AddrFromSlice(n.IP); valid && ok(ip.Unmap()) {
					return ip.Unmap()
				}
			}
		}
	}
	return netip.Addr{}
}

// newPool6 builds the DHCPv6 address pool of -ipv6 stateful; nil for the
// other modes.
func newPool6(o options, log *slog.Logger) (*dhcp6.Pool, error) {
	if o.ipv6 != "stateful" {
		return nil, nil
	}
	p := &dhcp6.Pool{}
	if o.ipv6Prefix != "" {
		pfx, err := netip.ParsePrefix(o.ipv6Prefix)
		if err != nil || !pfx.Addr().Is6() || pfx.Addr().Is4In6() {
			return nil, fmt.Errorf("-ipv6-prefix %q: want an IPv6 prefix such as 2001:db8:99::/64", o.ipv6Prefix)
		}
		p.Prefix = pfx.Masked()
	} else {
		a := globalAddr6(o.iface)
		if o.iface == "" || !a.IsValid() {
			return nil, errors.New("-ipv6 stateful needs -ipv6-prefix, or -iface with a global IPv6 address whose /64 it serves")
		}
		p.Prefix = netip.PrefixFrom(a, 64).Masked()
	}
	if o.ipv6Range != "" {
		first, last, ok := strings.Cut(o.ipv6Range, "-")
		var err1, err2 error
		p.First, err1 = netip.ParseAddr(strings.TrimSpace(first))
		p.Last, err2 = netip.ParseAddr(strings.TrimSpace(last))
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("-ipv6-range %q: want FIRST-LAST, two IPv6 addresses", o.ipv6Range)
		}
	}
	if o.ipv6Leases != "" {
		p.Store = &dhcp.FileStore{Path: o.ipv6Leases, Logger: log, SyncInterval: leaseSyncInterval}
	}
	// Checked now, so that a bad range stops the server at start.
	if err := dhcp6.CheckPool(p); err != nil {
		return nil, fmt.Errorf("-ipv6-prefix/-ipv6-range: %w", err)
	}
	return p, nil
}

// globalAddr6 returns a global IPv6 address of the interface name, or of
// any interface that is up when name is empty; invalid when none has one.
func globalAddr6(name string) netip.Addr {
	return firstAddr(name, func(ip netip.Addr) bool { return ip.Is6() && ip.IsGlobalUnicast() })
}

// configureRA sets the router advertisement's flags to match the DHCPv6
// mode: with a pool (stateful) M and O, and the pool's prefix on-link
// but not for SLAAC (A=0), so that clients take their address from
// DHCPv6 and reach the server without a router; stateless, O only; no
// DHCPv6, neither.
func configureRA(rs *ra.Server, pool6 *dhcp6.Pool, dhcp6On bool) {
	switch {
	case pool6 != nil:
		rs.Managed, rs.Other = true, true
		rs.Prefixes = []ra.Prefix{{Prefix: pool6.Prefix, OnLink: true}}
	case dhcp6On:
		rs.Other = true
	}
}

// isDBURL reports whether a -leases value is a database URL rather than a
// file name.
func isDBURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}
