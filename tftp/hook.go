package tftp

import (
	"net/netip"
	"time"

	"github.com/pxekit/pxekit/events"
)

// Outcome says how a transfer ended.
type Outcome int

// Transfer outcomes, as reported to [Hook] and in log lines.
const (
	// OutcomeOK: the client acknowledged the last block, or has it and
	// only its ACK is missing ([Transfer.FinalACKMissing]).
	OutcomeOK Outcome = iota
	// OutcomeAborted: the client sent an error packet. PXE ROMs do this on
	// purpose after learning the size from the OACK (a "tsize probe").
	OutcomeAborted
	// OutcomeNotFound: no file by that name (TFTP error 1).
	OutcomeNotFound
	// OutcomeAccessViolation: the name leaves the served tree (TFTP error 2).
	OutcomeAccessViolation
	// OutcomeTimeout: the client stopped answering, or the transfer ran past
	// [Server.TransferTimeout].
	OutcomeTimeout
	// OutcomeCanceled: the server shut down, or the client restarted the
	// transfer with a different request from the same port.
	OutcomeCanceled
	// OutcomeError: reading the file failed, or the request was refused.
	OutcomeError
	// OutcomeEvicted: the server was full and the client had not
	// acknowledged its first block; a request from another client took
	// its slot (see [Server.MaxTransfers]).
	OutcomeEvicted
)

var outcomeNames = [...]string{"ok", "aborted", "not-found", "access-violation", "timeout", "canceled", "error", "evicted"}

// String returns a short lower-case name such as "ok" or "timeout".
func (o Outcome) String() string {
	if o >= 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// Transfer describes one finished read request.
type Transfer struct {
	Client     netip.AddrPort // the client's address and port (its TID)
	File       string         // the cleaned name, or the raw one if cleaning failed
	Size       int64          // file size in bytes, -1 if unknown
	BlockSize  int            // negotiated blksize (512 without the option)
	WindowSize int            // negotiated windowsize (1 without the option)
	TSize      int64          // tsize answered in the OACK, -1 if none
	Timeout    time.Duration  // timeout option acknowledged, 0 if none
	Options    bool           // an OACK was sent (the client asked for options)
	Start      time.Time      // when the request arrived
	Duration   time.Duration  // from request to the end of the transfer
	Bytes      int64          // file bytes acknowledged by the client (all of them when FinalACKMissing)
	// FinalACKMissing reports an [OutcomeOK] transfer whose last block
	// was sent but never acknowledged, while the client showed it had
	// finished: its port answered the retransmission with ICMP port
	// unreachable, it sent error 5 (unknown transfer ID), or it went
	// silent with every other block acknowledged. Clients that close
	// their socket after the last block lose that ACK now and then.
	FinalACKMissing bool
	Sent            int64 // data packets sent, retransmissions included
	Polled          int64 // waits for an ACK that polled first (see [Server.BusyPoll])
	Outcome         Outcome
	Err             error // nil for OutcomeOK
}

// A Hook is told about every transfer when it ends. It is called from the
// transfer's goroutine, concurrently for concurrent transfers, and should
// return quickly. Use it for metrics; log lines go to [Server.Logger].
type Hook interface {
	TransferDone(t *Transfer)
}

// HookFunc adapts a function to [Hook].
type HookFunc func(t *Transfer)

// TransferDone calls f(t).
func (f HookFunc) TransferDone(t *Transfer) { f(t) }

// A StartHook is a [Hook] that is also told when a transfer begins, with
// Client, File and Start set (the rest is filled in by the time
// TransferDone is called with the same *Transfer). [Server] checks the
// Hook for this method; hooks without it see only the end.
type StartHook interface {
	Hook
	TransferStart(t *Transfer)
}

// An OptionsHook is a [Hook] that is also told when a transfer's options
// are agreed: after the file is opened and the OACK built, before it is
// sent, with BlockSize, WindowSize, TSize, Timeout and Size set and
// Options true. It is called only for requests with options (RFC 2347),
// once per request, from the transfer's goroutine. [Server] checks the
// Hook for this method.
type OptionsHook interface {
	Hook
	TransferOptions(t *Transfer)
}

// EventHook returns a [StartHook] that reports each transfer to h as an
// [events.Event] of [events.ProtoTFTP]: [events.KindStart] when the
// request arrives, [events.KindDone] when it ends, with Addr (the client's
// address), File, Size, Bytes, Duration, BlockSize and WindowSize (the
// options agreed), Outcome (as [Outcome.String] names it), Err and
// Retransmits: data packets sent beyond one per block,
// Sent − (Bytes/BlockSize + 1), at least 0. It is an [OptionsHook] too:
// a request with options also yields [events.KindOptions] between the
// two, with BlockSize, WindowSize, Timeout and Size (the tsize answered,
// -1 if none).
func EventHook(h events.Hook) StartHook { return eventHook{h} }

type eventHook struct{ h events.Hook }

var _ OptionsHook = eventHook{}

func (e eventHook) TransferOptions(t *Transfer) {
	e.h.Observe(events.Event{
		Time: time.Now(), Proto: events.ProtoTFTP, Kind: events.KindOptions,
		Addr: t.Client.Addr(), File: t.File, Size: t.TSize,
		BlockSize: t.BlockSize, WindowSize: t.WindowSize, Timeout: t.Timeout,
	})
}

func (e eventHook) TransferStart(t *Transfer) {
	e.h.Observe(events.Event{Time: t.Start, Proto: events.ProtoTFTP, Kind: events.KindStart, Addr: t.Client.Addr(), File: t.File, Size: -1})
}

func (e eventHook) TransferDone(t *Transfer) {
	var re int64
	if t.BlockSize > 0 {
		re = max(0, t.Sent-(t.Bytes/int64(t.BlockSize)+1))
	}
	e.h.Observe(events.Event{
		Time: t.Start.Add(t.Duration), Proto: events.ProtoTFTP, Kind: events.KindDone,
		Addr: t.Client.Addr(), File: t.File, Size: t.Size, Bytes: t.Bytes, Retransmits: re,
		BlockSize: t.BlockSize, WindowSize: t.WindowSize,
		Duration: t.Duration, Outcome: t.Outcome.String(), Err: t.Err,
	})
}
