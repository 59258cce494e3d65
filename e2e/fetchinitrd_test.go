package e2e

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pxekit/pxekit/internal/testenv"
)

// nicModules are the modules the test initrd loads for QEMU's
// virtio-net-pci NIC, taken from debianInitrd (of the same package as
// debianKernel, whose NIC drivers are modules); their dependencies are
// added from each module's .modinfo section.
var nicModules = []string{"virtio_pci", "virtio_net"}

// fetchRule tells the test initrd where the kernel command line names the
// file it must download, the way one family's initramfs reads it.
type fetchRule struct {
	param string // the parameter whose value holds the URL ("fetch", "inst.stage2")
	// strip is a prefix the value must carry and that is removed from it
	// ("live:" of root=live:URL); without it the parameter names no URL.
	strip string
	// dirSuffix, when set, is appended to a value that names a directory
	// (anything not ending in .img, .iso, .sfs or .squashfs), as
	// anaconda's inst.stage2=URL finds images/install.img under it.
	dirSuffix string
	// treeinfo: the directory's .treeinfo, when it can be fetched, names
	// the file instead in its [stage2] mainimage (the first "mainimage ="
	// line, as anaconda's dracut hook reads it), relative to the
	// directory; dirSuffix is the file without one.
	treeinfo bool
	// base names a second parameter whose value, then tail, follow the
	// first one's, as archiso builds <archiso_http_srv><archisobasedir>
	// /x86_64/airootfs.sfs.
	base, tail string
	// match, when set, is a shell pattern the URL must match ("*.iso":
	// casper loop-mounts only what ends in .iso).
	match string
	// require lists words that must be on the command line (ip=dhcp where
	// the family's initramfs brings the network up only when told) and
	// parameters that must name HTTP URLs ("alpine_repo=").
	require []string
	// forbid lists parameters that must be gone, such as local selectors
	// that would send the family's initramfs searching local disks
	// ("archisosearchuuid=").
	forbid []string
}

// script returns the shell code of /init that sets $url from
// /proc/cmdline, or prints why not and leaves it empty.
func (r fetchRule) script() string {
	var b strings.Builder
	b.WriteString("cmdline=$(cat /proc/cmdline)\nv=\nbase=\nn=0\nbad=\n")
	b.WriteString("for arg in $cmdline; do\n\tcase \"$arg\" in\n")
	fmt.Fprintf(&b, "\t%s=*) v=\"${arg#%s=}\"; n=$((n+1)) ;;\n", r.param, r.param)
	if r.base != "" {
		fmt.Fprintf(&b, "\t%s=*) base=\"${arg#%s=}\" ;;\n", r.base, r.base)
	}
	b.WriteString("\tesac\ndone\n")
	fmt.Fprintf(&b, "[ $n -gt 1 ] && { say \"%s is given $n times\"; bad=1; }\n", r.param)
	for _, w := range r.require {
		if strings.HasSuffix(w, "=") {
			fmt.Fprintf(&b, "case \" $cmdline \" in *\" %shttp://\"*) ;; *) say \"no %s<http URL> on the command line\"; bad=1 ;; esac\n", w, w)
		} else {
			fmt.Fprintf(&b, "case \" $cmdline \" in *\" %s \"*) ;; *) say \"no %s on the command line\"; bad=1 ;; esac\n", w, w)
		}
	}
	for _, w := range r.forbid {
		fmt.Fprintf(&b, "case \" $cmdline \" in *\" %s\"*) say \"%s is still on the command line\"; bad=1 ;; esac\n", w, w)
	}
	if r.strip != "" {
		fmt.Fprintf(&b, "case \"$v\" in %s*) v=\"${v#%s}\" ;; *) v= ;; esac\n", r.strip, r.strip)
	}
	switch {
	case r.dirSuffix != "":
		fmt.Fprintf(&b, "case \"$v\" in *.img|*.iso|*.sfs|*.squashfs) url=\"$v\" ;; \"\") url= ;; *) url=\"${v%%/}%s\" ;; esac\n", r.dirSuffix)
		if r.treeinfo {
			b.WriteString(`case "$url" in http://*)
	case "$v" in *.img|*.iso|*.sfs|*.squashfs) ;; *)
		if wget -q -O /tmp/treeinfo "${v%/}/.treeinfo"; then
			m=$(sed -n 's/^mainimage *= *//p' /tmp/treeinfo | head -n 1)
			say ".treeinfo names mainimage '$m'"
			[ -n "$m" ] && url="${v%/}/$m"
		fi ;;
	esac ;;
esac
`)
		}
	case r.base != "":
		fmt.Fprintf(&b, "url=\"$v$base%s\"\n", r.tail)
		fmt.Fprintf(&b, "[ -n \"$v\" ] && [ -n \"$base\" ] || url=\n")
	default:
		b.WriteString("url=\"$v\"\n")
	}
	if r.match != "" {
		fmt.Fprintf(&b, "case \"$url\" in %s) ;; *) say \"URL $url does not match %s\"; bad=1 ;; esac\n", r.match, r.match)
	}
	fmt.Fprintf(&b, "case \"$url\" in http://*) ;; *) say \"no HTTP URL from %s on the command line (got '$url')\"; bad=1 ;; esac\n", r.param)
	return b.String()
}

