package bootmenu

import (
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"
)

// joinBase puts a file name of a configuration whose working directory
// is dir (see [Resolved.Dir]) under base: relative names are taken from
// dir, names starting with "/" or pxelinux's "::" from base's root, and
// URLs are kept. A name that leaves the root is kept as written.
func joinBase(base, dir, name string) string {
	if strings.Contains(name, "://") {
		return name
	}
	if validRel(dir) && validRel(name) && !strings.HasPrefix(name, "::") {
		// What FSPath gives, in one allocation.
		if base == "" {
			return dir + "/" + name
		}
		return strings.TrimRight(base, "/") + "/" + dir + "/" + name
	}
	if n, ok := FSPath(dir, name); ok {
		name = n
	} else {
		name = strings.TrimLeft(strings.TrimPrefix(name, "::"), "/")
	}
	if base == "" {
		return name
	}
	return strings.TrimRight(base, "/") + "/" + name
}

// validRel reports whether s is a clean relative name that stays in the
// root, one that path.Join keeps as it is.
func validRel(s string) bool { return s != "." && fs.ValidPath(s) }

// IPXEScriptOptions tunes [RenderIPXE]. The zero value is ready to use.
type IPXEScriptOptions struct {
	// BaseURL is put in front of kernel and initrd names, e.g.
	// "http://192.0.2.1:8080/debian", the URL of the root of the file
	// system the menu was resolved from. Names are made names from that
	// root as [FSPath] makes them: relative names are taken from
	// [Resolved.Dir] (the directory of an isolinux configuration), "/x"
	// and "::x" from the root, and URLs are kept. Empty gives the names
	// from the root, which iPXE then fetches relative to the script.
	BaseURL string
	// InitrdArg names every initrd (initrd --name) and adds initrd=<name>
	// to the kernel command line. Linux's EFI stub needs it to find the
	// initrd with iPXE builds that do not pass it otherwise, such as
	// Debian's 2019 ipxe.efi.
	InitrdArg bool
	// Title is used for menus without MENU TITLE; "" means "Boot menu".
	Title string
}

// IPXEOptions is the former name of [IPXEScriptOptions].
//
// Deprecated: use IPXEScriptOptions; IPXEOptions read as dhcp.IPXEOptions
// (DHCP option 175).
type IPXEOptions = IPXEScriptOptions

var ipxeReplacer = strings.NewReplacer("${", "$ {", "||", "| |", "&&", "& &")

// ipxeText keeps text that iPXE would expand (${…}) or split into
// commands (|| and &&) literal enough.
func ipxeText(s string) string {
	s = ipxeReplacer.Replace(s)
	return strings.Map(func(r rune) rune {
		if r < ' ' {
			return ' '
		}
		return r
	}, s)
}

// ipxeArgs keeps a kernel command line as written: iPXE expands ${…}
// settings in it (as pxelinux menus written for iPXE-chained loaders
// mean), and splits commands only at words that are exactly || or &&,
// which a command line does not contain. Control bytes become spaces.
func ipxeArgs(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' {
			return ' '
		}
		return r
	}, s)
}

// ident makes an iPXE label or GRUB id from a prefix, a number and a
// label name.
func ident(prefix string, n int, name string) string {
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteString(strconv.Itoa(n))
	clean := strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '_', r == '-', r == '.':
			return r
		}
		return -1
	}, name)
	if clean != "" {
		b.WriteByte('-')
		b.WriteString(clean)
	}
	return b.String()
}

// numbering assigns ids to menus and entries in a fixed order.
type numbering struct {
	menu  map[*Menu]string
	entry map[*Entry]string
	byTag map[string]*Menu
	up    map[*Menu]*Menu
	order []*Menu
}

func number(root *Menu) *numbering {
	n := &numbering{menu: map[*Menu]string{}, entry: map[*Entry]string{}, byTag: map[string]*Menu{}, up: map[*Menu]*Menu{}}
	var walk func(m *Menu)
	walk = func(m *Menu) {
		n.menu[m] = ident("menu", len(n.order), m.Tag)
		n.order = append(n.order, m)
		if _, ok := n.byTag[m.Tag]; !ok && m.Tag != "" {
			n.byTag[m.Tag] = m
		}
		for _, e := range m.Entries {
			n.entry[e] = ident("e", len(n.entry)+1, e.Label)
			if e.Submenu != nil {
				n.up[e.Submenu] = m
				walk(e.Submenu)
			}
		}
	}
	n.byTag[".top"] = root
	walk(root)
	return n
}

