// Command dhcpd is a full DHCP server for PXE whose leases are in
// PostgreSQL, so that several of them on one segment hand out one pool:
// examples/dhcpd of the pxekit module with -leases postgres://… and
// failover. It lives in the pgstore module so that pxekit's own module
// (and its examples) does not depend on a database driver.
//
// Run one per machine, each with its own -id, against one database:
//
//	dhcpd -id a -iface eth0 -range 10.0.0.100-10.0.0.200 -router 10.0.0.1 \
//	      -leases postgres://pxekit@db/pxekit -file ipxe.efi
//	dhcpd -id b -iface eth0 -range 10.0.0.100-10.0.0.200 -router 10.0.0.1 \
//	      -leases postgres://pxekit@db/pxekit -file ipxe.efi
//
// The servers split the clients by RFC 3074's hash; a server whose
// heartbeat (in the database) is older than -failover-time has its
// clients served by the others until it is back. A server that cannot
// reach the database offers no address and logs an error per request;
// it acknowledges the renewal of a lease it gave itself for that lease's
// time left only. Every -purge-every each server deletes ended offers,
// leases expired longer than -keep-expired ago and old conflicts.
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
	"strings"
	"syscall"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/pxekit/pxekit/dhcp"
	"github.com/pxekit/pxekit/pgstore"
)

type options struct {
	addr, iface, rng, subnet, router, dns, leases, id, file, httpURL string
	leaseTime, failover, purgeEvery, keepExpired                     time.Duration
	verbose                                                          bool
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", ":67", "UDP address to listen on")
	flag.StringVar(&o.iface, "iface", "", "serve only this interface")
	flag.StringVar(&o.rng, "range", "", "address range FIRST-LAST (required)")
	flag.StringVar(&o.subnet, "subnet", "", "subnet of the range, e.g. 10.0.0.0/24 (default: from the interfaces)")
	flag.StringVar(&o.router, "router", "", "default routers, comma-separated")
	flag.StringVar(&o.dns, "dns", "", "DNS servers, comma-separated")
	flag.DurationVar(&o.leaseTime, "lease-time", time.Hour, "lease time")
	flag.StringVar(&o.leases, "leases", "", "PostgreSQL `URL` of the shared leases, postgres://… (required)")
	flag.StringVar(&o.id, "id", "", "this server's name among the servers sharing the database (default: the host name)")
	flag.DurationVar(&o.failover, "failover-time", 5*time.Second, "serve a peer's clients once its heartbeat is older than this")
	flag.DurationVar(&o.purgeEvery, "purge-every", time.Minute, "delete ended offers, leases and conflicts from the database this often")
	flag.DurationVar(&o.keepExpired, "keep-expired", time.Hour, "keep an expired lease this long before it is purged (a returning client gets its old address)")
	flag.StringVar(&o.file, "file", "ipxe.efi", "boot file for PXE clients")
	flag.StringVar(&o.httpURL, "http-url", "", "boot URL for UEFI HTTP boot clients (default: do not answer them)")
	flag.BoolVar(&o.verbose, "v", false, "log every reply, and dropped and unanswered requests")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(log, o); err != nil {
		log.Error("dhcpd", "err", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger, o options) error {
	if o.rng == "" {
		return errors.New("-range is required")
	}
	if !strings.HasPrefix(o.leases, "postgres://") && !strings.HasPrefix(o.leases, "postgresql://") {
		return fmt.Errorf("-leases %q: want a postgres:// URL", o.leases)
	}
	if o.id == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("-id not given and no host name: %w", err)
		}
		o.id = h
	}
	first, last, err := dhcp.ParseRange(o.rng)
	if err != nil {
		return fmt.Errorf("-range: %w", err)
	}
	p := &dhcp.Pool{First: first, Last: last, LeaseTime: o.leaseTime}
	if o.subnet != "" {
		if p.Subnet, err = netip.ParsePrefix(o.subnet); err != nil {
			return fmt.Errorf("-subnet: %w", err)
		}
	}
	if p.Routers, err = dhcp.ParseAddrs(o.router); err != nil {
		return fmt.Errorf("-router: %w", err)
	}
	if p.DNS, err = dhcp.ParseAddrs(o.dns); err != nil {
		return fmt.Errorf("-dns: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	store, err := pgstore.Open(ctx, o.leases)
	if err != nil {
		return err
	}
	defer store.Close()
	p.Store = store

	srvLevel := slog.LevelWarn
	if o.verbose {
		srvLevel = slog.LevelDebug
	}
	srvLog := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: srvLevel}))
	fo := &dhcp.Failover{ID: o.id, Store: store, Interval: o.failover / 5, DeadAfter: o.failover, Logger: log}
	if err := fo.Refresh(ctx); err != nil {
		return err
	}
	s := &dhcp.Server{
		Interface: o.iface,
		Logger:    srvLog,
		Pool:      p,
		Balancer:  fo,
		Decider: dhcp.DeciderFunc(func(_ context.Context, req *dhcpv4.DHCPv4) (dhcp.Boot, error) {
			if strings.HasPrefix(req.ClassIdentifier(), dhcp.ClassHTTPClient) {
				if o.httpURL == "" {
					return dhcp.Boot{}, dhcp.ErrNoBoot
				}
				return dhcp.Boot{File: o.httpURL, HTTP: true}, nil
			}
			return dhcp.Boot{File: o.file}, nil
		}),
	}
	foDone := make(chan error, 1)
	foCtx, foStop := context.WithCancel(context.Background())
	defer foStop()
	go func() { foDone <- fo.Run(foCtx) }()
	purgeDone := make(chan struct{})
	go func() { store.PurgeEvery(foCtx, o.purgeEvery, o.keepExpired, 1000, log); close(purgeDone) }()

	errc := make(chan error, 1)
	go func() { errc <- s.ListenAndServe(o.addr) }()
	log.Info("dhcpd serving", "id", o.id, "range", o.rng, "addr", o.addr, "iface", o.iface, "failover_time", o.failover)
	select {
	case err = <-errc:
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err = s.Shutdown(shutdown); err == nil {
			if err = <-errc; errors.Is(err, dhcp.ErrServerClosed) {
				err = nil
			}
		}
	}
	foStop()
	<-foDone
	<-purgeDone
	st := s.Stats()
	log.Info("dhcpd stopped", "received", st.Received, "replied", st.Replied, "ignored", st.Ignored, "errors", st.Errors, "store_errors", st.StoreErrors, "leases", len(p.Leases()))
	return err
}
