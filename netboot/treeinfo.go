package netboot

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// MaxTreeinfoSize is the largest .treeinfo file [ParseTreeinfo] accepts.
// Real ones are a few kilobytes; the cap bounds what a hostile image can
// make the parser allocate.
const MaxTreeinfoSize = 1 << 20

// ErrTreeinfo is wrapped by every [*TreeinfoError].
var ErrTreeinfo = errors.New("netboot: bad .treeinfo")

// TreeinfoError reports a line of a .treeinfo file that is not INI.
type TreeinfoError struct {
	Line int // 1-based; 0 for an error about the whole file
	Msg  string
}

func (e *TreeinfoError) Error() string {
	if e.Line == 0 {
		return "netboot: .treeinfo: " + e.Msg
	}
	return fmt.Sprintf("netboot: .treeinfo line %d: %s", e.Line, e.Msg)
}

// Unwrap returns [ErrTreeinfo].
func (e *TreeinfoError) Unwrap() error { return ErrTreeinfo }

// Treeinfo is a parsed .treeinfo file: the description of an installation
// tree that lorax and pungi write at the root of Fedora, RHEL, CentOS,
// Rocky and Alma images and trees (productmd's "treeinfo" format, and the
// older one-section [general] layout that anaconda still reads).
//
// The file is INI as Python's configparser reads it: "[section]" headers,
// "key = value" or "key: value" lines, "#" and ";" comment lines, and
// indented continuation lines that extend the previous value with a
// newline. Keys are case-insensitive (kept in lower case); section names
// are not. A key given twice in a section keeps its last value, as
// configparser's non-strict mode does. The zero value is an empty file.
type Treeinfo struct {
	Sections []TreeinfoSection
}

// TreeinfoSection is one [section] of a .treeinfo file, keys in file order.
type TreeinfoSection struct {
	Name string
	Keys []TreeinfoKey
}

// TreeinfoKey is one key and its value, surrounding blanks removed.
type TreeinfoKey struct {
	Key, Value string
}

// ParseTreeinfo parses a .treeinfo file. Errors are [*TreeinfoError]
// values. The result does not refer to b.
func ParseTreeinfo(b []byte) (*Treeinfo, error) {
	if len(b) > MaxTreeinfoSize {
		return nil, &TreeinfoError{Msg: fmt.Sprintf("larger than %d bytes", MaxTreeinfoSize)}
	}
	t := &Treeinfo{}
	var sec *TreeinfoSection
	var last *TreeinfoKey // the key a continuation line extends
	for i, l := range bytes.Split(b, []byte("\n")) {
		n := i + 1
		l = bytes.TrimSuffix(l, []byte("\r"))
		trimmed := strings.TrimSpace(string(l))
		switch {
		case trimmed == "":
			// A blank line ends a multi-line value. (configparser keeps
			// blank lines inside a value when an indented line follows;
			// treeinfo writers never write one.)
			last = nil
		case trimmed[0] == '#' || trimmed[0] == ';':
			// a comment; it does not end a multi-line value
		case l[0] == ' ' || l[0] == '\t':
			if last == nil {
				return nil, &TreeinfoError{Line: n, Msg: "indented line continues no value"}
			}
			last.Value += "\n" + trimmed
		case trimmed[0] == '[':
			name, ok := strings.CutSuffix(trimmed[1:], "]")
			if !ok || name == "" || strings.ContainsAny(name, "[]") {
				return nil, &TreeinfoError{Line: n, Msg: fmt.Sprintf("bad section header %q", trimmed)}
			}
			sec = t.section(name)
			last = nil
		default:
			i := strings.IndexAny(trimmed, "=:")
			if i <= 0 {
				return nil, &TreeinfoError{Line: n, Msg: fmt.Sprintf("want key = value, have %q", trimmed)}
			}
			if sec == nil {
				return nil, &TreeinfoError{Line: n, Msg: "key before the first [section]"}
			}
			key := strings.ToLower(strings.TrimSpace(trimmed[:i]))
			last = sec.set(key, strings.TrimSpace(trimmed[i+1:]))
		}
	}
	return t, nil
}

// section returns the named section, appending it when it is new (a
// section given twice is one section, as in configparser's non-strict
// mode).
func (t *Treeinfo) section(name string) *TreeinfoSection {
	for i := range t.Sections {
		if t.Sections[i].Name == name {
			return &t.Sections[i]
		}
	}
	t.Sections = append(t.Sections, TreeinfoSection{Name: name})
	return &t.Sections[len(t.Sections)-1]
}

func (s *TreeinfoSection) set(key, value string) *TreeinfoKey {
	for i := range s.Keys {
		if s.Keys[i].Key == key {
			s.Keys[i].Value = value
			return &s.Keys[i]
		}
	}
	s.Keys = append(s.Keys, TreeinfoKey{Key: key, Value: value})
	return &s.Keys[len(s.Keys)-1]
}

