package pxeclient

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/pxekit/pxekit/bootmenu"
)

// Stage names, in the order a boot passes them; [Report.Stage] is the last
// one reached.
const (
	StageNone      = ""
	StageOffer     = "offer"
	StageAck       = "ack"
	StageProxy     = "proxy"
	StageBoot      = "boot program"
	StageConfig    = "config found"
	StageLoaded    = "loaded"
	stageProxyPort = 4011
)

// maxNAKs bounds how often a boot starts DHCP over after a DHCPNAK.
const maxNAKs = 3

// Client is one emulated machine. Set Profile, MAC and Conn; the other
// fields are optional. A Client boots once per [Client.Boot] call; distinct
// Clients may boot concurrently over one [Conn].
type Client struct {
	// Profile is the firmware to behave like.
	Profile *Profile
	// MAC is the machine's hardware address (chaddr, option 61).
	MAC net.HardwareAddr
	// UUID replaces option 97's 16 bytes when it is 16 bytes long.
	// Otherwise the captured UUID is sent with its last six bytes (the
	// node field) set to MAC, so that machines differ there as real ones
	// do: a server that tells clients apart by option 97 sees one machine
	// per MAC, not one for the whole storm.
	UUID []byte
	// Conn is the DHCP socket.
	Conn *Conn
	// Broadcast sets the BOOTP broadcast flag even where the firmware
	// leaves it clear (iPXE), for sockets that cannot receive a unicast
	// reply before their address is configured.
	Broadcast bool
	// OnLease, if set, is called with the leased address before anything
	// else is fetched; when it returns nil, TFTP and HTTP requests are sent
	// from that address. A storm tool adds the address to its interface
	// here. Without OnLease the kernel picks the source address.
	OnLease func(ctx context.Context, addr netip.Prefix) error
	// DHCPServer is where DISCOVER and REQUEST go; the zero value means
	// broadcast, 255.255.255.255:67.
	DHCPServer netip.AddrPort
	// TFTPPort is the boot server's TFTP port; 0 means 69.
	TFTPPort uint16
	// HTTPClient is used for HTTP downloads; nil means one whose
	// connections come from the leased address (when OnLease succeeded)
	// through Dial.
	HTTPClient *http.Client
	// ListenPacket opens the UDP sockets for TFTP and port 4011; nil means
	// [net.ListenPacket]. Tests use it to open sockets in a namespace.
	ListenPacket func(network, address string) (net.PacketConn, error)
	// Dial opens TCP connections for HTTP when HTTPClient is nil; nil
	// means a [net.Dialer] with the leased address as its local address.
	Dial func(ctx context.Context, network, laddr, raddr string) (net.Conn, error)
	// NoLoad stops the boot at [StageConfig], before the kernel and
	// initrds.
	NoLoad bool
}

// Report is the outcome of one boot, stage by stage. Durations are zero for
// stages not reached.
type Report struct {
	Profile string
	MAC     net.HardwareAddr
	// Stage is the last stage reached (see StageOffer…StageLoaded).
	Stage string
	// Err is why the boot stopped before StageLoaded (StageConfig with
	// [Client.NoLoad]); nil on success.
	Err error
	// Offer is DISCOVER→first usable OFFER, Ack REQUEST→ACK, Proxy the
	// port-4011 REQUEST→ACK (zero if not done).
	Offer, Ack, Proxy time.Duration
	// Addr is the leased address.
	Addr netip.Prefix
	// Server is the boot server (TFTP) address, BootFile the boot program
	// as named by the server (a URL for HTTP).
	Server   netip.Addr
	BootFile string
	// Boot is the boot program's transfer time (including a size probe),
	// BootBytes its size.
	Boot      time.Duration
	BootBytes int64
	// Loader is what searched the configuration: LoaderPXELinux,
	// LoaderIPXE (the boot file was the script), LoaderGRUB or
	// LoaderShimGRUB; "" if the boot stopped before.
	Loader string
	// Config is the time from the end of the boot program to the first
	// configuration found, ConfigFile its name, ConfigBytes its size, and
	// ConfigTried the names asked for before it.
	Config      time.Duration
	ConfigFile  string
	ConfigBytes int64
	ConfigTried []string
	// Load is the time from the configuration found to the end of the
	// last initrd; Kernel and Initrds are the names loaded, as asked for
	// (TFTP paths or URLs).
	Load    time.Duration
	Kernel  string
	Initrds []string
	// Files are the files loaded, in order: the boot program, the
	// configuration and any file it includes or chains to, the kernel,
	// the initrds. Names not found during the configuration search are
	// in ConfigTried, not here.
	Files []File
	// DHCPRetrans and TFTPRetrans count retransmissions, NAKs the DHCPNAKs
	// answered to a REQUEST (each starts DHCP over, at most maxNAKs times).
	DHCPRetrans, TFTPRetrans int
	NAKs                     int
	// Total is the whole boot.
	Total time.Duration
}

