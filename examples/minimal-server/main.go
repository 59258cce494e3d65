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
// The HTTP port also serves /_pxekit/status, a page of the machines seen
// and how far each got (DHCP, boot program, menu, kernel, initrd, root
// file system), refreshed live from /_pxekit/status.json, and
// /_pxekit/metrics in Prometheus' text format; the tree's own _pxekit/
// directory, if any, is not served over HTTP.
// One log line is written per client step (DHCP reply with the boot file,
// file sent with bytes and time); -v adds dropped and unanswered requests
// and TFTP size probes.
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
	subnet, router, dns, domain                                        string
	defaultEntry, kernel, initrd, cmdline, api, appendArgs             string
	plain                                                              bool
	timeout                                                            time.Duration
	proxy, ra, verbose, httpBootImage                                  bool
	ipv6                                                               string
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
	flag.StringVar(&o.leases, "leases", "", "keep full-DHCP leases in `FILE` (default: in memory)")
	flag.StringVar(&o.root, "root", "", "serve the directory `DIR`")
	flag.StringVar(&o.allowLinks, "allow-links", "", "serve files that -root's symbolic links lead to in the directories `DIR[,DIR…]` (default: nothing outside -root, over every protocol)")
	flag.StringVar(&o.iso, "iso", "", "serve the ISO image `FILE` (read in place, never mounted)")
	flag.StringVar(&o.http, "http", ":8080", "serve the same files over HTTP on `ADDR` (\"\" turns HTTP off)")
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
	flag.StringVar(&o.ipv6, "ipv6", "", "answer DHCPv6 boot clients too: \"stateless\" gives boot URLs only (option 59, beside SLAAC or another DHCPv6 server), (stateful: not yet); TFTP listens on udp6 whenever the host has IPv6")
	flag.BoolVar(&o.ra, "ra", false, "answer IPv6 router solicitations with an empty router advertisement, which saves iPXE a 13 s wait")
	flag.BoolVar(&o.verbose, "v", false, "log at debug level too (dropped and unanswered DHCP requests, TFTP size probes)")
	flag.Parse()
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if err := serve(o, log); err != nil {
		fmt.Fprintln(os.Stderr, "minimal-server:", err)
		return 1
	}
	return 0
}

