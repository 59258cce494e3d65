package bootmenu

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/internal/testenv"
)

// TestRenderIPXEInQEMU runs a script rendered from Debian's netboot menu in
// the iPXE ROM QEMU ships (ipxe-qemu), with QEMU's user-mode network: the
// script comes from QEMU's TFTP server, and iPXE fetches the default
// entry's kernel and initrd over HTTP from a server of this test, which
// the guest reaches at 10.0.2.2. The requests show that iPXE parsed the
// menu, timed out to the default entry and ran its kernel and initrd
// lines.
func TestRenderIPXEInQEMU(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU; skipped with -short")
	}
	qemu := testenv.NeedCommand(t, "qemu-system-x86_64")[0]
	if _, err := os.Stat("/usr/share/qemu/efi-e1000.rom"); err != nil {
		if _, err2 := os.Stat("/usr/lib/ipxe/qemu/efi-e1000.rom"); err2 != nil {
			testenv.Unavailable(t, "ipxe-qemu ROM not installed: %v", err)
		}
	}
	reqs := make(chan string, 16)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case reqs <- r.URL.Path:
		default:
		}
		// A small body that is no kernel: iPXE fetches it, then fails to
		// boot it and goes back to the menu.
		w.Write([]byte(strings.Repeat("pxekit", 64)))
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	r := mustResolve(t, os.DirFS(debianTree(t, "text")), "pxelinux.cfg/default")
	r.Timeout = time.Second // Debian's menu waits for the user
	// A title iPXE would parse as an option unless the renderer ends the
	// options first.
	r.Menu.Title = "--== pxekit ==--"
	var script strings.Builder
	opts := IPXEScriptOptions{BaseURL: "http://10.0.2.2:" + strconv.Itoa(port) + "/d-i", InitrdArg: true}
	if err := RenderIPXE(&script, r, &opts); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "menu.ipxe"), []byte(script.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemu,
		"-accel", "tcg", "-nodefaults", "-display", "none", "-m", "256", "-boot", "n",
		"-netdev", "user,id=n0,tftp="+root+",bootfile=menu.ipxe",
		"-device", "e1000,netdev=n0")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	want := []string{"/d-i/debian-installer/amd64/linux", "/d-i/debian-installer/amd64/initrd.gz"}
	for i, w := range want {
		select {
		case got := <-reqs:
			if got != w {
				t.Fatalf("request %d = %s, want %s", i, got, w)
			}
		case <-ctx.Done():
			t.Fatalf("iPXE made no request for %s in time; script:\n%s", w, script.String())
		}
	}
}