// Boot runs the firmware's boot until the kernel and initrds are loaded or
// ctx ends: DHCP (with proxyDHCP and port 4011 as the profile says), the
// boot program over TFTP or HTTP, the pxelinux configuration search in
// [bootmenu.SearchPath] order (for iPXE, a boot file that is an iPXE script
// is the configuration), and the files the configuration boots by default
// (see the package documentation). It always returns a report; rep.Err
// says why it stopped early.
func (c *Client) Boot(ctx context.Context) (rep *Report) {
	start := time.Now()
	rep = &Report{Profile: c.Profile.Name, MAC: c.MAC}
	defer func() { rep.Total = time.Since(start) }()
	if err := c.boot(ctx, rep); err != nil {
		rep.Err = err
	}
	return rep
}

type reply struct {
	b    []byte
	yi   netip.Addr
	si   netip.Addr
	file string
	opts map[uint8][]byte
}

func parseReply(b []byte) (*reply, error) {
	if len(b) < 240 || b[236] != 99 || b[237] != 130 || b[238] != 83 || b[239] != 99 {
		return nil, ErrMalformed
	}
	r := &reply{b: b, opts: make(map[uint8][]byte)}
	r.yi = netip.AddrFrom4([4]byte(b[16:20]))
	r.si = netip.AddrFrom4([4]byte(b[20:24]))
	file := b[108:236]
	if i := bytes.IndexByte(file, 0); i >= 0 {
		file = file[:i]
	}
	r.file = string(file)
	o := b[240:]
	for len(o) > 0 {
		if o[0] == 0 {
			o = o[1:]
			continue
		}
		if o[0] == 255 {
			break
		}
		if len(o) < 2 || len(o) < 2+int(o[1]) {
			return nil, ErrMalformed
		}
		r.opts[o[0]] = append(r.opts[o[0]], o[2:2+int(o[1])]...) // RFC 3396 concatenation
		o = o[2+int(o[1]):]
	}
	if v := r.opts[67]; len(v) > 0 {
		r.file = strings.TrimRight(string(v), "\x00")
	}
	return r, nil
}

func (r *reply) msgType() uint8 {
	if v := r.opts[53]; len(v) == 1 {
		return v[0]
	}
	return 0
}

func (r *reply) serverID() netip.Addr {
	if v := r.opts[54]; len(v) == 4 {
		return netip.AddrFrom4([4]byte(v))
	}
	return r.si
}

func (r *reply) class() string { return string(r.opts[60]) }

// bootServer is where the boot program is fetched from over TFTP.
func (r *reply) bootServer() netip.Addr {
	if r.si.IsValid() && !r.si.IsUnspecified() {
		return r.si
	}
	if a, err := netip.ParseAddr(string(r.opts[66])); err == nil && a.Is4() {
		return a
	}
	return r.serverID()
}

