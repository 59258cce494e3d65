package netboot

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/pxekit/pxekit/bootmenu"
)

// Names of the generated boot configurations. pxelinux and GRUB also get
// theirs under every other name they ask for (see [Boot.Open]).
const (
	PXELinuxConfig = "pxelinux.cfg/default"
	IPXEScript     = "boot.ipxe"
	GRUBConfig     = "grub/grub.cfg"
)

// Options configure [New]. The zero value serves the tree and its menus
// as they are.
type Options struct {
	// Programs holds boot programs served where the tree has none, such
	// as Files(DebianPrograms()): distribution images carry isolinux.bin
	// but no pxelinux.0. Nil: none.
	Programs fs.FS

	// HTTPBase is the URL clients fetch the served tree from, such as
	// "http://192.0.2.1:8080/". Kernel command lines that must name this
	// server (a live system's root file system) need its host; the
	// generated iPXE script loads kernels and initrds relative to its own
	// URL, so it works without. Empty: no HTTP.
	HTTPBase string

	// Host is the address clients reach this server at (an IP address:
	// several initramfs downloaders cannot resolve names), put into the
	// URLs of kernel command lines when HTTPBase names no host. Empty:
	// HTTPBase's host.
	Host string

	// Image is the name under which the whole image file is served (in
	// the tree or in Programs), for families whose initramfs downloads
	// the image itself (casper): it must end in ".iso". Empty: none.
	Image string

	// Family, if set, is used instead of [DetectFamily]'s answer; Plain
	// turns the kernel line rewriting off: entries are served as the
	// image writes them.
	Family *Family
	Plain  bool

	// Append holds kernel arguments of the operator's own, added to every
	// Linux entry; each replaces the image's argument of the same name.
	Append string

	// Default names the entry (its LABEL) booted when nobody chooses, and
	// Timeout how long every generated menu waits before booting it.
	// Fleets have no keyboard: an image's own "timeout 0" waits forever.
	// Empty and zero keep the image's settings.
	Default string
	Timeout time.Duration

	// Machine, if set, decides per machine what it boots: an entry of
	// the menu, a kernel of its own, or its local disk (see [Plan] and
	// [Boot.Decider]). Nil: every machine gets the menu.
	Machine MachineFunc

	// Logger receives what New found and what it could not use; nil
	// discards.
	Logger *slog.Logger
}

// Boot is a boot tree turned into what the network serves: the tree
// itself, the boot configurations generated from its isolinux/syslinux
// menu (or its GRUB configuration) in the formats each loader reads, and boot programs where the tree
// has none, as one read-only [fs.FS] (give it to tftp.Server{FS: b} and
// to an HTTP file server unchanged), and the boot program choice over
// that same file system ([Boot.Policy]). It is safe for concurrent use.
type Boot struct {
	tree, programs fs.FS
	gen            map[string][]byte
	ownPXELinux    bool // the tree has its own pxelinux.cfg/default
	config         string
	menu           *bootmenu.Resolved
	warnings       []string
	httpBase       string
	machine        MachineFunc
	plans          plans
	family         *Family
	shim           string // the tree's signed x86-64 shim, see findShim
	log            *slog.Logger
}