// timeoutEntry is the entry booted when the top-level menu times out.
func (r *Resolved) timeoutEntry() *Entry {
	if r.OnTimeout != "" {
		_, w, _ := firstWord(r.OnTimeout, 0)
		if e := r.Menu.Entry(w); e != nil {
			return e
		}
	}
	return r.Menu.DefaultEntry()
}

// RenderIPXE writes r as an iPXE script: one menu/item/choose block per
// menu and submenu, and for each Linux entry a kernel, initrd and boot
// section. The top-level menu gets TIMEOUT as choose --timeout and its
// default (or ONTIMEOUT) entry as --default. LOCALBOOT entries exit iPXE
// so the firmware tries the next boot device, PXE entries chain-load
// their file, MENU GOTO and MENU EXIT jump between menus, separators and
// disabled entries become gaps. Entries iPXE cannot run (COM32 modules,
// CONFIG, floppy images, MENU HELP and MENU QUIT) are left out with a
// comment.
func RenderIPXE(w io.Writer, r *Resolved, opts *IPXEScriptOptions) error {
	var o IPXEScriptOptions
	if opts != nil {
		o = *opts
	}
	if o.Title == "" {
		o.Title = "Boot menu"
	}
	n := number(r.Menu)
	var b strings.Builder
	b.WriteString("#!ipxe\n# Generated by pxekit bootmenu from a pxelinux configuration.\n\n")
	fmt.Fprintf(&b, "goto %s\n", n.menu[r.Menu])
	var sections strings.Builder
	for _, m := range n.order {
		id := n.menu[m]
		title := m.Title
		if title == "" {
			title = o.Title
		}
		title = ipxeText(title)
		if strings.HasPrefix(title, "-") {
			// iPXE would take "--== Title ==--" for an option.
			title = "-- " + title
		}
		fmt.Fprintf(&b, "\n:%s\nmenu %s\n", id, title)
		for _, e := range m.Entries {
			eid := n.entry[e]
			disp := ipxeText(e.Display)
			if e.Hidden {
				continue
			}
			if e.Action == ActionSeparator || e.Disabled {
				fmt.Fprintf(&b, "item --gap -- %s\n", disp)
				continue
			}
			switch e.Action {
			case ActionSubmenu:
				fmt.Fprintf(&b, "item %s %s\n", n.menu[e.Submenu], disp)
			case ActionGoto, ActionExit:
				target := n.up[m]
				if e.Target != "" {
					target = n.byTag[e.Target]
				}
				if target == nil {
					fmt.Fprintf(&b, "# %s: no menu %q to go to\n", eid, e.Target)
					continue
				}
				fmt.Fprintf(&b, "item %s %s\n", n.menu[target], disp)
			case ActionBoot:
				sec, ok := ipxeSection(e, eid, id, r.Dir, &o)
				if !ok {
					fmt.Fprintf(&b, "# %s: %s %s cannot run under iPXE\n", eid, e.Type, ipxeText(e.Kernel))
					continue
				}
				fmt.Fprintf(&b, "item %s %s\n", eid, disp)
				sections.WriteString(sec)
			default:
				fmt.Fprintf(&b, "# %s: MENU %s has no iPXE equivalent\n", eid, strings.ToUpper(e.Action.String()))
			}
		}
		choose := "choose"
		if m == r.Menu && r.Timeout > 0 {
			choose += " --timeout " + strconv.FormatInt(r.Timeout.Milliseconds(), 10)
		}
		def := m.DefaultEntry()
		if m == r.Menu {
			def = r.timeoutEntry()
		}
		if def != nil && def.Action == ActionBoot {
			if ipxeRuns(def) {
				choose += " --default " + n.entry[def]
			}
		} else if def != nil && def.Submenu != nil {
			choose += " --default " + n.menu[def.Submenu]
		}
		back := "exit"
		if up := n.up[m]; up != nil {
			back = "goto " + n.menu[up]
		}
		fmt.Fprintf(&b, "%s selected || %s\ngoto ${selected}\n", choose, back)
	}
	b.WriteString(sections.String())
	_, err := io.WriteString(w, b.String())
	return err
}

// ipxeRuns reports whether iPXE can boot e (see [ipxeSection]).
func ipxeRuns(e *Entry) bool {
	switch e.Type {
	case KwLocalBoot, KwPXE, KwLinux:
		return true
	}
	return false
}

