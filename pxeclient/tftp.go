package pxeclient

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"time"
)

// ErrNotFound is returned (wrapped) when a TFTP server answers "file not
// found" or an HTTP server 404.
var ErrNotFound = errors.New("pxeclient: file not found")

const (
	opRRQ   = 1
	opDATA  = 3
	opACK   = 4
	opERROR = 5
	opOACK  = 6
)

// parseOACK decodes the options of a TFTP OACK packet (RFC 2347) after
// its opcode: NUL-terminated name and value pairs.
func parseOACK(b []byte) (map[string]string, error) {
	m := make(map[string]string)
	for len(b) > 0 {
		var f [2]string
		for i := range f {
			j := indexNUL(b)
			if j < 0 {
				return nil, errors.New("pxeclient: OACK option not NUL-terminated")
			}
			f[i], b = string(b[:j]), b[j+1:]
		}
		if len(m) >= 16 {
			return nil, errors.New("pxeclient: too many OACK options")
		}
		m[asciiLower(f[0])] = f[1]
	}
	return m, nil
}

func indexNUL(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// tftpResult is what one read request brought.
type tftpResult struct {
	bytes   int64
	tsize   int64 // from the OACK; -1 if none
	retrans int
}

// tftpGet reads name from server into w with the given options, from a new
// socket bound to laddr (port 0). With probe it stops after the OACK,
// aborting the transfer with an ERROR, and returns the offered tsize.
func tftpGet(ctx context.Context, listen func(netip.Addr) (net.PacketConn, error), laddr netip.Addr, server netip.AddrPort, name string, h TFTPHabits, probe bool, timeout time.Duration, retries int, w io.Writer) (tftpResult, error) {
	res := tftpResult{tsize: -1}
	pc, err := listen(laddr)
	if err != nil {
		return res, err
	}
	defer pc.Close()
	stop := context.AfterFunc(ctx, func() { _ = pc.SetReadDeadline(time.Now()) })
	defer stop()

	rrq := []byte{0, opRRQ}
	rrq = append(append(append(rrq, name...), 0), "octet\x00"...)
	if h.Tsize || probe {
		rrq = append(rrq, "tsize\x000\x00"...)
	}
	if h.Blksize > 0 {
		rrq = append(append(append(rrq, "blksize\x00"...), strconv.Itoa(h.Blksize)...), 0)
	}
	if h.Windowsize > 0 {
		rrq = append(append(append(rrq, "windowsize\x00"...), strconv.Itoa(h.Windowsize)...), 0)
	}
	if retries <= 0 {
		retries = 6
	}
	last := rrq
	u := newUDPIO(pc)
	to := server
	if err := u.writeTo(last, to); err != nil {
		return res, err
	}
	blksize, window := 512, 1
	var expect uint16 = 1
	inWindow := 0
	var peer netip.AddrPort // the server's transfer port, once known
	dst := to
	var ack [4]byte // the last ACK, which last then points at
	ack[1] = opACK
	buf := make([]byte, 65536+4)
	tries := 0
	// The read deadline is set again only when it passes: a wait ends
	// timeout after the last packet in or out (lastIO), as if it were set
	// before every read, without a timer update per packet.
	lastIO := time.Now()
	_ = pc.SetReadDeadline(lastIO.Add(timeout))
	for {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		n, from, err := u.readFrom(buf)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() && ctx.Err() == nil {
				now := time.Now()
				if d := lastIO.Add(timeout); now.Before(d) {
					_ = pc.SetReadDeadline(d)
					continue
				}
				tries++
				if tries > retries {
					return res, fmt.Errorf("pxeclient: tftp %s: no answer after %d retransmissions (%s)", name, retries, waitingFor(peer.IsValid(), expect))
				}
				res.retrans++
				if peer.IsValid() {
					dst = peer
				}
				_ = u.writeTo(last, dst)
				inWindow = 0
				lastIO = now
				_ = pc.SetReadDeadline(now.Add(timeout))
				continue
			}
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			return res, err
		}
		lastIO = time.Now()
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		if !peer.IsValid() {
			if from.Addr() != to.Addr().Unmap() {
				continue
			}
			peer = from
		} else if from != peer {
			continue // RFC 1350: another TID; a real client would send an ERROR 5
		}
		p := buf[:n]
		if len(p) < 4 {
			continue
		}
		switch binary.BigEndian.Uint16(p) {
		case opERROR:
			code := binary.BigEndian.Uint16(p[2:])
			msg := p[4:]
			if j := indexNUL(msg); j >= 0 {
				msg = msg[:j]
			}
			if code == 1 {
				return res, fmt.Errorf("%w: tftp %s: %q", ErrNotFound, name, msg)
			}
			return res, fmt.Errorf("pxeclient: tftp %s: error %d %q", name, code, msg)
		case opOACK:
			if expect != 1 {
				continue
			}
			opts, err := parseOACK(p[2:])
			if err != nil {
				return res, err
			}
			if v, ok := opts["tsize"]; ok {
				res.tsize, _ = strconv.ParseInt(v, 10, 64)
			}
			if v, ok := opts["blksize"]; ok {
				if b, err := strconv.Atoi(v); err == nil && b >= 8 && b <= 65464 && (h.Blksize == 0 || b <= h.Blksize) {
					blksize = b
				} else {
					return res, fmt.Errorf("pxeclient: tftp %s: bad blksize %q in OACK", name, v)
				}
			}
			if v, ok := opts["windowsize"]; ok {
				if b, err := strconv.Atoi(v); err == nil && b >= 1 && b <= 65535 && (h.Windowsize == 0 || b <= h.Windowsize) {
					window = b
				} else {
					return res, fmt.Errorf("pxeclient: tftp %s: bad windowsize %q in OACK", name, v)
				}
			}
			if probe {
				_ = u.writeTo(append([]byte{0, opERROR, 0, 0}, "size probe\x00"...), peer)
				return res, nil
			}
			ack[2], ack[3] = 0, 0
			last = ack[:]
			_ = u.writeTo(last, peer)
			tries = 0
		case opDATA:
			blk := binary.BigEndian.Uint16(p[2:])
			if blk != expect {
				continue // a duplicate or a gap: wait, then re-ACK the last good block
			}
			data := p[4:]
			if len(data) > blksize {
				return res, fmt.Errorf("pxeclient: tftp %s: block %d of %d bytes, blksize %d", name, blk, len(data), blksize)
			}
			if _, err := w.Write(data); err != nil {
				return res, err
			}
			res.bytes += int64(len(data))
			tries = 0
			inWindow++
			expect++
			final := len(data) < blksize
			if final || inWindow >= window {
				ack[2], ack[3] = byte(blk>>8), byte(blk)
				last = ack[:]
				_ = u.writeTo(last, peer)
				inWindow = 0
			}
			if final {
				return res, nil
			}
		}
	}
}