// Get returns the value of key in section, and whether it is there. The
// key matches without regard to case.
func (t *Treeinfo) Get(section, key string) (string, bool) {
	if t == nil {
		return "", false
	}
	key = strings.ToLower(key)
	for _, s := range t.Sections {
		if s.Name != section {
			continue
		}
		for _, k := range s.Keys {
			if k.Key == key {
				return k.Value, true
			}
		}
	}
	return "", false
}

// first returns the first non-empty value among (section, key) pairs.
func (t *Treeinfo) first(pairs ...string) string {
	for i := 0; i+1 < len(pairs); i += 2 {
		if v, ok := t.Get(pairs[i], pairs[i+1]); ok && v != "" {
			return v
		}
	}
	return ""
}

// Family returns the distribution's name: [release] name in productmd
// files, [general] family in the older layout ("Fedora", "Rocky Linux").
func (t *Treeinfo) Family() string { return t.first("release", "name", "general", "family") }

// Version returns the release version ([release] version, else [general]
// version).
func (t *Treeinfo) Version() string {
	return t.first("release", "version", "general", "version")
}

// Arch returns the tree's architecture ([tree] arch, else [general] arch).
func (t *Treeinfo) Arch() string { return t.first("tree", "arch", "general", "arch") }

// Kernel returns the kernel of platform ("x86_64", "xen", …) from
// [images-<platform>]; with platform "" it uses [Treeinfo.Arch].
func (t *Treeinfo) Kernel(platform string) string {
	if platform == "" {
		platform = t.Arch()
	}
	return t.first("images-"+platform, "kernel")
}

// Initrd returns the initrd of platform, as [Treeinfo.Kernel] does.
func (t *Treeinfo) Initrd(platform string) string {
	if platform == "" {
		platform = t.Arch()
	}
	return t.first("images-"+platform, "initrd")
}

// MainImage returns the installer's stage 2 image, [stage2] mainimage
// (images/install.img, or LiveOS/squashfs.img in old trees). Anaconda's
// dracut hook reads this key from the .treeinfo at inst.repo= or
// inst.stage2= to find what to download (anaconda dracut/anaconda-lib.sh).
func (t *Treeinfo) MainImage() string { return t.first("stage2", "mainimage") }

// Repositories returns the package repositories the tree describes, as
// paths relative to its root: the "repository" of each [variant-*]
// section in productmd files, else [general] repository. A boot-only
// tree (Fedora's netinstall image) has none.
func (t *Treeinfo) Repositories() []string {
	if t == nil {
		return nil
	}
	var out []string
	for _, s := range t.Sections {
		if !strings.HasPrefix(s.Name, "variant-") {
			continue
		}
		if v, ok := t.Get(s.Name, "repository"); ok && v != "" {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		if v, ok := t.Get("general", "repository"); ok && v != "" {
			out = append(out, v)
		}
	}
	return out
}

// AppendText appends the file in INI syntax, one "key = value" line per
// key and a blank line after each section; [ParseTreeinfo] reads it back
// to the same value.
func (t *Treeinfo) AppendText(b []byte) ([]byte, error) {
	for i, s := range t.Sections {
		if s.Name == "" || strings.ContainsAny(s.Name, "[]\n") {
			return b, fmt.Errorf("netboot: .treeinfo section name %q cannot be written", s.Name)
		}
		if i > 0 {
			b = append(b, '\n')
		}
		b = append(b, '[')
		b = append(b, s.Name...)
		b = append(b, "]\n"...)
		for _, k := range s.Keys {
			if k.Key == "" || strings.ContainsAny(k.Key, "=:\n") || strings.ContainsAny(k.Key[:1], "[#;") ||
				k.Key != strings.TrimSpace(k.Key) || k.Key != strings.ToLower(k.Key) {
				return b, fmt.Errorf("netboot: .treeinfo key %q cannot be written", k.Key)
			}
			b = append(b, k.Key...)
			b = append(b, " = "...)
			for j, v := range strings.Split(k.Value, "\n") {
				if v != strings.TrimSpace(v) || (j > 0 && (v == "" || v[0] == '#' || v[0] == ';')) {
					return b, fmt.Errorf("netboot: .treeinfo value %q cannot be written", k.Value)
				}
				if j > 0 {
					b = append(b, "\n\t"...)
				}
				b = append(b, v...)
			}
			b = append(b, '\n')
		}
	}
	return b, nil
}

// String returns the file as [Treeinfo.AppendText] writes it, or "" when
// it cannot be written.
func (t *Treeinfo) String() string {
	b, err := t.AppendText(nil)
	if err != nil {
		return ""
	}
	return string(b)
}