// ipxeSection returns the script section that boots e.
func ipxeSection(e *Entry, id, menuID, dir string, o *IPXEScriptOptions) (string, bool) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n:%s\n", id)
	switch e.Type {
	case KwLocalBoot:
		b.WriteString("exit\n")
		return b.String(), true
	case KwPXE:
		fmt.Fprintf(&b, "chain %s || goto %s\n", ipxeText(joinBase(o.BaseURL, dir, e.Kernel)), menuID)
		return b.String(), true
	case KwLinux:
	default:
		return "", false
	}
	var initrds, names []string
	seen := map[string]int{}
	for _, f := range e.Initrds() {
		name := path.Base(f)
		if k := seen[name]; k > 0 {
			name = fmt.Sprintf("%d-%s", k, name)
		}
		seen[path.Base(f)]++
		names = append(names, name)
		initrds = append(initrds, ipxeText(joinBase(o.BaseURL, dir, f)))
	}
	b.WriteString("kernel ")
	b.WriteString(ipxeText(joinBase(o.BaseURL, dir, e.Kernel)))
	if o.InitrdArg {
		for _, nm := range names {
			b.WriteString(" initrd=")
			b.WriteString(ipxeText(nm))
		}
	}
	if a := e.Args(); a != "" {
		b.WriteByte(' ')
		b.WriteString(ipxeArgs(a))
	}
	if e.IPAppend&1 != 0 {
		b.WriteString(" ip=${ip}:${next-server}:${gateway}:${netmask}")
	}
	if e.IPAppend&2 != 0 {
		b.WriteString(" BOOTIF=01-${mac:hexhyp}")
	}
	fmt.Fprintf(&b, " || goto %s\n", menuID)
	for i, u := range initrds {
		if o.InitrdArg {
			fmt.Fprintf(&b, "initrd --name %s %s || goto %s\n", ipxeText(names[i]), u, menuID)
		} else {
			fmt.Fprintf(&b, "initrd %s || goto %s\n", u, menuID)
		}
	}
	fmt.Fprintf(&b, "boot || goto %s\n", menuID)
	return b.String(), true
}

// GRUBOptions tunes [RenderGRUB]. The zero value is ready to use.
type GRUBOptions struct {
	// Prefix is put in front of kernel and initrd names, e.g. "(tftp)",
	// "(http,192.0.2.1)/debian", or "" for names from GRUB's root; names
	// are taken as for [IPXEScriptOptions.BaseURL], relative ones from
	// [Resolved.Dir].
	Prefix string
}

// grubQuote quotes s for a GRUB script word when needed.
func grubQuote(s string) string {
	safe := s != ""
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("_./:=,+-@%^~!()", c) >= 0 || c >= 0x80) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// grubArgs quotes each word of a command line that needs it.
func grubArgs(s string) string {
	ws := fields(s)
	for i, w := range ws {
		ws[i] = grubQuote(w)
	}
	return strings.Join(ws, " ")
}

func grubPath(prefix, dir, name string) string {
	return grubQuote(joinBase(prefix, dir, name))
}

// RenderGRUB writes r as a GRUB configuration: a menuentry with linux and
// initrd for each Linux entry, a submenu for each submenu, timeout (whole
// seconds, rounded up; -1 when pxelinux waits for the user) and the
// default entry by id. LOCALBOOT entries exit GRUB so the firmware tries
// the next boot device. Separators, disabled entries, MENU GOTO and MENU
// EXIT (GRUB's Esc goes back), and entries GRUB cannot run (COM32, CONFIG,
// PXE, MENU HELP, MENU QUIT) are left out with a comment.
func RenderGRUB(w io.Writer, r *Resolved, opts *GRUBOptions) error {
	var o GRUBOptions
	if opts != nil {
		o = *opts
	}
	if o.Prefix == "" {
		o.Prefix = "/"
	}
	n := number(r.Menu)
	var b strings.Builder
	b.WriteString("# Generated by pxekit bootmenu from a pxelinux configuration.\n")
	if r.Timeout > 0 {
		fmt.Fprintf(&b, "set timeout=%d\n", (r.Timeout+time.Second-1)/time.Second)
	} else {
		b.WriteString("set timeout=-1\n")
	}
	var body strings.Builder
	shown := map[string]bool{}
	grubMenu(&body, r.Menu, n, &o, r.Dir, "", shown)
	if path := grubDefault(r.Menu, r.timeoutEntry(), n); path != "" && shown[path[strings.LastIndexByte(path, '>')+1:]] {
		fmt.Fprintf(&b, "set default=%s\n", grubQuote(path))
	}
	if r.Menu.Title != "" {
		fmt.Fprintf(&b, "# %s\n", strings.ReplaceAll(r.Menu.Title, "\n", " "))
	}
	b.WriteString(body.String())
	_, err := io.WriteString(w, b.String())
	return err
}

