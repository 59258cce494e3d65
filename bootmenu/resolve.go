package bootmenu

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"
)

// Errors of [Resolve]. ErrIncludeCycle, ErrIncludeDepth, ErrTooManyFiles,
// ErrFileTooLarge, ErrMenuDepth and ErrTooLarge stop resolution; the others are
// reported in [Resolved.Warnings], because syslinux carries on past them.
var (
	ErrIncludeCycle   = errors.New("bootmenu: include cycle")
	ErrIncludeDepth   = errors.New("bootmenu: includes nested too deeply")
	ErrTooManyFiles   = errors.New("bootmenu: too many included files")
	ErrFileTooLarge   = errors.New("bootmenu: configuration file too large")
	ErrMenuDepth      = errors.New("bootmenu: submenus nested too deeply")
	ErrTooLarge       = errors.New("bootmenu: menu too large")
	ErrMissingInclude = errors.New("bootmenu: included file not found")
	ErrBadInclude     = errors.New("bootmenu: include path not usable")
	ErrUnbalanced     = errors.New("bootmenu: unbalanced MENU BEGIN/MENU END")
)

// Default limits of [ResolveOptions].
const (
	DefaultMaxDepth    = 16
	DefaultMaxFiles    = 256
	DefaultMaxFileSize = 1 << 20
	// MaxMenuDepth bounds the nesting of MENU BEGIN blocks.
	MaxMenuDepth = 64
	// MaxEntries bounds the entries of a resolved menu, separators and
	// submenus included.
	MaxEntries = 1 << 16
	// maxWalk bounds the lines interpreted, counting included files each
	// time they are included.
	maxWalk = 1 << 23
)

// ResolveError locates a resolution problem: the file and the position of
// the line that caused it.
type ResolveError struct {
	File string
	Pos  Pos
	Err  error // a sentinel above, a *fs.PathError or a *ParseError
}

// Error formats the error as "bootmenu: file:line:col: message".
func (e *ResolveError) Error() string {
	msg := strings.TrimPrefix(e.Err.Error(), "bootmenu: ")
	if e.Pos.IsValid() {
		return fmt.Sprintf("bootmenu: %s:%d:%d: %s", e.File, e.Pos.Line, e.Pos.Col, msg)
	}
	return fmt.Sprintf("bootmenu: %s: %s", e.File, msg)
}

// Unwrap returns the underlying error.
func (e *ResolveError) Unwrap() error { return e.Err }

// ResolveOptions tunes [Resolve]. The zero value is ready to use.
type ResolveOptions struct {
	// Dir is the working directory inside the file system, against which
	// relative INCLUDE names are looked up, as pxelinux looks them up
	// against its path prefix and isolinux against the directory of its
	// configuration file. "" is the root. Names starting with "/" or
	// pxelinux's "::" are looked up from the root.
	Dir string
	// MaxDepth bounds INCLUDE nesting; 0 means DefaultMaxDepth.
	MaxDepth int
	// MaxFiles bounds the number of files read, counting a file each time
	// it is included; 0 means DefaultMaxFiles.
	MaxFiles int
	// MaxFileSize bounds the size of each file; 0 means
	// DefaultMaxFileSize.
	MaxFileSize int64
}

// Action is what choosing a menu entry does.
type Action int

// Entry actions.
const (
	ActionBoot      Action = iota // run Kernel with Append
	ActionSubmenu                 // open Submenu (MENU BEGIN, INCLUDE with a tag)
	ActionGoto                    // MENU GOTO Target
	ActionExit                    // MENU EXIT [Target]: back to the parent menu or Target
	ActionQuit                    // MENU QUIT: leave the menu for the boot prompt
	ActionHelp                    // MENU HELP: show the text file Kernel
	ActionSeparator               // MENU SEPARATOR: an empty line
)

var actionNames = [...]string{"boot", "submenu", "goto", "exit", "quit", "help", "separator"}

