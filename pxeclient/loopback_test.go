package pxeclient

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeDHCP answers on loopback: it ignores the first drop DISCOVERs, then
// offers 127.0.0.2 with boot file "boot.efi" from 127.0.0.1, NAKs the
// first naks REQUESTs and ACKs the others.
// It records the transaction ID of every DISCOVER in xids.
func fakeDHCP(t *testing.T, drop, naks int32, xids *xidLog) (netip.AddrPort, *atomic.Int32) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	discovers, requests := new(atomic.Int32), new(atomic.Int32)
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			req, err := ParseRequest(buf[:n])
			if err != nil {
				continue
			}
			typ, _ := req.Option(53)
			reply := byte(2)
			if typ[0] == 1 {
				if xids != nil {
					xids.add(binary.BigEndian.Uint32(buf[4:8]))
				}
				if discovers.Add(1) <= drop {
					continue
				}
			} else if requests.Add(1) <= naks {
				reply = 6
			} else {
				reply = 5
			}
			b := fakeReply(buf[:n], reply, [4]byte{127, 0, 0, 2}, "boot.efi", "")
			_, _ = pc.WriteTo(b, from)
		}
	}()
	return netip.MustParseAddrPort(pc.LocalAddr().String()), discovers
}

// fakeReply is a fake server's reply of type mt to req: yiaddr yi,
// siaddr and option 54 127.0.0.1, a /8 mask, and the boot file and
// vendor class (option 60) when not empty.
func fakeReply(req []byte, mt byte, yi [4]byte, file, class string) []byte {
	b := make([]byte, 240)
	b[0], b[1], b[2] = 2, 1, 6
	copy(b[4:8], req[4:8])
	copy(b[16:20], yi[:])
	copy(b[20:24], []byte{127, 0, 0, 1})
	copy(b[28:44], req[28:44])
	copy(b[108:], file)
	copy(b[236:], []byte{99, 130, 83, 99})
	b = append(b, 53, 1, mt, 54, 4, 127, 0, 0, 1, 1, 4, 255, 0, 0, 0)
	if class != "" {
		b = append(b, 60, byte(len(class)))
		b = append(b, class...)
	}
	return append(b, 255)
}

// xidLog is a list of transaction IDs, safe for concurrent use.
type xidLog struct {
	mu   sync.Mutex
	xids []uint32
}

func (l *xidLog) add(x uint32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.xids = append(l.xids, x)
}

// distinct reports how many different IDs the log holds.
func (l *xidLog) distinct() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := map[uint32]bool{}
	for _, x := range l.xids {
		m[x] = true
	}
	return len(m)
}

// fakeTFTP serves boot.efi (size bytes), pxelinux.cfg/default, vmlinuz
// (3007 bytes) and initrd.img (3010 bytes) on loopback, answers "not found" for everything else, and records each read
// request's file name and options.
type fakeTFTP struct {
	mu   sync.Mutex
	rrqs []string
	errs []string // ERROR packets the client sent
}

func (f *fakeTFTP) serve(t *testing.T, size int) uint16 {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			fields := strings.Split(strings.TrimSuffix(string(buf[2:n]), "\x00"), "\x00")
			f.mu.Lock()
			f.rrqs = append(f.rrqs, strings.Join(append(fields[:1:1], fields[2:]...), " "))
			f.mu.Unlock()
			go f.transfer(t, from, fields, size)
		}
	}()
	return uint16(pc.LocalAddr().(*net.UDPAddr).Port)
}

func (f *fakeTFTP) transfer(t *testing.T, to net.Addr, fields []string, size int) {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return
	}
	defer c.Close()
	var body []byte
	switch fields[0] {
	case "boot.efi":
		body = bytes.Repeat([]byte{0xa5}, size)
	case "pxelinux.cfg/default":
		body = []byte("DEFAULT x\nLABEL x\n KERNEL vmlinuz\n INITRD initrd.img\n")
	case "vmlinuz", "initrd.img":
		body = bytes.Repeat([]byte(fields[0][:1]), 3000+len(fields[0]))
	default:
		_, _ = c.WriteTo(append([]byte{0, 5, 0, 1}, "not found\x00"...), to)
		return
	}
	blksize := 512
	var oack []byte
	for i := 2; i+1 < len(fields); i += 2 {
		switch fields[i] {
		case "tsize":
			oack = append(oack, "tsize\x00"+itoa(len(body))+"\x00"...)
		case "blksize":
			blksize = atoi(fields[i+1])
			oack = append(oack, "blksize\x00"+fields[i+1]+"\x00"...)
		}
	}
	buf := make([]byte, 1500)
	recv := func() []byte {
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			return nil
		}
		return buf[:n]
	}
	if oack != nil {
		_, _ = c.WriteTo(append([]byte{0, 6}, oack...), to)
		p := recv()
		if len(p) >= 2 && p[1] == 5 {
			f.mu.Lock()
			f.errs = append(f.errs, fields[0])
			f.mu.Unlock()
			return
		}
	}
	for blk := 1; ; blk++ {
		off := (blk - 1) * blksize
		end := min(off+blksize, len(body))
		pkt := binary.BigEndian.AppendUint16([]byte{0, 3}, uint16(blk))
		_, _ = c.WriteTo(append(pkt, body[off:end]...), to)
		if p := recv(); p == nil {
			return
		}
		if end-off < blksize {
			return
		}
	}
}

