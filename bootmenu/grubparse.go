package bootmenu

import (
	"fmt"
	"strings"
)

// This file reads GRUB 2 script as grub.cfg files are written: words
// with GRUB's quoting, and the statements that decide which menu entries
// a file has. It builds a small syntax tree; nothing in it runs.

// grubPart is a piece of a word: literal text, or a variable reference.
type grubPart struct {
	lit    string
	varRef string // name of $name / ${name}; "" for literal text
	quoted bool   // inside double quotes: no field splitting
}

// grubWord is one word of a command, before variable expansion.
type grubWord struct {
	parts []grubPart
	pos   Pos
}

// keyword reports the word's text when it is a single unquoted literal,
// as GRUB's reserved words must be.
func (w grubWord) keyword() string {
	if len(w.parts) == 1 && w.parts[0].varRef == "" && !w.parts[0].quoted && !strings.ContainsAny(w.parts[0].lit, "'\"\\") {
		return w.parts[0].lit
	}
	return ""
}

type grubTokKind int

const (
	gtWord grubTokKind = iota
	gtNewline
	gtSemi
	gtLBrace
	gtRBrace
	gtEOF
)

type grubTok struct {
	kind grubTokKind
	word grubWord
	kw   string // for gtWord: the unquoted literal text, if the word is one
	pos  Pos
}

// grubLexer splits GRUB script into tokens, following the rules of
// GRUB's lexer (grub-core/script/yylex.l): blanks separate words; '{',
// '}', ';' and newlines are tokens; '#' at the start of a word comments
// out the rest of the line; single quotes keep everything; double quotes
// keep everything but "$" expansions and the escapes \\ \" \$ and
// backslash-newline; outside quotes a backslash escapes the next byte.
type grubLexer struct {
	src       []byte
	off       int
	line, col int
	err       *ParseError
}

const maxGRUBWord = 1 << 16

func (l *grubLexer) fail(at Pos, msg string) {
	if l.err == nil {
		l.err = &ParseError{Line: at.Line, Col: at.Col, Msg: msg}
	}
}

func (l *grubLexer) pos() Pos { return Pos{Line: l.line, Col: l.col} }

func (l *grubLexer) peek(n int) byte {
	if l.off+n < len(l.src) {
		return l.src[l.off+n]
	}
	return 0
}

func (l *grubLexer) advance() byte {
	c := l.src[l.off]
	l.off++
	if c == '\n' {
		l.line++
		l.col = 1
	} else {
		l.col++
	}
	return c
}

func isGRUBBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

func isGRUBNameStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isGRUBNameByte(c byte) bool { return isGRUBNameStart(c) || '0' <= c && c <= '9' }

// next returns the next token; after an error it returns gtEOF.
func (l *grubLexer) next() grubTok {
	for {
		for l.off < len(l.src) && isGRUBBlank(l.src[l.off]) {
			l.advance()
		}
		if l.off >= len(l.src) || l.err != nil {
			return grubTok{kind: gtEOF, pos: l.pos()}
		}
		c := l.src[l.off]
		if c == '\\' && l.peek(1) == '\n' {
			l.advance()
			l.advance()
			continue
		}
		if c == '#' {
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.advance()
			}
			continue
		}
		break
	}
	p := l.pos()
	switch l.src[l.off] {
	case '\n':
		l.advance()
		return grubTok{kind: gtNewline, pos: p}
	case ';':
		l.advance()
		return grubTok{kind: gtSemi, pos: p}
	case '{':
		l.advance()
		return grubTok{kind: gtLBrace, pos: p}
	case '}':
		l.advance()
		return grubTok{kind: gtRBrace, pos: p}
	}
	w := l.word(p)
	t := grubTok{kind: gtWord, word: w, pos: p}
	if l.err != nil {
		return grubTok{kind: gtEOF, pos: p}
	}
	t.kw = w.keyword()
	return t
}

func (l *grubLexer) word(p Pos) grubWord {
	w := grubWord{pos: p}
	var lit strings.Builder
	quoted := false
	size := 0
	flush := func() {
		if lit.Len() > 0 {
			w.parts = append(w.parts, grubPart{lit: lit.String(), quoted: quoted})
			lit.Reset()
		}
	}
	addByte := func(c byte) {
		size++
		lit.WriteByte(c)
	}
	for l.off < len(l.src) && l.err == nil {
		if size > maxGRUBWord {
			l.fail(p, "word too long")
			break
		}
		c := l.src[l.off]
		switch {
		case isGRUBBlank(c) || c == '\n' || c == ';' || c == '{' || c == '}':
			flush()
			return w
		case c == '\\':
			l.advance()
			if l.off >= len(l.src) {
				addByte('\\')
				continue
			}
			if n := l.advance(); n != '\n' {
				addByte(n)
			}
		case c == '\'':
			flush()
			quoted = true
			at := l.pos()
			l.advance()
			start := l.off
			for l.off < len(l.src) && l.src[l.off] != '\'' {
				l.advance()
			}
			if l.off >= len(l.src) {
				l.fail(at, "unterminated single quote")
				break
			}
			s := string(l.src[start:l.off])
			size += len(s)
			// An empty '' still makes a word.
			w.parts = append(w.parts, grubPart{lit: s, quoted: true})
			l.advance()
			quoted = false
		case c == '"':
			flush()
			at := l.pos()
			l.advance()
			quoted = true
			// Mark the word as quoted even when the string is empty.
			w.parts = append(w.parts, grubPart{quoted: true})
			for {
				if l.off >= len(l.src) {
					l.fail(at, "unterminated double quote")
					break
				}
				d := l.src[l.off]
				if d == '"' {
					l.advance()
					break
				}
				if d == '\\' {
					switch l.peek(1) {
					case '\\', '"', '$':
						l.advance()
						addByte(l.advance())
						continue
					case '\n':
						l.advance()
						l.advance()
						continue
					}
				}
				if d == '$' && l.variable(&w, &lit, true) {
					continue
				}
				addByte(l.advance())
			}
			flush()
			quoted = false
		case c == '$':
			if !l.variable(&w, &lit, false) {
				addByte(l.advance())
			}
		default:
			addByte(l.advance())
		}
	}
	flush()
	return w
}

