//go:build linux

package pxeclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pxekit/pxekit/bootmenu"
	"github.com/pxekit/pxekit/internal/testenv"
	"github.com/pxekit/pxekit/pxeclient"
)

// TestBootGRUBMinimalServer boots GRUB and shim → GRUB from minimal-server's
// tree: the client must ask for GRUB's names in GRUB's order under the
// prefix built into the image, find the server's generated grub.cfg (or
// a per-MAC file of the tree first) and load what it boots.
func TestBootGRUBMinimalServer(t *testing.T) {
	s := newSeg(t)
	bin := minimalServer(t)
	root := tree(t)
	write := func(name string, b []byte) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("grubx64.efi", pxeclient.TestGRUB(0x8664, "/grub"))
	write("shimaa64.efi", pxeclient.TestShim(0xaa64))
	// The ARM64 GRUB is built as Debian builds its signed images: with
	// an embedded configuration, which makes no search.
	write("grubaa64.efi", pxeclient.TestGRUB(0xaa64, "/grub", "normal (memdisk)/grub.cfg\n"))
	perMAC := net.HardwareAddr{0x52, 0x54, 0x00, 0x17, 0x01, 0x02}
	write("grub/grub.cfg-01-52-54-00-17-01-02", []byte("set timeout=1\nmenuentry mine {\n  linux /vmlinuz\n  initrd /initrd.img\n}\n"))
	cmd := s.srv.Command(t.Context(), bin, "-iface", s.srvIf, "-range", "10.77.0.100-10.77.0.199", "-root", root, "-http", "10.77.0.1:8080",
		"-efi-boot", "grubx64.efi")
	start(t, cmd, "serving")
	conn := s.conn(t)
	for _, tt := range []struct {
		name, profile string
		mac           net.HardwareAddr
		loader        string
		boots         []string // boot programs loaded, in order
		config        string   // where the search stops
	}{
		{"GRUB", "ovmf-pxe", net.HardwareAddr{0x52, 0x54, 0x00, 0x17, 0x01, 0x01}, pxeclient.LoaderGRUB, []string{"grubx64.efi"}, "/grub/grub.cfg"},
		{"GRUB per MAC", "ovmf-pxe", perMAC, pxeclient.LoaderGRUB, []string{"grubx64.efi"}, "/grub/grub.cfg-01-52-54-00-17-01-02"},
		{"ARM64 shim, Debian's GRUB", "aavmf-pxe", net.HardwareAddr{0x52, 0x54, 0x00, 0x17, 0x01, 0x03}, pxeclient.LoaderShimGRUB, []string{"shimaa64.efi", "grubaa64.efi"}, "/grub/grub.cfg"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := pxeclient.ProfileByName(tt.profile)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			cl := s.client(t, conn, p, tt.mac)
			var asked rrqLog
			listen := cl.ListenPacket
			cl.ListenPacket = func(network, addr string) (net.PacketConn, error) {
				pc, err := listen(network, addr)
				return &rrqConn{PacketConn: pc, log: &asked}, err
			}
			rep := cl.Boot(ctx)
			if rep.Err != nil || rep.Stage != pxeclient.StageLoaded {
				t.Fatalf("Boot: stage %q, error %v; files %+v; tried %q", rep.Stage, rep.Err, rep.Files, rep.ConfigTried)
			}
			if rep.Loader != tt.loader {
				t.Errorf("Loader = %q, want %q", rep.Loader, tt.loader)
			}
			// The server echoes option 97, so GRUB's first name is the
			// UUID the client sent.
			v, _ := p.Discover.Option(97)
			uuid := append([]byte(nil), v[1:]...)
			copy(uuid[10:], tt.mac)
			all := bootmenu.GRUBSearchPath("/grub", bootmenu.SearchClient{UUID: uuid, MAC: tt.mac, IP: rep.Addr.Addr()})
			platform := "x86_64-efi"
			if tt.profile == "aavmf-pxe" {
				all, platform = []string{"/grub/grub.cfg"}, "arm64-efi" // no search
			}
			i := slices.Index(all, tt.config)
			if i < 0 || !slices.Equal(rep.ConfigTried, all[:i]) || rep.ConfigFile != tt.config {
				t.Errorf("config %q after %q; want %q after %q", rep.ConfigFile, rep.ConfigTried, tt.config, all[:max(i, 0)])
			}
			var boots, rest []string
			for _, f := range rep.Files {
				if f.Kind == pxeclient.KindBoot {
					boots = append(boots, f.Name)
					b, err := os.ReadFile(filepath.Join(root, f.Name))
					if err != nil || f.Bytes != int64(len(b)) || f.CRC32C != pxeclient.CRC32C(b) {
						t.Errorf("boot program %s: %d bytes, CRC32C %08x; the tree's: %d, %v", f.Name, f.Bytes, f.CRC32C, len(b), err)
					}
					continue
				}
				rest = append(rest, f.Kind+" "+strings.TrimPrefix(f.Name, "/"))
			}
			if !slices.Equal(boots, tt.boots) {
				t.Errorf("boot programs %q, want %q", boots, tt.boots)
			}
			if want := []string{"config " + strings.TrimPrefix(tt.config, "/"), "kernel vmlinuz", "initrd initrd.img"}; !slices.Equal(rest, want) {
				t.Errorf("then loaded %q, want %q", rest, want)
			}
			t.Logf("%s: %q, then %q after %d names", tt.name, boots, rest, len(rep.ConfigTried))

			// What the client asked for, in order, and the server
			// answered: each boot program twice (EDK2's size probe),
			// the names tried, the configuration, GRUB's module lists,
			// kernel and initrd.
			var want []string
			for _, b := range tt.boots {
				want = append(want, b+" aborted", b+" ok")
			}
			for _, n := range rep.ConfigTried {
				want = append(want, strings.TrimPrefix(n, "/")+" not-found")
			}
			lists := []string{"command.lst", "fs.lst", "crypto.lst", "terminal.lst"}
			if tt.profile == "aavmf-pxe" { // the embedded script: lists first
				for _, l := range lists {
					want = append(want, "grub/"+platform+"/"+l+" not-found")
				}
			}
			want = append(want, strings.TrimPrefix(tt.config, "/")+" ok")
			if tt.profile != "aavmf-pxe" {
				for _, l := range lists {
					want = append(want, "grub/"+platform+"/"+l+" not-found")
				}
			}
			want = append(want, "vmlinuz ok", "initrd.img ok")
			var files []string
			for _, w := range want {
				files = append(files, w[:strings.IndexByte(w, ' ')])
			}
			if got := asked.names(); !slices.Equal(got, files) {
				t.Errorf("the client asked for\n%q\nwant\n%q", got, files)
			}
			// The server's transfers end in an order of their own
			// (events of concurrent goroutines): compare them sorted.
			var got []string
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				got = s.recent(t, tt.mac)
				if len(got) >= len(want) {
					break
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("the server's timeline has\n%q\nwant\n%q", got, want)
			}
			if err := verifyKernel(rep, root); err != nil {
				t.Error(err)
			}
		})
	}
	// ARM64 UEFI HTTP boot gets the same shim by URL; shim loads GRUB
	// beside it over HTTP, and GRUB reads everything from the server's
	// root over HTTP: no search there.
	t.Run("ARM64 HTTP boot, shim, Debian's GRUB", func(t *testing.T) {
		p, _ := pxeclient.ProfileByName("aavmf-http")
		mac := net.HardwareAddr{0x52, 0x54, 0x00, 0x17, 0x01, 0x04}
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		rep := s.client(t, conn, p, mac).Boot(ctx)
		if rep.Err != nil || rep.Stage != pxeclient.StageLoaded || rep.Loader != pxeclient.LoaderShimGRUB {
			t.Fatalf("Boot: stage %q, loader %q, error %v; files %+v", rep.Stage, rep.Loader, rep.Err, rep.Files)
		}
		const base = "http://10.77.0.1:8080/"
		if len(rep.ConfigTried) != 0 || rep.ConfigFile != base+"grub/grub.cfg" {
			t.Errorf("config %q after %q, want %sgrub/grub.cfg after nothing", rep.ConfigFile, rep.ConfigTried, base)
		}
		var files []string
		for _, f := range rep.Files {
			files = append(files, f.Kind+" "+f.Name)
		}
		if want := []string{"boot " + base + "shimaa64.efi", "boot " + base + "grubaa64.efi", "config " + base + "grub/grub.cfg",
			"kernel " + base + "vmlinuz", "initrd " + base + "initrd.img"}; !slices.Equal(files, want) {
			t.Errorf("loaded\n%q\nwant\n%q", files, want)
		}
		if err := verifyKernel(rep, root); err != nil {
			t.Error(err)
		}
		want := []string{"shimaa64.efi ok", "grubaa64.efi ok", "grub/grub.cfg ok", "vmlinuz ok", "initrd.img ok"}
		for _, l := range []string{"command.lst", "fs.lst", "crypto.lst", "terminal.lst"} {
			want = append(want, "grub/arm64-efi/"+l+" not-found")
		}
		var got []string
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if got = s.recent(t, mac); len(got) >= len(want) {
				break
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("the server's timeline has\n%q\nwant\n%q", got, want)
		}
	})
}