func itoa(n int) string { return fmtInt(n) }

func fmtInt(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestLoopbackHabits boots against fake servers on loopback: the DHCP
// server ignores the first DISCOVER, so the client retransmits once after
// Retransmit[0]; the TFTP server records the read requests, which must
// show each firmware's habits.
func TestLoopbackHabits(t *testing.T) {
	for _, tc := range []struct {
		profile string
		rrqs    []string // boot program read requests, in order
		aborted int      // size probes aborted with an ERROR
		loader  string   // the options of the kernel and initrd requests
	}{
		{"ovmf-pxe", []string{"boot.efi tsize 0 blksize 1468 windowsize 4", "boot.efi blksize 1468 windowsize 4"}, 1, "tsize 0 blksize 1408"},
		{"bios-ipxe", []string{"boot.efi tsize 0 blksize 1432"}, 0, "tsize 0 blksize 1408"},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			dhcpAddr, discovers := fakeDHCP(t, 1, 0, nil)
			var tf fakeTFTP
			port := tf.serve(t, 5000)
			pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			conn := NewConn(pc)
			defer conn.Close()
			p, _ := ProfileByName(tc.profile)
			p = p.Scaled(0.05) // 200 ms, 400 ms, …
			c := &Client{Profile: p, MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, Conn: conn, DHCPServer: dhcpAddr, TFTPPort: port}
			start := time.Now()
			rep := c.Boot(t.Context())
			if rep.Err != nil || rep.Stage != StageLoaded {
				t.Fatalf("Boot: stage %q, err %v", rep.Stage, rep.Err)
			}
			if discovers.Load() != 2 || rep.DHCPRetrans != 1 {
				t.Errorf("DISCOVERs sent %d, DHCPRetrans %d; want 2 and 1", discovers.Load(), rep.DHCPRetrans)
			}
			if el := time.Since(start); el < p.Retransmit[0] {
				t.Errorf("boot took %v, less than the first retransmission wait %v", el, p.Retransmit[0])
			}
			if rep.BootBytes != 5000 || rep.ConfigFile != "pxelinux.cfg/default" {
				t.Errorf("boot program %d bytes, config %q; want 5000 and pxelinux.cfg/default", rep.BootBytes, rep.ConfigFile)
			}
			if rep.Kernel != "vmlinuz" || strings.Join(rep.Initrds, " ") != "initrd.img" {
				t.Errorf("loaded kernel %q initrds %q; want vmlinuz and initrd.img", rep.Kernel, rep.Initrds)
			}
			var got []string
			for _, f := range rep.Files {
				got = append(got, fmt.Sprintf("%s %s %d", f.Kind, f.Name, f.Bytes))
			}
			if want := []string{"boot boot.efi 5000", "config pxelinux.cfg/default 53", "kernel vmlinuz 3007", "initrd initrd.img 3010"}; strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("Files = %q, want %q", got, want)
			}
			tf.mu.Lock()
			defer tf.mu.Unlock()
			var boot, images []string
			for _, r := range tf.rrqs {
				if strings.HasPrefix(r, "boot.efi") {
					boot = append(boot, r)
				}
				if (strings.HasPrefix(r, "vmlinuz") || strings.HasPrefix(r, "initrd")) && (len(images) == 0 || images[len(images)-1] != r) {
					images = append(images, r) // a retransmitted request once
				}
			}
			// The loader's habits for the kernel and initrd (no size probe).
			if want := []string{"vmlinuz " + tc.loader, "initrd.img " + tc.loader}; strings.Join(images, "|") != strings.Join(want, "|") {
				t.Errorf("kernel and initrd RRQs = %q, want %q", images, want)
			}
			if strings.Join(boot, "|") != strings.Join(tc.rrqs, "|") {
				t.Errorf("boot program RRQs = %q, want %q", boot, tc.rrqs)
			}
			if len(tf.errs) != tc.aborted {
				t.Errorf("aborted transfers %q, want %d", tf.errs, tc.aborted)
			}
			// The loader's search: every name before "default" was asked
			// (a request retransmitted on a slow machine counts once).
			names := map[string]bool{}
			for _, r := range tf.rrqs {
				if name, _, _ := strings.Cut(r, " "); strings.HasPrefix(name, "pxelinux.cfg/") {
					names[name] = true
				}
			}
			if n := len(names); n != len(rep.ConfigTried)+1 {
				t.Errorf("config names asked %d, want %d tried + 1 found", n, len(rep.ConfigTried))
			}
		})
	}
}