// String returns the action's name, such as "boot" or "submenu".
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Resolved is the menu a pxelinux client would show: every INCLUDE
// expanded, every LABEL an [Entry], MENU BEGIN blocks as submenus, and the
// global settings that apply. Its fields may be edited before rendering.
type Resolved struct {
	Menu *Menu // the top-level menu

	UI           string        // UI module and arguments ("vesamenu.c32")
	Default      string        // DEFAULT: a label, or a command for the boot prompt
	Prompt       bool          // PROMPT 1: show the boot prompt
	Timeout      time.Duration // TIMEOUT; 0 means wait for the user
	TotalTimeout time.Duration // TOTALTIMEOUT
	OnTimeout    string        // ONTIMEOUT command
	OnError      string        // ONERROR command
	Display      string        // DISPLAY file
	Path         []string      // PATH directories for modules
	Hidden       bool          // MENU HIDDEN
	Dir          string        // ResolveOptions.Dir: the directory names are relative to
	// Settings are the other global directives in order (SERIAL, CONSOLE,
	// FONT, KBDMAP, NOESCAPE, NOCOMPLETE, NOHALT, ALLOWOPTIONS, IMPLICIT,
	// SAY, PXERETRY, SENDCOOKIES), kept for [Resolved.Config].
	Settings []Setting

	// Files are the files read, in order of first reading.
	Files []string
	// Warnings are problems syslinux would pass over: missing included
	// files, unbalanced MENU BEGIN and MENU END, each a *ResolveError.
	Warnings []error
}

// Menu is a menu or submenu.
type Menu struct {
	Tag        string // MENU BEGIN tag; "" for the top-level menu
	Title      string // MENU TITLE
	Background string // MENU BACKGROUND
	Entries    []*Entry
	// Settings are the menu's look and feel in order: MENU COLOR, the
	// layout rows and margins, messages, F1–F12 help screens, MENU MASTER
	// PASSWD and the like, kept for [Resolved.Config] but not interpreted.
	Settings []Setting
}

// Setting is a directive kept as written.
type Setting struct {
	Keyword Keyword
	Value   string
}

// Entry is one line of a menu.
type Entry struct {
	Action Action

	Label     string // LABEL name: what DEFAULT and the boot prompt name
	MenuLabel string // MENU LABEL as written; '^' marks the hot key
	Display   string // what the menu shows: MENU LABEL without '^', else Label

	// Type is the kernel keyword in effect: LINUX, COM32, CONFIG,
	// LOCALBOOT, …; for KERNEL, the type syslinux infers from the file name
	// extension (.c32 COM32, .0 PXE, .bss BSS, .bs/.bin BOOT, .cbt/.com
	// COMBOOT, .img FDIMAGE, anything else LINUX).
	Type    Keyword
	Kernel  string   // kernel file (first word of the kernel line), or the label's name
	Append  string   // the command line after Kernel, as syslinux builds it
	Initrds []string // initrd= files of Append, in order
	Help    string   // TEXT HELP text, line endings as "\n"

	Hidden    bool   // MENU HIDE
	Disabled  bool   // MENU DISABLE
	Default   bool   // this menu's default entry
	Indent    int    // MENU INDENT
	Passwd    string // MENU PASSWD
	IPAppend  int    // IPAPPEND / SYSAPPEND flags
	Target    string // MENU GOTO / MENU EXIT tag
	Submenu   *Menu  // for ActionSubmenu
	File      string // file the entry came from
	Pos       Pos    // position of its LABEL (or MENU BEGIN, INCLUDE) line
	labelSet  bool   // a MENU LABEL or TITLE named the submenu entry
	menuOwner *Menu
}

// Visible reports whether the entry shows in the menu as a choice: not
// hidden, not a separator.
func (e *Entry) Visible() bool { return !e.Hidden && e.Action != ActionSeparator }

// Args returns Append without its initrd= options: the kernel command line
// for boot loaders that load initrds themselves.
func (e *Entry) Args() string {
	var ws []string
	for _, w := range fields(e.Append) {
		if !strings.HasPrefix(w, "initrd=") {
			ws = append(ws, w)
		}
	}
	return strings.Join(ws, " ")
}

// IsLinux reports whether the entry boots a Linux kernel image (or
// another image in that format, such as memdisk).
func (e *Entry) IsLinux() bool { return e.Action == ActionBoot && e.Type == KwLinux }

// Visible returns the entries that show in the menu as choices.
func (m *Menu) Visible() []*Entry {
	var out []*Entry
	for _, e := range m.Entries {
		if e.Visible() {
			out = append(out, e)
		}
	}
	return out
}

// DefaultEntry returns the menu's default entry: the one marked Default,
// else the first visible, enabled entry; nil for an empty menu.
func (m *Menu) DefaultEntry() *Entry {
	for _, e := range m.Entries {
		if e.Default {
			return e
		}
	}
	for _, e := range m.Entries {
		if e.Visible() && !e.Disabled {
			return e
		}
	}
	return nil
}