// dhcpScript is the udhcpc event script of the test initrd: it configures
// the leased address and, when given, the default route.
const dhcpScript = `#!/bin/sh
case "$1" in
bound|renew)
	ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
	if [ -n "$router" ]; then set -- $router; route add default gw "$1" dev "$interface"; fi
	echo "pxekit-init: lease $ip on $interface"
	;;
esac
`

// buildFetchInitrd writes a gzip-compressed initramfs to dst whose /init
// (busybox sh) loads the NIC's modules, gets an address with busybox
// udhcpc, finds a URL on /proc/cmdline by rule, downloads it with busybox
// wget, prints "sha256=<hash>" of what it got to /dev/ttyS0 and then, on
// every path, marker, and powers the machine off.
func buildFetchInitrd(t testing.TB, dst string, rule fetchRule, marker string) {
	t.Helper()
	bb := testenv.NeedCommand(t, "busybox")[0]
	bin, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(bin[:min(len(bin), 4096)], []byte("/lib64/ld-linux")) {
		testenv.Unavailable(t, "%s is not statically linked (install busybox-static)", bb)
	}
	mods := nicModuleFiles(t)
	var insmod strings.Builder
	entries := []cpioEntry{
		{name: "bin", mode: sIFDIR | 0o755},
		{name: "sbin", mode: sIFDIR | 0o755},
		{name: "usr", mode: sIFDIR | 0o755},
		{name: "usr/bin", mode: sIFDIR | 0o755},
		{name: "usr/sbin", mode: sIFDIR | 0o755},
		{name: "dev", mode: sIFDIR | 0o755},
		{name: "dev/console", mode: sIFCHR | 0o600, rdev: [2]uint32{5, 1}},
		{name: "proc", mode: sIFDIR | 0o755},
		{name: "sys", mode: sIFDIR | 0o755},
		{name: "tmp", mode: sIFDIR | 0o1777},
		{name: "lib", mode: sIFDIR | 0o755},
		{name: "lib/modules", mode: sIFDIR | 0o755},
		{name: "bin/busybox", mode: sIFREG | 0o755, data: bin},
		{name: "bin/dhcp-event", mode: sIFREG | 0o755, data: []byte(dhcpScript)},
	}
	for _, m := range mods {
		entries = append(entries, cpioEntry{name: "lib/modules/" + m.name + ".ko", mode: sIFREG | 0o644, data: m.data})
		fmt.Fprintf(&insmod, "insmod /lib/modules/%s.ko || say \"insmod %s failed\"\n", m.name, m.name)
	}
	init := `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t devtmpfs devtmpfs /dev
mount -t sysfs sysfs /sys
exec >/dev/ttyS0 2>&1
say() { echo "pxekit-init: $*"; }
finish() { echo "` + marker + `"; sync; poweroff -f; }
say "cmdline: $(cat /proc/cmdline)"
` + insmod.String() + `ifc=
for i in $(seq 50); do
	for n in /sys/class/net/*; do n=${n##*/}; [ "$n" = lo ] || ifc=$n; done
	[ -n "$ifc" ] && break
	usleep 100000
done
[ -n "$ifc" ] || { say "no network interface"; finish; }
ip link set "$ifc" up
udhcpc -i "$ifc" -f -q -n -t 10 -T 2 -s /bin/dhcp-event || { say "no DHCP lease on $ifc"; finish; }
` + rule.script() + `[ -n "$bad" ] && finish
say "fetching $url"
wget -q -O /tmp/fetched "$url" || { say "wget $url failed"; finish; }
set -- $(sha256sum /tmp/fetched)
echo "sha256=$1"
finish
`
	entries = append(entries, cpioEntry{name: "init", mode: sIFREG | 0o755, data: []byte(init)})
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err := writeCPIO(zw, entries); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("test initrd %s: %d bytes gzip, %d modules", filepath.Base(dst), buf.Len(), len(mods))
}

