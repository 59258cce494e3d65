// Package tftp is a read-only TFTP server over an [io/fs.FS]: a directory,
// an ISO image opened with pxekit's isofs, or files generated per client.
// It is built for PXE firmware and boot loaders (BIOS PXE ROMs, UEFI
// PXE, iPXE, pxelinux, GRUB) and for boot storms of many clients.
//
// The server takes the [net/http.Server] shape:
//
//	srv := &tftp.Server{FS: os.DirFS("/srv/tftp"), Logger: logger}
//	go srv.ListenAndServe(":69")
//	...
//	srv.Shutdown(ctx)
//
// # Protocol
//
// Read requests (RFC 1350) in octet and netascii mode. Write requests are
// refused with TFTP error 2 (the server is read-only), mail mode with
// error 4.
//
// Options (RFC 2347) are answered only when the client asked for them, in
// its order, and the OACK carries nothing else: an unsolicited tsize makes
// some EFI clients fail. Supported: blksize (RFC 2348, capped by
// [Server.MaxBlockSize]), tsize (RFC 2349, from the file's Stat, also for
// generated files; not offered in netascii mode, where the size on the wire
// differs), timeout (RFC 2349, used as the ceiling of the retransmission
// interval; a value over [Server.MaxClientTimeout], 5 s by default, is
// left out of the OACK and the server keeps its own timer), windowsize (RFC 7440, capped by [Server.MaxWindowSize] and
// [Server.MaxWindowBytes]) and the de-facto rollover option (0 or 1).
// Block numbers roll over past 65535 to 0, or to 1 with
// [Server.RolloverToOne].
//
// Retransmission is driven by a timer that follows the measured round-trip
// time (RFC 6298's estimator and Karn's rule; 1 s before the first
// measurement, then 10 ms to 1 s), so a lost
// packet on a LAN costs milliseconds, not seconds. Each timeout doubles the
// interval, up to 6 s (or twice the client's timeout option): some clients
// (atftp) answer a repeated block only once and then wait for their own
// timer, which must get a chance to fire. The client's options never
// decide how long a silent client keeps its transfer slot: [Server.Timeout]
// (12 s by default) ends any transfer that makes no progress for that long.
// Duplicate ACKs are never answered (the Sorcerer's Apprentice bug, RFC 1123
// §4.2.3.1). A repeated RRQ from the same client port is answered once
// while the first packet is unacknowledged, and ignored later; a client
// that aborts a transfer with an error packet, as PXE ROMs do after a
// tsize-only probe, releases it at once (logged at Debug level), and a new
// request from the same port is served on the same socket.
//
// Packets from the wrong transfer ID (RFC 1350 §4): each transfer's socket
// is a UDP socket connected to its client, so the kernel never hands it a
// packet from another address or port; it answers such a packet with ICMP
// port unreachable, and the transfer is not disturbed. The listening
// socket answers a DATA, ACK or OACK packet that belongs to no transfer
// (in [Server.SinglePort] mode: none from that client address and port;
// otherwise: any, since transfers use their own ports) with error 5,
// "unknown transfer ID", from the listening socket, within the client's
// log allowance (see [Server.LogBurst]). It never answers an ERROR
// packet, a packet with another opcode, a packet whose source port is 0,
// or one from or to an unspecified, multicast or limited-broadcast
// address (the kernel drops most of those anyway; a subnet's broadcast
// address cannot be told from a unicast one here).
//
// # Paths
//
// Requested names pass through [CleanPath]: the pxelinux "::" prefix,
// backslashes and leading slashes are accepted; ".." and NUL bytes are
// refused with TFTP error 2 and a log line naming the client. Symbolic
// links resolve inside the served root, as in a chroot (see [Server.FS]):
// an absolute target starts at the root, ".." stops at it, and a loop is
// an access violation. So a link means the same over TFTP as through
// the file system's own Open: in an isofs image, "abs -> /boot/file"
// is the image's /boot/file either way. The server walks the links
// itself on a file system that reports them ([io/fs.ReadLinkFS], as
// [os.DirFS] does), unless it applies the rule on its own
// ([RootedLinksFS], as isofs does): such a name is opened with one
// lookup. [Server.CaseInsensitive] adds a
// case-folding lookup. Generated files come from [Server.Files] (see
// [FileSource] and [Server.FSFirst] for which source wins).
//
// # Dependencies
//
// The sender is this package's own (session.go says why);
// github.com/pin/tftp/v3 provides the
// netascii conversion and, in the tests, one more independent client. No
// pin/tftp type appears in the API.
//
// # Resources
//
// Each transfer has one goroutine (parked while the lock-step engine runs
// it; see below) and, except in [Server.SinglePort] mode, its own
// connected UDP socket. Memory per lock-step transfer is a packet
// buffer of blksize+4 bytes plus, for files that implement [io.ReaderAt]
// (os.File, isofs files, [BytesFile]), a 32 KiB read chunk. A windowed
// transfer adds a buffer of windowsize × (blksize+4) bytes (bounded by
// [Server.MaxWindowBytes]) that holds the window's packets back to back,
// so that on Linux a whole window leaves in one system call: one UDP GSO
// send (UDP_SEGMENT) where the kernel and the device take it, else one
// sendmmsg(2). As soon as the kernel has the window, the buffer is filled
// with the next one, which then leaves the moment its ACK arrives; a
// window that must be sent again is re-read from the source. Other files
// buffer one window (windowsize × blksize) for retransmission. Buffers are
// pooled. After setup, sending a block does not allocate.
// [Server.MaxTransfers], [Server.MaxClientTransfers],
// [Server.TransferTimeout] and [Server.Timeout] bound the rest. When every
// transfer slot is taken, a request from a client address that has none
// takes the slot of the oldest transfer whose first data block has gone
// unacknowledged for [EvictAfter] (1 s); that transfer's client gets an
// error packet and the transfer ends as [OutcomeEvicted]. A flood of
// requests that are never acknowledged thus delays other clients by about
// a second, not by the 12 s give-up time; a transfer that has made
// progress is never evicted. The check is made per request, never per
// block.
//
// Log lines and error replies that a client can cause are limited per
// client IP address and message: [Server.LogBurst] lines (20) per
// [Server.LogInterval] (10 s), then one line "<message>: lines suppressed"
// with the client and the count when the interval ends (or at Shutdown
// or Close). This covers the line of every finished transfer and of every
// refused, malformed or dropped request. The error packets answering
// malformed requests and write or mail requests go out only with a line
// the limit lets through, so a forged source address cannot make the
// server an amplifier. At most 4096 client addresses are tracked per
// interval; the rest share one allowance. [Hook] still sees every
// transfer; [EventHook] turns it into the [events.Event] values that the
// DHCP server and netboot's HTTP wrapper report too.
//
// A transfer waits for ACKs in the runtime's network poller. On Linux a
// lock-step block is sent from within that wait (one read(2) per block,
// not a read that finds the socket empty and then a second one), and a
// transfer may first poll its socket for up to [Server.BusyPoll] (50 µs), only
// while that measurably shortens its round trips and fewer transfers run
// than GOMAXPROCS; [Transfer.Polled] counts the waits that polled.
//
// On Linux, lock-step transfers (requests without a windowsize option
// above 1, IPv4, not in [Server.SinglePort] mode) run on the lock-step
// engine once their first data block is acknowledged: up to 16 loops
// per process (8 per GOMAXPROCS), each an epoll(7) set over transfer
// sockets, answer each expected ACK with the next block, so that a block
// costs its read(2) and write(2) and no goroutine wake-up. The transfer's
// goroutine keeps negotiation, retransmission, errors, repeated requests
// and the end; a loop hands a transfer back when anything but the
// expected ACK arrives, when its retransmission timer ends (checked
// every 2 ms, so a timer fires up to 2 ms late) or when it is told to
// stop. In a storm of 256 lock-step transfers this took the server's CPU
// per block down by about a fifth (BenchmarkStormBlock).
//
// Not covered: write requests, multicast TFTP (RFC 2090), IPv6-specific
// behaviour beyond what the socket does, and MTU discovery (a client that
// asks for a blksize above its path MTU gets IP fragments).
package tftp
