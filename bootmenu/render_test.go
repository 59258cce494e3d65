package bootmenu

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pxekit/pxekit/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s:\n%s", name, file, firstDiff(got, want))
	}
}

func TestRenderDebianGolden(t *testing.T) {
	dir := debianTree(t, "text")
	r := mustResolve(t, os.DirFS(dir), "pxelinux.cfg/default")
	var ipxe, grub, pxe bytes.Buffer
	if err := RenderIPXE(&ipxe, r, &IPXEScriptOptions{BaseURL: "http://192.0.2.1/d-i/", InitrdArg: true}); err != nil {
		t.Fatal(err)
	}
	if err := RenderGRUB(&grub, r, &GRUBOptions{Prefix: "(tftp)"}); err != nil {
		t.Fatal(err)
	}
	if err := RenderPXELinux(&pxe, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "debian-text.ipxe", ipxe.Bytes())
	golden(t, "debian-text.grub.cfg", grub.Bytes())
	golden(t, "debian-text.pxelinux.cfg", pxe.Bytes())
	checkIPXE(t, ipxe.String())
}

var (
	ipxeLabel = regexp.MustCompile(`(?m)^:(\S+)$`)
	ipxeRef   = regexp.MustCompile(`(?m)(?:goto|--default) (\S+)|^item (\S+)`)
)

// checkIPXE checks that every label an iPXE script jumps to or offers as a
// menu item exists, once.
func checkIPXE(t *testing.T, script string) {
	t.Helper()
	if !strings.HasPrefix(script, "#!ipxe\n") {
		t.Errorf("script lacks the #!ipxe signature")
	}
	defined := map[string]int{}
	for _, m := range ipxeLabel.FindAllStringSubmatch(script, -1) {
		defined[m[1]]++
	}
	for l, n := range defined {
		if n != 1 {
			t.Errorf("label %s defined %d times", l, n)
		}
	}
	for _, m := range ipxeRef.FindAllStringSubmatch(script, -1) {
		ref := m[1] + m[2]
		if ref == "${selected}" || ref == "--gap" {
			continue
		}
		if defined[ref] == 0 {
			t.Errorf("reference to undefined label %q in %q", ref, m[0])
		}
	}
}

