package bootmenu

import (
	"errors"
	"fmt"
	"strings"
)

// MaxLineLength is the longest line, in bytes without its line ending, that
// [Parse] accepts. Syslinux reads lines into a 4096-byte buffer and splits
// longer ones, which no configuration relies on.
const MaxLineLength = 4095

// maxLines bounds the number of lines of one file.
const maxLines = 1 << 20

// ErrSyntax is the sentinel wrapped by every [*ParseError].
var ErrSyntax = errors.New("bootmenu: syntax error")

// ParseError is a syntax error at a position in a configuration file.
type ParseError struct {
	File string // file name when known (set by Resolve), else ""
	Line int    // 1-based line
	Col  int    // 1-based byte column
	Msg  string
}

// Error formats the error as "bootmenu: [file:]line:col: message".
func (e *ParseError) Error() string {
	if e.File != "" {
		return fmt.Sprintf("bootmenu: %s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("bootmenu: %d:%d: %s", e.Line, e.Col, e.Msg)
}

// Unwrap returns [ErrSyntax].
func (e *ParseError) Unwrap() error { return ErrSyntax }

// Parse parses a pxelinux/syslinux configuration file into a [Config].
//
// Every line becomes a node: comments, blank lines and lines that are not
// syslinux directives included, so [Format] reproduces src byte for byte.
// Parse does no I/O: INCLUDE lines are kept as directives; see [Resolve].
// Keywords are matched without regard to case, as syslinux does; a blank is
// any byte up to and including ' ', as in syslinux.
//
// Parse fails with a [*ParseError] for a line longer than [MaxLineLength]
// and for a TEXT block without ENDTEXT. The returned Config does not keep a
// reference to src; its strings share one copy of it.
func Parse(src []byte) (*Config, error) {
	p := parser{src: string(src)}
	p.chunk = min(strings.Count(p.src, "\n")+1, 256)
	flat, err := p.lines()
	if err != nil {
		return nil, err
	}
	c := &Config{}
	c.parsed.cfg = c
	c.Nodes = group(flat, &c.parsed)
	return c, nil
}

type parser struct {
	src  string
	off  int
	line int

	// Nodes come from per-type slabs: one allocation per chunk of lines
	// instead of one per line.
	chunk      int
	directives slab[Directive]
	labels     slab[Label]
	blanks     slab[Blank]
	comments   slab[Comment]
	raws       slab[Raw]
}

type slab[T any] struct{ buf []T }

// alloc returns a new zero T. Chunks start at 4 and double up to limit, so a
// short file does not pay for a large chunk of a type it hardly uses.
func (s *slab[T]) alloc(limit int) *T {
	if len(s.buf) == cap(s.buf) {
		s.buf = make([]T, 0, max(1, min(4, limit), min(2*cap(s.buf), limit)))
	}
	s.buf = s.buf[:len(s.buf)+1]
	return &s.buf[len(s.buf)-1]
}

// next returns the next line's content and line ending.
func (p *parser) next() (content, eol string, ok bool) {
	if p.off >= len(p.src) {
		return "", "", false
	}
	p.line++
	rest := p.src[p.off:]
	i := strings.IndexByte(rest, '\n')
	if i < 0 {
		p.off = len(p.src)
		if strings.HasSuffix(rest, "\r") {
			return rest[:len(rest)-1], "\r", true
		}
		return rest, "", true
	}
	p.off += i + 1
	content = rest[:i]
	if strings.HasSuffix(content, "\r") {
		return content[:len(content)-1], rest[i-1 : i+1], true
	}
	return content, rest[i : i+1], true
}

func (p *parser) lines() ([]Node, error) {
	out := make([]Node, 0, p.chunk)
	for {
		content, eol, ok := p.next()
		if !ok {
			return out, nil
		}
		if p.line > maxLines {
			return nil, &ParseError{Line: p.line, Col: 1, Msg: fmt.Sprintf("too many lines (more than %d)", maxLines)}
		}
		if len(content) > MaxLineLength {
			return nil, &ParseError{Line: p.line, Col: MaxLineLength + 1,
				Msg: fmt.Sprintf("line too long (%d bytes, at most %d expected)", len(content), MaxLineLength)}
		}
		n := p.classify(content, eol, Pos{Line: p.line})
		if t, ok := n.(*Text); ok {
			if err := p.textBody(t); err != nil {
				return nil, err
			}
		}
		out = append(out, n)
	}
}

// textBody reads the lines of a TEXT block up to and including ENDTEXT.
func (p *parser) textBody(t *Text) error {
	start := p.off
	for {
		lineStart := p.off
		content, eol, ok := p.next()
		if !ok {
			return &ParseError{Line: t.Position.Line, Col: t.Position.Col,
				Msg: fmt.Sprintf("TEXT %s block not closed: expected ENDTEXT before end of file", t.Kind)}
		}
		if len(content) > MaxLineLength {
			return &ParseError{Line: p.line, Col: MaxLineLength + 1,
				Msg: fmt.Sprintf("line too long (%d bytes, at most %d expected)", len(content), MaxLineLength)}
		}
		if isEndText(content) {
			t.Body = p.src[start:lineStart]
			t.endLine = content
			t.endEOL = eol
			return nil
		}
	}
}

// isEndText reports whether a line is an ENDTEXT line.
func isEndText(line string) bool {
	_, w, _ := firstWord(line, 0)
	return strings.EqualFold(w, "endtext")
}

// firstWord skips blanks from i and returns the start of the word, the word
// and the index after it.
func firstWord(s string, i int) (start int, w string, end int) {
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	j := i
	for j < len(s) && !isBlank(s[j]) {
		j++
	}
	return i, s[i:j], j
}

// lookup finds w, case-insensitively, in m without allocating.
func lookup(m map[string]Keyword, w string) Keyword {
	if len(w) > 24 {
		return ""
	}
	var buf [24]byte
	for i := 0; i < len(w); i++ {
		c := w[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return m[string(buf[:len(w)])]
}

// classify turns one line into a node. A TEXT line returns a *Text whose
// body the caller reads.
func classify(content, eol string, pos Pos) Node {
	var p parser
	p.chunk = 1
	return p.classify(content, eol, pos)
}

func (p *parser) classify(content, eol string, pos Pos) Node {
	start, w, end := firstWord(content, 0)
	pos.Col = start + 1
	i16 := uint16(start)
	lay := layout{set: true, orig: content, ind: i16, kwEnd: i16, valStart: i16, valEnd: i16, eolKind: eolOf(eol)}
	if w == "" {
		n := p.blanks.alloc(p.chunk)
		*n = Blank{Position: Pos{Line: pos.Line, Col: 1}, layout: lay}
		return n
	}
	if w[0] == '#' {
		n := p.comments.alloc(p.chunk)
		*n = Comment{Position: pos, Text: content[start+1:], layout: lay}
		return n
	}
	var kw Keyword
	switch {
	case strings.EqualFold(w, "menu"):
		_, w2, end2 := firstWord(content, end)
		kw = lookup(menuWords, w2)
		if kw == "" && strings.EqualFold(w2, "master") {
			if _, w3, end3 := firstWord(content, end2); strings.EqualFold(w3, "passwd") {
				kw, end2 = KwMenuMasterPasswd, end3
			}
		}
		if kw == KwMenuMasterPasswd || kw != "" && w2 != "" {
			end = end2
		} else {
			kw = ""
		}
	default:
		if kw = lookup(topWords, w); kw == "" {
			kw = fkey(w)
		}
	}
	if kw == "" {
		n := p.raws.alloc(p.chunk)
		*n = Raw{Position: pos, Text: content[start:], layout: lay}
		return n
	}
	lay.kwEnd, lay.pkw = uint16(end), kw
	vs, _, _ := firstWord(content, end)
	lay.valStart = uint16(vs)
	ve := len(content)
	for ve > vs && isBlank(content[ve-1]) {
		ve--
	}
	lay.valEnd = uint16(ve)
	value := content[vs:ve]
	switch kw {
	case KwLabel:
		n := p.labels.alloc(p.chunk)
		*n = Label{Position: pos, Name: value, layout: lay}
		return n
	case KwText:
		_, k, _ := firstWord(value, 0)
		return &Text{Position: pos, Kind: strings.ToUpper(k), kindRaw: value, layout: lay}
	}
	n := p.directives.alloc(p.chunk)
	*n = Directive{Position: pos, Keyword: kw, Value: value, layout: lay}
	return n
}

// group gathers the lines that belong to each LABEL into its Body; the
// labels get owner own.
func group(flat []Node, own *labelOwner) []Node {
	out := make([]Node, 0, len(flat))
	for i := 0; i < len(flat); {
		l, ok := flat[i].(*Label)
		if !ok {
			out = append(out, flat[i])
			i++
			continue
		}
		// Find the end of the label's span and its last label-scoped line.
		j, last := i+1, i
		for ; j < len(flat); j++ {
			k := keywordOf(flat[j])
			if k.endsLabel() {
				break
			}
			if k.labelScoped() {
				last = j
			}
		}
		l.Body = append([]Node(nil), flat[i+1:last+1]...)
		l.own = own
		out = append(out, l)
		i = last + 1
	}
	return out
}

// keywordOf returns the keyword of a node, "" for comments, blanks and raw
// lines.
func keywordOf(n Node) Keyword {
	switch n := n.(type) {
	case *Directive:
		return n.Keyword
	case *Label:
		return KwLabel
	case *Text:
		return KwText
	}
	return ""
}