// rrqLog records the file names of the TFTP read requests a client
// sends, in order.
type rrqLog struct {
	mu    sync.Mutex
	files []string
}

func (l *rrqLog) names() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.files...)
}

// rrqConn is a client socket that logs the read requests written to it.
type rrqConn struct {
	net.PacketConn
	log *rrqLog
}

func (c *rrqConn) WriteTo(b []byte, to net.Addr) (int, error) {
	if len(b) > 2 && b[0] == 0 && b[1] == 1 { // RRQ
		if name, _, ok := bytes.Cut(b[2:], []byte{0}); ok {
			c.log.mu.Lock()
			c.log.files = append(c.log.files, strings.TrimPrefix(string(name), "/"))
			c.log.mu.Unlock()
		}
	}
	return c.PacketConn.WriteTo(b, to)
}

// recent returns the transfers minimal-server's timeline holds for mac
// (status.json's recent), as "file outcome".
func (s *seg) recent(t *testing.T, mac net.HardwareAddr) []string {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (c net.Conn, err error) {
		err = s.cli.Do(func() error {
			c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}}}
	resp, err := hc.Get("http://10.77.0.1:8080/_pxekit/status.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Machines []struct {
			MAC    string `json:"mac"`
			Recent []struct {
				File    string `json:"file"`
				Outcome string `json:"outcome"`
			} `json:"recent"`
		} `json:"machines"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range st.Machines {
		if m.MAC == mac.String() {
			for _, r := range m.Recent {
				out = append(out, strings.TrimPrefix(r.File, "/")+" "+r.Outcome)
			}
		}
	}
	return out
}

// verifyKernel checks that the kernel and initrd arrived intact.
func verifyKernel(rep *pxeclient.Report, root string) error {
	for _, f := range rep.Files {
		if f.Kind != pxeclient.KindKernel && f.Kind != pxeclient.KindInitrd {
			continue
		}
		name := f.Name
		if u, err := url.Parse(name); err == nil && u.Scheme != "" {
			name = u.Path
		}
		b, err := os.ReadFile(filepath.Join(root, strings.TrimPrefix(name, "/")))
		if err != nil {
			return err
		}
		if f.Bytes != int64(len(b)) || f.CRC32C != pxeclient.CRC32C(b) {
			return &os.PathError{Op: "verify", Path: f.Name, Err: os.ErrInvalid}
		}
	}
	return nil
}

// TestBootDebianGRUBMinimalServer boots the signed netboot GRUB of
// Debian 12's installer (package debian-installer-12-netboot-amd64) as
// ovmf-pxe from minimal-server, and checks the client's requests against
// what that GRUB itself asked for under OVMF in the end-to-end test
// TestBootPaths/uefi-pxe-grub (the server's timeline, seen there): the size probe and
// the program, its module lists, then the configuration under its
// prefix, no search, then kernel and initrd.
func TestBootDebianGRUBMinimalServer(t *testing.T) {
	const debGRUB = "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64/grubx64.efi"
	b, err := os.ReadFile(debGRUB)
	if err != nil {
		testenv.Unavailable(t, "%v", err)
		return
	}
	s := newSeg(t)
	bin := minimalServer(t)
	root := tree(t)
	if err := os.WriteFile(filepath.Join(root, "grubx64.efi"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	start(t, s.srv.Command(t.Context(), bin, "-iface", s.srvIf, "-range", "10.77.0.100-10.77.0.199", "-root", root, "-http", "10.77.0.1:8080",
		"-efi-boot", "grubx64.efi"), "serving")
	p, _ := pxeclient.ProfileByName("ovmf-pxe")
	cl := s.client(t, s.conn(t), p, net.HardwareAddr{0x52, 0x54, 0x00, 0x17, 0x02, 0x01})
	var asked rrqLog
	listen := cl.ListenPacket
	cl.ListenPacket = func(network, addr string) (net.PacketConn, error) {
		pc, err := listen(network, addr)
		return &rrqConn{PacketConn: pc, log: &asked}, err
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	rep := cl.Boot(ctx)
	if rep.Err != nil || rep.Stage != pxeclient.StageLoaded || rep.Loader != pxeclient.LoaderGRUB {
		t.Fatalf("Boot: stage %q, loader %q, error %v", rep.Stage, rep.Loader, rep.Err)
	}
	const dir = "debian-installer/amd64/grub/"
	want := []string{"grubx64.efi", "grubx64.efi",
		dir + "x86_64-efi/command.lst", dir + "x86_64-efi/fs.lst", dir + "x86_64-efi/crypto.lst", dir + "x86_64-efi/terminal.lst",
		dir + "grub.cfg", "vmlinuz", "initrd.img"}
	if got := asked.names(); !slices.Equal(got, want) {
		t.Errorf("the client asked for\n%q\nwant (as the real GRUB did)\n%q", got, want)
	}
	if len(rep.ConfigTried) != 0 || rep.ConfigFile != "/"+dir+"grub.cfg" {
		t.Errorf("config %q after %q, want /%sgrub.cfg after nothing", rep.ConfigFile, rep.ConfigTried, dir)
	}
	if err := verifyKernel(rep, root); err != nil {
		t.Error(err)
	}
}