// variable reads $name, ${name}, $1 or $? at l.off, and reports false
// (reading nothing) when no variable name follows the '$'.
func (l *grubLexer) variable(w *grubWord, lit *strings.Builder, quoted bool) bool {
	n := l.peek(1)
	var name string
	switch {
	case n == '{':
		end := -1
		for i := l.off + 2; i < len(l.src) && l.src[i] != '\n'; i++ {
			if l.src[i] == '}' {
				end = i
				break
			}
		}
		if end < 0 {
			return false
		}
		name = string(l.src[l.off+2 : end])
		for l.off <= end {
			l.advance()
		}
	case isGRUBNameStart(n):
		i := l.off + 1
		for i < len(l.src) && isGRUBNameByte(l.src[i]) {
			i++
		}
		name = string(l.src[l.off+1 : i])
		for l.off < i {
			l.advance()
		}
	case '0' <= n && n <= '9':
		i := l.off + 1
		for i < len(l.src) && '0' <= l.src[i] && l.src[i] <= '9' {
			i++
		}
		name = string(l.src[l.off+1 : i])
		for l.off < i {
			l.advance()
		}
	case n == '?' || n == '#' || n == '*' || n == '@':
		name = string(n)
		l.advance()
		l.advance()
	default:
		return false
	}
	if lit.Len() > 0 {
		w.parts = append(w.parts, grubPart{lit: lit.String(), quoted: quoted})
		lit.Reset()
	}
	if name == "" {
		name = "?" // ${}: never set
	}
	w.parts = append(w.parts, grubPart{varRef: name, quoted: quoted})
	return true
}

// Statement kinds of the GRUB syntax tree.
type grubKind int

const (
	gsCommand   grubKind = iota // words
	gsMenuentry                 // menuentry words { body }
	gsSubmenu                   // submenu words { body }
	gsFunction                  // function name { body }: never run
	gsIf                        // if/elif/else branches
	gsLoop                      // for, while, until: body
)

type grubStmt struct {
	kind     grubKind
	pos      Pos
	words    []grubWord
	body     []*grubStmt
	branches []grubBranch // gsIf
	loop     string       // gsLoop: "for", "while", "until"
}

// grubBranch is an if or elif with its condition, or else (cond nil).
type grubBranch struct {
	cond []*grubStmt
	body []*grubStmt
}

// grubParser builds statements from tokens.
type grubParser struct {
	lx    grubLexer
	tok   grubTok
	depth int
	nodes int
}

// maxGRUBNodes bounds the statements of one file.
const maxGRUBNodes = 1 << 18

// parseGRUB parses a GRUB script file.
func parseGRUB(src []byte) ([]*grubStmt, error) {
	p := &grubParser{lx: grubLexer{src: src, line: 1, col: 1}}
	p.advance()
	list, term := p.list(nil)
	if p.lx.err == nil && term.kind != gtEOF {
		p.lx.fail(term.pos, "unexpected "+describeGRUBTok(term))
	}
	if p.lx.err != nil {
		return nil, p.lx.err
	}
	return list, nil
}

func describeGRUBTok(t grubTok) string {
	switch t.kind {
	case gtRBrace:
		return `"}"`
	case gtLBrace:
		return `"{"`
	case gtEOF:
		return "end of file"
	case gtWord:
		if t.kw != "" {
			return fmt.Sprintf("%q", t.kw)
		}
	}
	return "token"
}

func (p *grubParser) advance() { p.tok = p.lx.next() }

func (p *grubParser) skipSeparators() {
	for p.tok.kind == gtNewline || p.tok.kind == gtSemi {
		p.advance()
	}
}

