package lograte_test

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"time"

	"github.com/pxekit/pxekit/internal/lograte"
)

func ExampleLimiter() {
	// A text logger without timestamps, and a clock the example moves.
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := &lograte.Limiter{Burst: 2, Interval: 10 * time.Second, Now: func() time.Time { return now }}
	client := netip.MustParseAddr("192.0.2.7")
	for range 5 {
		l.Log(context.Background(), log, slog.LevelWarn, client, "tftp: malformed request", "peer", client)
	}
	now = now.Add(10 * time.Second)
	l.Log(context.Background(), log, slog.LevelWarn, client, "tftp: malformed request", "peer", client)
	// Output:
	// level=WARN msg="tftp: malformed request" peer=192.0.2.7
	// level=WARN msg="tftp: malformed request" peer=192.0.2.7
	// level=WARN msg="tftp: malformed request: lines suppressed" client=192.0.2.7 suppressed=3 interval=10s
	// level=WARN msg="tftp: malformed request" peer=192.0.2.7
}