// Entry finds the entry with the given LABEL in m and its submenus, depth
// first, or returns nil.
func (m *Menu) Entry(label string) *Entry {
	for _, e := range m.Entries {
		if e.Label == label && e.Action != ActionSubmenu && e.Action != ActionSeparator {
			return e
		}
		if e.Submenu != nil {
			if f := e.Submenu.Entry(label); f != nil {
				return f
			}
		}
	}
	return nil
}

// All calls fn for every entry of m and its submenus, depth first, with
// the menu holding it.
func (m *Menu) All(fn func(m *Menu, e *Entry)) {
	for _, e := range m.Entries {
		fn(m, e)
		if e.Submenu != nil {
			e.Submenu.All(fn)
		}
	}
}

// Resolve reads the configuration file name from fsys, expands its INCLUDE
// and MENU INCLUDE lines through fsys, and interprets the result the way
// menu.c32 and vesamenu.c32 do.
//
// name is a name in fsys, from its root ("isolinux/isolinux.cfg"; a
// leading "/" or "::" is accepted and ignored): opts.Dir applies to the
// names the configuration mentions, not to name itself.
//
// Resolve fails if name cannot be read or parsed, if an included file does
// not parse, on an include cycle ([ErrIncludeCycle]), on nesting deeper
// than MaxDepth ([ErrIncludeDepth]) and after MaxFiles file reads
// ([ErrTooManyFiles]). Included files that are missing are skipped with a
// warning, as syslinux skips them.
func Resolve(fsys fs.FS, name string, opts *ResolveOptions) (*Resolved, error) {
	r := newResolver(fsys, opts)
	file, ok := FSPath("", name)
	if !ok {
		return nil, &ResolveError{File: name, Err: ErrBadInclude}
	}
	if err := r.include(file, Pos{}, ""); err != nil {
		return nil, err
	}
	return r.finish(), nil
}

// ResolveConfig interprets an already parsed configuration, named name in
// messages, expanding its INCLUDE lines through fsys (nil: every include
// is reported missing). See [Resolve].
func ResolveConfig(c *Config, name string, fsys fs.FS, opts *ResolveOptions) (*Resolved, error) {
	r := newResolver(fsys, opts)
	r.stack = append(r.stack, name)
	r.files = append(r.files, name)
	if err := r.walk(c.Nodes, name); err != nil {
		return nil, err
	}
	return r.finish(), nil
}

// labelData is the LABEL being read (syslinux's struct labeldata).
type labelData struct {
	e         *Entry
	kernel    string
	typ       Keyword
	append    *string
	initrd    string
	menuLabel *string
	help      strings.Builder
	def       bool
}

type resolver struct {
	fsys    fs.FS
	opts    ResolveOptions
	res     Resolved
	cache   map[string]*Config
	stack   []string // files being read
	files   []string
	reads   int
	walked  int
	entries int

	menus  []*Menu // current menu is the last
	parent []*Entry
	ld     *labelData
	all    []*Entry // every entry, for DEFAULT

	globalAppend *string
	ipappend     int
}

func newResolver(fsys fs.FS, opts *ResolveOptions) *resolver {
	r := &resolver{fsys: fsys, cache: map[string]*Config{}}
	if opts != nil {
		r.opts = *opts
	}
	if r.opts.MaxDepth <= 0 {
		r.opts.MaxDepth = DefaultMaxDepth
	}
	if r.opts.MaxFiles <= 0 {
		r.opts.MaxFiles = DefaultMaxFiles
	}
	if r.opts.MaxFileSize <= 0 {
		r.opts.MaxFileSize = DefaultMaxFileSize
	}
	r.res.Menu = &Menu{}
	r.menus = []*Menu{r.res.Menu}
	r.parent = []*Entry{nil}
	return r
}

// path maps a configuration file name to a name in fsys.
func (r *resolver) path(name string) (string, bool) { return FSPath(r.opts.Dir, name) }

// FSPath returns the name in an fs.FS of a file that a configuration whose
// working directory is dir (see [ResolveOptions.Dir]) calls name: relative
// names are joined to dir, names starting with "/" or pxelinux's "::" are
// taken from the root. It reports false for URLs and for names that leave
// the root. Use it with RewritePaths to turn the relative names of an
// isolinux menu into names from the root of its ISO image.
func FSPath(dir, name string) (string, bool) {
	abs := strings.HasPrefix(name, "::")
	name = strings.TrimPrefix(name, "::")
	if strings.Contains(name, "://") {
		return "", false
	}
	if abs || strings.HasPrefix(name, "/") {
		name = strings.TrimLeft(name, "/")
	} else {
		name = path.Join(dir, name)
	}
	name = path.Clean(name)
	if name == "" || !fs.ValidPath(name) || name == "." {
		return "", false
	}
	return name, true
}

