package bootmenu

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Errors of [ResolveGRUB] that are reported in [Resolved.Warnings]: GRUB
// script that the reader takes apart without running it.
var (
	ErrGRUBVariable    = errors.New("bootmenu: variable not set in the configuration, dropped")
	ErrGRUBConditional = errors.New("bootmenu: menu entries inside if/elif/else kept, whatever the condition")
	ErrGRUBLoop        = errors.New("bootmenu: loop body read once")
	ErrGRUBNotLinux    = errors.New("bootmenu: entry boots no Linux kernel, left out")
	ErrGRUBDefault     = errors.New("bootmenu: default entry not found")
)

// ErrNoGRUBConfig is returned by [FindGRUBConfig] for a file system that
// holds no GRUB configuration file where images keep one.
var ErrNoGRUBConfig = errors.New("bootmenu: no GRUB configuration found")

// grubConfigs are where boot images keep the GRUB configuration that
// their menu comes from, in the order FindGRUBConfig tries them:
// Ubuntu (boot/grub/grub.cfg, casper), Debian live-build and archiso
// (boot/grub/grub.cfg, and boot/grub/loopback.cfg for booting the ISO
// file from another GRUB), Fedora/RHEL lorax (EFI/BOOT/grub.cfg, and
// boot/grub2/grub.cfg for BIOS since Fedora 37), openSUSE
// (EFI/BOOT/grub.cfg, boot/grub2/grub.cfg).
var grubConfigs = []string{
	"boot/grub/grub.cfg",
	"boot/grub2/grub.cfg",
	"EFI/BOOT/grub.cfg",
	"EFI/boot/grub.cfg",
	"efi/boot/grub.cfg",
	"boot/grub/loopback.cfg",
	"grub/grub.cfg",
	"grub2/grub.cfg",
	"grub.cfg",
}

// FindGRUBConfig looks for the GRUB configuration of a boot image or tree
// in fsys and returns its name: boot/grub/grub.cfg, boot/grub2/grub.cfg,
// EFI/BOOT/grub.cfg (also spelt EFI/boot and efi/boot),
// boot/grub/loopback.cfg, grub/grub.cfg, grub2/grub.cfg and grub.cfg, in
// that order. A file that only hands over to another one, such as
// Debian's EFI/BOOT/grub.cfg that sources boot/grub/grub.cfg, is fine:
// [ResolveGRUB] follows source and configfile. Only regular files count.
// Without any it returns [ErrNoGRUBConfig].
func FindGRUBConfig(fsys fs.FS) (name string, err error) {
	for _, n := range grubConfigs {
		if isRegular(fsys, n) {
			return n, nil
		}
	}
	return "", ErrNoGRUBConfig
}

// GRUBResolveOptions tunes [ResolveGRUB]. The zero value is ready to use.
type GRUBResolveOptions struct {
	// Vars presets variables, as GRUB presets prefix, root, grub_platform
	// and grub_cpu before it reads grub.cfg. A preset variable counts as
	// set; every other variable is set only by the configuration.
	Vars map[string]string
	// MaxDepth bounds source and configfile nesting; 0 means
	// DefaultMaxDepth.
	MaxDepth int
	// MaxFiles bounds the number of files read, counting a file each time
	// it is read; 0 means DefaultMaxFiles.
	MaxFiles int
	// MaxFileSize bounds the size of each file; 0 means
	// DefaultMaxFileSize.
	MaxFileSize int64
}

// maxGRUBValue bounds the length of a variable's value and of an
// expanded word, and the words of a command; maxGRUBExpanded bounds the
// bytes that variable expansion produces in one resolution.
const (
	maxGRUBValue    = 1 << 16
	maxGRUBExpanded = 1 << 24
)

