package bootmenu

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrInvalid is wrapped by the errors [Format] returns for a tree that does
// not print as itself: a value with a line break or surrounding blanks, a
// raw line that would read back as a directive, a nested LABEL.
var ErrInvalid = errors.New("bootmenu: invalid node")

// NodeError reports a node that cannot be printed.
type NodeError struct {
	Pos Pos
	Msg string
}

// Error describes the node and why it cannot be printed.
func (e *NodeError) Error() string {
	if e.Pos.IsValid() {
		return fmt.Sprintf("bootmenu: node at %d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg)
	}
	return "bootmenu: new node: " + e.Msg
}

// Unwrap returns [ErrInvalid].
func (e *NodeError) Unwrap() error { return ErrInvalid }

// Format writes c in pxelinux syntax to w.
//
// Nodes from [Parse] keep their spelling: an unmodified tree prints exactly
// the bytes it was parsed from. Nodes built by code, and values changed on
// parsed nodes, print canonically: upper-case keyword, one space, the
// value; lines inside a LABEL indented by a tab. Format checks that every
// line it prints reads back as the same node and returns a [*NodeError]
// otherwise, so Parse(Format(c)) gives back c for every tree built from
// Parse output with this package's editing methods.
func Format(w io.Writer, c *Config) error {
	b, err := c.AppendText(nil)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// AppendText appends the formatted configuration to b, as [Format] writes
// it (encoding.TextAppender).
func (c *Config) AppendText(b []byte) ([]byte, error) {
	pr := printer{buf: b}
	for _, n := range c.Nodes {
		if err := pr.node(n, false); err != nil {
			return b, err
		}
	}
	return pr.buf, nil
}

// MarshalText returns the formatted configuration (encoding.TextMarshaler).
func (c *Config) MarshalText() ([]byte, error) { return c.AppendText(nil) }

// String returns the formatted configuration, or an error message if it
// cannot be printed.
func (c *Config) String() string {
	b, err := c.AppendText(nil)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

type printer struct {
	buf     []byte
	pending bool // the last line had no line ending
	start   int  // start of the current line in buf
}

func (p *printer) begin() {
	if p.pending {
		p.buf = append(p.buf, '\n')
		p.pending = false
	}
	p.start = len(p.buf)
}

func (p *printer) end(eol string, set bool) {
	if !set {
		eol = "\n"
	}
	if eol == "\n" && len(p.buf) > p.start && p.buf[len(p.buf)-1] == '\r' {
		// A line ending in CR followed by LF would read back as a CRLF
		// line without that CR.
		eol = "\r\n"
	}
	p.buf = append(p.buf, eol...)
	if eol == "" || eol == "\r" {
		// The last line of a file without a line ending: the next line,
		// if any, starts on a new line.
		p.pending = true
	}
}

func (p *printer) indent(l *layout, inBody bool) {
	switch {
	case l.set:
		p.buf = append(p.buf, l.indent()...)
	case inBody:
		p.buf = append(p.buf, '\t')
	}
}

// unchanged reports whether the line printed since begin is the one l was
// parsed from, which needs no check. It does not allocate.
func (p *printer) unchanged(l *layout) bool {
	return l.set && string(p.buf[p.start:]) == l.orig
}

// line returns the line printed since begin, without its ending.
func (p *printer) line() string {
	s := string(p.buf[p.start:])
	return strings.TrimRight(s, "\r\n")
}

func (p *printer) node(n Node, inBody bool) error {
	switch n := n.(type) {
	case *Blank:
		p.begin()
		if n.set {
			p.buf = append(p.buf, n.indent()...)
		}
		if n.set && strings.ContainsAny(n.indent(), "\n") {
			return &NodeError{n.Position, "blank line contains a line break"}
		}
		p.end(n.eol(), n.set)
	case *Comment:
		p.begin()
		p.indent(&n.layout, inBody)
		p.buf = append(p.buf, '#')
		p.buf = append(p.buf, n.Text...)
		if strings.ContainsAny(n.Text, "\n") {
			return &NodeError{n.Position, "comment contains a line break"}
		}
		p.end(n.eol(), n.set)
	case *Raw:
		p.begin()
		p.indent(&n.layout, inBody)
		p.buf = append(p.buf, n.Text...)
		if p.unchanged(&n.layout) {
			// Parsed and unchanged.
		} else if _, ok := classify(p.line(), "", Pos{}).(*Raw); !ok || strings.Contains(n.Text, "\n") {
			return &NodeError{n.Position, fmt.Sprintf("raw line %q would not read back as a raw line", n.Text)}
		}
		p.end(n.eol(), n.set)
	case *Directive:
		switch n.Keyword {
		case KwLabel, KwText, "":
			return &NodeError{n.Position, fmt.Sprintf("directive keyword %q: use *Label or *Text", n.Keyword)}
		}
		p.begin()
		p.keyLine(&n.layout, n.Keyword, n.Value, inBody)
		if !p.unchanged(&n.layout) {
			d, ok := classify(p.line(), "", Pos{}).(*Directive)
			if !ok || d.Keyword != n.Keyword || d.Value != n.Value || strings.Contains(n.Value, "\n") {
				return &NodeError{n.Position, fmt.Sprintf("%s value %q would not read back", n.Keyword, n.Value)}
			}
		}
		p.end(n.eol(), n.set)
	case *Label:
		if inBody {
			return &NodeError{n.Position, "LABEL inside a LABEL body"}
		}
		p.begin()
		p.keyLine(&n.layout, KwLabel, n.Name, false)
		if p.unchanged(&n.layout) {
			// Parsed and unchanged.
		} else if l, ok := classify(p.line(), "", Pos{}).(*Label); !ok || l.Name != n.Name || strings.Contains(n.Name, "\n") {
			return &NodeError{n.Position, fmt.Sprintf("LABEL name %q would not read back", n.Name)}
		}
		p.end(n.eol(), n.set)
		for _, c := range n.Body {
			if err := p.node(c, true); err != nil {
				return err
			}
		}
	case *Text:
		return p.text(n, inBody)
	case nil:
		return &NodeError{Msg: "nil node"}
	}
	return nil
}

// keyLine prints indent, keyword, separator, value and trailing blanks.
func (p *printer) keyLine(l *layout, kw Keyword, value string, inBody bool) {
	p.indent(l, inBody)
	if l.set && l.kwEnd > l.ind && l.pkw == kw {
		p.buf = append(p.buf, l.kw()...)
	} else {
		p.buf = append(p.buf, kw...)
	}
	if value == "" {
		if l.set {
			p.buf = append(p.buf, l.sep()...)
			p.buf = append(p.buf, l.trail()...)
		}
		return
	}
	if l.set && l.valStart > l.kwEnd {
		p.buf = append(p.buf, l.sep()...)
	} else {
		p.buf = append(p.buf, ' ')
	}
	p.buf = append(p.buf, value...)
	if l.set {
		p.buf = append(p.buf, l.trail()...)
	}
}

func (p *printer) text(t *Text, inBody bool) error {
	p.begin()
	kind := t.Kind
	if t.set {
		if _, k, _ := firstWord(t.kindRaw, 0); strings.EqualFold(k, t.Kind) {
			kind = t.kindRaw
		}
	}
	p.keyLine(&t.layout, KwText, kind, inBody)
	if p.unchanged(&t.layout) {
		// Parsed and unchanged.
	} else if x, ok := classify(p.line(), "", Pos{}).(*Text); !ok || x.Kind != t.Kind || strings.Contains(kind, "\n") {
		return &NodeError{t.Position, fmt.Sprintf("TEXT kind %q would not read back", t.Kind)}
	}
	p.end(t.eol(), t.set)
	if t.Body != "" {
		if !strings.HasSuffix(t.Body, "\n") {
			return &NodeError{t.Position, "TEXT body does not end with a line break"}
		}
		for rest := t.Body; rest != ""; {
			i := strings.IndexByte(rest, '\n')
			if isEndText(rest[:i]) {
				return &NodeError{t.Position, "TEXT body contains an ENDTEXT line"}
			}
			rest = rest[i+1:]
		}
		p.begin()
		p.buf = append(p.buf, t.Body...)
	}
	p.begin()
	if t.set && t.endLine != "" {
		p.buf = append(p.buf, t.endLine...)
		p.end(t.endEOL, true)
		return nil
	}
	p.indent(&t.layout, inBody)
	if t.set && t.kwEnd > t.ind && t.kw() == strings.ToLower(t.kw()) {
		p.buf = append(p.buf, "endtext"...)
	} else {
		p.buf = append(p.buf, "ENDTEXT"...)
	}
	p.end("", false)
	return nil
}
