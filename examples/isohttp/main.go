// Command isohttp serves the files of an ISO 9660 image over HTTP with
// [net/http.FileServerFS], straight out of the image (range requests
// included), without mounting it. It uses package isofs.
//
//	isohttp -addr :8080 debian.iso
//	curl -O http://localhost:8080/install.amd/vmlinuz
//
// The El Torito boot images are served under /[BOOT]/, so the EFI system
// partition of a hybrid image is http://host/%5BBOOT%5D/2-efi.img.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pxekit/pxekit/isofs"
)

func main() {
	addr := flag.String("addr", "localhost:8080", "address to listen on")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: isohttp [-addr ADDR] IMAGE\n\nflags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log, *addr, flag.Arg(0)); err != nil {
		log.Error("isohttp", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger, addr, image string) error {
	f, err := os.Open(image)
	if err != nil {
		return err
	}
	defer f.Close()
	fsys, err := isofs.OpenWith(f, isofs.Options{BootDir: "[BOOT]"})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	files := http.FileServerFS(fsys)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			log.Info("request", "peer", r.RemoteAddr, "method", r.Method, "path", r.URL.Path, "range", r.Header.Get("Range"))
			files.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	vol := fsys.Volume()
	log.Info("serving", "image", image, "volume", vol.ID, "names", vol.Names, "url", "http://"+ln.Addr().String()+"/")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
