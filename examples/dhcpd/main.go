// Command dhcpd is a small DHCP server for PXE built on package dhcp: a
// proxyDHCP server beside an existing DHCP server (the default), or a full
// DHCP server with -range. Every PXE client gets -file, every UEFI HTTP
// boot client -http-url (when set).
//
//	dhcpd -iface eth0 -file ipxe.efi                          # proxyDHCP
//	dhcpd -range 10.0.0.100-10.0.0.200 -leases /var/lib/pxe.leases -router 10.0.0.1
//	dhcpd -prefix6 2001:db8:99::/64 -leases /var/lib/pxe.leases6     # stateful DHCPv6
//
// With -prefix6 it is a stateful DHCPv6 server (package dhcp6) on port
// 547 instead, handing out addresses of the prefix; PXE clients get
// tftp://[-tftp6]/FILE.
//
// It is also the server that bench/dhcp/compare.sh measures.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/dhcp6"
)

func main() {
	var (
		addr      = flag.String("addr", ":67", "UDP address to listen on (proxyDHCP also listens on port 4011)")
		iface     = flag.String("iface", "", "serve only this interface")
		rng       = flag.String("range", "", "full DHCP: address range FIRST-LAST (default: proxyDHCP)")
		subnet    = flag.String("subnet", "", "full DHCP: subnet of the range, e.g. 10.0.0.0/24 (default: the subnet of -iface, or of an interface, that holds the range; else the /24 of FIRST)")
		router    = flag.String("router", "", "full DHCP: default routers, comma-separated")
		dns       = flag.String("dns", "", "full DHCP: DNS servers, comma-separated")
		leaseTime = flag.Duration("lease-time", time.Hour, "full DHCP: lease time")
		leases    = flag.String("leases", "", "full DHCP: lease file (default: leases in memory only)")
		file      = flag.String("file", "ipxe.efi", "boot file for PXE clients")
		httpURL   = flag.String("http-url", "", "boot URL for UEFI HTTP boot clients (default: do not answer them)")
		verbose   = flag.Bool("v", false, "log every reply, and dropped and unanswered requests")
		cpuprof   = flag.String("cpuprofile", "", "write a CPU profile to this file")
		prefix6   = flag.String("prefix6", "", "be a stateful DHCPv6 server on [::]:547 instead, handing out addresses of this prefix (with -leases, -lease-time, -iface, -file)")
		tftp6     = flag.String("tftp6", "2001:db8::1", "with -prefix6: the TFTP server address in boot URLs")
	)
	flag.Parse()
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "dhcpd:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	// The server logs each reply at Info and dropped requests at Debug:
	// both only with -v. Without it the server reports warnings (a pool
	// without free addresses) and this program its start and stop.
	srvLevel := slog.LevelWarn
	if *verbose {
		srvLevel = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	srvLog := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: srvLevel}))
	if *prefix6 != "" {
		if err := run6(log, srvLog, *iface, *prefix6, *tftp6, *leaseTime, *leases, *file); err != nil {
			log.Error("dhcpd", "err", err)
			pprof.StopCPUProfile()
			os.Exit(1)
		}
		return
	}
	if err := run(log, srvLog, *addr, *iface, *rng, *subnet, *router, *dns, *leaseTime, *leases, *file, *httpURL); err != nil {
		log.Error("dhcpd", "err", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(log, srvLog *slog.Logger, addr, iface, rng, subnet, router, dns string, leaseTime time.Duration, leases, file, httpURL string) error {
	s := &dhcp.Server{
		Interface: iface,
		Logger:    srvLog,
		Decider: dhcp.DeciderFunc(func(_ context.Context, req *dhcpv4.DHCPv4) (dhcp.Boot, error) {
			if strings.HasPrefix(req.ClassIdentifier(), dhcp.ClassHTTPClient) {
				if httpURL == "" {
					return dhcp.Boot{}, dhcp.ErrNoBoot
				}
				return dhcp.Boot{File: httpURL, HTTP: true}, nil
			}
			return dhcp.Boot{File: file}, nil
		}),
	}
	mode := "proxyDHCP"
	if rng != "" {
		first, last, err := dhcp.ParseRange(rng)
		if err != nil {
			return fmt.Errorf("-range: %w", err)
		}
		p := &dhcp.Pool{First: first, Last: last, LeaseTime: leaseTime}
		if subnet != "" {
			if p.Subnet, err = netip.ParsePrefix(subnet); err != nil {
				return fmt.Errorf("-subnet: %w", err)
			}
		}
		if p.Routers, err = dhcp.ParseAddrs(router); err != nil {
			return fmt.Errorf("-router: %w", err)
		}
		if p.DNS, err = dhcp.ParseAddrs(dns); err != nil {
			return fmt.Errorf("-dns: %w", err)
		}
		if strings.HasPrefix(leases, "postgres://") || strings.HasPrefix(leases, "postgresql://") {
			return errors.New("-leases postgres://…: a shared PostgreSQL lease store lives in the pgstore module, so that this module needs no database driver; run its server instead (in a checkout: cd pgstore && go run ./examples/dhcpd -leases postgres://…) (see README.md, \"Several servers, one pool\")")
		}
		if leases != "" {
			p.Store = &dhcp.FileStore{Path: leases, Logger: log, SyncInterval: 10 * time.Millisecond}
		}
		s.Pool = p
		mode = "full DHCP " + rng
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- s.ListenAndServe(addr) }()
	log.Info("dhcpd serving", "mode", mode, "addr", addr, "iface", iface, "file", file, "leases", leases)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, dhcp.ErrServerClosed) {
		return err
	}
	st := s.Stats()
	attrs := []any{"received", st.Received, "replied", st.Replied, "malformed", st.Malformed, "ignored", st.Ignored, "errors", st.Errors, "store_errors", st.StoreErrors}
	if s.Pool != nil {
		attrs = append(attrs, "leases", len(s.Pool.Leases()))
	}
	log.Info("dhcpd stopped", attrs...)
	return nil
}

// run6 serves stateful DHCPv6 on [::]:547.
func run6(log, srvLog *slog.Logger, iface, prefix, tftp string, leaseTime time.Duration, leases, file string) error {
	pfx, err := netip.ParsePrefix(prefix)
	if err != nil {
		return fmt.Errorf("-prefix6: %w", err)
	}
	ta, err := netip.ParseAddr(tftp)
	if err != nil {
		return fmt.Errorf("-tftp6: %w", err)
	}
	p := &dhcp6.Pool{Prefix: pfx, ValidLifetime: leaseTime, PreferredLifetime: leaseTime * 3 / 4}
	var fs *dhcp.FileStore
	if leases != "" {
		fs = &dhcp.FileStore{Path: leases, Logger: log, SyncInterval: 10 * time.Millisecond}
		p.Store = fs
		defer fs.Close()
	}
	url := "tftp://" + dhcp6.URLHost(ta) + "/" + file
	s := &dhcp6.Server{
		Interface: iface, Logger: srvLog, Pool: p,
		Decider: dhcp6.DeciderFunc(func(_ context.Context, req *dhcpv6.Message) (dhcp6.Boot, error) {
			if req.Options.GetOne(dhcpv6.OptionClientArchType) == nil {
				return dhcp6.Boot{}, dhcp6.ErrNoBoot
			}
			return dhcp6.Boot{URL: url}, nil
		}),
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- s.ListenAndServe("") }()
	log.Info("dhcpd serving", "mode", "stateful DHCPv6 "+pfx.String(), "iface", iface, "url", url, "leases", leases)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, dhcp6.ErrServerClosed) {
		return err
	}
	log.Info("dhcpd stopped", "leases", len(p.Leases()))
	return nil
}