// waitingFor says what a transfer that got no answer waited for, so that
// a storm's failures (grouped by their text) tell a request that was never
// answered from a transfer that stalled.
func waitingFor(answered bool, expect uint16) string {
	switch {
	case !answered:
		return "nothing from the server"
	case expect == 1:
		return "waiting for the first data block"
	}
	return "stalled in the transfer"
}

// udpIO reads and writes a PacketConn by netip.AddrPort, without the
// allocation per packet of ReadFrom's net.Addr when it is a *net.UDPConn.
type udpIO struct {
	pc  net.PacketConn
	udp *net.UDPConn
}

func newUDPIO(pc net.PacketConn) udpIO {
	u, _ := pc.(*net.UDPConn)
	return udpIO{pc: pc, udp: u}
}

func (u udpIO) readFrom(b []byte) (int, netip.AddrPort, error) {
	if u.udp != nil {
		return u.udp.ReadFromUDPAddrPort(b)
	}
	n, from, err := u.pc.ReadFrom(b)
	var ap netip.AddrPort
	if fu, ok := from.(*net.UDPAddr); ok {
		ap = fu.AddrPort()
	}
	return n, ap, err
}

func (u udpIO) writeTo(b []byte, to netip.AddrPort) error {
	var err error
	if u.udp != nil {
		_, err = u.udp.WriteToUDPAddrPort(b, to)
	} else {
		_, err = u.pc.WriteTo(b, net.UDPAddrFromAddrPort(to))
	}
	return err
}
