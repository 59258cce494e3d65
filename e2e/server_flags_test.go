package e2e

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pxekit/pxekit/internal/testenv"
)

// TestNoPrivilege runs the server as an unprivileged user: it must say
// that binding the ports needs root or CAP_NET_BIND_SERVICE, and exit
// with a non-zero status.
func TestNoPrivilege(t *testing.T) {
	t.Parallel()
	setpriv := testenv.NeedCommand(t, "setpriv")[0]
	l := newLab(t)
	bin := serverBinary(t)
	// The binary lives in a private temporary directory; nobody must be
	// able to run it.
	if err := os.Chmod(l.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pub := l.dir + "/minimal-server"
	copyFile(t, bin, pub)
	if err := os.Chmod(pub, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := l.ns.Command(ctx, setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", pub, "-iface", labBridge)
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err == nil || !errorsAs(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("unprivileged run: err %v, want a non-zero exit; output:\n%s", err, out)
	}
	if !strings.Contains(string(out), "needs root or CAP_NET_BIND_SERVICE") {
		t.Errorf("unprivileged run says:\n%s\nwant it to say it needs root or CAP_NET_BIND_SERVICE", out)
	}
}

func errorsAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}

// TestEmbeddedDefault starts the server without any flag: it must print
// what it serves and where, and serve its embedded iPXE menu over HTTP,
// and shut down cleanly on SIGINT.
func TestEmbeddedDefault(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	bin := serverBinary(t)
	d := l.start(bin)
	d.waitOutput(t, readyLine, 20*time.Second)
	l.requireNote("serving", "files~embedded default", "dhcp=proxyDHCP", "address="+labServerIP, "http=http://"+labServerIP+":8080/")
	if _, err := os.Stat(debUndionly); err == nil {
		l.requireNote("programs", "programs~undionly.kpxe")
	}

	curl := testenv.NeedCommand(t, "curl")[0]
	body := l.ns.MustRun(t, curl, "-sS", "--noproxy", "*", "-m", "10", "http://"+labServerIP+":8080/boot.ipxe")
	if !strings.HasPrefix(string(body), "#!ipxe") || !strings.Contains(string(body), "sanboot") {
		t.Errorf("GET boot.ipxe = %q, want the embedded iPXE menu", body)
	}
	d.stop()
	// A clean stop is exit status 0 (the last line, "stopped", is only
	// its rendering), and the ports closed.
	if !d.exited() || d.cmd.ProcessState.ExitCode() != 0 {
		t.Errorf("after SIGINT: exited %v, state %v; want a clean exit 0", d.exited(), d.cmd.ProcessState)
	}
	if out, err := l.ns.Command(t.Context(), curl, "-sS", "--noproxy", "*", "-m", "5", "http://"+labServerIP+":8080/boot.ipxe").CombinedOutput(); err == nil {
		t.Errorf("after the stop the HTTP port still answers: %s", out)
	}
}

// TestTreeWinsOverGenerated checks, with curl as TFTP and HTTP client, that
// a file present in the served tree wins over the one the server generates
// from isolinux.cfg, and that the generated ones are served otherwise.
func TestTreeWinsOverGenerated(t *testing.T) {
	t.Parallel()
	curl := testenv.NeedCommand(t, "curl")[0]
	l := newLab(t)
	root := l.mkdir("tree")
	l.isoTree(root)
	const handGRUB = "# hand-written grub.cfg\nset timeout=1\n"
	writeFile(t, root+"/grub/grub.cfg", handGRUB)
	l.pxekit("-proxy", "-root", root)

	get := func(url string) string {
		return l.ns.MustRun(t, curl, "-sS", "--noproxy", "*", "-m", "10", url)
	}
	for _, url := range []string{"tftp://" + labServerIP + "/grub/grub.cfg", "http://" + labServerIP + ":8080/grub/grub.cfg"} {
		if got := get(url); got != handGRUB {
			t.Errorf("%s = %q, want the tree's own file %q", url, got, handGRUB)
		}
	}
	// GRUB's prefix elsewhere, pxelinux's per-MAC name and the iPXE script
	// are generated.
	for url, want := range map[string]string{
		"tftp://" + labServerIP + "/debian-installer/amd64/grub/grub.cfg": "linux /install/vmlinuz",
		"tftp://" + labServerIP + "/pxelinux.cfg/01-52-54-00-12-34-56":    "install/vmlinuz",
		"http://" + labServerIP + ":8080/boot.ipxe":                       "#!ipxe",
	} {
		if got := get(url); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want a generated file containing %q", url, got, want)
		}
	}
}

// TestISOWithoutBootPrograms serves an image that, like a distribution's
// ISO, has an isolinux configuration but no pxelinux.0: the server must
// offer Debian's pxelinux.0 and ldlinux.c32 from this machine for it, and
// still serve the image's own files and the menus generated from it.
func TestISOWithoutBootPrograms(t *testing.T) {
	t.Parallel()
	curl := testenv.NeedCommand(t, "curl")[0]
	l := newLab(t)
	src := l.mkdir("tree")
	l.isoTree(src)
	for _, f := range []string{"pxelinux.0", "ldlinux.c32"} {
		if err := os.Remove(src + "/" + f); err != nil {
			t.Fatal(err)
		}
	}
	iso := l.makeISO(src)
	l.pxekit("-proxy", "-iso", iso)
	l.requireNote("serving", "bios_boot=pxelinux.0")

	want, err := os.ReadFile(debPxelinux)
	if err != nil {
		t.Fatal(err)
	}
	got := l.ns.MustRun(t, curl, "-sS", "-m", "10", "tftp://"+labServerIP+"/pxelinux.0")
	if got != string(want) {
		t.Errorf("tftp pxelinux.0: got %d bytes, want the %d of %s", len(got), len(want), debPxelinux)
	}
	if got := l.ns.MustRun(t, curl, "-sS", "-m", "10", "tftp://"+labServerIP+"/isolinux/menu.cfg"); got != isolinuxMenuCfg {
		t.Errorf("tftp isolinux/menu.cfg = %q, want the image's file", got)
	}
	if got := l.ns.MustRun(t, curl, "-sS", "-m", "10", "tftp://"+labServerIP+"/pxelinux.cfg/default"); !strings.Contains(got, "install/vmlinuz") {
		t.Errorf("tftp pxelinux.cfg/default = %q, want the menu generated from the image", got)
	}
}
