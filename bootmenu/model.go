package bootmenu

import (
	"fmt"
	"iter"
	"strings"
	"time"
)

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
	// Dir is ResolveOptions.Dir: the directory relative names are
	// relative to. RenderIPXE and RenderGRUB name kernels and initrds
	// from the root with it (see [FSPath]); RenderPXELinux keeps names
	// as written, which suits a pxelinux whose path prefix is Dir.
	Dir string
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
	Type   Keyword
	Kernel string // kernel file (first word of the kernel line), or the label's name
	// Append is the command line after Kernel, as syslinux builds it:
	// the label's APPEND (else the global one), then initrd= with the
	// files of the label's INITRD line. It is the one place an entry's
	// initial ramdisks are named: [Entry.Initrds] reads them from it and
	// [Entry.SetInitrds] edits them in it, and every renderer reads them
	// through Initrds, so an edit of Append changes all renderings alike.
	Append string
	Help   string // TEXT HELP text, line endings as "\n"

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

// Initrds returns the initial ramdisks the entry loads: the files of the
// first initrd= option of Append, comma-separated, as pxelinux's Linux
// loader reads them. pxelinux loads no other initrd= option: a global
// "APPEND initrd=a.img" and a label's "INITRD b.img" make the command line
// "initrd=a.img initrd=b.img", which loads a.img only (checked against
// pxelinux.0 in QEMU). Empty names are left out. (pxelinux finds the
// option with strstr, so it would also find "initrd=" inside a word such as
// "xinitrd=c"; Initrds only takes words that start with it.)
func (e *Entry) Initrds() []string { return initrdsOf(e.Append) }

// SetInitrds makes the entry load files as its initial ramdisks: it
// replaces the first initrd= option of Append (the one [Entry.Initrds]
// reads) with one listing files, adds one at the end if Append has none,
// and removes it when files is empty. Later initrd= options, which
// pxelinux passes to the kernel without loading them, are kept. Names
// should not contain blanks or commas.
func (e *Entry) SetInitrds(files ...string) {
	var opt string
	if len(files) > 0 {
		opt = "initrd=" + strings.Join(files, ",")
	}
	s, end := firstInitrd(e.Append)
	switch {
	case s >= 0 && opt != "":
		e.Append = e.Append[:s] + opt + e.Append[end:]
	case s >= 0:
		e.Append = trimBlanks(trimBlanks(e.Append[:s]) + " " + trimBlanks(e.Append[end:]))
	case opt != "" && trimBlanks(e.Append) != "":
		e.Append = trimBlanks(e.Append) + " " + opt
	case opt != "":
		e.Append = opt
	}
}

// firstInitrd returns where the first word of cmdline that starts with
// "initrd=" starts and ends, or -1, -1.
func firstInitrd(cmdline string) (start, end int) {
	for pos := 0; ; {
		s, w, e := firstWord(cmdline, pos)
		if w == "" {
			return -1, -1
		}
		if strings.HasPrefix(w, "initrd=") {
			return s, e
		}
		pos = e
	}
}

// initrdsOf returns the files pxelinux loads for a command line; see
// [Entry.Initrds].
func initrdsOf(cmdline string) []string {
	s, e := firstInitrd(cmdline)
	if s < 0 {
		return nil
	}
	return splitList(cmdline[s+len("initrd=") : e])
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

// All returns an iterator over every entry of m and its submenus, depth
// first, each with the menu holding it.
func (m *Menu) All() iter.Seq2[*Menu, *Entry] {
	return func(yield func(*Menu, *Entry) bool) { m.all(yield) }
}

func (m *Menu) all(yield func(*Menu, *Entry) bool) bool {
	for _, e := range m.Entries {
		if !yield(m, e) {
			return false
		}
		if e.Submenu != nil && !e.Submenu.all(yield) {
			return false
		}
	}
	return true
}