// include reads and walks one file.
func (r *resolver) include(file string, at Pos, from string) error {
	for _, f := range r.stack {
		if f == file {
			return &ResolveError{File: from, Pos: at, Err: fmt.Errorf("%w: %s", ErrIncludeCycle, strings.Join(append(r.stack, file), " -> "))}
		}
	}
	if len(r.stack) >= r.opts.MaxDepth {
		return &ResolveError{File: from, Pos: at, Err: fmt.Errorf("%w (more than %d)", ErrIncludeDepth, r.opts.MaxDepth)}
	}
	if r.reads >= r.opts.MaxFiles {
		return &ResolveError{File: from, Pos: at, Err: fmt.Errorf("%w (more than %d)", ErrTooManyFiles, r.opts.MaxFiles)}
	}
	r.reads++
	c, ok := r.cache[file]
	if !ok {
		if r.fsys == nil {
			return &fs.PathError{Op: "open", Path: file, Err: fs.ErrNotExist}
		}
		data, err := r.read(file)
		if err != nil {
			if errors.Is(err, ErrFileTooLarge) {
				return &ResolveError{File: from, Pos: at, Err: err}
			}
			return err
		}
		c, err = Parse(data)
		if err != nil {
			var pe *ParseError
			if errors.As(err, &pe) {
				pe.File = file
			}
			return err
		}
		r.cache[file] = c
		r.files = append(r.files, file)
	}
	r.stack = append(r.stack, file)
	err := r.walk(c.Nodes, file)
	r.stack = r.stack[:len(r.stack)-1]
	return err
}

// read reads a whole file of at most MaxFileSize bytes.
func (r *resolver) read(name string) ([]byte, error) {
	f, err := r.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, r.opts.MaxFileSize+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	if int64(len(data)) > r.opts.MaxFileSize {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrFileTooLarge, name, r.opts.MaxFileSize)
	}
	return data, nil
}

func (r *resolver) warn(file string, at Pos, err error) {
	r.res.Warnings = append(r.res.Warnings, &ResolveError{File: file, Pos: at, Err: err})
}

func (r *resolver) menu() *Menu { return r.menus[len(r.menus)-1] }

