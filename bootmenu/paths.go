package bootmenu

import "strings"

// PathKind says what a file name in a configuration refers to, for
// [Config.RewritePaths] and [Resolved.RewritePaths].
type PathKind int

// Path kinds.
const (
	PathKernel     PathKind = iota // KERNEL, LINUX, COM32, … image or module
	PathInitrd                     // INITRD and initrd= on APPEND
	PathInclude                    // INCLUDE, MENU INCLUDE
	PathConfig                     // CONFIG file
	PathDir                        // CONFIG directory, PATH entries
	PathModule                     // UI module
	PathFile                       // DISPLAY, FONT, KBDMAP, F1–F12, MENU HELP text files
	PathBackground                 // MENU BACKGROUND image, F-key and MENU HELP backgrounds
)

// RewritePaths replaces every file name in c with fn(kind, name): kernel
// and module names, INITRD lists and initrd= options of APPEND lines,
// INCLUDE and MENU INCLUDE files, CONFIG, UI, DISPLAY, FONT, KBDMAP,
// F1–F12, MENU HELP, MENU BACKGROUND (unless a colour) and PATH. The rest
// of each line is kept. Use it to serve a configuration under another
// prefix than the one it was written for; LOCALBOOT and DEFAULT are left
// alone. Names fn returns should not contain blanks (or commas, for
// initrds).
func (c *Config) RewritePaths(fn func(kind PathKind, name string) string) {
	for _, n := range c.Nodes {
		switch n := n.(type) {
		case *Directive:
			rewriteDirective(n, fn)
		case *Label:
			for _, b := range n.Body {
				if d, ok := b.(*Directive); ok {
					rewriteDirective(d, fn)
				}
			}
		}
	}
}

func rewriteDirective(d *Directive, fn func(PathKind, string) string) {
	switch k := d.Keyword; {
	case k == KwLocalBoot:
	case k == KwConfig:
		d.Value = rewriteWord(d.Value, 0, func(s string) string { return fn(PathConfig, s) })
		d.Value = rewriteWord(d.Value, 1, func(s string) string { return fn(PathDir, s) })
	case k.IsKernel():
		d.Value = rewriteWord(d.Value, 0, func(s string) string { return fn(PathKernel, s) })
	case k == KwInitrd:
		d.Value = rewriteWord(d.Value, 0, func(s string) string { return rewriteList(s, PathInitrd, fn) })
	case k == KwAppend:
		d.Value = rewriteInitrdArgs(d.Value, fn)
	case k == KwInclude || k == KwMenuInclude:
		d.Value = rewriteWord(d.Value, 0, func(s string) string { return fn(PathInclude, s) })
	case k == KwUI:
		d.Value = rewriteWord(d.Value, 0, func(s string) string { return fn(PathModule, s) })
	case k == KwDisplay || k == KwFont || k == KwKbdMap:
		d.Value = rewriteWord(d.Value, 0, func(s string) string { return fn(PathFile, s) })
	case k.IsFKey() || k == KwMenuHelp:
		d.Value = rewriteWord(d.Value, 0, func(s string) string { return fn(PathFile, s) })
		d.Value = rewriteWord(d.Value, 1, func(s string) string { return fn(PathBackground, s) })
	case k == KwMenuBackground:
		if !strings.HasPrefix(d.Value, "#") {
			d.Value = rewriteWord(d.Value, 0, func(s string) string { return fn(PathBackground, s) })
		}
	case k == KwPath:
		parts := strings.Split(d.Value, ":")
		for i, p := range parts {
			if p != "" {
				parts[i] = fn(PathDir, p)
			}
		}
		d.Value = strings.Join(parts, ":")
	}
}

// rewriteWord replaces the i-th word of s.
func rewriteWord(s string, i int, fn func(string) string) string {
	pos := 0
	for k := 0; ; k++ {
		start, w, end := firstWord(s, pos)
		if w == "" {
			return s
		}
		if k == i {
			return s[:start] + fn(w) + s[end:]
		}
		pos = end
	}
}

func rewriteList(s string, kind PathKind, fn func(PathKind, string) string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		if p != "" {
			parts[i] = fn(kind, p)
		}
	}
	return strings.Join(parts, ",")
}

// rewriteInitrdArgs rewrites the files of initrd= words in a command line.
func rewriteInitrdArgs(s string, fn func(PathKind, string) string) string {
	var b strings.Builder
	pos := 0
	for {
		start, w, end := firstWord(s, pos)
		if w == "" {
			b.WriteString(s[pos:])
			return b.String()
		}
		b.WriteString(s[pos:start])
		if v, ok := strings.CutPrefix(w, "initrd="); ok {
			b.WriteString("initrd=")
			b.WriteString(rewriteList(v, PathInitrd, fn))
		} else {
			b.WriteString(w)
		}
		pos = end
	}
}

// RewritePaths replaces the file names of r with fn(kind, name): the
// kernel and initrd names of every entry (the files of every initrd=
// option of Append), MENU HELP files, menu backgrounds, UI, DISPLAY, PATH, and the
// files of kept settings (F1–F12, FONT, KBDMAP). Entries that do not boot
// a file (submenus, separators, LOCALBOOT) are left alone.
func (r *Resolved) RewritePaths(fn func(kind PathKind, name string) string) {
	settings := func(ss []Setting) {
		for i := range ss {
			d := Directive{Keyword: ss[i].Keyword, Value: ss[i].Value}
			rewriteDirective(&d, fn)
			ss[i].Value = d.Value
		}
	}
	r.UI = rewriteWord(r.UI, 0, func(s string) string { return fn(PathModule, s) })
	if r.Display != "" {
		r.Display = fn(PathFile, r.Display)
	}
	for i, p := range r.Path {
		r.Path[i] = fn(PathDir, p)
	}
	settings(r.Settings)
	var walk func(m *Menu)
	walk = func(m *Menu) {
		if m.Background != "" && !strings.HasPrefix(m.Background, "#") {
			m.Background = fn(PathBackground, m.Background)
		}
		settings(m.Settings)
		for _, e := range m.Entries {
			switch {
			case e.Submenu != nil:
				walk(e.Submenu)
			case e.Action == ActionBoot && e.Type == KwLocalBoot:
			case e.Action == ActionBoot:
				kind := PathKernel
				if e.Type == KwConfig {
					kind = PathConfig
				}
				e.Kernel = fn(kind, e.Kernel)
				e.Append = rewriteInitrdArgs(e.Append, fn)
			case e.Action == ActionHelp:
				e.Kernel = fn(PathFile, e.Kernel)
			}
		}
	}
	walk(r.Menu)
}