func serve(o options, log *slog.Logger) error {
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
		f, err := os.Open(o.iso)
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
				log.Warn("damaged image: entry skipped", "image", o.iso, "err", err)
			}
			log.Warn("damaged image: the entries above are not served, the rest is", "image", o.iso, "damaged", len(damage))
		}
		if o.httpBootImage {
			warnNoEFIBoot(img, o.iso, log)
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
	machine, err := machinePlans(o, found, log)
	if err != nil {
		return err
	}
	programs, err := netboot.Files(found)
	if err != nil {
		return err
	}
	if len(found) > 0 {
		log.Info("boot programs from this machine, used where the tree has none", "programs", describePrograms(programs))
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
		log.Info("secure boot: UEFI clients get the signed shim, which loads its second stage beside it", "shim", shim)
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
		log.Warn("secure boot: clients with Secure Boot on cannot boot this", "file", p.File, "role", strings.Join(roles[p.File+"\x00"+p.Problem], ", "), "problem", p.Problem, "signer", p.Program.Signer)
	}
	for _, n := range []string{"pxelinux.0", "ldlinux.c32", "snponly.efi", "ipxe.efi", "undionly.kpxe"} {
		if layer, _ := boot.Lookup(n); layer == netboot.LayerNone {
			log.Warn("boot program missing: clients that need it cannot boot", "program", n, "install", "apt-get install "+netboot.DebianPackages)
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
			store = &dhcp.FileStore{Path: o.leases, Logger: log}
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
	var offered []string
	for _, p := range policy.TFTP {
		offered = append(offered, p)
	}
	allPools := ds.Pools
	if ds.Pool != nil {
		allPools = append([]*dhcp.Pool{ds.Pool}, ds.Pools...)
	}
	obs := newObserver(boot, allPools, offered)
	for name := range found { // -kernel and -initrd, served under names of their own
		switch {
		case name == "pxekit-kernel":
			obs.timeline.Names[name] = timeline.StageKernel
		case strings.HasPrefix(name, "pxekit-initrd-"):
			obs.timeline.Names[name] = timeline.StageInitrd
		}
	}
	defer obs.queue.Close()
	ds.Hook = obs.queue
	ts := &tftp.Server{FS: boot, Files: logGenerated(boot, log), Logger: log, Hook: tftp.EventHook(obs.queue)}
	if layer, _ := boot.Lookup(strings.Trim(statusPrefix, "/")); layer != netboot.LayerNone {
		log.Warn("the served tree has "+statusPrefix+", where the status pages are: its files are not served over HTTP", "dir", statusPrefix)
	}

	// Bind everything before serving anything, so that a missing privilege
	// is reported once and clearly.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tconn, err := net.ListenPacket("udp4", ":69")
	if err != nil {
		return privilegeHint(err, "UDP port 69 (TFTP)")
	}
	// TFTP over IPv6 as well (PXEv6 firmware fetches tftp://[addr]/…),
	// on a socket of its own; a host without IPv6 serves v4 only.
	tconn6, err := net.ListenPacket("udp6", "[::]:69")
	if err != nil {
		log.Warn("TFTP over IPv6 off", "err", err)
	}
	errc := make(chan error, 7)
	go func() { errc <- ds.ListenAndServe(":67") }()
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
		hs = netboot.HTTPServer(obs.handler(httpHandler(boot, log)))
		go func() { errc <- hs.Serve(netboot.LimitListener(ln, 0, 0)) }()
	}
	var s6 *dhcp6.Server
	switch o.ipv6 {
	case "":
	case "stateless":
		if tconn6 == nil {
			return privilegeHint(errors.New("no TFTP over IPv6 (see the warning above)"), "UDP6 port 69 (TFTP over IPv6)")
		}
		s6 = &dhcp6.Server{Interface: o.iface, Decider: policy, Logger: log}
		go func() {
			if err := s6.ListenAndServe(""); err != nil && !errors.Is(err, dhcp6.ErrServerClosed) {
				errc <- err
			}
		}()
	default:
		return fmt.Errorf("-ipv6 %q: want stateless (stateful is not built yet)", o.ipv6)
	}
	var rs *ra.Server
	if o.ra {
		rs = &ra.Server{Interface: o.iface, Logger: log}
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
	log.Info("serving", "files", what, "dhcp", mode, "iface", ifaceName(o.iface), "address", serverIP,
		"bios_boot", policy.TFTP[iana.INTEL_X86PC], "efi_boot", policy.TFTP[iana.EFI_X86_64], "arm64_boot", policy.TFTP[iana.EFI_ARM64],
		"http_boot", policy.HTTP[iana.EFI_X86_64_HTTP],
		"generated", strings.Join(boot.Generated(), ","), "tftp", tftpShown(tconn6 != nil), "http", httpShown)
	if httpShown != "" {
		log.Info("status", "page", httpShown+strings.TrimPrefix(statusPrefix, "/")+"status", "metrics", httpShown+strings.TrimPrefix(statusPrefix, "/")+"metrics")
	}
	// Give ListenAndServe a moment to fail on privileges before "ready".
	select {
	case err := <-errc:
		return privilegeHint(err, "UDP port 67 (DHCP)")
	case <-time.After(200 * time.Millisecond):
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
	if rs != nil {
		_ = rs.Close()
	}
	if s6 != nil {
		_ = s6.Shutdown(sctx)
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
func warnNoEFIBoot(img *isofs.FS, name string, log *slog.Logger) {
	imgs, err := img.BootImages()
	if err != nil {
		log.Warn("-http-boot-image: cannot read the image's El Torito boot catalog: UEFI HTTP boot clients may not boot it", "image", name, "err", err)
		return
	}
	var platforms []string
	for _, b := range imgs {
		if b.Platform == isofs.PlatformEFI {
			return
		}
		platforms = append(platforms, b.Platform.String())
	}
	log.Warn("-http-boot-image: the image has no El Torito boot image for EFI: UEFI HTTP boot clients cannot boot it", "image", name, "boot_images", strings.Join(platforms, ","))
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
// -router, -dns and -domain. A range takes the -subnet that holds it, or
// else the subnet of the interface (-iface, or any) that holds it, or
// else the /24 around its first address; each router goes to the pool
// whose subnet holds it; DNS servers and domain go to every pool.
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
	var pools []*dhcp.Pool
	for r := range strings.SplitSeq(o.rng, ",") {
		first, last, err := dhcp.ParseRange(r)
		if err != nil {
			return nil, fmt.Errorf("-range: %w", err)
		}
		p := &dhcp.Pool{First: first, Last: last, DNS: dns, Domain: o.domain}
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
	return pools, nil
}

// interfaceAddr returns the first IPv4 address of the named interface, or of
// the first interface that is up and not loopback when name is empty, for
// the start-up message only: the URLs handed to clients carry the address
// on each client's segment.
func interfaceAddr(name string) netip.Addr {
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
			if n, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap().Is4() {
					return ip.Unmap()
				}
			}
		}
	}
	return netip.Addr{}
}