// New reads the boot configuration of tree (see [bootmenu.FindConfig])
// and renders it as a pxelinux menu, an iPXE script and a GRUB
// configuration. A tree without an isolinux/syslinux/pxelinux
// configuration but with a GRUB one (see [bootmenu.FindGRUBConfig]), as
// Ubuntu 22.04+, Fedora 37+ and RHEL 9 images are, gets its menus from
// that ([bootmenu.ResolveGRUB]); the tree's own grub.cfg is still served
// under its own name, the generated one under every other */grub.cfg
// (see [Boot.Lookup]). A tree with neither is served as it is, with a
// warning ([Boot.Warnings]); a configuration that cannot be read is an
// error.
func New(tree fs.FS, opts *Options) (*Boot, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Boot{tree: tree, programs: o.Programs, gen: map[string][]byte{}, httpBase: o.HTTPBase, machine: o.Machine, log: log}
	if st, err := fs.Stat(tree, PXELinuxConfig); err == nil && st.Mode().IsRegular() {
		b.ownPXELinux = true
	}
	b.shim = findShim(tree)
	name, dir, r, err := findMenu(tree)
	if errors.Is(err, bootmenu.ErrNoConfig) {
		b.warn(log, "no isolinux/syslinux/pxelinux or GRUB configuration in the tree: no menus generated, the tree is served as it is")
		return b, nil
	}
	if err != nil {
		return nil, err
	}
	b.config, b.menu = name, r
	if len(r.Warnings) > 0 {
		// syslinux passes over missing INCLUDE files too; GRUB script
		// is read, not run (see bootmenu.ResolveGRUB).
		for _, w := range r.Warnings {
			log.Debug("boot menu", "file", name, "warning", w)
		}
		log.Info("boot menu: skipped what the boot loader would skip, or what only it can decide (debug level lists it)", "file", name, "warnings", len(r.Warnings))
	}
	if err := b.unattended(r, o, log); err != nil {
		return nil, err
	}
	// isolinux looks files up relative to its configuration's directory;
	// the generated configurations name them from the root of the tree.
	r.RewritePaths(func(_ bootmenu.PathKind, p string) string {
		if n, ok := bootmenu.FSPath(dir, p); ok {
			return "/" + n
		}
		return p // a URL
	})
	if err := b.netbootEntries(r, o, log); err != nil {
		return nil, err
	}
	if err := b.render(r, log); err != nil {
		return nil, err
	}
	log.Info("boot menu", "from", name, "entries", len(r.Menu.Entries), "generated", strings.Join(b.Generated(), ","))
	return b, nil
}

// findMenu reads the tree's isolinux/syslinux/pxelinux menu, or, for
// trees without one (Ubuntu 22.04 and later, Fedora 37 and later, RHEL 9
// boot only through GRUB), its GRUB configuration. It returns
// bootmenu.ErrNoConfig for a tree with neither.
func findMenu(tree fs.FS) (name, dir string, r *bootmenu.Resolved, err error) {
	name, dir, err = bootmenu.FindConfig(tree)
	switch {
	case err == nil:
		r, err = bootmenu.Resolve(tree, name, &bootmenu.ResolveOptions{Dir: dir})
	case errors.Is(err, bootmenu.ErrNoConfig):
		var gerr error
		name, gerr = bootmenu.FindGRUBConfig(tree)
		if errors.Is(gerr, bootmenu.ErrNoGRUBConfig) {
			return "", "", nil, err
		}
		if gerr != nil {
			return "", "", nil, fmt.Errorf("netboot: %w", gerr)
		}
		// GRUB names every file from the root of the image.
		dir = ""
		r, err = bootmenu.ResolveGRUB(tree, name, nil)
	default:
		return "", "", nil, fmt.Errorf("netboot: %w", err)
	}
	if err != nil {
		return "", "", nil, fmt.Errorf("netboot: reading %s: %w", name, err)
	}
	return name, dir, r, nil
}

func (b *Boot) warn(log *slog.Logger, msg string, args ...any) {
	log.Warn(msg, args...)
	b.warnings = append(b.warnings, msg)
}