// ResolveGRUB reads the GRUB configuration name (a name in fsys, from its
// root) and returns its menu as a [Resolved], the same value [Resolve]
// returns for a syslinux menu, so that the renderers and [Resolved.RewritePaths]
// work on it unchanged. Nothing is executed: the reader takes the script
// apart as follows.
//
//   - menuentry 'Title' [--class c] [--id id] [--hotkey k] … { … } is an
//     [Entry]: Display and MenuLabel are the title, Label is the --id or
//     else a name made from the title (unique in the whole tree), Kernel is
//     the first word of its linux (linuxefi, linux16) command and Append
//     the rest (an argument with blanks in double quotes) with
//     initrd=<initrd files, comma-separated> added (put first if
//     the arguments have an initrd= of their own), so that
//     [Entry.Initrds] lists the initrd (initrdefi, initrd16) files. A leading GRUB device
//     such as (loop) or ($root) is dropped from file names, and names are
//     made absolute ("/casper/vmlinuz"). Entries that boot no Linux
//     kernel (chainloader, fwsetup, halt, exit) are left out, with a
//     warning.
//   - submenu 'Title' { … } is an entry with ActionSubmenu and its
//     entries as Submenu, as MENU BEGIN is.
//   - set name=value and name=value set variables; $name, ${name} and the
//     menuentry's own $1, $2 … are substituted in words, after GRUB's
//     quoting rules (single quotes, double quotes, backslash). A variable
//     the configuration never sets (nor [GRUBResolveOptions.Vars]) is
//     dropped, with a warning.
//   - set default= (an index counting the entries of the menu, a --id, a
//     title, or "N>M" into a submenu) and set timeout= (seconds; -1 waits
//     for ever, which is Timeout 0) as they stand at the end of the file
//     give Default and Timeout.
//   - source and configfile of a file in fsys read it in place (at most
//     MaxDepth deep); configfile inside a menuentry makes that entry a
//     submenu with the file's entries. Missing files are warnings.
//   - if/elif/else/fi: the menu entries of every branch are kept, with a
//     warning; a variable set in several branches keeps the value of the
//     first branch that sets it. for/while/until bodies are read once.
//     function bodies are never read.
//   - Every other command (insmod, search, loadfont, gfxmode, terminal_*,
//     themes, echo, …) is ignored.
//
// ResolveGRUB fails on a file that GRUB could not parse either (an
// unterminated quote or block, a "fi" without "if"), as a [*ParseError]
// with the file's name, on nesting deeper than MaxDepth
// ([ErrIncludeDepth]), after MaxFiles reads ([ErrTooManyFiles]), for a
// file larger than MaxFileSize ([ErrFileTooLarge]) and for more than
// [MaxEntries] entries ([ErrTooLarge]).
func ResolveGRUB(fsys fs.FS, name string, opts *GRUBResolveOptions) (*Resolved, error) {
	g := &grubResolver{fsys: fsys, items: map[*Menu][]grubItem{}, warned: map[string]bool{}, labels: map[string]bool{}, suffix: map[string]int{}}
	if opts != nil {
		g.opts = *opts
	}
	ro := ResolveOptions{MaxDepth: g.opts.MaxDepth, MaxFiles: g.opts.MaxFiles, MaxFileSize: g.opts.MaxFileSize}
	ro = resolveOptions(&ro)
	g.opts.MaxDepth, g.opts.MaxFiles, g.opts.MaxFileSize = ro.MaxDepth, ro.MaxFiles, ro.MaxFileSize
	vars := map[string]string{}
	for k, v := range g.opts.Vars {
		vars[k] = v
	}
	file, ok := FSPath("", name)
	if !ok {
		return nil, &ResolveError{File: name, Err: ErrBadInclude}
	}
	g.res.Menu = &Menu{}
	sc := &grubScope{vars: vars, menu: g.res.Menu}
	if err := g.file(file, sc, Pos{}, ""); err != nil {
		return nil, err
	}
	g.finish(sc.vars)
	return &g.res, nil
}

// grubItem is a menu item as GRUB counts them for "set default=N".
type grubItem struct {
	title, id string
	e         *Entry // nil: left out
	sub       *Menu
}

type grubResolver struct {
	fsys     fs.FS
	opts     GRUBResolveOptions
	res      Resolved
	stack    []string
	files    []string
	reads    int
	entries  int
	walked   int
	items    map[*Menu][]grubItem
	warned   map[string]bool
	expanded int             // bytes of expanded words, for maxGRUBExpanded
	labels   map[string]bool // every Label given
	suffix   map[string]int  // next number to try for a Label taken
}

// grubScope is where evaluation stands: the variables, the menu entries
// go to, and inside a menuentry the entry being read.
type grubScope struct {
	vars  map[string]string
	menu  *Menu
	entry *grubEntry
	args  []string // $1, $2 … of the menuentry
	file  string
}

type grubEntry struct {
	kernel   string
	args     []string
	initrds  []string
	hasLinux bool
	hasInit  bool
	other    string // a boot command that is not Linux
	sub      *Menu  // configfile inside the entry
}