// TestRenderCorpus renders every real menu as iPXE and GRUB and has GRUB's
// own parser check the GRUB scripts.
func TestRenderCorpus(t *testing.T) {
	check := testenv.NeedCommand(t, "grub-script-check")[0]
	var all []*Resolved
	var names []string
	for _, cf := range corpus(t, "config") {
		full := filepath.Join(corpusDir, cf.name)
		r, err := Resolve(os.DirFS(filepath.Dir(full)), filepath.Base(full), nil)
		if err != nil {
			t.Fatalf("Resolve(%s): %v", cf.name, err)
		}
		all = append(all, r)
		names = append(names, cf.name)
	}
	for _, fl := range []string{"text", "gtk"} {
		all = append(all, mustResolve(t, os.DirFS(debianTree(t, fl)), "pxelinux.cfg/default"))
		names = append(names, "debian "+fl)
	}
	tmp := t.TempDir()
	for i, r := range all {
		var ipxe, grub bytes.Buffer
		if err := RenderIPXE(&ipxe, r, &IPXEScriptOptions{BaseURL: "http://192.0.2.1/x"}); err != nil {
			t.Fatalf("%s: RenderIPXE: %v", names[i], err)
		}
		t.Run(names[i], func(t *testing.T) { checkIPXE(t, ipxe.String()) })
		if err := RenderGRUB(&grub, r, nil); err != nil {
			t.Fatalf("%s: RenderGRUB: %v", names[i], err)
		}
		file := filepath.Join(tmp, "grub.cfg")
		if err := os.WriteFile(file, grub.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(check, file).CombinedOutput(); err != nil {
			t.Errorf("%s: grub-script-check: %v\n%s\n%s", names[i], err, out, grub.String())
		}
	}
}

func TestRenderDetails(t *testing.T) {
	r := mustResolve(t, mapFS("a.cfg", `TIMEOUT 25
MENU TITLE --== Menu ==--
LABEL it's
  MENU LABEL It's ${danger} "quoted"
  KERNEL /boot/vmlinuz
  APPEND initrd=/boot/a.img,/boot/b.img root=LABEL=x ks="a b" $x
LABEL hd
  LOCALBOOT 0
LABEL chain
  KERNEL ::pxelinux.0
LABEL url
  LINUX http://example.invalid/k
LABEL dash
  MENU LABEL --dash || true && x
  LINUX k
`), "a.cfg")
	var ipxe, grub bytes.Buffer
	if err := RenderIPXE(&ipxe, r, &IPXEScriptOptions{BaseURL: "http://h/b/", InitrdArg: true}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"choose --timeout 2500 --default e1-its selected || exit\n",
		"item e1-its It's $ {danger} \"quoted\"\n",
		"kernel http://h/b/boot/vmlinuz initrd=a.img initrd=b.img root=LABEL=x ks=\"a b\" $x || goto menu0\n",
		"initrd --name a.img http://h/b/boot/a.img || goto menu0\n",
		"initrd --name b.img http://h/b/boot/b.img || goto menu0\n",
		":e2-hd\nexit\n",
		"chain http://h/b/pxelinux.0 || goto menu0\n",
		"kernel http://example.invalid/k || goto menu0\n",
		"menu -- --== Menu ==--\n",
		"item e5-dash --dash | | true & & x\n",
	} {
		if !strings.Contains(ipxe.String(), want) {
			t.Errorf("iPXE script lacks %q:\n%s", want, ipxe.String())
		}
	}
	if err := RenderGRUB(&grub, r, &GRUBOptions{Prefix: "(http,h)/b"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"set timeout=3\n",
		"set default=e1-its\n",
		`menuentry 'It'\''s ${danger} "quoted"' --id e1-its {`,
		"\tlinux (http,h)/b/boot/vmlinuz root=LABEL=x 'ks=\"a' 'b\"' '$x'\n",
		"\tinitrd (http,h)/b/boot/a.img (http,h)/b/boot/b.img\n",
		"menuentry hd --id e2-hd {\n\texit\n}\n",
		"# e3-chain: PXE ::pxelinux.0 cannot run under GRUB\n",
		"menuentry ' --dash || true && x' --id e5-dash {\n",
	} {
		if !strings.Contains(grub.String(), want) {
			t.Errorf("GRUB config lacks %q:\n%s", want, grub.String())
		}
	}
}

// TestRenderArchisoPXE renders Arch's own PXE menu: ${pxeserver} must stay
// one word and SYSAPPEND 3 must become ip= and BOOTIF=.
func TestRenderArchisoPXE(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(corpusDir, "github/archiso/configs/releng/syslinux/archiso_pxe-linux.cfg"))
	if err != nil {
		testenv.Unavailable(t, "menu corpus missing: %v", err)
	}
	fsys := fstest.MapFS{"pxelinux.cfg/default": {Data: data}}
	r := mustResolve(t, fsys, "pxelinux.cfg/default")
	var ipxe, grub bytes.Buffer
	if err := RenderIPXE(&ipxe, r, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"archiso_http_srv=http://${pxeserver}/ cms_verify=y ip=${ip}:${next-server}:${gateway}:${netmask} BOOTIF=01-${mac:hexhyp} || goto",
		"archiso_nbd_srv=${pxeserver} ",
	} {
		if !strings.Contains(ipxe.String(), want) {
			t.Errorf("RenderIPXE(archiso_pxe-linux.cfg) lacks %q:\n%s", want, ipxe.String())
		}
	}
	if strings.Contains(ipxe.String(), "$ {") {
		t.Errorf("RenderIPXE split ${…}:\n%s", ipxe.String())
	}
	checkIPXE(t, ipxe.String())
	if err := RenderGRUB(&grub, r, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"BOOTIF=01-${net_default_mac}"`, "IPAPPEND 1", `'archiso_http_srv=http://${pxeserver}/'`} {
		if !strings.Contains(grub.String(), want) {
			t.Errorf("RenderGRUB(archiso_pxe-linux.cfg) lacks %q:\n%s", want, grub.String())
		}
	}
}

// TestRenderDir checks that the iPXE and GRUB renderings name the files
// of an isolinux menu from the root of its tree, taking relative names
// from Resolved.Dir, with no RewritePaths first.
func TestRenderDir(t *testing.T) {
	fsys := mapFS("boot/isolinux/isolinux.cfg", "LABEL a\n KERNEL vmlinuz\n APPEND initrd=initrd.img,/abs/fw.img quiet\n"+
		"LABEL b\n KERNEL ::other/k\n INITRD ../up.img\nLABEL c\n KERNEL http://h/k\n INITRD http://h/i\nLABEL d\n PXE chain.0\n")
	r, err := Resolve(fsys, "boot/isolinux/isolinux.cfg", &ResolveOptions{Dir: "boot/isolinux"})
	if err != nil {
		t.Fatal(err)
	}
	var ipxe, grub, plain bytes.Buffer
	if err := RenderIPXE(&ipxe, r, &IPXEScriptOptions{BaseURL: "http://192.0.2.1/tree/"}); err != nil {
		t.Fatal(err)
	}
	if err := RenderIPXE(&plain, r, nil); err != nil {
		t.Fatal(err)
	}
	if err := RenderGRUB(&grub, r, &GRUBOptions{Prefix: "(tftp)"}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		what, out string
		want      []string
	}{
		{"iPXE", ipxe.String(), []string{
			"kernel http://192.0.2.1/tree/boot/isolinux/vmlinuz quiet ",
			"initrd http://192.0.2.1/tree/boot/isolinux/initrd.img ",
			"initrd http://192.0.2.1/tree/abs/fw.img ",
			"kernel http://192.0.2.1/tree/other/k ",
			"initrd http://192.0.2.1/tree/boot/up.img ",
			"kernel http://h/k ", "initrd http://h/i ",
			"chain http://192.0.2.1/tree/boot/isolinux/chain.0 ",
		}},
		{"iPXE without BaseURL", plain.String(), []string{"kernel boot/isolinux/vmlinuz ", "initrd boot/isolinux/initrd.img ", "initrd abs/fw.img "}},
		{"GRUB", grub.String(), []string{
			"linux (tftp)/boot/isolinux/vmlinuz quiet\n",
			"initrd (tftp)/boot/isolinux/initrd.img (tftp)/abs/fw.img\n",
			"linux (tftp)/other/k\n", "initrd (tftp)/boot/up.img\n",
			"linux http://h/k\n",
		}},
	} {
		for _, w := range tt.want {
			if !strings.Contains(tt.out, w) {
				t.Errorf("%s rendering lacks %q:\n%s", tt.what, w, tt.out)
			}
		}
	}
}