// TestLoopbackNAK: after a DHCPNAK the client starts over with a DISCOVER
// (RFC 2131 §4.4.1) in a new transaction, at most maxNAKs times.
func TestLoopbackNAK(t *testing.T) {
	for _, tc := range []struct {
		naks      int32
		ok        bool
		discovers int32
	}{
		{2, true, 3},
		{10, false, maxNAKs + 1},
	} {
		t.Run(fmtInt(int(tc.naks)), func(t *testing.T) {
			var xids xidLog
			dhcpAddr, discovers := fakeDHCP(t, 0, tc.naks, &xids)
			var tf fakeTFTP
			port := tf.serve(t, 700)
			pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			conn := NewConn(pc)
			defer conn.Close()
			p, _ := ProfileByName("ovmf-pxe")
			c := &Client{Profile: p.Scaled(0.05), MAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, Conn: conn, DHCPServer: dhcpAddr, TFTPPort: port}
			rep := c.Boot(t.Context())
			if ok := rep.Err == nil && rep.Stage == StageLoaded; ok != tc.ok {
				t.Fatalf("Boot with %d NAKs: stage %q, err %v; want success %v", tc.naks, rep.Stage, rep.Err, tc.ok)
			}
			if got := discovers.Load(); got != tc.discovers || rep.NAKs != int(tc.discovers)-map[bool]int{true: 1, false: 0}[tc.ok] {
				t.Errorf("DISCOVERs %d, Report.NAKs %d; want %d DISCOVERs", got, rep.NAKs, tc.discovers)
			}
			// Each start is a new transaction, so that a late OFFER of the
			// address just refused is not taken again.
			if n := xids.distinct(); n != int(tc.discovers) {
				t.Errorf("DISCOVERs used %d transaction IDs, want %d", n, tc.discovers)
			}
		})
	}
}

// TestLoopbackProxyOfferFirst: the proxyDHCP offer comes at once, the
// address only from the DHCP server's answer to the third DISCOVER (a
// busy server). The client keeps asking, as firmware does, instead of
// giving up with the proxy offer alone.
func TestLoopbackProxyOfferFirst(t *testing.T) { loopbackProxy(t, false) }

// TestLoopbackStrayOffer: an OFFER that comes in reply to the REQUEST
// (a late answer to an earlier DISCOVER) is ignored; the ACK behind it
// is taken.
func TestLoopbackStrayOffer(t *testing.T) { loopbackProxy(t, true) }

func loopbackProxy(t *testing.T, stray bool) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	var discovers atomic.Int32
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			req, err := ParseRequest(buf[:n])
			if err != nil {
				continue
			}
			typ, _ := req.Option(53)
			reply := func(mt byte, yi []byte, class string) {
				file := ""
				if class != "" {
					file = "boot.efi"
				}
				_, _ = pc.WriteTo(fakeReply(buf[:n], mt, [4]byte(yi), file, class), from)
			}
			switch typ[0] {
			case 1:
				reply(2, []byte{0, 0, 0, 0}, "PXEClient") // the proxy
				if discovers.Add(1) >= 3 {
					reply(2, []byte{127, 0, 0, 2}, "")
				}
			case 3:
				if stray {
					reply(2, []byte{127, 0, 0, 2}, "") // a late OFFER first
				}
				reply(5, []byte{127, 0, 0, 2}, "")
			}
		}
	}()
	var tf fakeTFTP
	port := tf.serve(t, 700)
	cpc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conn := NewConn(cpc)
	defer conn.Close()
	p, _ := ProfileByName("ovmf-pxe")
	c := &Client{Profile: p.Scaled(0.05), MAC: net.HardwareAddr{2, 0, 0, 0, 0, 3}, Conn: conn,
		DHCPServer: netip.MustParseAddrPort(pc.LocalAddr().String()), TFTPPort: port}
	rep := c.Boot(t.Context())
	if rep.Err != nil || rep.Stage != StageLoaded {
		t.Fatalf("Boot: stage %q, err %v; want loaded", rep.Stage, rep.Err)
	}
	if n := discovers.Load(); n != 3 || rep.DHCPRetrans != 2 {
		t.Errorf("DISCOVERs %d, DHCPRetrans %d; want 3 and 2", n, rep.DHCPRetrans)
	}
}