// message builds a client message of type typ from the profile's options,
// with this client's identity and extra options put right after option 53.
func (c *Client) message(typ uint8, xid uint32, secs uint16, ciaddr netip.Addr, extra []Option) []byte {
	d := c.Profile.Discover
	b := make([]byte, 240, 576)
	b[0], b[1], b[2] = 1, d.HType, byte(len(c.MAC))
	binary.BigEndian.PutUint32(b[4:], xid)
	binary.BigEndian.PutUint16(b[8:], secs)
	flags := d.Flags
	if c.Broadcast {
		flags |= 0x8000
	}
	binary.BigEndian.PutUint16(b[10:], flags)
	if ciaddr.Is4() {
		a := ciaddr.As4()
		copy(b[12:16], a[:])
	}
	copy(b[28:44], c.MAC)
	copy(b[236:], []byte{99, 130, 83, 99})
	put := func(code uint8, v []byte) { b = append(append(b, code, byte(len(v))), v...) }
	if _, ok := d.Option(53); !ok {
		put(53, []byte{typ})
		for _, e := range extra {
			put(e.Code, e.Value)
		}
	}
	for _, o := range d.Options {
		v := o.Value
		switch o.Code {
		case 53:
			put(53, []byte{typ})
			for _, e := range extra {
				put(e.Code, e.Value)
			}
			continue
		case 50, 54:
			continue
		case 61:
			if len(v) > 0 && v[0] == d.HType {
				v = append([]byte{d.HType}, c.MAC...)
			}
		case 97:
			if u := c.uuid(); u != nil && len(v) == 17 {
				v = append([]byte{v[0]}, u...)
			}
		}
		put(o.Code, v)
	}
	return append(b, 255)
}

// uuid returns the machine's UUID as option 97 sends it (see
// [Client.UUID]), or nil when the profile sends none.
func (c *Client) uuid() []byte {
	v, ok := c.Profile.Discover.Option(97)
	if !ok || len(v) != 17 {
		return nil
	}
	if len(c.UUID) == 16 {
		return c.UUID
	}
	u := append([]byte(nil), v[1:]...)
	if len(c.MAC) == 6 {
		copy(u[10:], c.MAC)
	}
	return u
}

var broadcast = netip.AddrPortFrom(netip.AddrFrom4([4]byte{255, 255, 255, 255}), 67)

// exchange sends msg(secs) on the profile's schedule until accept returns
// true for a reply, or the schedule or ctx ends. After a first reply that
// accept does not take it keeps collecting for linger, and then stops if
// usable (nil: always) says the replies so far will do; else it sends
// again, as firmware that got only a proxyDHCP offer asks again. With
// linger 0 a reply accept does not take is ignored.
func (c *Client) exchange(ctx context.Context, ch <-chan []byte, rep *Report, to netip.AddrPort, msg func(secs uint16) []byte, accept func(*reply) (done bool), linger time.Duration, usable func() bool) error {
	start := time.Now()
	got, gotAny := false, false
	for i, wait := range c.Profile.Retransmit {
		if i > 0 {
			rep.DHCPRetrans++
		}
		if err := c.Conn.send(msg(uint16(time.Since(start)/time.Second)), to); err != nil {
			return fmt.Errorf("pxeclient: send: %w", err)
		}
		t := time.NewTimer(wait)
		for {
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case b, ok := <-ch:
				if !ok {
					t.Stop()
					return errConnClosed
				}
				r, err := parseReply(b)
				if err != nil || !bytes.Equal(r.b[28:28+len(c.MAC)], c.MAC) {
					continue
				}
				if accept(r) {
					t.Stop()
					return nil
				}
				if linger <= 0 {
					continue // a stray reply (another OFFER): wait on
				}
				if !got {
					got, gotAny = true, true
					t.Reset(linger) // keep collecting offers for a while
				}
				continue
			case <-t.C:
			}
			break
		}
		if got && (usable == nil || usable()) {
			return nil
		}
		// Nothing to boot with yet (a proxyDHCP offer, no address):
		// firmware asks again, as it does when no offer came.
		got = false
	}
	if gotAny {
		return nil // the caller says what was missing
	}
	return errors.New("pxeclient: no answer")
}

