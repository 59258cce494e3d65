package bootmenu

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
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
	// maxWalk bounds the lines expansion visits, counting included files
	// each time they are included.
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

// Resolve reads the configuration file name from fsys, expands its INCLUDE
// and MENU INCLUDE lines through fsys, and interprets the result the way
// menu.c32 and vesamenu.c32 do. The two are separate steps: expansion
// reads and splices the files, as if they had been one file (which is
// how syslinux reads them), and interpretation walks the lines once.
//
// name is a name in fsys, from its root ("isolinux/isolinux.cfg"; a
// leading "/" or "::" is accepted and ignored): opts.Dir applies to the
// names the configuration mentions, not to name itself.
//
// Resolve fails if name cannot be read or parsed, if an included file does
// not parse, on an include cycle ([ErrIncludeCycle]), on nesting deeper
// than MaxDepth ([ErrIncludeDepth]) and after MaxFiles file reads
// ([ErrTooManyFiles]). Included files that are missing are skipped with a
// warning ([ErrMissingInclude], or [ErrBadInclude] for a name that is not
// in fsys), as syslinux skips them; an include with a tag still makes its
// submenu, empty, as menu.c32 and vesamenu.c32 show it.
func Resolve(fsys fs.FS, name string, opts *ResolveOptions) (*Resolved, error) {
	o := resolveOptions(opts)
	file, ok := FSPath("", name)
	if !ok {
		return nil, &ResolveError{File: name, Err: ErrBadInclude}
	}
	x, err := expand(fsys, file, nil, o)
	if err != nil {
		return nil, err
	}
	return interpret(x, o)
}

// ResolveConfig interprets an already parsed configuration, named name in
// messages, expanding its INCLUDE lines through fsys (nil: every include
// is reported missing). See [Resolve], whose arguments come in the same
// order.
func ResolveConfig(fsys fs.FS, c *Config, name string, opts *ResolveOptions) (*Resolved, error) {
	o := resolveOptions(opts)
	x, err := expand(fsys, name, c, o)
	if err != nil {
		return nil, err
	}
	return interpret(x, o)
}

// resolveOptions returns *opts with the defaults filled in.
func resolveOptions(opts *ResolveOptions) ResolveOptions {
	var o ResolveOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxFiles <= 0 {
		o.MaxFiles = DefaultMaxFiles
	}
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	return o
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

// resolver interprets an expanded configuration.
type resolver struct {
	res     Resolved
	entries int

	menus  []*Menu // current menu is the last
	parent []*Entry
	ld     *labelData
	all    []*Entry // every entry, for DEFAULT

	globalAppend *string
	ipappend     int
	nextWarn     int // where the next warning goes in res.Warnings

	// Storage for the common case, saving allocations.
	top       Menu
	menuBuf   [4]*Menu
	parentBuf [4]*Entry
}

// interpret builds the menu of an expanded configuration.
func interpret(x *expanded, o ResolveOptions) (*Resolved, error) {
	r := &resolver{}
	r.res.Menu = &r.top
	r.menus = append(r.menuBuf[:0], r.res.Menu)
	r.parent = append(r.parentBuf[:0], nil)
	// The warnings of expansion, in place; interpretation's go in
	// between, where they were met.
	r.res.Warnings = x.warnings
	at := x.warnAt
	for i, rn := range x.runs {
		for len(at) > 0 && int(at[0]) <= i {
			at = at[1:]
			r.nextWarn++
		}
		if err := r.run(x.nodes(rn), rn.kind, x.files[rn.file]); err != nil {
			return nil, err
		}
	}
	r.nextWarn = len(r.res.Warnings)
	r.finish(x.files, o.Dir)
	return &r.res, nil
}

func (r *resolver) warn(file string, at Pos, err error) {
	r.res.Warnings = slices.Insert(r.res.Warnings, r.nextWarn, error(&ResolveError{File: file, Pos: at, Err: err}))
	r.nextWarn++
}

func (r *resolver) menu() *Menu { return r.menus[len(r.menus)-1] }

func (r *resolver) run(nodes []Node, kind runKind, file string) error {
	switch kind {
	case runBegin:
		d := nodes[0].(*Directive)
		_, _, end := firstWord(d.Value, 0)
		r.record()
		return r.begin(trimBlanks(d.Value[end:]), file, d.Position)
	case runEnd:
		r.record()
		if len(r.menus) > 1 {
			r.end()
		}
		return nil
	}
	for _, n := range nodes {
		if err := r.node(n, file); err != nil {
			return err
		}
	}
	return nil
}

func (r *resolver) node(n Node, file string) error {
	if r.entries > MaxEntries {
		return &ResolveError{File: file, Pos: n.Pos(), Err: fmt.Errorf("%w (more than %d entries)", ErrTooLarge, MaxEntries)}
	}
	switch n := n.(type) {
	case *Label:
		r.record()
		r.ld = &labelData{
			e:      &Entry{Label: n.Name, File: file, Pos: n.Position, IPAppend: r.ipappend},
			kernel: n.Name,
			typ:    KwKernel,
		}
		for _, b := range n.Body {
			if err := r.node(b, file); err != nil {
				return err
			}
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

func (r *resolver) finish(files []string, dir string) {
	r.record()
	if len(r.menus) > 1 {
		r.warn(files[0], Pos{}, fmt.Errorf("%w: %d MENU BEGIN without MENU END", ErrUnbalanced, len(r.menus)-1))
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
	r.res.Files = files
	r.res.Dir = dir
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