// netbootEntries rewrites the kernel line of every Linux entry so that
// the booted system fetches the rest of itself from this server (see
// [Family.Rewrite]), and adds Options.Append.
func (b *Boot) netbootEntries(r *bootmenu.Resolved, o Options, log *slog.Logger) error {
	var linux []*bootmenu.Entry
	for _, e := range r.Menu.All() {
		if e.IsLinux() && osKernel(e.Kernel) {
			linux = append(linux, e)
		}
	}
	if len(linux) == 0 || o.Plain {
		return appendArgs(linux, o.Append)
	}
	fam := o.Family
	if fam == nil {
		var err error
		fam, err = DetectFamily(b.tree)
		if errors.Is(err, ErrUnknownFamily) {
			b.warn(log, "image of no known distribution family: its entries are served as written, and a system whose root is not in its initrd will not find it", "looked_for", "live/, casper/, .treeinfo, LiveOS/, <base>/x86_64/airootfs.sfs, boot/<arch>/loader/, .alpine-release, dists/+pool/")
			return appendArgs(linux, o.Append)
		}
		if err != nil {
			return fmt.Errorf("netboot: recognising the image: %w", err)
		}
	}
	b.family = fam
	base, err := b.kernelBase(o)
	if err != nil {
		b.warn(log, "kernel lines left as written: "+err.Error(), "family", fam.Name)
		return appendArgs(linux, o.Append)
	}
	s := Served{BaseURL: base, Extra: o.Append}
	if o.Image != "" {
		s.ImageURL = base + strings.TrimLeft(o.Image, "/")
	}
	log.Info("image family", "family", fam.Name, "evidence", strings.Join(fam.Evidence, ","), "serve", strings.Join(fam.Serve, ","))
	for _, n := range fam.Notes {
		log.Info("image family note", "family", fam.Name, "note", n)
	}
	failed := map[string]int{}
	var firstErr error
	for _, e := range linux {
		s.Kernel = e.Kernel
		line, err := fam.Rewrite(e.Append, s)
		if err != nil {
			failed[e.Label]++
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		e.Append = line
	}
	if firstErr != nil {
		labels := slices.Sorted(maps.Keys(failed))
		b.warn(log, "entries left as written, which will not find their root over the network: "+firstErr.Error(), "family", fam.Name, "entries", strings.Join(labels, ","))
	}
	return nil
}

// osKernel reports whether a LINUX/KERNEL entry's file is an operating
// system's kernel, which may need its root from the network: a memory
// tester (memtest86+.bin), an iPXE or syslinux program (ipxe.lkrn,
// menu.c32, pxelinux.0) fetches no root and takes no distribution
// arguments.
func osKernel(name string) bool {
	base := strings.ToLower(path.Base(name))
	switch path.Ext(base) {
	case ".lkrn", ".c32", ".0", ".com", ".cbt", ".bss", ".bin":
		return false
	}
	return !strings.Contains(base, "memtest")
}

// kernelBase is the URL of the served tree in kernel command lines.
func (b *Boot) kernelBase(o Options) (string, error) {
	if o.HTTPBase == "" {
		return "", errors.New("no HTTP (Options.HTTPBase) to fetch the root file system from")
	}
	u, err := url.Parse(o.HTTPBase)
	if err != nil {
		return "", fmt.Errorf("HTTPBase %q: %w", o.HTTPBase, err)
	}
	if o.Host != "" {
		port := u.Port()
		u.Host = o.Host
		if port != "" {
			u.Host = net.JoinHostPort(o.Host, port)
		}
	}
	if u.Hostname() == "" {
		return "", fmt.Errorf("HTTPBase %q names no host and Options.Host is empty: kernel lines need the server's address", o.HTTPBase)
	}
	s := u.String()
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return s, nil
}

// appendArgs adds the operator's arguments to entries.
func appendArgs(entries []*bootmenu.Entry, args string) error {
	if strings.TrimSpace(args) == "" {
		return nil
	}
	for _, e := range entries {
		e.Append = parseCmdline(e.Append).override(parseCmdline(args)).String()
	}
	return nil
}

// Family returns the distribution family whose kernel lines New
// rewrote, nil if none.
func (b *Boot) Family() *Family { return b.family }

// unattended applies Options.Default and Options.Timeout.
func (b *Boot) unattended(r *bootmenu.Resolved, o Options, log *slog.Logger) error {
	if o.Default != "" {
		e := r.Menu.Entry(o.Default)
		if e == nil {
			var labels []string
			for _, e := range r.Menu.All() {
				if e.Label != "" {
					labels = append(labels, e.Label)
				}
			}
			return fmt.Errorf("netboot: default entry %q: no such label in %s (labels: %s)", o.Default, b.config, strings.Join(labels, ", "))
		}
		r.Default = o.Default
		for _, x := range r.Menu.Entries {
			x.Default = x == e
		}
	}
	if o.Timeout > 0 {
		r.Timeout = o.Timeout
		r.TotalTimeout = 0
		r.Prompt = false
	}
	if r.Timeout == 0 && r.TotalTimeout == 0 {
		b.warn(log, "the boot menu waits for a key press for ever (timeout 0): set a timeout to boot the default entry unattended", "file", b.config)
	}
	return nil
}

// render writes the three generated configurations.
func (b *Boot) render(r *bootmenu.Resolved, log *slog.Logger) error {
	var buf bytes.Buffer
	if !isFile(b.tree, IPXEScript) {
		if err := bootmenu.RenderIPXE(&buf, r, &bootmenu.IPXEScriptOptions{InitrdArg: true}); err != nil {
			return fmt.Errorf("netboot: rendering %s as iPXE script: %w", b.config, err)
		}
		b.gen[IPXEScript] = slices.Clone(buf.Bytes())
		buf.Reset()
	}
	if err := bootmenu.RenderGRUB(&buf, r, nil); err != nil {
		return fmt.Errorf("netboot: rendering %s as GRUB configuration: %w", b.config, err)
	}
	b.gen[GRUBConfig] = slices.Clone(buf.Bytes())
	buf.Reset()
	if b.ownPXELinux {
		// pxelinux reads the tree's own menu under every name it tries.
		return nil
	}
	// pxelinux loads UI modules from its own directory, and a module
	// must match the pxelinux.0 that loads it: the UI line is kept, as a
	// name beside pxelinux.0, only where that layer has the module.
	if ui := strings.Fields(r.UI); len(ui) > 0 {
		mod := path.Base(ui[0])
		if !b.besidePXELinux(mod) {
			log.Info("boot menu: pxelinux menu without UI module, which is not beside pxelinux.0", "ui", r.UI)
			r.UI = ""
		} else {
			r.UI = strings.Join(append([]string{mod}, ui[1:]...), " ")
		}
	}
	if err := bootmenu.RenderPXELinux(&buf, r); err != nil {
		return fmt.Errorf("netboot: rendering %s as pxelinux configuration: %w", b.config, err)
	}
	b.gen[PXELinuxConfig] = slices.Clone(buf.Bytes())
	return nil
}

// besidePXELinux reports whether module is served from the same layer
// and directory as the pxelinux.0 (or lpxelinux.0) that clients get.
func (b *Boot) besidePXELinux(module string) bool {
	for _, layer := range []fs.FS{b.tree, b.programs} {
		if layer == nil {
			continue
		}
		for _, p := range []string{"pxelinux.0", "lpxelinux.0"} {
			if isFile(layer, p) {
				return isFile(layer, module)
			}
		}
	}
	return false
}

func isFile(fsys fs.FS, name string) bool {
	st, err := fs.Stat(fsys, name)
	return err == nil && st.Mode().IsRegular()
}

// Warnings returns what New found that may keep clients from booting
// unattended, one sentence each.
func (b *Boot) Warnings() []string { return slices.Clone(b.warnings) }

// Config returns the name of the boot configuration New read, "" if none.
func (b *Boot) Config() string { return b.config }

// Menu returns the resolved boot menu as generated (paths from the root
// of the tree, kernel lines adjusted), nil if the tree has none.
func (b *Boot) Menu() *bootmenu.Resolved { return b.menu }

// Generated returns the names of the generated files, sorted.
func (b *Boot) Generated() []string {
	var n []string
	for k := range b.gen {
		n = append(n, k)
	}
	slices.Sort(n)
	return n
}

// Layer says where [Boot.Open] finds a name.
type Layer int

// Layers, in the order they are asked.
const (
	LayerNone      Layer = iota // no layer has the name
	LayerTree                   // the served tree
	LayerGenerated              // a generated boot configuration
	LayerPrograms               // Options.Programs
	LayerMachine                // a machine's own configuration (Options.Machine)
	LayerAlias                  // a name shim asks for, served from the tree's file of another name
)

func (l Layer) String() string {
	switch l {
	case LayerTree:
		return "tree"
	case LayerGenerated:
		return "generated"
	case LayerPrograms:
		return "programs"
	case LayerMachine:
		return "machine"
	case LayerAlias:
		return "alias"
	}
	return "none"
}

// Lookup says which layer serves name, and for a generated configuration
// which one ([PXELinuxConfig], [IPXEScript], [GRUBConfig]), for an alias
// the tree's name that serves it. This is the
// one precedence rule of the overlay:
//
//  0. A machine's own configuration, while its plan lasts (see
//     [Options.Machine]): pxelinux.cfg/01-<mac>, boot-01-<mac>.ipxe,
//     grub.cfg-01-<mac>.
//  1. A name the tree has is served from the tree, always.
//  2. A generated configuration: under its own name, and pxelinux's
//     under every name pxelinux tries (pxelinux.cfg/01-<mac>, UUID, hex
//     IP prefixes), GRUB's as any */grub.cfg (names with a backslash
//     excepted). When the tree has its own
//     pxelinux.cfg/default, nothing is generated for pxelinux: a
//     per-client name the tree lacks is not found, so pxelinux goes on
//     to the tree's default.
//  3. Shim's second stage: grubx64.efi beside the tree's signed shim
//     ([Boot.Shim]), when the tree has none there but has Debian's
//     grubnetx64.efi, is that file ([LayerAlias], with its name).
//  4. The boot programs of Options.Programs.
func (b *Boot) Lookup(name string) (Layer, string) {
	if name == "." {
		return LayerTree, ""
	}
	if b.machine != nil {
		if _, ok := b.plans.file(name); ok {
			return LayerMachine, name
		}
	}
	if _, err := fs.Stat(b.tree, name); err == nil {
		return LayerTree, ""
	}
	if g := b.generatedName(name); g != "" {
		return LayerGenerated, g
	}
	if a := b.secondStageAlias(name); a != "" {
		return LayerAlias, a
	}
	if b.programs != nil {
		if _, err := fs.Stat(b.programs, name); err == nil {
			return LayerPrograms, ""
		}
	}
	return LayerNone, ""
}

func (b *Boot) generatedName(name string) string {
	if _, ok := b.gen[name]; ok {
		return name
	}
	if strings.Contains(name, "\\") {
		// No loader asks for such a name; it is not another spelling
		// of a generated one.
		return ""
	}
	switch {
	case strings.HasPrefix(name, "pxelinux.cfg/") || strings.Contains(name, "/pxelinux.cfg/"):
		if _, ok := b.gen[PXELinuxConfig]; ok {
			return PXELinuxConfig
		}
	case path.Base(name) == "grub.cfg":
		if _, ok := b.gen[GRUBConfig]; ok {
			return GRUBConfig
		}
	}
	return ""
}

// Open implements [fs.FS] over the layers of [Boot.Lookup].
func (b *Boot) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	layer, g := b.Lookup(name)
	var f fs.File
	var err error
	switch layer {
	case LayerMachine:
		if d, ok := b.plans.file(name); ok {
			return newMemFile(name, d), nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	case LayerGenerated:
		return newMemFile(name, b.gen[g]), nil
	case LayerTree:
		f, err = b.tree.Open(name)
	case LayerAlias:
		f, err = b.tree.Open(g)
		if err != nil {
			return nil, err
		}
		return aliasFile(f, name), nil
	case LayerPrograms:
		f, err = b.programs.Open(name)
	default:
		if b.generatedDir(name) {
			return b.dir(name), nil
		}
		// The tree's own error (permission, not found) says most.
		return b.tree.Open(name)
	}
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		// A directory lists what every layer serves in it.
		f.Close()
		return b.dir(name), nil
	}
	return f, nil
}

