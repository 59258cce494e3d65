package events

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// LogHook returns a hook that writes each event as one log line to l, a
// line per step of a boot that a person can follow, in the spirit of
// dnsmasq's --log-dhcp:
//
//	level=INFO msg="dhcp: reply" type=OFFER mac=52:54:00:12:34:56 addr=10.0.0.100 file=pxelinux.0 arch="Intel x86PC" firmware=bios
//	level=INFO msg="tftp: transfer done" peer=10.0.0.100 file=pxelinux.0 outcome=ok bytes=42378 size=42378 blksize=1468 windowsize=4 duration=12ms rate="3.4 MB/s"
//	level=INFO msg=http peer=10.0.0.100 method=GET file=install/vmlinuz status=200 bytes=8222656 duration=758ms outcome=ok rate="10.8 MB/s"
//	level=INFO msg=http peer=10.0.0.100 method=GET file=boot.ipxe generated=true status=200 bytes=912 duration=1ms outcome=ok rate="912.0 kB/s"
//
// At info level: DHCP replies, and transfers that ended (a TFTP client
// that aborts before any data, as PXE ROMs do after learning a file's
// size, at debug level). At warning level: requests a boot client gets
// no answer to because of the server (no boot program for its
// architecture, no free address, a failing lease store, an error), and
// transfers that failed (timeout, error, access violation…). At debug
// level: every DHCP request, the other ignored ones with their reason,
// transfer starts and agreed TFTP options. A transfer of a file the
// server generated ([Event.Generated]) says generated=true.
//
// Client strings (host name, vendor class, file names) are attribute
// values: [slog.TextHandler] and [slog.JSONHandler] quote them, so that a
// client cannot forge a line. A nil l discards. Writing a line may block
// on l's output: put a [Queue] in front of the hook where servers call
// it.
func LogHook(l *slog.Logger) Hook {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return logHook{l}
}

type logHook struct{ l *slog.Logger }

// Observe implements Hook.
func (h logHook) Observe(e Event) {
	level, msg := h.level(e)
	ctx := context.Background()
	if msg == "" || !h.l.Enabled(ctx, level) {
		return
	}
	var a []slog.Attr
	str := func(k, v string) {
		if v != "" {
			a = append(a, slog.String(k, v))
		}
	}
	switch e.Proto {
	case ProtoDHCP:
		str("type", e.Type)
		if len(e.MAC) > 0 {
			a = append(a, slog.String("mac", e.MAC.String()))
		}
		if e.Addr.IsValid() {
			a = append(a, slog.String("addr", e.Addr.String()))
		}
		str("file", e.File)
		str("arch", e.Arch)
		str("firmware", e.Firmware)
		str("host", e.Host)
		if e.Kind == KindRequest {
			str("vendor_class", e.VendorClass)
		}
		str("reason", e.Reason)
	default:
		if e.Addr.IsValid() {
			a = append(a, slog.String("peer", e.Addr.String()))
		}
		if e.Proto == ProtoHTTP {
			str("method", e.Type)
		}
		a = append(a, slog.String("file", e.File))
		if e.Generated {
			a = append(a, slog.Bool("generated", true))
		}
		switch e.Kind {
		case KindOptions:
			a = append(a, slog.Int("blksize", e.BlockSize), slog.Int("windowsize", e.WindowSize))
			if e.Size >= 0 {
				a = append(a, slog.Int64("tsize", e.Size))
			}
			if e.Timeout > 0 {
				a = append(a, slog.Duration("timeout", e.Timeout))
			}
		case KindDone:
			if e.Proto == ProtoHTTP {
				a = append(a, slog.Int("status", e.Status))
				if e.Offset > 0 {
					a = append(a, slog.Int64("offset", e.Offset))
				}
			} else {
				a = append(a, slog.String("outcome", e.Outcome))
			}
			a = append(a, slog.Int64("bytes", e.Bytes))
			if e.Size > 0 {
				a = append(a, slog.Int64("size", e.Size))
			}
			if e.Proto == ProtoTFTP {
				a = append(a, slog.Int("blksize", e.BlockSize), slog.Int("windowsize", e.WindowSize))
				if e.Retransmits > 0 {
					a = append(a, slog.Int64("retransmits", e.Retransmits))
				}
			}
			a = append(a, slog.Duration("duration", round(e.Duration)))
			if e.Proto == ProtoHTTP {
				a = append(a, slog.String("outcome", e.Outcome))
			}
			if e.Outcome == "ok" && e.Duration > 0 && e.Bytes > 0 {
				a = append(a, slog.String("rate", rate(e.Bytes, e.Duration.Seconds())))
			}
		}
	}
	if e.Err != nil {
		a = append(a, slog.String("err", e.Err.Error()))
	}
	h.l.LogAttrs(ctx, level, msg, a...)
}

// level returns the level and message of e's line; "" for none.
func (h logHook) level(e Event) (slog.Level, string) {
	switch e.Proto {
	case ProtoDHCP:
		switch e.Kind {
		case KindRequest:
			return slog.LevelDebug, "dhcp: request"
		case KindReply:
			return slog.LevelInfo, "dhcp: reply"
		case KindIgnored:
			switch e.Reason {
			case ReasonNoBoot, ReasonNoAddress, ReasonStoreFailed, ReasonError:
				if e.Firmware != "" || e.Reason != ReasonNoBoot {
					return slog.LevelWarn, "dhcp: not answered"
				}
			}
			return slog.LevelDebug, "dhcp: not answered"
		}
		// KindIdentified: the request line says what the client is.
		return 0, ""
	case ProtoTFTP, ProtoHTTP:
		switch e.Kind {
		case KindStart:
			if e.Proto == ProtoHTTP {
				return slog.LevelDebug, "http: transfer start"
			}
			return slog.LevelDebug, "tftp: transfer start"
		case KindOptions:
			return slog.LevelDebug, "tftp: options"
		case KindDone:
			if e.Proto == ProtoHTTP {
				// "http", as minimal-server has always written it.
				switch e.Outcome {
				case "ok", "not-found", "aborted", "canceled":
					return slog.LevelInfo, "http"
				}
				return slog.LevelWarn, "http"
			}
			switch e.Outcome {
			case "ok", "not-found", "canceled":
				return slog.LevelInfo, "tftp: transfer done"
			case "aborted":
				if e.Bytes == 0 {
					return slog.LevelDebug, "tftp: transfer done"
				}
				return slog.LevelInfo, "tftp: transfer done"
			}
			return slog.LevelWarn, "tftp: transfer done"
		}
	}
	return 0, ""
}

// round cuts d to milliseconds, or to microseconds below one.
func round(d time.Duration) time.Duration {
	if d >= time.Millisecond {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}

// rate writes bytes per second in decimal units: "3.4 MB/s".
func rate(bytes int64, secs float64) string {
	r := float64(bytes) / secs
	for _, u := range []string{"B/s", "kB/s", "MB/s"} {
		if r < 1000 {
			return fmt.Sprintf("%.1f %s", r, u)
		}
		r /= 1000
	}
	return fmt.Sprintf("%.1f GB/s", r)
}
