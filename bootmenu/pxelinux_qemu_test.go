package bootmenu

import (
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/internal/testenv"
)

// TestSearchPathPXELinux boots the real pxelinux.0 in QEMU (TCG, user-mode
// network with QEMU's built-in DHCP and TFTP, no root needed) and checks
// that it picks the configuration file SearchPath predicts. Each run
// offers only the names from one position of the list on, so the file
// pxelinux loads shows it tried that name before all later ones.
func TestSearchPathPXELinux(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU; skipped with -short")
	}
	qemu := testenv.NeedCommand(t, "qemu-system-x86_64")[0]
	pxelinux, ldlinux := "/usr/lib/PXELINUX/pxelinux.0", "/usr/lib/syslinux/modules/bios/ldlinux.c32"
	for _, f := range []string{pxelinux, ldlinux} {
		if _, err := os.Stat(f); err != nil {
			testenv.Unavailable(t, "pxelinux not installed: %v", err)
		}
	}
	mac := net.HardwareAddr{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	// QEMU's user-mode DHCP server hands out 10.0.2.15 first. The
	// machine's UUID is the nil UUID (qemuUUID), which pxelinux skips:
	// SearchPath must too, or its first name is one pxelinux never asks
	// for.
	names := SearchPath(SearchClient{UUID: make([]byte, 16), MAC: mac, IP: netip.MustParseAddr("10.0.2.15")})
	for _, from := range []int{0, 1, 5} {
		want := names[from]
		t.Run(filepath.Base(want), func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			if err := os.Mkdir(filepath.Join(root, "pxelinux.cfg"), 0o755); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{pxelinux, ldlinux} {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(root, filepath.Base(f)), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			// Each offered file makes pxelinux try to boot a kernel named
			// after the file and say so on the serial port.
			for _, n := range names[from:] {
				cfg := "SERIAL 0 115200\nPROMPT 0\nDEFAULT pxekit-" + filepath.Base(n) + "\n"
				if err := os.WriteFile(filepath.Join(root, n), []byte(cfg), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got := bootPXELinux(t, qemu, root, mac)
			if got != "pxekit-"+filepath.Base(want) {
				t.Errorf("pxelinux loaded pxelinux.cfg/%s, SearchPath says %s first among %q", got, want, names[from:])
			}
		})
	}

	// pxelinux reads a menu rendered by RenderPXELinux and boots its
	// default entry from the rewritten path.
	t.Run("rendered menu", func(t *testing.T) {
		t.Parallel()
		r := mustResolve(t, os.DirFS(debianTree(t, "text")), "pxelinux.cfg/default")
		r.RewritePaths(func(_ PathKind, p string) string { return "pxekit-d-i/" + p })
		r.UI, r.Default, r.Prompt, r.Timeout = "", "rescue", false, 0
		var b strings.Builder
		b.WriteString("SERIAL 0 115200\n")
		if err := RenderPXELinux(&b, r); err != nil {
			t.Fatal(err)
		}
		root := t.TempDir()
		files := map[string]string{"pxelinux.cfg/default": b.String(), "pxelinux.0": pxelinux, "ldlinux.c32": ldlinux}
		for name, content := range files {
			if strings.HasPrefix(content, "/") {
				data, err := os.ReadFile(content)
				if err != nil {
					t.Fatal(err)
				}
				content = string(data)
			}
			os.MkdirAll(filepath.Join(root, filepath.Dir(name)), 0o755)
			if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		// "rescue" is in the Advanced options submenu.
		if got, want := bootPXELinux(t, qemu, root, mac), "pxekit-d-i/debian-installer/amd64/linux"; got != want {
			t.Errorf("pxelinux booted %s, want %s", got, want)
		}
	})

	// pxelinux loads the first initrd= of the command line only, which
	// for a global APPEND initrd= and a label's INITRD is the global one:
	// Entry.Initrds must name what it loaded.
	t.Run("first initrd", func(t *testing.T) {
		t.Parallel()
		cfg := "SERIAL 0 115200\nPROMPT 0\nAPPEND initrd=pxekit-g.img\nDEFAULT a\nLABEL a\n KERNEL pxekit-k\n INITRD pxekit-i2.img\n"
		r, err := ResolveConfig(nil, mustParse(t, cfg), "default", nil)
		if err != nil {
			t.Fatal(err)
		}
		want := r.Menu.Entry("a").Initrds()
		root := t.TempDir()
		files := map[string]string{"pxelinux.cfg/default": cfg, "pxelinux.0": pxelinux, "ldlinux.c32": ldlinux,
			// Not a kernel: pxelinux loads it and the initrds, then
			// fails to boot it and returns to its prompt.
			"pxekit-k": "not a kernel", "pxekit-g.img": "g", "pxekit-i2.img": "i2"}
		for name, content := range files {
			if strings.HasPrefix(content, "/") {
				data, err := os.ReadFile(content)
				if err != nil {
					t.Fatal(err)
				}
				content = string(data)
			}
			os.MkdirAll(filepath.Join(root, filepath.Dir(name)), 0o755)
			if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		out := pxelinuxSerial(t, qemu, root, mac, func(s string) bool {
			i := strings.Index(s, "Loading pxekit-k")
			return i >= 0 && strings.Contains(s[i:], "boot: ")
		})
		var loaded []string
		for _, m := range initrdLoadRE.FindAllStringSubmatch(out, -1) {
			loaded = append(loaded, m[1])
		}
		if !slices.Equal(loaded, want) {
			t.Errorf("pxelinux loaded initrds %q, Entry.Initrds() = %q; serial output:\n%s", loaded, want, out)
		}
	})
}

// initrdLoadRE matches pxelinux loading an initrd: "Loading NAME...ok".
var initrdLoadRE = regexp.MustCompile(`Loading (pxekit-\S+\.img)\.\.\.ok`)

// pxelinux writes "Loading NAME... failed" or "Loading NAME failed".
var loadingRE = regexp.MustCompile(`Loading (\S+?)(?:\.\.\.)? `)

// bootPXELinux boots pxelinux.0 from root and returns the kernel name it
// tried to load, "" if it stopped at the boot prompt without loading one.
func bootPXELinux(t *testing.T, qemu, root string, mac net.HardwareAddr) string {
	t.Helper()
	b := pxelinuxSerial(t, qemu, root, mac, func(s string) bool {
		return loadingRE.MatchString(s) || strings.Contains(s, "boot: ")
	})
	if m := loadingRE.FindStringSubmatch(b); m != nil {
		return m[1]
	}
	t.Logf("serial output:\n%s", b)
	return ""
}

// qemuUUID is the SMBIOS UUID of the machines pxelinux boots in: the nil
// UUID (pxelinux reads it from option 97 or from SMBIOS).
const qemuUUID = "00000000-0000-0000-0000-000000000000"

// pxelinuxSerial boots pxelinux.0 from root in QEMU and returns its serial
// output once done reports true for it.
func pxelinuxSerial(t *testing.T, qemu, root string, mac net.HardwareAddr, done func(string) bool) string {
	t.Helper()
	serial := filepath.Join(t.TempDir(), "serial.log")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemu,
		"-accel", "tcg", "-nodefaults", "-display", "none", "-m", "256", "-uuid", qemuUUID,
		"-serial", "file:"+serial, "-boot", "n",
		"-netdev", "user,id=n0,tftp="+root+",bootfile=pxelinux.0",
		"-device", "e1000,netdev=n0,mac="+mac.String())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	for ctx.Err() == nil {
		time.Sleep(250 * time.Millisecond)
		b, _ := os.ReadFile(serial)
		if done(string(b)) {
			return string(b)
		}
	}
	b, _ := os.ReadFile(serial)
	t.Fatalf("pxelinux did not get there within the time limit; serial output:\n%s", b)
	return ""
}