func (c *Client) boot(ctx context.Context, rep *Report) error {
	p := c.Profile
	var (
		xid uint32
		ch  <-chan []byte
		err error
	)
	// newXID starts a transaction: a new ID, so that replies to an
	// earlier one (offers of an address since given away) are not taken.
	newXID := func() error {
		if ch != nil {
			c.Conn.unsubscribe(xid)
		}
		var xb [4]byte
		_, _ = rand.Read(xb[:])
		xid = binary.BigEndian.Uint32(xb[:])
		ch, err = c.Conn.subscribe(xid)
		return err
	}
	defer func() {
		if ch != nil {
			c.Conn.unsubscribe(xid)
		}
	}()

	bootable := func(r *reply) bool {
		if p.HTTP {
			return strings.HasPrefix(r.class(), "HTTPClient") && r.file != ""
		}
		return strings.HasPrefix(r.class(), "PXEClient") || r.file != ""
	}
	dst := broadcast
	if c.DHCPServer.IsValid() {
		dst = c.DHCPServer
	}
	tftpPort := c.TFTPPort
	if tftpPort == 0 {
		tftpPort = 69
	}
	var addrOffer, bootOffer, ack *reply
	var t1 time.Time
	for attempt := 0; ; attempt++ {
		// DISCOVER → OFFERs.
		if err := newXID(); err != nil {
			return err
		}
		addrOffer, bootOffer, ack = nil, nil, nil
		t0 := time.Now()
		err = c.exchange(ctx, ch, rep, dst, func(secs uint16) []byte { return c.message(1, xid, secs, netip.Addr{}, nil) },
			func(r *reply) bool {
				if r.msgType() != 2 {
					return false
				}
				if rep.Offer == 0 {
					rep.Offer = time.Since(t0)
				}
				if r.yi.IsValid() && !r.yi.IsUnspecified() {
					if addrOffer == nil {
						addrOffer = r
					}
					if bootOffer == nil && r.file != "" && bootable(r) {
						bootOffer = r
					}
				} else if bootOffer == nil && bootable(r) {
					bootOffer = r // proxyDHCP offer
				}
				return addrOffer != nil && bootOffer != nil
			}, p.OfferWait, func() bool { return addrOffer != nil && bootOffer != nil })
		if err != nil {
			return fmt.Errorf("discover: %w", err)
		}
		if addrOffer == nil {
			return errors.New("discover: no offer with an address")
		}
		if bootOffer == nil {
			return errors.New("discover: no offer with a boot file")
		}
		rep.Stage = StageOffer

		// REQUEST → ACK.
		yi, sid := addrOffer.yi.As4(), addrOffer.serverID().As4()
		extra := []Option{{54, sid[:]}, {50, yi[:]}}
		t1 = time.Now()
		err = c.exchange(ctx, ch, rep, dst, func(secs uint16) []byte { return c.message(3, xid, secs, netip.Addr{}, extra) },
			func(r *reply) bool {
				switch r.msgType() {
				case 5:
					ack = r
					return true
				case 6:
					ack = r
					return true
				}
				return false
			}, 0, nil)
		if err == nil && ack == nil {
			err = errors.New("no ACK")
		}
		if err != nil {
			return fmt.Errorf("request: %w", err)
		}
		if ack.msgType() == 6 {
			// RFC 2131 §4.4.1: after a NAK the client starts over with
			// a DISCOVER (a server offered an address it then gave to
			// another client).
			rep.NAKs++
			if attempt < maxNAKs {
				continue
			}
			return fmt.Errorf("request: NAK %q (%d times)", ack.opts[56], rep.NAKs)
		}
		break
	}
	rep.Ack = time.Since(t1)
	bits := 24
	if m := ack.opts[1]; len(m) == 4 {
		ones, _ := net.IPMask(m).Size()
		bits = ones
	}
	rep.Addr = netip.PrefixFrom(ack.yi, bits)
	rep.Stage = StageAck
	src := netip.IPv4Unspecified()
	if c.OnLease != nil {
		if err := c.OnLease(ctx, rep.Addr); err != nil {
			return fmt.Errorf("lease: %w", err)
		}
		src = rep.Addr.Addr()
	}
	boot := bootOffer
	if bootOffer == addrOffer && ack.file != "" {
		boot = ack
	}

	// proxyDHCP: REQUEST to port 4011.
	if bootOffer != addrOffer && !p.HTTP && (p.Proxy4011 || bootOffer.file == "") {
		t2 := time.Now()
		r, err := c.proxyRequest(ctx, src, bootOffer, rep)
		if err != nil {
			return fmt.Errorf("proxy 4011: %w", err)
		}
		rep.Proxy = time.Since(t2)
		boot = r
		rep.Stage = StageProxy
	}
	if boot.file == "" {
		return errors.New("no boot file")
	}
	rep.BootFile, rep.Server = boot.file, boot.bootServer()

	// Boot program.
	t3 := time.Now()
	var prog bytes.Buffer
	isURL := strings.HasPrefix(boot.file, "http://") || strings.HasPrefix(boot.file, "https://")
	hc := c.httpClient(src)
	// program loads name as the firmware loads its boot program (and
	// shim, through the firmware, its second stage).
	program := func(name string, w io.Writer) (int64, error) {
		switch {
		case isURL && (p.HTTP || p.IPXE):
			return httpGet(ctx, hc, name, w)
		case p.HTTP:
			return 0, fmt.Errorf("HTTP boot got %q, not a URL", name)
		}
		server := netip.AddrPortFrom(rep.Server, tftpPort)
		if p.TFTP.Probe {
			r, err := tftpGet(ctx, c.listen, src, server, name, p.TFTP, true, p.TFTPTimeout, p.TFTPRetries, io.Discard)
			rep.TFTPRetrans += r.retrans
			if err != nil {
				return 0, fmt.Errorf("size probe: %w", err)
			}
		}
		h := p.TFTP
		if h.Probe {
			h.Tsize = false
		}
		r, err := tftpGet(ctx, c.listen, src, server, name, h, false, p.TFTPTimeout, p.TFTPRetries, w)
		rep.TFTPRetrans += r.retrans
		return r.bytes, err
	}
	n, err := program(boot.file, &prog)
	rep.BootBytes = n
	if err != nil {
		return fmt.Errorf("boot program: %w", err)
	}
	rep.Boot = time.Since(t3)
	rep.Stage = StageBoot
	rep.Files = append(rep.Files, File{Kind: KindBoot, Name: boot.file, Bytes: rep.BootBytes, CRC32C: CRC32C(prog.Bytes()), Time: rep.Boot})

	// shim loads GRUB from its own directory; GRUB then searches its
	// configuration under its prefix.
	grubFile := boot.file
	ld := parseEFILoader(prog.Bytes())
	if ld.shim {
		grubFile = sibling(boot.file, shimSecondStage(ld.machine))
		t := time.Now()
		var second bytes.Buffer
		n, err := program(grubFile, &second)
		if err != nil {
			return fmt.Errorf("shim's second stage %s: %w", grubFile, err)
		}
		rep.Files = append(rep.Files, File{Kind: KindBoot, Name: grubFile, Bytes: n, CRC32C: CRC32C(second.Bytes()), Time: time.Since(t)})
		if ld = parseEFILoader(second.Bytes()); !ld.grub {
			return fmt.Errorf("shim's second stage %s: %w", grubFile, ErrNotGRUB)
		}
		rep.Loader = LoaderShimGRUB
	} else if ld.grub {
		rep.Loader = LoaderGRUB
	}

	// Configuration.
	t4 := time.Now()
	prefix := string(boot.opts[210])
	if prefix == "" {
		if i := strings.LastIndexByte(boot.file, '/'); i >= 0 && !isURL {
			prefix = boot.file[:i+1]
		}
	}
	f := &fetcher{c: c, ctx: ctx, rep: rep, src: src, hc: hc, tftpPort: tftpPort, prefix: prefix}
	if isURL {
		u, err := url.Parse(boot.file)
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		u.Path = path.Dir(u.Path)
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		u.RawQuery, u.Fragment = "", ""
		f.base = u
	}
	var names, lists []string
	switch {
	case ld.grub:
		var uuid []byte
		if v := ack.opts[97]; len(v) == 17 {
			uuid = v[1:] // GRUB reads the ACK's option 97, not its own
		}
		names, lists, err = f.grubSearch(ld, grubFile, isURL, bootmenu.SearchClient{UUID: uuid, MAC: c.MAC, IP: rep.Addr.Addr()})
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		if ld.grubConfig {
			// Normal mode starts (reading its lists) before the
			// embedded script names the configuration.
			if err := f.grubLists(lists); err != nil {
				return err
			}
			lists = nil
		}
	case p.IPXE && bytes.HasPrefix(prog.Bytes(), []byte("#!ipxe")):
		rep.Loader = LoaderIPXE
		rep.ConfigFile, rep.ConfigBytes = boot.file, int64(prog.Len())
		rep.Config = time.Since(t4)
		rep.Stage = StageConfig
		if c.NoLoad {
			return nil
		}
		return f.load(boot.file, prog.Bytes())
	default:
		rep.Loader = LoaderPXELinux
		names = bootmenu.SearchPath(bootmenu.SearchClient{
			ConfigFile:   string(boot.opts[209]),
			UUID:         c.uuid(),
			HardwareType: p.Discover.HType,
			MAC:          c.MAC,
			IP:           rep.Addr.Addr(),
		})
	}
	for _, name := range names {
		var cfg bytes.Buffer
		file, err := f.get(name, "config", &cfg, maxConfigSize)
		if errors.Is(err, ErrNotFound) {
			rep.ConfigTried = append(rep.ConfigTried, file.Name)
			continue
		}
		if err != nil {
			return fmt.Errorf("config %s: %w", file.Name, err)
		}
		if err := f.grubLists(lists); err != nil {
			return err
		}
		rep.ConfigFile, rep.ConfigBytes = file.Name, file.Bytes
		rep.Config = time.Since(t4)
		rep.Stage = StageConfig
		if c.NoLoad {
			return nil
		}
		return f.load(name, cfg.Bytes())
	}
	return fmt.Errorf("config: none of %d names found", len(names))
}