func (g *grubResolver) warn(file string, at Pos, err error) {
	g.res.Warnings = append(g.res.Warnings, &ResolveError{File: file, Pos: at, Err: err})
}

// warnOnce warns once per key.
func (g *grubResolver) warnOnce(key, file string, at Pos, err error) {
	if g.warned[key] {
		return
	}
	g.warned[key] = true
	g.warn(file, at, err)
}

func (g *grubResolver) file(file string, sc *grubScope, at Pos, from string) error {
	for _, f := range g.stack {
		if f == file {
			return &ResolveError{File: from, Pos: at, Err: fmt.Errorf("%w: %s", ErrIncludeCycle, strings.Join(append(g.stack, file), " -> "))}
		}
	}
	if len(g.stack) >= g.opts.MaxDepth {
		return &ResolveError{File: from, Pos: at, Err: fmt.Errorf("%w (more than %d)", ErrIncludeDepth, g.opts.MaxDepth)}
	}
	if g.reads >= g.opts.MaxFiles {
		return &ResolveError{File: from, Pos: at, Err: fmt.Errorf("%w (more than %d)", ErrTooManyFiles, g.opts.MaxFiles)}
	}
	g.reads++
	if g.fsys == nil {
		return &fs.PathError{Op: "open", Path: file, Err: fs.ErrNotExist}
	}
	data, err := readLimited(g.fsys, file, g.opts.MaxFileSize)
	if err != nil {
		if errors.Is(err, ErrFileTooLarge) {
			return &ResolveError{File: from, Pos: at, Err: err}
		}
		return err
	}
	stmts, err := parseGRUB(data)
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			pe.File = file
		}
		return err
	}
	if !contains(g.files, file) {
		g.files = append(g.files, file)
	}
	g.stack = append(g.stack, file)
	prev := sc.file
	sc.file = file
	err = g.list(stmts, sc)
	sc.file = prev
	g.stack = g.stack[:len(g.stack)-1]
	return err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (g *grubResolver) list(stmts []*grubStmt, sc *grubScope) error {
	for _, s := range stmts {
		if err := g.stmt(s, sc); err != nil {
			return err
		}
	}
	return nil
}

func (g *grubResolver) stmt(s *grubStmt, sc *grubScope) error {
	if g.walked++; g.walked > maxWalk || g.entries > MaxEntries {
		return &ResolveError{File: sc.file, Pos: s.pos, Err: fmt.Errorf("%w (more than %d entries or %d statements)", ErrTooLarge, MaxEntries, maxWalk)}
	}
	switch s.kind {
	case gsFunction:
		return nil
	case gsMenuentry, gsSubmenu:
		return g.menuentry(s, sc)
	case gsLoop:
		g.warnOnce("loop:"+sc.file, sc.file, s.pos, fmt.Errorf("%w: %s", ErrGRUBLoop, s.loop))
		for _, b := range s.branches {
			if err := g.list(b.cond, sc); err != nil {
				return err
			}
		}
		return g.list(s.body, sc)
	case gsIf:
		return g.ifStmt(s, sc)
	}
	return g.command(s, sc)
}

// ifStmt reads every branch. Each branch starts from the variables as they
// were before the if; afterwards a variable takes the value of the first
// branch that changed it.
func (g *grubResolver) ifStmt(s *grubStmt, sc *grubScope) error {
	before := sc.vars
	merged := cloneVars(before)
	changed := map[string]bool{}
	n := g.entries
	for _, b := range s.branches {
		sc.vars = cloneVars(before)
		if err := g.list(b.cond, sc); err != nil {
			sc.vars = before
			return err
		}
		if err := g.list(b.body, sc); err != nil {
			sc.vars = before
			return err
		}
		for k, v := range sc.vars {
			if ov, ok := before[k]; (!ok || ov != v) && !changed[k] {
				changed[k] = true
				merged[k] = v
			}
		}
		for k := range before {
			if _, ok := sc.vars[k]; !ok && !changed[k] {
				changed[k] = true
				delete(merged, k)
			}
		}
	}
	sc.vars = merged
	if g.entries > n && len(s.branches) > 0 {
		g.warnOnce("if:"+sc.file, sc.file, s.pos, ErrGRUBConditional)
	}
	return nil
}

