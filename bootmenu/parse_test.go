package bootmenu

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// summary renders a tree compactly for comparisons: one entry per node,
// label bodies nested in braces.
func summary(nodes []Node) string {
	var b strings.Builder
	for i, n := range nodes {
		if i > 0 {
			b.WriteString(" ")
		}
		switch n := n.(type) {
		case *Blank:
			b.WriteString("_")
		case *Comment:
			fmt.Fprintf(&b, "#%q", n.Text)
		case *Raw:
			fmt.Fprintf(&b, "raw%q", n.Text)
		case *Directive:
			fmt.Fprintf(&b, "%s=%q", n.Keyword, n.Value)
		case *Text:
			fmt.Fprintf(&b, "TEXT %s%q", n.Kind, n.Body)
		case *Label:
			fmt.Fprintf(&b, "LABEL %q{%s}", n.Name, summary(n.Body))
		}
	}
	return b.String()
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"blank and comment", "\n  # hi \n", `_ #" hi "`},
		{"case-insensitive keywords", "TiMeOuT 50\nmenu TITLE  My menu  \n", `TIMEOUT="50" MENU TITLE="My menu"`},
		{"menu master passwd", "menu master passwd $1$x\nmenu master foo\n", `MENU MASTER PASSWD="$1$x" raw"menu master foo"`},
		{"unknown kept raw", "frobnicate 1\nmenu wibble\nmenu\nlabelx y\n", `raw"frobnicate 1" raw"menu wibble" raw"menu" raw"labelx y"`},
		{"f-keys", "F1 f1.txt\nf10 x bg.png\nf0 z\nf13 no\n", `F1="f1.txt" F10="x bg.png" F10="z" raw"f13 no"`},
		{"colour alias", "menu colour title 1;36 #fff #000 std\n", `MENU COLOR="title 1;36 #fff #000 std"`},
		{"label body", "label a\n kernel k\n append x\n\n# next\nlabel b\n", `LABEL "a"{KERNEL="k" APPEND="x"} _ #" next" LABEL "b"{}`},
		{"global after body goes out", "label a\nkernel k\ntimeout 5\nlabel b\n", `LABEL "a"{KERNEL="k"} TIMEOUT="5" LABEL "b"{}`},
		{"global inside body stays", "label a\ndefault a\n menu label A\n", `LABEL "a"{DEFAULT="a" MENU LABEL="A"}`},
		{"include ends label", "label a\n kernel k\ninclude x.cfg\n append y\n", `LABEL "a"{KERNEL="k"} INCLUDE="x.cfg" APPEND="y"`},
		{"menu begin ends label", "label a\nmenu begin sub\nmenu label S\nmenu end\n", `LABEL "a"{} MENU BEGIN="sub" MENU LABEL="S" MENU END=""`},
		{"text help", "label a\n text help\n  Some help\n label x\n endtext\n kernel k\n", `LABEL "a"{TEXT HELP"  Some help\n label x\n" KERNEL="k"}`},
		{"endtext needs a word boundary", "text help\nendtextx\nENDTEXT now\n", `TEXT HELP"endtextx\n"`},
		{"crlf", "label a\r\n kernel k\r\n", `LABEL "a"{KERNEL="k"}`},
		{"no final newline", "label a\n kernel k", `LABEL "a"{KERNEL="k"}`},
		{"control bytes are blanks", "kernel\x01k\x00\n", `KERNEL="k"`},
		{"empty value", "menu default\nmenu hide   \n", `MENU DEFAULT="" MENU HIDE=""`},
		{"localboot", "label hd\n localboot 0x80\n", `LABEL "hd"{LOCALBOOT="0x80"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.in, err)
			}
			if got := summary(c.Nodes); got != tt.want {
				t.Errorf("Parse(%q) =\n  %s\nwant\n  %s", tt.in, got, tt.want)
			}
			out, err := c.MarshalText()
			if err != nil {
				t.Fatalf("Format: %v", err)
			}
			if string(out) != tt.in {
				t.Errorf("Format(Parse(%q)) = %q", tt.in, out)
			}
		})
	}
}

func TestParsePositions(t *testing.T) {
	c, err := Parse([]byte("# c\n\tlabel a\n  kernel k\n"))
	if err != nil {
		t.Fatal(err)
	}
	l := c.Nodes[1].(*Label)
	if got, want := l.Pos(), (Pos{Line: 2, Col: 2}); got != want {
		t.Errorf("label Pos = %v, want %v", got, want)
	}
	if got, want := l.Body[0].Pos(), (Pos{Line: 3, Col: 3}); got != want {
		t.Errorf("kernel Pos = %v, want %v", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	long := "append " + strings.Repeat("x", MaxLineLength)
	tests := []struct {
		name, in  string
		line, col int
		msg       string
	}{
		{"unterminated text", "label a\n  text help\n  hello\n", 2, 3, "expected ENDTEXT"},
		{"unterminated text at eof", "text help", 1, 1, "expected ENDTEXT"},
		{"long line", "label a\n" + long + "\n", 2, MaxLineLength + 1, "line too long"},
		{"long line in text", "text help\n" + long + "\nendtext\n", 2, MaxLineLength + 1, "line too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error = %v, want *ParseError", err)
			}
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("error %v does not wrap ErrSyntax", err)
			}
			if pe.Line != tt.line || pe.Col != tt.col || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("Parse error = %d:%d %q, want %d:%d containing %q", pe.Line, pe.Col, pe.Msg, tt.line, tt.col, tt.msg)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%d:%d", tt.line, tt.col)) {
				t.Errorf("Error() = %q lacks line:col", err.Error())
			}
		})
	}
}

// cmpTree compares trees ignoring positions and spelling.
var cmpTree = []cmp.Option{
	cmpopts.IgnoreTypes(Pos{}),
	cmpopts.IgnoreUnexported(Config{}, Comment{}, Blank{}, Directive{}, Raw{}, Text{}, Label{}),
	cmpopts.EquateEmpty(),
}

func TestFormatBuilt(t *testing.T) {
	c := &Config{Nodes: []Node{
		&Comment{Text: " built"},
		&Directive{Keyword: KwDefault, Value: "linux"},
		&Directive{Keyword: KwTimeout, Value: "50"},
		&Blank{},
		&Label{Name: "linux", Body: []Node{
			&Directive{Keyword: KwMenuLabel, Value: "^Linux"},
			&Directive{Keyword: KwKernel, Value: "vmlinuz"},
			&Directive{Keyword: KwAppend, Value: "initrd=initrd.img quiet"},
			&Text{Kind: "HELP", Body: "Boots Linux.\n"},
		}},
		&Raw{Text: "something else"},
	}}
	got := c.String()
	want := "# built\nDEFAULT linux\nTIMEOUT 50\n\nLABEL linux\n\tMENU LABEL ^Linux\n\tKERNEL vmlinuz\n\tAPPEND initrd=initrd.img quiet\n\tTEXT HELP\nBoots Linux.\n\tENDTEXT\nsomething else\n"
	if got != want {
		t.Errorf("Format =\n%s\nwant\n%s", got, want)
	}
	back, err := Parse([]byte(got))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(c, back, cmpTree...); d != "" {
		t.Errorf("Parse(Format(c)) differs (-c +back):\n%s", d)
	}
}

func TestFormatRejects(t *testing.T) {
	tests := []struct {
		name string
		n    Node
	}{
		{"newline in value", &Directive{Keyword: KwAppend, Value: "a\nlabel x"}},
		{"leading blank", &Directive{Keyword: KwAppend, Value: " a"}},
		{"trailing blank", &Directive{Keyword: KwAppend, Value: "a "}},
		{"raw reads as directive", &Raw{Text: "kernel x"}},
		{"raw reads as comment", &Raw{Text: "# x"}},
		{"raw empty", &Raw{Text: ""}},
		{"label keyword directive", &Directive{Keyword: KwLabel, Value: "x"}},
		{"empty keyword", &Directive{Value: "x"}},
		{"text with endtext", &Text{Kind: "HELP", Body: "a\n endtext\n"}},
		{"text without final newline", &Text{Kind: "HELP", Body: "a"}},
		{"comment newline", &Comment{Text: "a\nb"}},
		{"nested label", &Label{Name: "a", Body: []Node{&Label{Name: "b"}}}},
		{"nil", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := (&Config{Nodes: []Node{tt.n}}).MarshalText()
			var ne *NodeError
			if !errors.As(err, &ne) || !errors.Is(err, ErrInvalid) {
				t.Errorf("Format(%#v) error = %v, want *NodeError", tt.n, err)
			}
		})
	}
}

func TestFormatKeywordChange(t *testing.T) {
	c, err := Parse([]byte("label a\n  kernel vmlinuz\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := c.Label("a").Body[0].(*Directive)
	d.Keyword = KwLinux
	if got, want := c.String(), "label a\n  LINUX vmlinuz\n"; got != want {
		t.Errorf("after keyword change: %q, want %q", got, want)
	}
}

func TestFormatAllocs(t *testing.T) {
	c, err := Parse([]byte(debianTxt))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(100, func() {
		buf, _ = c.AppendText(buf[:0])
	})
	if allocs != 0 {
		t.Errorf("AppendText of an unmodified tree: %v allocs, want 0", allocs)
	}
}
