// Command pcap2bootp writes the UDP payload (the BOOTP/DHCP message) of the
// first IPv4 UDP packet in a pcap file (link type Ethernet, as tcpdump -w
// writes it on a tap device) to standard output. capture.sh uses it; it
// lives under testdata so that go build ./... and go test ./... skip it.
package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pcap2bootp:", err)
		os.Exit(1)
	}
}

func run(r io.Reader, w io.Writer) error {
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
	for p := data[24:]; len(p) >= 16; {
		n := int(bo.Uint32(p[8:]))
		if len(p) < 16+n {
			return errors.New("truncated packet record")
		}
		frame := p[16 : 16+n]
		p = p[16+n:]
		if len(frame) < 14 || binary.BigEndian.Uint16(frame[12:]) != 0x0800 {
			continue
		}
		ip := frame[14:]
		if len(ip) < 20 || ip[0]>>4 != 4 || ip[9] != 17 {
			continue
		}
		ihl := int(ip[0]&0xf) * 4
		total := int(binary.BigEndian.Uint16(ip[2:]))
		if ihl < 20 || total < ihl+8 || total > len(ip) {
			continue
		}
		udp := ip[ihl:total]
		ulen := int(binary.BigEndian.Uint16(udp[4:]))
		if ulen < 8 || ulen > len(udp) {
			continue
		}
		_, err := w.Write(udp[8:ulen])
		return err
	}
	return errors.New("no IPv4 UDP packet in capture")
}
