package bootmenu

import "strings"

// Pos is the position of a node in its source: 1-based line and 1-based
// byte column of the first non-blank character. The zero Pos means the node
// was built by code, not parsed.
type Pos struct {
	Line int
	Col  int
}

// IsValid reports whether p is a parsed position.
func (p Pos) IsValid() bool { return p.Line > 0 }

// Node is one element of a [Config]: a [*Comment], [*Blank], [*Directive],
// [*Raw], [*Text] or [*Label]. The interface is sealed; no other type
// implements it.
type Node interface {
	// Pos is where the node starts in the parsed source.
	Pos() Pos
	node()
}

// layout keeps the spelling of a line that the tree does not model: the
// indentation, the keyword as written, the blanks around the value and the
// line ending, as offsets into the line. The zero layout prints
// canonically.
type layout struct {
	orig string  // the parsed line without its ending
	pkw  Keyword // the keyword that orig spells
	// orig[:ind] is the indentation, orig[ind:kwEnd] the keyword as
	// written ("menu\tlabel"), orig[kwEnd:valStart] the blanks before the
	// value and orig[valEnd:] the blanks after it.
	ind, kwEnd, valStart, valEnd uint16
	eolKind                      eolKind
	set                          bool // the layout came from the parser
}

// eolKind is a line ending.
type eolKind uint8

const (
	eolNone eolKind = iota // last line of a file without a line ending
	eolLF
	eolCRLF
	eolCR // a lone CR at the end of the file
)

var eolStrings = [...]string{eolNone: "", eolLF: "\n", eolCRLF: "\r\n", eolCR: "\r"}

func eolOf(s string) eolKind {
	switch s {
	case "\n":
		return eolLF
	case "\r\n":
		return eolCRLF
	case "\r":
		return eolCR
	}
	return eolNone
}

func (l *layout) indent() string { return l.orig[:l.ind] }
func (l *layout) kw() string     { return l.orig[l.ind:l.kwEnd] }
func (l *layout) sep() string    { return l.orig[l.kwEnd:l.valStart] }
func (l *layout) trail() string  { return l.orig[l.valEnd:] }
func (l *layout) eol() string    { return eolStrings[l.eolKind] }

// Config is a parsed configuration file: its lines as nodes, in order.
// LABEL blocks are [*Label] nodes holding the lines that belong to them.
//
// A Config is not safe for concurrent modification.
type Config struct {
	Nodes []Node

	parsed labelOwner // of the labels Parse made
}

// Comment is a line whose first non-blank character is '#'.
type Comment struct {
	Position Pos
	Text     string // everything after the '#', blanks included
	layout
}

// Blank is an empty line or a line of blanks only.
type Blank struct {
	Position Pos
	layout   // indent holds the blanks
}

// Directive is one known keyword line such as "TIMEOUT 50", "MENU TITLE
// Boot menu" or "APPEND initrd=x quiet".
type Directive struct {
	Position Pos
	Keyword  Keyword
	// Value is the text after the keyword, without surrounding blanks. It
	// must not contain a newline.
	Value string
	layout
}

// Raw is a line that is not a known directive. Syslinux ignores such lines;
// the parser keeps them verbatim.
type Raw struct {
	Position Pos
	Text     string // the line without its indentation and line ending
	layout
}

// Text is a TEXT block: the TEXT line, the lines up to ENDTEXT verbatim, and
// the ENDTEXT line. TEXT HELP is the help text of the enclosing label.
type Text struct {
	Position Pos
	// Kind is the word after TEXT, upper-cased ("HELP"); syslinux only uses
	// TEXT HELP and skips other blocks.
	Kind string
	// Body is the text between the TEXT and ENDTEXT lines, exactly as in
	// the file, each line with its line ending. No line of Body may start
	// with the word ENDTEXT.
	Body string
	layout
	kindRaw string // the text after TEXT as written
	endLine string // the ENDTEXT line as written, without its line ending
	endEOL  string
}

// Label is a LABEL line and the lines that belong to the entry it starts.
//
// Body holds the lines from the LABEL line up to the last label-scoped
// directive (KERNEL and its type-specific forms, INITRD, APPEND, IPAPPEND,
// SYSAPPEND, LOCALBOOT, TEXT, and the per-entry MENU directives) before
// the next LABEL, MENU BEGIN, MENU END, MENU SEPARATOR, INCLUDE, MENU
// INCLUDE or end of file. Lines after that belong to the enclosing level,
// so removing a label leaves its neighbours' comments and global
// directives in place.
//
// The editing methods keep that rule: when an edit of a label of a
// Config (from [Parse] or [Config.AddLabel]) removes its last
// label-scoped lines, the lines after the new last one move out of Body,
// to just after the label in the Config, where Parse would put them. The
// printed text does not change. For a Label built by hand and put into
// Config.Nodes, the Config's own editing methods do the same.
type Label struct {
	Position Pos
	Name     string // the text after LABEL
	Body     []Node
	layout
	own *labelOwner // the label's Config and, for a new label, its body indent
}

// labelOwner is what a Label knows of its place. The labels of a parsed
// Config share [Config.parsed].
type labelOwner struct {
	cfg        *Config // the Config whose Nodes hold the label
	bodyIndent string  // indentation for new body lines of a new label
}

// Pos returns n.Position; likewise for the other node types.
func (n *Comment) Pos() Pos   { return n.Position }
func (n *Blank) Pos() Pos     { return n.Position }
func (n *Directive) Pos() Pos { return n.Position }
func (n *Raw) Pos() Pos       { return n.Position }
func (n *Text) Pos() Pos      { return n.Position }
func (n *Label) Pos() Pos     { return n.Position }

func (*Comment) node()   {}
func (*Blank) node()     {}
func (*Directive) node() {}
func (*Raw) node()       {}
func (*Text) node()      {}
func (*Label) node()     {}

// HelpLines returns the lines of a TEXT block without line endings.
func (t *Text) HelpLines() []string {
	if t.Body == "" {
		return nil
	}
	s := strings.ReplaceAll(t.Body, "\r\n", "\n")
	s = strings.TrimSuffix(s, "\n")
	return strings.Split(s, "\n")
}

// Word returns the i-th blank-separated word of the directive's value, or
// "" if there are fewer words.
func (d *Directive) Word(i int) string {
	f := fields(d.Value)
	if i < len(f) {
		return f[i]
	}
	return ""
}

// isBlank is syslinux's notion of white space: every byte up to ' '.
func isBlank(c byte) bool { return c <= ' ' }

// fields splits s at runs of blanks (syslinux's definition).
func fields(s string) []string {
	var out []string
	i := 0
	for i < len(s) {
		for i < len(s) && isBlank(s[i]) {
			i++
		}
		j := i
		for j < len(s) && !isBlank(s[j]) {
			j++
		}
		if j > i {
			out = append(out, s[i:j])
		}
		i = j
	}
	return out
}

// trimBlanks trims syslinux blanks from both ends of s.
func trimBlanks(s string) string {
	i, j := 0, len(s)
	for i < j && isBlank(s[i]) {
		i++
	}
	for j > i && isBlank(s[j-1]) {
		j--
	}
	return s[i:j]
}
