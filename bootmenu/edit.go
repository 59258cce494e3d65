package bootmenu

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrNoLabel is returned by editing methods given a label name that the
// configuration does not have.
var ErrNoLabel = errors.New("bootmenu: no such label")

// clean makes s a valid single-line value: line breaks become spaces and
// surrounding blanks (bytes up to ' ') go.
func clean(s string) string {
	if strings.Contains(s, "\n") {
		s = strings.NewReplacer("\r\n", " ", "\n", " ").Replace(s)
	}
	return trimBlanks(s)
}

// settle moves the lines at the end of each label's Body that follow its
// last label-scoped line out of the Body, to just after the label, where
// [Parse] would put them (see [Label]).
func (c *Config) settle() {
	for i := 0; i < len(c.Nodes); i++ {
		if l, ok := c.Nodes[i].(*Label); ok {
			c.settleAt(i, l)
		}
	}
}

// settleAt settles the label l at c.Nodes[i].
func (c *Config) settleAt(i int, l *Label) {
	last := -1
	for j, n := range l.Body {
		if keywordOf(n).labelScoped() {
			last = j
		}
	}
	if last == len(l.Body)-1 {
		return
	}
	tail := l.Body[last+1:]
	l.Body = l.Body[: last+1 : last+1]
	c.Nodes = slices.Insert(c.Nodes, i+1, tail...)
}

// settle keeps the label's Body to the lines that belong to it, after an
// edit that removed lines; see [Label].
func (l *Label) settle() {
	if l.own == nil || l.own.cfg == nil {
		return
	}
	c := l.own.cfg
	for i, n := range c.Nodes {
		if n == Node(l) {
			c.settleAt(i, l)
			return
		}
	}
}

// Labels returns the top-level LABEL blocks in order. Editing a returned
// *Label edits c.
func (c *Config) Labels() []*Label {
	var out []*Label
	for _, n := range c.Nodes {
		if l, ok := n.(*Label); ok {
			out = append(out, l)
		}
	}
	return out
}

// Label returns the first LABEL block called name, or nil. Names compare
// exactly, as syslinux compares them.
func (c *Config) Label(name string) *Label {
	for _, n := range c.Nodes {
		if l, ok := n.(*Label); ok && l.Name == name {
			return l
		}
	}
	return nil
}

func (c *Config) labelIndex(name string) int {
	for i, n := range c.Nodes {
		if l, ok := n.(*Label); ok && l.Name == name {
			return i
		}
	}
	return -1
}

// lowerCase reports whether the configuration writes its keywords in lower
// case, judging by its first directive or label.
func (c *Config) lowerCase() bool {
	for _, n := range c.Nodes {
		var kw string
		switch n := n.(type) {
		case *Label:
			kw = n.kw()
		case *Directive:
			kw = n.kw()
		default:
			continue
		}
		return kw != "" && kw == strings.ToLower(kw)
	}
	return false
}

// newLayout returns the layout of a new line in the style of a neighbour.
func newLayout(kw Keyword, lower bool, indent string) layout {
	s := string(kw)
	if lower {
		s = strings.ToLower(s)
	}
	i := uint16(len(indent))
	k := i + uint16(len(s))
	return layout{set: true, orig: indent + s, pkw: kw, ind: i, kwEnd: k, valStart: k, valEnd: k, eolKind: eolLF}
}

// AddLabel appends a new LABEL block called name (blanks trimmed) at the end
// of c and returns it. The new lines follow the spelling of the existing
// ones: keyword case and the indentation of the last label's body.
func (c *Config) AddLabel(name string) *Label {
	lower := c.lowerCase()
	l := &Label{Name: clean(name), layout: newLayout(KwLabel, lower, ""), own: &labelOwner{cfg: c}}
	for _, old := range c.Labels() {
		l.layout = newLayout(KwLabel, lower, old.indent())
		l.own.bodyIndent = old.childIndent()
	}
	if l.own.bodyIndent == "" && !lower {
		l.own.bodyIndent = "\t"
	}
	c.settle()
	c.Nodes = append(c.Nodes, l)
	return l
}

// RemoveLabel removes the first LABEL block called name with its body and
// reports whether there was one. Comments before the LABEL line stay.
func (c *Config) RemoveLabel(name string) bool {
	c.settle()
	i := c.labelIndex(name)
	if i < 0 {
		return false
	}
	if l, ok := c.Nodes[i].(*Label); ok && l.own != nil && l.own.cfg == c {
		l.own = &labelOwner{bodyIndent: l.own.bodyIndent}
	}
	c.Nodes = append(c.Nodes[:i], c.Nodes[i+1:]...)
	return true
}