// proxyRequest sends a REQUEST to port 4011 of the proxy server from a
// socket of its own and waits for the ACK on the profile's schedule.
func (c *Client) proxyRequest(ctx context.Context, src netip.Addr, offer *reply, rep *Report) (*reply, error) {
	pc, err := c.listen(src)
	if err != nil {
		return nil, err
	}
	defer pc.Close()
	stop := context.AfterFunc(ctx, func() { _ = pc.SetReadDeadline(time.Now()) })
	defer stop()
	var xb [4]byte
	_, _ = rand.Read(xb[:])
	xid := binary.BigEndian.Uint32(xb[:])
	msg := c.message(3, xid, 0, src, nil)
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(offer.serverID(), stageProxyPort))
	buf := make([]byte, 1500)
	for i, wait := range c.Profile.Retransmit {
		if i > 0 {
			rep.DHCPRetrans++
		}
		if _, err := pc.WriteTo(msg, to); err != nil {
			return nil, err
		}
		deadline := time.Now().Add(wait)
		for {
			_ = pc.SetReadDeadline(deadline)
			n, _, err := pc.ReadFrom(buf)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if err != nil {
				break
			}
			r, err := parseReply(append([]byte(nil), buf[:n]...))
			if err != nil || binary.BigEndian.Uint32(r.b[4:]) != xid || r.msgType() != 5 {
				continue
			}
			return r, nil
		}
	}
	return nil, errors.New("no ACK")
}

func (c *Client) httpClient(src netip.Addr) *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		laddr := ""
		if !src.IsUnspecified() {
			laddr = netip.AddrPortFrom(src, 0).String()
		}
		if c.Dial != nil {
			return c.Dial(ctx, network, laddr, addr)
		}
		d := &net.Dialer{}
		if laddr != "" {
			d.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
		}
		return d.DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: &http.Transport{DialContext: dial, MaxIdleConnsPerHost: 1}}
}

func (c *Client) listen(src netip.Addr) (net.PacketConn, error) {
	addr := netip.AddrPortFrom(src, 0).String()
	if c.ListenPacket != nil {
		return c.ListenPacket("udp4", addr)
	}
	return net.ListenPacket("udp4", addr)
}

func httpGet(ctx context.Context, hc *http.Client, u string, w io.Writer) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return 0, fmt.Errorf("%w: %s", ErrNotFound, u)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("pxeclient: GET %s: %s", u, resp.Status)
	}
	return io.Copy(w, resp.Body)
}