// kmod is one kernel module taken from Debian's netboot initrd.
type kmod struct {
	name    string
	depends []string
	data    []byte
}

var (
	kmodOnce sync.Once
	kmodAll  map[string]kmod
	kmodErr  error
)

// nicModuleFiles returns nicModules and every module they depend on, in
// an order insmod can load them (each after its dependencies), read from
// Debian's netboot initrd once per test process.
func nicModuleFiles(t testing.TB) []kmod {
	t.Helper()
	if _, err := os.Stat(debianInitrd); err != nil {
		testenv.Unavailable(t, "%s is missing (install debian-installer-12-netboot-amd64)", debianInitrd)
	}
	cpio := testenv.NeedCommand(t, "cpio")[0]
	kmodOnce.Do(func() { kmodAll, kmodErr = readModules(cpio, debianInitrd) })
	if kmodErr != nil {
		t.Fatalf("modules of %s: %v", debianInitrd, kmodErr)
	}
	var order []kmod
	seen := map[string]bool{}
	var visit func(name string, depth int)
	visit = func(name string, depth int) {
		if seen[name] {
			return
		}
		if depth > 16 {
			t.Fatalf("module dependencies deeper than 16 at %s", name)
		}
		m, ok := kmodAll[name]
		if !ok {
			t.Fatalf("%s has no module %s", debianInitrd, name)
		}
		seen[name] = true
		for _, d := range m.depends {
			visit(d, depth+1)
		}
		order = append(order, m)
	}
	for _, n := range nicModules {
		visit(n, 0)
	}
	return order
}

// readModules unpacks every .ko of the gzip-compressed initrd with cpio
// into a scratch directory and reads each one's name and dependencies from
// its ELF .modinfo section (NUL-separated key=value strings; what modinfo
// prints as "depends").
func readModules(cpio, initrd string) (map[string]kmod, error) {
	dir, err := os.MkdirTemp("", "pxekit-e2e-kmod")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	f, err := os.Open(initrd)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// gzip(1) unpacks the 40 MB in a fraction of the time compress/gzip
	// takes under the race detector.
	var stdin io.Reader
	if gz, err := testenv.LookPath("gzip"); err == nil {
		unzip := exec.Command(gz, "-dc")
		unzip.Stdin = f
		out, err := unzip.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := unzip.Start(); err != nil {
			return nil, err
		}
		defer unzip.Wait()
		stdin = out
	} else if stdin, err = gzip.NewReader(f); err != nil {
		return nil, err
	}
	cmd := exec.Command(cpio, "-i", "-d", "--quiet", "--no-absolute-filenames", "*.ko")
	cmd.Dir, cmd.Stdin = dir, stdin
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("cpio -i: %v: %s", err, out)
	}
	mods := map[string]kmod{}
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".ko") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		ef, err := elf.NewFile(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		m := kmod{name: strings.ReplaceAll(strings.TrimSuffix(filepath.Base(p), ".ko"), "-", "_"), data: data}
		if s := ef.Section(".modinfo"); s != nil {
			info, err := s.Data()
			if err != nil {
				return fmt.Errorf("%s: .modinfo: %w", p, err)
			}
			for kv := range bytes.SplitSeq(info, []byte{0}) {
				k, v, _ := strings.Cut(string(kv), "=")
				switch k {
				case "name":
					m.name = v
				case "depends":
					if v != "" {
						m.depends = strings.Split(v, ",")
					}
				}
			}
		}
		mods[m.name] = m
		return nil
	})
	return mods, err
}

// TestNICModules checks the module set the test initrd loads: every
// dependency comes before the module that needs it, and virtio_net's
// known dependencies are there.
func TestNICModules(t *testing.T) {
	mods := nicModuleFiles(t)
	pos := map[string]int{}
	for i, m := range mods {
		pos[m.name] = i
	}
	for _, m := range mods {
		for _, d := range m.depends {
			if p, ok := pos[d]; !ok || p > pos[m.name] {
				t.Errorf("%s depends on %s, which is not loaded before it", m.name, d)
			}
		}
	}
	var names []string
	for _, m := range mods {
		names = append(names, m.name)
	}
	for _, want := range []string{"virtio_net", "virtio_pci", "virtio_ring", "virtio", "net_failover", "failover"} {
		if !slices.Contains(names, want) {
			t.Errorf("module set %v lacks %s", names, want)
		}
	}
	if names[len(names)-1] != "virtio_net" {
		t.Errorf("module set %v: virtio_net is not last", names)
	}
}