func cloneVars(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// expand substitutes variables in words. Unquoted expansions are split
// at blanks, as GRUB splits them. Words are bounded by maxGRUBValue
// bytes, and all expansions of a resolution together by maxGRUBExpanded.
func (g *grubResolver) expand(words []grubWord, sc *grubScope) ([]string, error) {
	var out []string
	tooLarge := func(w grubWord, what string) error {
		return &ResolveError{File: sc.file, Pos: w.pos, Err: fmt.Errorf("%w: %s", ErrTooLarge, what)}
	}
	for _, w := range words {
		var cur strings.Builder
		have := false
		for _, p := range w.parts {
			var v string
			switch {
			case p.varRef == "":
				v = p.lit
			default:
				var ok bool
				v, ok = g.lookup(p.varRef, sc)
				if !ok {
					g.warnOnce("var:"+sc.file+":"+p.varRef, sc.file, w.pos, fmt.Errorf("%w: $%s", ErrGRUBVariable, p.varRef))
					have = have || p.quoted
					continue
				}
			}
			if g.expanded += len(v); g.expanded > maxGRUBExpanded {
				return nil, tooLarge(w, fmt.Sprintf("more than %d bytes of expanded words", maxGRUBExpanded))
			}
			if p.varRef == "" || p.quoted {
				cur.WriteString(v)
				have = true
			} else {
				fs := strings.Fields(v)
				for i, f := range fs {
					if i > 0 {
						out = append(out, cur.String())
						cur.Reset()
					}
					cur.WriteString(f)
					have = true
				}
				if len(fs) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
					out = append(out, cur.String())
					cur.Reset()
					have = false
				}
			}
			if cur.Len() > maxGRUBValue {
				return nil, tooLarge(w, fmt.Sprintf("a word longer than %d bytes", maxGRUBValue))
			}
			if len(out) > maxGRUBValue {
				return nil, tooLarge(w, fmt.Sprintf("more than %d words", maxGRUBValue))
			}
		}
		if have {
			out = append(out, cur.String())
		}
	}
	return out, nil
}

func (g *grubResolver) lookup(name string, sc *grubScope) (string, bool) {
	if n, err := strconv.Atoi(name); err == nil {
		if n >= 1 && n <= len(sc.args) {
			return sc.args[n-1], true
		}
		return "", false
	}
	v, ok := sc.vars[name]
	return v, ok
}

var grubAssign = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

func (g *grubResolver) command(s *grubStmt, sc *grubScope) error {
	if len(s.words) == 0 {
		return nil
	}
	// name=value as a command (GRUB's assignment statement).
	if k := s.words[0].keyword(); grubAssign.MatchString(k) || len(s.words[0].parts) > 0 && s.words[0].parts[0].varRef == "" && !s.words[0].parts[0].quoted && grubAssign.MatchString(s.words[0].parts[0].lit) {
		ws, err := g.expand(s.words[:1], sc)
		if err != nil {
			return err
		}
		if len(ws) > 0 {
			g.set(ws[0], sc)
		}
		return nil
	}
	ws, err := g.expand(s.words, sc)
	if err != nil || len(ws) == 0 {
		return err
	}
	cmd, args := ws[0], ws[1:]
	switch cmd {
	case "set":
		for _, a := range args {
			g.set(a, sc)
		}
	case "unset":
		for _, a := range args {
			delete(sc.vars, a)
		}
	case "source", ".", "configfile", "extract_entries_source", "extract_entries_configfile":
		if len(args) == 0 {
			return nil
		}
		return g.include(cmd, args[0], s.pos, sc)
	case "linux", "linuxefi", "linux16", "multiboot", "multiboot2":
		e := sc.entry
		if e == nil || len(args) == 0 {
			return nil
		}
		if cmd == "multiboot" || cmd == "multiboot2" {
			if e.other == "" {
				e.other = cmd
			}
			return nil
		}
		if !e.hasLinux {
			e.hasLinux = true
			e.kernel = grubFile(args[0])
			for _, a := range args[1:] {
				e.args = append(e.args, kernelArg(a))
			}
		}
	case "initrd", "initrdefi", "initrd16":
		e := sc.entry
		if e == nil || e.hasInit {
			return nil
		}
		e.hasInit = true
		for _, a := range args {
			if strings.HasPrefix(a, "--") {
				continue // an option, such as --nounzip
			}
			e.initrds = append(e.initrds, grubFile(a))
		}
	case "chainloader", "fwsetup", "halt", "reboot", "exit", "kfreebsd", "knetbsd", "kopenbsd", "appleloader", "ntldr", "xnu_kernel", "xnu_kernel64":
		if e := sc.entry; e != nil && e.other == "" {
			e.other = cmd
		}
	}
	return nil
}