// dir opens the directory name, listed by [Boot.ReadDir].
func (b *Boot) dir(name string) fs.File {
	return &listedDir{name: name, list: func() ([]fs.DirEntry, error) { return b.ReadDir(name) }}
}

// generatedDir reports whether name is a directory of a generated file.
func (b *Boot) generatedDir(name string) bool {
	for g := range b.gen {
		if strings.HasPrefix(g, name+"/") {
			return true
		}
	}
	return false
}

// Stat implements [fs.StatFS].
func (b *Boot) Stat(name string) (fs.FileInfo, error) {
	f, err := b.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Stat()
}

// ReadFile implements [fs.ReadFileFS].
func (b *Boot) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: fs.ErrInvalid}
	}
	if layer, g := b.Lookup(name); layer == LayerGenerated {
		return slices.Clone(b.gen[g]), nil
	}
	f, err := b.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ReadDir implements [fs.ReadDirFS]: the entries of every layer in that
// directory, each name once, as [Boot.Lookup] resolves it.
func (b *Boot) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	seen := map[string]bool{}
	var out []fs.DirEntry
	var first error
	found := false
	add := func(e fs.DirEntry) {
		if !seen[e.Name()] {
			seen[e.Name()] = true
			out = append(out, e)
		}
	}
	for _, layer := range []fs.FS{b.tree, b.programs} {
		if layer == nil {
			continue
		}
		es, err := fs.ReadDir(layer, name)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		found = true
		for _, e := range es {
			if l, _ := b.Lookup(path.Join(name, e.Name())); l != LayerNone {
				add(e)
			}
		}
	}
	for _, g := range b.Generated() {
		dir, base := path.Split(g)
		switch d := strings.TrimSuffix(dir, "/"); {
		case d == name || name == "." && d == "":
			found = true
			add(fs.FileInfoToDirEntry(memInfo{name: base, size: int64(len(b.gen[g]))}))
		case name == "." && !strings.Contains(d, "/") || strings.HasPrefix(d, name+"/") && !strings.Contains(d[len(name)+1:], "/"):
			found = true
			sub := d
			if name != "." {
				sub = d[len(name)+1:]
			}
			add(fs.FileInfoToDirEntry(dirInfo{name: sub}))
		}
	}
	if !found {
		return nil, first
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}
