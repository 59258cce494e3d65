// Command tftpd serves a directory read-only over TFTP with pxekit's tftp
// package. It is the program that bench/tftp/compare.sh measures.
//
//	tftpd -root /srv/tftp -addr :69
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pxekit/pxekit/tftp"
)

func main() {
	addr := flag.String("addr", ":69", "UDP `address` to listen on")
	root := flag.String("root", ".", "`directory` to serve")
	single := flag.Bool("single-port", false, "answer every transfer from the listening port")
	maxBlk := flag.Int("max-blksize", 0, "cap on the negotiated block size (0: 65464)")
	maxWin := flag.Int("max-windowsize", 0, "cap on the negotiated window size (0: default 64, 1: off)")
	perClient := flag.Int("max-client-transfers", 0, "concurrent transfers per client address (0: the package default, 16)")
	fold := flag.Bool("case-insensitive", false, "match names that differ only in case")
	busyPoll := flag.Duration("busy-poll", 0, "longest poll for an ACK before sleeping, when a transfer measures that it pays (0: 50µs, negative: never)")
	verbose := flag.Bool("v", false, "log every transfer")
	flag.Parse()

	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	if st, err := os.Stat(*root); err != nil || !st.IsDir() {
		fmt.Fprintf(os.Stderr, "tftpd: -root %s is not a directory\n", *root)
		os.Exit(2)
	}
	srv := &tftp.Server{
		FS:            os.DirFS(*root),
		Logger:        logger,
		SinglePort:    *single,
		MaxBlockSize:  *maxBlk,
		MaxWindowSize: *maxWin,
		BusyPoll:      *busyPoll,

		CaseInsensitive:    *fold,
		MaxClientTransfers: *perClient,
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe(*addr) }()
	fmt.Fprintf(os.Stderr, "tftpd: serving %s on udp %s\n", *root, *addr)

	select {
	case err := <-errc:
		fmt.Fprintln(os.Stderr, "tftpd:", err)
		os.Exit(1)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("shutdown", "err", err)
	}
	if err := <-errc; !errors.Is(err, tftp.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "tftpd:", err)
	}
}