func (r *resolver) walk(nodes []Node, file string) error {
	for _, n := range nodes {
		if r.walked++; r.walked > maxWalk || r.entries > MaxEntries {
			return &ResolveError{File: file, Pos: n.Pos(), Err: fmt.Errorf("%w (more than %d entries or %d lines)", ErrTooLarge, MaxEntries, maxWalk)}
		}
		switch n := n.(type) {
		case *Label:
			r.record()
			r.ld = &labelData{
				e:      &Entry{Label: n.Name, File: file, Pos: n.Position, IPAppend: r.ipappend},
				kernel: n.Name,
				typ:    KwKernel,
			}
			if err := r.walk(n.Body, file); err != nil {
				return err
			}
		case *Text:
			if r.ld != nil && n.Kind == "HELP" {
				r.ld.help.WriteString(strings.ReplaceAll(n.Body, "\r\n", "\n"))
			}
		case *Directive:
			if err := r.directive(n, file); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *resolver) directive(d *Directive, file string) error {
	ld := r.ld
	m := r.menu()
	pe := r.parent[len(r.parent)-1]
	v := d.Value
	switch k := d.Keyword; {
	case k.IsKernel():
		if ld != nil {
			ld.kernel, ld.typ = v, k
		}
	case k == KwAppend:
		if ld != nil {
			ld.append = &v
		} else {
			r.globalAppend = &v
		}
	case k == KwInitrd:
		if ld != nil {
			ld.initrd = v
		}
	case k == KwIPAppend || k == KwSysAppend:
		// strtoul(…, 0): decimal, 0x hex or 0 octal.
		n64, _ := strconv.ParseUint(d.Word(0), 0, 31)
		n := int(n64)
		if ld != nil {
			ld.e.IPAppend = n
		} else {
			r.ipappend = n
		}
	case k == KwMenuLabel:
		if ld != nil {
			ld.menuLabel = &v
		} else if pe != nil {
			pe.MenuLabel, pe.Display, pe.labelSet = v, stripCaret(v), true
			if m.Title == "" {
				m.Title = stripCaret(v)
			}
		}
	case k == KwMenuTitle:
		m.Title = v
		if pe != nil && !pe.labelSet {
			pe.Display = v
		}
	case k == KwMenuDefault:
		if ld != nil {
			ld.def = true
		} else if pe != nil {
			for _, e := range r.menus[len(r.menus)-2].Entries {
				e.Default = false
			}
			pe.Default = true
		}
	case k == KwMenuHide:
		if ld != nil {
			ld.e.Hidden = true
		}
	case k == KwMenuDisable:
		if ld != nil {
			ld.e.Disabled = true
		}
	case k == KwMenuIndent:
		if ld != nil {
			ld.e.Indent = int(atoi(v))
		}
	case k == KwMenuPasswd:
		if ld != nil {
			ld.e.Passwd = v
		} else if pe != nil {
			pe.Passwd = v
		}
	case k == KwMenuGoto:
		if ld != nil {
			ld.e.Action, ld.e.Target = ActionGoto, v
		}
	case k == KwMenuExit:
		if ld != nil && len(r.menus) > 1 {
			ld.e.Action, ld.e.Target = ActionExit, v
		}
	case k == KwMenuQuit:
		if ld != nil {
			ld.e.Action, ld.e.Target = ActionQuit, ""
		}
	case k == KwMenuHelp:
		if ld != nil {
			ld.e.Action, ld.e.Target = ActionHelp, ""
			ld.kernel = d.Word(0)
			bg := d.Word(1)
			ld.append = &bg
		}
	case k == KwMenuSeparator:
		r.record()
		r.add(&Entry{Action: ActionSeparator, File: file, Pos: d.Position})
	case k == KwMenuBegin:
		r.record()
		if err := r.begin(v, file, d.Position); err != nil {
			return err
		}
	case k == KwMenuEnd:
		r.record()
		if len(r.menus) == 1 {
			r.warn(file, d.Position, fmt.Errorf("%w: MENU END outside a submenu", ErrUnbalanced))
		} else {
			r.end()
		}
	case k == KwInclude || k == KwMenuInclude:
		return r.includeDirective(d, file)
	case k == KwMenuBackground:
		m.Background = d.Word(0)
	case k == KwMenuHidden:
		r.res.Hidden = true
	case k == KwUI:
		r.res.UI = v
	case k == KwDefault:
		r.res.Default = v
	case k == KwPrompt:
		r.res.Prompt = atoi(v) != 0
	case k == KwTimeout:
		r.res.Timeout = tenths(v)
	case k == KwTotalTimeout:
		r.res.TotalTimeout = tenths(v)
	case k == KwOnTimeout:
		r.res.OnTimeout = v
	case k == KwOnError || k == KwMenuOnError:
		r.res.OnError = v
	case k == KwDisplay:
		r.res.Display = d.Word(0)
	case k.IsFKey(), k.menuSetting(), ld == nil && k.labelOrMenuSetting():
		m.Settings = append(m.Settings, Setting{k, v})
	case k.globalSetting():
		r.res.Settings = append(r.res.Settings, Setting{k, v})
	case k == KwPath:
		for p := range strings.SplitSeq(v, ":") {
			if p != "" {
				r.res.Path = append(r.res.Path, p)
			}
		}
	}
	return nil
}

func (r *resolver) includeDirective(d *Directive, file string) error {
	name := d.Word(0)
	_, _, end := firstWord(d.Value, 0)
	tag := trimBlanks(d.Value[end:])
	target, ok := r.path(name)
	if !ok {
		r.warn(file, d.Position, fmt.Errorf("%w: %q", ErrBadInclude, name))
		return nil
	}
	if tag != "" {
		r.record()
		if err := r.begin(tag, file, d.Position); err != nil {
			return err
		}
	}
	err := r.include(target, d.Position, file)
	var re *ResolveError
	var pe *ParseError
	switch {
	case err == nil:
	case errors.As(err, &re), errors.As(err, &pe):
		return err
	case errors.Is(err, fs.ErrNotExist):
		r.warn(file, d.Position, fmt.Errorf("%w: %s", ErrMissingInclude, target))
	default:
		// Syslinux skips any file it cannot open.
		r.warn(file, d.Position, err)
	}
	if tag != "" {
		r.record()
		if len(r.menus) > 1 {
			r.end()
		}
	}
	return nil
}

func (r *resolver) add(e *Entry) {
	r.entries++
	m := r.menu()
	e.menuOwner = m
	m.Entries = append(m.Entries, e)
}

func (r *resolver) begin(tag, file string, at Pos) error {
	if len(r.menus) > MaxMenuDepth {
		return &ResolveError{File: file, Pos: at, Err: fmt.Errorf("%w (more than %d)", ErrMenuDepth, MaxMenuDepth)}
	}
	sub := &Menu{Tag: tag}
	e := &Entry{Action: ActionSubmenu, Label: tag, Display: tag, Submenu: sub, File: file, Pos: at}
	r.add(e)
	r.menus = append(r.menus, sub)
	r.parent = append(r.parent, e)
	return nil
}

func (r *resolver) end() {
	r.menus = r.menus[:len(r.menus)-1]
	r.parent = r.parent[:len(r.parent)-1]
}

// record turns the label being read into an entry, as syslinux's record().
func (r *resolver) record() {
	ld := r.ld
	if ld == nil {
		return
	}
	r.ld = nil
	e := ld.e
	if ld.menuLabel != nil {
		e.MenuLabel = *ld.menuLabel
		e.Display = stripCaret(e.MenuLabel)
	} else {
		e.Display = e.Label
	}
	e.Help = ld.help.String()
	switch e.Action {
	case ActionBoot:
		kern, rest := ld.kernel, ""
		if _, w, end := firstWord(kern, 0); w != "" {
			kern, rest = w, trimBlanks(ld.kernel[end:])
		}
		e.Kernel = kern
		e.Type = ld.typ
		if e.Type == KwKernel {
			e.Type = kernelType(kern)
		}
		a := r.globalAppend
		if ld.append != nil {
			a = ld.append
		}
		var parts []string
		if rest != "" {
			parts = append(parts, rest)
		}
		if a != nil && *a != "" && *a != "-" {
			parts = append(parts, *a)
		}
		if ld.initrd != "" {
			parts = append(parts, "initrd="+ld.initrd)
		}
		e.Append = strings.Join(parts, " ")
		e.Initrds = initrdsOf(e.Append)
	case ActionHelp:
		e.Kernel = ld.kernel
		if ld.append != nil {
			e.Append = *ld.append
		}
	}
	if ld.def {
		for _, o := range r.menu().Entries {
			o.Default = false
		}
		e.Default = true
	}
	r.add(e)
	r.all = append(r.all, e)
}

func (r *resolver) finish() *Resolved {
	r.record()
	if len(r.menus) > 1 {
		r.warn(r.files[0], Pos{}, fmt.Errorf("%w: %d MENU BEGIN without MENU END", ErrUnbalanced, len(r.menus)-1))
	}
	if d := r.res.Default; d != "" {
		_, w, _ := firstWord(d, 0)
		for _, e := range r.all {
			if e.Label == w {
				for _, o := range e.menuOwner.Entries {
					o.Default = false
				}
				e.Default = true
				break
			}
		}
	}
	r.res.Files = r.files
	r.res.Dir = r.opts.Dir
	return &r.res
}

func initrdsOf(app string) []string {
	var out []string
	for _, w := range fields(app) {
		if v, ok := strings.CutPrefix(w, "initrd="); ok {
			out = append(out, splitList(v)...)
		}
	}
	return out
}

// kernelType is the image type syslinux infers from a KERNEL file name.
func kernelType(name string) Keyword {
	ext := strings.ToLower(path.Ext(name))
	switch ext {
	case ".c32":
		return KwCom32
	case ".cbt", ".com":
		return KwComboot
	case ".bs", ".bin":
		return KwBoot
	case ".bss":
		return KwBSS
	case ".0":
		return KwPXE
	case ".img":
		return KwFDImage
	}
	return KwLinux
}

func stripCaret(s string) string { return strings.ReplaceAll(s, "^", "") }

// atoi parses a leading decimal integer like C's atoi; junk yields 0.
func atoi(s string) int64 {
	s = trimBlanks(s)
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var n int64
	for i := 0; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		if n > 1<<40 {
			break
		}
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		n = -n
	}
	return n
}

// tenths converts a syslinux timeout in tenths of a second.
func tenths(s string) time.Duration {
	n := atoi(s)
	if n < 0 {
		n = 0
	}
	return time.Duration(n) * 100 * time.Millisecond
}