// list parses statements until one of the terminating reserved words
// (or "}" when it is in terms as "}", or the end of input), which it
// returns without consuming it.
func (p *grubParser) list(terms []string) ([]*grubStmt, grubTok) {
	var out []*grubStmt
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > MaxMenuDepth {
		p.lx.fail(p.tok.pos, "blocks nested too deeply")
		return nil, grubTok{kind: gtEOF}
	}
	for {
		p.skipSeparators()
		t := p.tok
		if t.kind == gtEOF || p.lx.err != nil {
			return out, grubTok{kind: gtEOF, pos: t.pos}
		}
		if t.kind == gtRBrace {
			return out, t
		}
		if t.kind == gtWord {
			for _, term := range terms {
				if t.kw == term {
					return out, t
				}
			}
		}
		s := p.statement()
		if s == nil {
			return out, grubTok{kind: gtEOF, pos: t.pos}
		}
		if p.nodes++; p.nodes > maxGRUBNodes {
			p.lx.fail(t.pos, "too many statements")
			return out, grubTok{kind: gtEOF, pos: t.pos}
		}
		out = append(out, s)
	}
}

// expect consumes the reserved word kw or fails.
func (p *grubParser) expect(kw string, t grubTok) bool {
	if p.tok.kind == gtWord && p.tok.kw == kw {
		p.advance()
		return true
	}
	p.lx.fail(p.tok.pos, fmt.Sprintf("%q without %q (found %s)", t.kw, kw, describeGRUBTok(p.tok)))
	return false
}

func (p *grubParser) statement() *grubStmt {
	t := p.tok
	if t.kind == gtLBrace {
		p.lx.fail(t.pos, `unexpected "{"`)
		return nil
	}
	switch t.kw {
	case "if":
		return p.ifStmt(t)
	case "for", "while", "until":
		return p.loopStmt(t)
	case "function":
		p.advance()
		s := &grubStmt{kind: gsFunction, pos: t.pos}
		if p.tok.kind == gtWord {
			s.words = []grubWord{p.tok.word}
			p.advance()
		}
		s.body = p.block(t)
		return s
	case "menuentry", "submenu":
		s := &grubStmt{kind: gsMenuentry, pos: t.pos}
		if t.kw == "submenu" {
			s.kind = gsSubmenu
		}
		p.advance()
		for p.tok.kind == gtWord {
			s.words = append(s.words, p.tok.word)
			p.advance()
		}
		if p.tok.kind != gtLBrace {
			// GRUB's grammar takes it for a plain command (which
			// fails when run): no entry.
			s.kind = gsCommand
			s.words = append([]grubWord{t.word}, s.words...)
			return s
		}
		s.body = p.block(t)
		return s
	case "then", "elif", "else", "fi", "do", "done":
		p.lx.fail(t.pos, fmt.Sprintf("unexpected %q", t.kw))
		return nil
	}
	s := &grubStmt{kind: gsCommand, pos: t.pos}
	for p.tok.kind == gtWord {
		s.words = append(s.words, p.tok.word)
		p.advance()
	}
	if p.tok.kind == gtLBrace {
		p.lx.fail(p.tok.pos, `unexpected "{"`)
		return nil
	}
	return s
}

// block parses "{ list }".
func (p *grubParser) block(t grubTok) []*grubStmt {
	if p.tok.kind != gtLBrace {
		p.lx.fail(p.tok.pos, fmt.Sprintf("%q without \"{\"", t.kw))
		return nil
	}
	p.advance()
	body, end := p.list(nil)
	if end.kind != gtRBrace {
		if p.lx.err == nil {
			p.lx.fail(t.pos, fmt.Sprintf("%q block without \"}\" (found %s)", t.kw, describeGRUBTok(end)))
		}
		return nil
	}
	p.advance()
	return body
}

func (p *grubParser) ifStmt(t grubTok) *grubStmt {
	s := &grubStmt{kind: gsIf, pos: t.pos}
	p.advance()
	for {
		cond, _ := p.list([]string{"then"})
		if !p.expect("then", t) {
			return nil
		}
		body, end := p.list([]string{"elif", "else", "fi"})
		s.branches = append(s.branches, grubBranch{cond: cond, body: body})
		if end.kind != gtWord {
			p.lx.fail(t.pos, `"if" without "fi"`)
			return nil
		}
		p.advance()
		switch end.kw {
		case "elif":
			continue
		case "else":
			body, end := p.list([]string{"fi"})
			s.branches = append(s.branches, grubBranch{body: body})
			if end.kind != gtWord || end.kw != "fi" {
				p.lx.fail(t.pos, `"if" without "fi"`)
				return nil
			}
			p.advance()
		}
		return s
	}
}

func (p *grubParser) loopStmt(t grubTok) *grubStmt {
	s := &grubStmt{kind: gsLoop, pos: t.pos, loop: t.kw}
	p.advance()
	if t.kw == "for" {
		// for NAME in WORDS; do
		for p.tok.kind == gtWord {
			s.words = append(s.words, p.tok.word)
			p.advance()
		}
	} else {
		cond, _ := p.list([]string{"do"})
		s.branches = []grubBranch{{cond: cond}}
	}
	p.skipSeparators()
	if !p.expect("do", t) {
		return nil
	}
	body, end := p.list([]string{"done"})
	if end.kind != gtWord || end.kw != "done" {
		p.lx.fail(t.pos, fmt.Sprintf("%q without \"done\"", t.kw))
		return nil
	}
	p.advance()
	s.body = body
	return s
}