// MoveLabel moves the LABEL block called name in front of the one called
// before, or to the end of c when before is "". Moving a label across MENU
// BEGIN or MENU END lines moves it into or out of that submenu.
func (c *Config) MoveLabel(name, before string) error {
	i := c.labelIndex(name)
	if i < 0 {
		return fmt.Errorf("%w: %q", ErrNoLabel, name)
	}
	if before != "" && c.labelIndex(before) < 0 {
		return fmt.Errorf("%w: %q", ErrNoLabel, before)
	}
	if name == before {
		return nil
	}
	c.settle()
	i = c.labelIndex(name)
	l := c.Nodes[i]
	c.Nodes = append(c.Nodes[:i], c.Nodes[i+1:]...)
	j := c.labelIndex(before)
	if before == "" || j < 0 {
		c.Nodes = append(c.Nodes, l)
		return nil
	}
	c.Nodes = append(c.Nodes[:j], append([]Node{l}, c.Nodes[j:]...)...)
	return nil
}

// Get returns the last directive with keyword kw in c (the one syslinux
// obeys for a global setting), or nil. Global directives written inside a
// LABEL block count: syslinux applies them wherever they are.
func (c *Config) Get(kw Keyword) *Directive {
	for i := len(c.Nodes) - 1; i >= 0; i-- {
		switch n := c.Nodes[i].(type) {
		case *Directive:
			if n.Keyword == kw {
				return n
			}
		case *Label:
			if kw.labelScoped() {
				continue
			}
			if d := n.Get(kw); d != nil {
				return d
			}
		}
	}
	return nil
}

// Set sets the value of the global directive kw: it changes the occurrence
// [Config.Get] finds, or inserts a new line before the first LABEL (at
// the end if there is none). Line breaks in value become spaces. Set
// returns the directive.
func (c *Config) Set(kw Keyword, value string) *Directive {
	if d := c.Get(kw); d != nil {
		d.Value = clean(value)
		return d
	}
	d := &Directive{Keyword: kw, Value: clean(value), layout: newLayout(kw, c.lowerCase(), "")}
	for i, n := range c.Nodes {
		if _, ok := n.(*Label); ok {
			c.Nodes = append(c.Nodes[:i], append([]Node{d}, c.Nodes[i:]...)...)
			return d
		}
	}
	c.Nodes = append(c.Nodes, d)
	return d
}

// childIndent is the indentation of the label's body lines.
func (l *Label) childIndent() string {
	if l.own != nil && l.own.bodyIndent != "" {
		return l.own.bodyIndent
	}
	for _, n := range l.Body {
		if d, ok := n.(*Directive); ok && d.set {
			return d.indent()
		}
	}
	if !l.set {
		return "\t"
	}
	return l.indent() + "\t"
}

// Get returns the last directive with keyword kw in the label's body (the
// one syslinux obeys), or nil.
func (l *Label) Get(kw Keyword) *Directive {
	for i := len(l.Body) - 1; i >= 0; i-- {
		if d, ok := l.Body[i].(*Directive); ok && d.Keyword == kw {
			return d
		}
	}
	return nil
}

// order ranks label-scoped keywords for placing new lines.
func order(k Keyword) int {
	switch {
	case k == KwMenuLabel:
		return 0
	case strings.HasPrefix(string(k), "MENU "):
		return 1
	case k.IsKernel():
		return 2
	case k == KwInitrd:
		return 3
	case k == KwAppend:
		return 4
	case k == KwIPAppend || k == KwSysAppend:
		return 5
	}
	return 6
}

// Set sets the value of kw in the label's body: it changes the last
// occurrence or adds a line in the conventional place (MENU lines, kernel,
// INITRD, APPEND, IPAPPEND, TEXT) in the style of the label. Line breaks in
// value become spaces. kw should be label-scoped (see [Label]); Set returns
// the directive.
func (l *Label) Set(kw Keyword, value string) *Directive {
	if d := l.Get(kw); d != nil {
		d.Value = clean(value)
		return d
	}
	lower := l.set && l.kw() == strings.ToLower(l.kw())
	d := &Directive{Keyword: kw, Value: clean(value), layout: newLayout(kw, lower, l.childIndent())}
	l.insert(d, order(kw))
	return d
}

func (l *Label) insert(n Node, rank int) {
	at := 0
	for i, c := range l.Body {
		switch c := c.(type) {
		case *Directive:
			if order(c.Keyword) <= rank {
				at = i + 1
			}
		case *Text:
			if rank >= 6 {
				at = i + 1
			}
		}
	}
	l.Body = append(l.Body[:at], append([]Node{n}, l.Body[at:]...)...)
}

// Remove deletes every directive with keyword kw from the label's body and
// returns how many it removed. Lines that no longer belong to the label
// move out of its body (see [Label]).
func (l *Label) Remove(kw Keyword) int {
	out := l.Body[:0]
	k := 0
	for _, n := range l.Body {
		if d, ok := n.(*Directive); ok && d.Keyword == kw {
			k++
			continue
		}
		out = append(out, n)
	}
	clear(l.Body[len(out):])
	l.Body = out
	if k > 0 {
		l.settle()
	}
	return k
}