// grubDefault returns the GRUB default path ("menu1>e5") of def.
func grubDefault(root *Menu, def *Entry, n *numbering) string {
	if def == nil {
		return ""
	}
	var find func(m *Menu, prefix string) string
	find = func(m *Menu, prefix string) string {
		for _, e := range m.Entries {
			if e == def {
				if e.Submenu != nil {
					return prefix + n.menu[e.Submenu]
				}
				return prefix + n.entry[e]
			}
			if e.Submenu != nil {
				if p := find(e.Submenu, prefix+n.menu[e.Submenu]+">"); p != "" {
					return p
				}
			}
		}
		return ""
	}
	return find(root, "")
}

// grubMenu writes the entries of m and returns how many menuentry and
// submenu blocks it wrote; shown collects their ids.
func grubMenu(b *strings.Builder, m *Menu, n *numbering, o *GRUBOptions, dir, ind string, shown map[string]bool) int {
	count := 0
	for _, e := range m.Entries {
		eid := n.entry[e]
		title := strings.Map(func(r rune) rune {
			if r < ' ' {
				return ' '
			}
			return r
		}, e.Display)
		if strings.HasPrefix(title, "-") {
			// menuentry and submenu would take it for an option.
			title = " " + title
		}
		title = grubQuote(title)
		if e.Hidden || e.Action == ActionSeparator || e.Disabled {
			continue
		}
		switch {
		case e.Submenu != nil:
			// GRUB rejects an empty block: leave out submenus with
			// nothing GRUB can boot.
			var sub strings.Builder
			if grubMenu(&sub, e.Submenu, n, o, dir, ind+"\t", shown) == 0 {
				fmt.Fprintf(b, "%s# %s: submenu %s has no entry GRUB can boot\n", ind, n.menu[e.Submenu], title)
				continue
			}
			count++
			shown[n.menu[e.Submenu]] = true
			fmt.Fprintf(b, "%ssubmenu %s --id %s {\n%s%s}\n", ind, title, n.menu[e.Submenu], sub.String(), ind)
		case e.Action == ActionBoot && e.Type == KwLocalBoot:
			count++
			shown[eid] = true
			fmt.Fprintf(b, "%smenuentry %s --id %s {\n%s\texit\n%s}\n", ind, title, eid, ind, ind)
		case e.Action == ActionBoot && e.Type == KwLinux:
			count++
			shown[eid] = true
			fmt.Fprintf(b, "%smenuentry %s --id %s {\n", ind, title, eid)
			fmt.Fprintf(b, "%s\tlinux %s", ind, grubPath(o.Prefix, dir, e.Kernel))
			if a := e.Args(); a != "" {
				b.WriteString(" " + grubArgs(a))
			}
			if e.IPAppend&2 != 0 {
				// GRUB writes the MAC with colons, pxelinux with hyphens.
				b.WriteString(` "BOOTIF=01-${net_default_mac}"`)
			}
			b.WriteString("\n")
			if e.IPAppend&1 != 0 {
				fmt.Fprintf(b, "%s\t# IPAPPEND 1 (ip=client:server:gateway:netmask) has no GRUB equivalent; left out\n", ind)
			}
			if initrds := e.Initrds(); len(initrds) > 0 {
				fmt.Fprintf(b, "%s\tinitrd", ind)
				for _, f := range initrds {
					b.WriteString(" " + grubPath(o.Prefix, dir, f))
				}
				b.WriteString("\n")
			}
			fmt.Fprintf(b, "%s}\n", ind)
		case e.Action == ActionBoot:
			fmt.Fprintf(b, "%s# %s: %s %s cannot run under GRUB\n", ind, eid, e.Type, strings.ReplaceAll(e.Kernel, "\n", " "))
		default:
			fmt.Fprintf(b, "%s# %s: MENU %s left out\n", ind, eid, strings.ToUpper(e.Action.String()))
		}
	}
	return count
}
