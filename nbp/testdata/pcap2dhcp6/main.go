// Command pcap2dhcp6 reads a pcap file (link type Ethernet, as tcpdump -w
// writes it on a tap device) from standard input and writes the UDP payload
// (the DHCPv6 message) of each IPv6 UDP packet to port 547 whose message
// type and option codes differ from every earlier one to PREFIX-N.bin,
// N = 1, 2, …, at most 8 files. Retransmissions (same type and options,
// new elapsed time) are left out. capture6.sh uses it; it lives under
// testdata so that go build ./... and go test ./... skip it.
package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: pcap2dhcp6 PREFIX <capture.pcap")
		os.Exit(2)
	}
	if err := run(os.Stdin, os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "pcap2dhcp6:", err)
		os.Exit(1)
	}
}

// shape is the message type and the option codes in order.
func shape(m []byte) string {
	if len(m) < 4 {
		return string(m)
	}
	k := []byte{m[0]}
	for o := m[4:]; len(o) >= 4; {
		n := int(binary.BigEndian.Uint16(o[2:]))
		k = append(k, o[0], o[1])
		if len(o) < 4+n {
			break
		}
		o = o[4+n:]
	}
	return string(k)
}

func run(r io.Reader, prefix string) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(data) < 24 {
		return errors.New("short pcap header")
	}
	var bo binary.ByteOrder
	switch binary.LittleEndian.Uint32(data) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		bo = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		bo = binary.BigEndian
	default:
		return errors.New("not a pcap file")
	}
	if lt := bo.Uint32(data[20:]); lt != 1 {
		return fmt.Errorf("link type %d, want 1 (Ethernet)", lt)
	}
	seen := map[string]bool{}
	for p := data[24:]; len(p) >= 16; {
		n := int(bo.Uint32(p[8:]))
		if len(p) < 16+n {
			return errors.New("truncated packet record")
		}
		frame := p[16 : 16+n]
		p = p[16+n:]
		if len(frame) < 14 || binary.BigEndian.Uint16(frame[12:]) != 0x86dd {
			continue
		}
		// Fixed IPv6 header (40 bytes); firmware puts no extension
		// headers before UDP, so next header must be 17.
		ip := frame[14:]
		if len(ip) < 40 || ip[0]>>4 != 6 || ip[6] != 17 {
			continue
		}
		plen := int(binary.BigEndian.Uint16(ip[4:]))
		if plen < 8 || 40+plen > len(ip) {
			continue
		}
		udp := ip[40 : 40+plen]
		ulen := int(binary.BigEndian.Uint16(udp[4:]))
		if binary.BigEndian.Uint16(udp[2:]) != 547 || ulen < 8 || ulen > len(udp) {
			continue
		}
		m := udp[8:ulen]
		if seen[shape(m)] {
			continue
		}
		seen[shape(m)] = true
		if err := os.WriteFile(fmt.Sprintf("%s-%d.bin", prefix, len(seen)), m, 0o644); err != nil {
			return err
		}
		if len(seen) == 8 {
			break
		}
	}
	if len(seen) == 0 {
		return errors.New("no IPv6 UDP packet to port 547 in capture")
	}
	return nil
}