// kernel returns the label's kernel directive (the last of KERNEL, LINUX,
// COM32 and the other kernel forms), or nil.
func (l *Label) kernel() *Directive {
	for i := len(l.Body) - 1; i >= 0; i-- {
		if d, ok := l.Body[i].(*Directive); ok && d.Keyword.IsKernel() {
			return d
		}
	}
	return nil
}

// Kernel returns the value of the label's kernel directive (KERNEL, LINUX,
// COM32, …), or "" if it has none; syslinux then boots the label's name.
func (l *Label) Kernel() string {
	if d := l.kernel(); d != nil {
		return d.Value
	}
	return ""
}

// SetKernel sets the label's kernel line, keeping its keyword (KERNEL,
// LINUX, COM32, …) if it has one and adding a KERNEL line otherwise.
func (l *Label) SetKernel(value string) {
	if d := l.kernel(); d != nil {
		d.Value = clean(value)
		return
	}
	l.Set(KwKernel, value)
}

// Append returns the value of the label's APPEND line, or "".
func (l *Label) Append() string {
	if d := l.Get(KwAppend); d != nil {
		return d.Value
	}
	return ""
}

// SetAppend sets the label's APPEND line. An empty value removes it.
func (l *Label) SetAppend(value string) {
	if clean(value) == "" {
		l.Remove(KwAppend)
		return
	}
	l.Set(KwAppend, value)
}

// Initrds returns the label's initial ramdisks as pxelinux loads them
// (see [Entry.Initrds]): syslinux puts initrd= with the files of the
// INITRD line after the APPEND line's options, and pxelinux loads the
// files of the first initrd= option only, so an initrd= option on the
// APPEND line wins over the INITRD line. A global APPEND is not looked at.
func (l *Label) Initrds() []string {
	cmdline := l.Append()
	if d := l.Get(KwInitrd); d != nil {
		cmdline += " initrd=" + d.Word(0)
	}
	return initrdsOf(cmdline)
}

func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// SetInitrds sets the label's initial ramdisks. Where the label names them
// with initrd= on its APPEND line, that option is replaced in place (one
// initrd= with a comma-separated list); otherwise the INITRD line is set.
// No paths removes both forms.
func (l *Label) SetInitrds(paths ...string) {
	list := strings.Join(paths, ",")
	list = clean(list)
	app := l.Get(KwAppend)
	inAppend := app != nil && strings.Contains(" "+app.Value, " initrd=")
	if len(paths) == 0 {
		l.Remove(KwInitrd)
	}
	if inAppend {
		var ws []string
		done := false
		for _, w := range strings.Split(app.Value, " ") {
			if strings.HasPrefix(w, "initrd=") {
				if done || len(paths) == 0 {
					continue
				}
				w, done = "initrd="+list, true
			}
			ws = append(ws, w)
		}
		app.Value = clean(strings.Join(ws, " "))
		if l.Get(KwInitrd) != nil && len(paths) > 0 {
			l.Remove(KwInitrd)
		}
		return
	}
	if len(paths) > 0 {
		l.Set(KwInitrd, list)
	}
}

// MenuLabel returns the label's MENU LABEL, or "".
func (l *Label) MenuLabel() string {
	if d := l.Get(KwMenuLabel); d != nil {
		return d.Value
	}
	return ""
}

// SetMenuLabel sets the label's MENU LABEL ('^' marks the hot key).
func (l *Label) SetMenuLabel(value string) { l.Set(KwMenuLabel, value) }

// Help returns the label's TEXT HELP text, or "".
func (l *Label) Help() string {
	for i := len(l.Body) - 1; i >= 0; i-- {
		if t, ok := l.Body[i].(*Text); ok && t.Kind == "HELP" {
			return t.Body
		}
	}
	return ""
}

// SetHelp sets the label's TEXT HELP block to text (a final line break is
// added if missing). An empty text removes the block. Syslinux ends the
// block at the first line whose first word is ENDTEXT, so such a line
// cannot be part of a help text: SetHelp then returns an error wrapping
// [ErrInvalid] and changes nothing.
func (l *Label) SetHelp(text string) error {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	for ln := range strings.Lines(text) {
		if isEndText(ln) {
			return fmt.Errorf("%w: help text line %q would end the TEXT block", ErrInvalid, strings.TrimSpace(ln))
		}
	}
	var t *Text
	removed := false
	for i := len(l.Body) - 1; i >= 0; i-- {
		if x, ok := l.Body[i].(*Text); ok && x.Kind == "HELP" {
			if text == "" {
				l.Body = append(l.Body[:i], l.Body[i+1:]...)
				removed = true
				continue
			}
			if t == nil {
				t = x
			}
		}
	}
	if text == "" {
		if removed {
			l.settle()
		}
		return nil
	}
	if t != nil {
		t.Body = text
		return nil
	}
	lower := l.set && l.kw() == strings.ToLower(l.kw())
	lay := newLayout(KwText, lower, l.childIndent())
	kind := "HELP"
	if lower {
		kind = "help"
	}
	l.insert(&Text{Kind: "HELP", Body: text, layout: lay, kindRaw: kind}, 6)
	return nil
}
