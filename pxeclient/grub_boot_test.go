//go:build linux

package pxeclient_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/bootmenu"
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
	write("grubaa64.efi", pxeclient.TestGRUB(0xaa64, "/grub"))
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
		{"ARM64 shim", "aavmf-pxe", net.HardwareAddr{0x52, 0x54, 0x00, 0x17, 0x01, 0x03}, pxeclient.LoaderShimGRUB, []string{"shimaa64.efi", "grubaa64.efi"}, "/grub/grub.cfg"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := pxeclient.ProfileByName(tt.profile)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			rep := s.client(t, conn, p, tt.mac).Boot(ctx)
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
			if err := verifyKernel(rep, root); err != nil {
				t.Error(err)
			}
		})
	}
}

// verifyKernel checks that the kernel and initrd arrived intact.
func verifyKernel(rep *pxeclient.Report, root string) error {
	for _, f := range rep.Files {
		if f.Kind != pxeclient.KindKernel && f.Kind != pxeclient.KindInitrd {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, strings.TrimPrefix(f.Name, "/")))
		if err != nil {
			return err
		}
		if f.Bytes != int64(len(b)) || f.CRC32C != pxeclient.CRC32C(b) {
			return &os.PathError{Op: "verify", Path: f.Name, Err: os.ErrInvalid}
		}
	}
	return nil
}