// kernelArg writes one argument of GRUB's linux command into the kernel
// command line so that it stays one argument, as GRUB's loader keeps it:
// an argument with blanks goes in double quotes (which Linux's parser
// understands), with '"' and '\' inside backslash-escaped as GRUB
// escapes them.
func kernelArg(a string) string {
	if !strings.ContainsAny(a, " \t") {
		return a
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(a); i++ {
		if a[i] == '"' || a[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(a[i])
	}
	b.WriteByte('"')
	return b.String()
}

// set applies "name=value" (or "name" alone: empty value).
func (g *grubResolver) set(a string, sc *grubScope) {
	k, v, _ := strings.Cut(a, "=")
	if k == "" || !isGRUBNameStart(k[0]) {
		return
	}
	if len(v) > maxGRUBValue {
		v = v[:maxGRUBValue]
	}
	sc.vars[k] = v
}

// grubFile turns a GRUB file name into a name from the root of the
// image: a device prefix "(…)" is dropped, and the name made absolute.
func grubFile(name string) string {
	if strings.HasPrefix(name, "(") {
		if i := strings.IndexByte(name, ')'); i >= 0 {
			name = name[i+1:]
		}
	}
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	return name
}

func (g *grubResolver) include(cmd, name string, at Pos, sc *grubScope) error {
	target := grubFile(name)
	file, ok := FSPath("", target)
	if !ok {
		g.warn(sc.file, at, fmt.Errorf("%w: %q", ErrBadInclude, name))
		return nil
	}
	inner := sc
	if sc.entry != nil && (cmd == "configfile" || cmd == "extract_entries_configfile") {
		// A menu entry that opens another menu.
		sub := &Menu{}
		sc.entry.sub = sub
		inner = &grubScope{vars: cloneVars(sc.vars), menu: sub, file: sc.file}
	}
	err := g.file(file, inner, at, sc.file)
	var re *ResolveError
	var pe *ParseError
	switch {
	case err == nil:
	case errors.As(err, &re), errors.As(err, &pe):
		return err
	case errors.Is(err, fs.ErrNotExist):
		g.warn(sc.file, at, fmt.Errorf("%w: %s", ErrMissingInclude, file))
	default:
		g.warn(sc.file, at, err)
	}
	return nil
}

// menuentryArgs splits menuentry's words into the title, its --id and
// the other positional arguments.
func menuentryArgs(ws []string) (title, id string, pos []string) {
	for i := 0; i < len(ws); i++ {
		w := ws[i]
		if !strings.HasPrefix(w, "--") || w == "--" {
			pos = append(pos, w)
			continue
		}
		name, val, hasVal := strings.Cut(w[2:], "=")
		switch name {
		case "class", "users", "hotkey", "id", "source":
			if !hasVal && i+1 < len(ws) {
				i++
				val = ws[i]
			}
			if name == "id" {
				id = val
			}
		}
	}
	if len(pos) > 0 {
		title = pos[0]
	}
	return title, id, pos
}

func (g *grubResolver) menuentry(s *grubStmt, sc *grubScope) error {
	ws, err := g.expand(s.words, sc)
	if err != nil {
		return err
	}
	title, id, pos := menuentryArgs(ws)
	if len(g.items[sc.menu]) >= MaxEntries {
		return &ResolveError{File: sc.file, Pos: s.pos, Err: fmt.Errorf("%w (more than %d entries)", ErrTooLarge, MaxEntries)}
	}
	g.entries++
	if s.kind == gsSubmenu {
		sub := &Menu{Title: title}
		e := &Entry{Action: ActionSubmenu, Label: g.label(sc.menu, id, title), MenuLabel: title, Display: title, Submenu: sub, File: sc.file, Pos: s.pos}
		e.menuOwner = sc.menu
		sub.Tag = e.Label
		sc.menu.Entries = append(sc.menu.Entries, e)
		g.items[sc.menu] = append(g.items[sc.menu], grubItem{title: title, id: id, e: e, sub: sub})
		inner := &grubScope{vars: cloneVars(sc.vars), menu: sub, file: sc.file, args: pos}
		return g.list(s.body, inner)
	}
	ge := &grubEntry{}
	inner := &grubScope{vars: cloneVars(sc.vars), menu: sc.menu, entry: ge, file: sc.file, args: pos}
	if err := g.list(s.body, inner); err != nil {
		return err
	}
	item := grubItem{title: title, id: id}
	switch {
	case ge.hasLinux:
		e := &Entry{Action: ActionBoot, Type: KwLinux, Label: g.label(sc.menu, id, title), MenuLabel: title, Display: title,
			Kernel: ge.kernel, File: sc.file, Pos: s.pos, menuOwner: sc.menu}
		e.Append = strings.Join(ge.args, " ")
		if len(ge.initrds) > 0 {
			if _, end := firstInitrd(e.Append); end >= 0 {
				// The kernel's own initrd= would hide GRUB's
				// initrd files from Initrds: name them first.
				e.Append = "initrd=" + strings.Join(ge.initrds, ",") + " " + e.Append
			} else {
				e.SetInitrds(ge.initrds...)
			}
		}
		sc.menu.Entries = append(sc.menu.Entries, e)
		item.e = e
	case ge.sub != nil:
		e := &Entry{Action: ActionSubmenu, Label: g.label(sc.menu, id, title), MenuLabel: title, Display: title, Submenu: ge.sub, File: sc.file, Pos: s.pos, menuOwner: sc.menu}
		ge.sub.Title, ge.sub.Tag = title, e.Label
		sc.menu.Entries = append(sc.menu.Entries, e)
		item.e, item.sub = e, ge.sub
	default:
		why := ge.other
		if why == "" {
			why = "no linux command"
		}
		g.warn(sc.file, s.pos, fmt.Errorf("%w: %q (%s)", ErrGRUBNotLinux, title, why))
	}
	g.items[sc.menu] = append(g.items[sc.menu], item)
	return nil
}

// label makes a LABEL name for an entry, unique in its menu: the --id,
// else the title with every run of bytes other than letters, digits, '.',
// '_' and '-' replaced by one '-'.
func (g *grubResolver) label(m *Menu, id, title string) string {
	base := id
	if base == "" {
		base = title
	}
	var b strings.Builder
	dash := false
	for i := 0; i < len(base) && b.Len() < 64; i++ {
		c := base[i]
		if isGRUBNameByte(c) || c == '.' || c == '-' {
			b.WriteByte(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	l := strings.Trim(b.String(), "-")
	if l == "" {
		l = "entry"
	}
	if !g.labels[l] {
		g.labels[l] = true
		return l
	}
	n := g.suffix[l]
	if n < 2 {
		n = 2
	}
	for ; ; n++ {
		if c := l + "-" + strconv.Itoa(n); !g.labels[c] {
			g.labels[c] = true
			g.suffix[l] = n + 1
			return c
		}
	}
}

func (g *grubResolver) finish(vars map[string]string) {
	if t, ok := vars["timeout"]; ok {
		if n, err := strconv.Atoi(strings.TrimSpace(t)); err == nil && n > 0 {
			g.res.Timeout = time.Duration(min(n, 1<<20)) * time.Second
		}
	}
	d, ok := vars["default"]
	if !ok || d == "" {
		d = "0" // GRUB's default
	}
	switch e := g.findDefault(d); {
	case e == nil && ok:
		g.warn(g.files[0], Pos{}, fmt.Errorf("%w: %q", ErrGRUBDefault, d))
	case e != nil:
		for _, o := range e.menuOwner.Entries {
			o.Default = false
		}
		e.Default = true
		if e.Action == ActionBoot {
			g.res.Default = e.Label
		}
	}
	g.res.Files = g.files
}

// findDefault resolves GRUB's default: "N", "id", "title", or a path
// "a>b" of those into submenus.
func (g *grubResolver) findDefault(d string) *Entry {
	m := g.res.Menu
	var e *Entry
	for part := range strings.SplitSeq(d, ">") {
		if m == nil {
			return nil
		}
		items := g.items[m]
		var it *grubItem
		if n, err := strconv.Atoi(part); err == nil {
			if n >= 0 && n < len(items) {
				it = &items[n]
			}
		} else {
			for i := range items {
				if items[i].id == part || items[i].title == part {
					it = &items[i]
					break
				}
			}
		}
		if it == nil || it.e == nil {
			return nil
		}
		e, m = it.e, it.sub
	}
	return e
}
