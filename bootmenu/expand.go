package bootmenu

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// FSPath returns the name in an fs.FS of a file that a configuration whose
// working directory is dir (see [ResolveOptions.Dir]) calls name: relative
// names are joined to dir, names starting with "/" or pxelinux's "::" are
// taken from the root. It reports false for URLs and for names that leave
// the root. The renderers use it to name kernels and initrds from the root
// (see [Resolved.Dir]); [Resolved.RewritePaths] with it turns the names
// of an isolinux menu into names from the root of its ISO image for
// pxelinux too.
func FSPath(dir, name string) (string, bool) {
	abs := strings.HasPrefix(name, "::")
	name = strings.TrimPrefix(name, "::")
	if strings.Contains(name, "://") {
		return "", false
	}
	if abs || strings.HasPrefix(name, "/") || dir == "" {
		// Clean does not allocate for a name that is clean already.
		name = path.Clean(strings.TrimLeft(name, "/"))
	} else {
		name = path.Join(dir, name)
	}
	if name == "" || !fs.ValidPath(name) || name == "." {
		return "", false
	}
	return name, true
}

// maxRuns bounds the runs of an expanded configuration.
const maxRuns = 1 << 17

// expanded is a configuration with its INCLUDE and MENU INCLUDE lines
// replaced by the lines of the files they name, the first step of
// [Resolve]; [interpret] is the second. It is a list of runs: lines of one
// file in order, up to the next INCLUDE that read something, and for a
// MENU INCLUDE with a tag a run that opens the submenu before the file's
// lines and one that closes it after them. Runs share the parsed files'
// nodes, so expansion copies nothing.
type expanded struct {
	runs     []run
	warnings []error   // problems syslinux passes over, each a *ResolveError
	warnAt   []int32   // warnings[i] was met before runs[warnAt[i]]
	files    []string  // files read, in order of first reading
	config   []*Config // the parsed files, by index
}

// nodes returns the lines of r.
func (x *expanded) nodes(r run) []Node { return x.config[r.file].Nodes[r.start:r.end] }

// runKind says what a [run] is.
type runKind uint8

const (
	runLines runKind = iota // lines of a file
	runBegin                // MENU INCLUDE file tag: open submenu tag
	runEnd                  // close the submenu of a runBegin, unless closed already
)

// run is a piece of an expanded configuration.
type run struct {
	// config[file].Nodes[start:end] are the lines, or for runBegin and
	// runEnd the MENU INCLUDE line; file indexes expanded.files too.
	file, start, end int32
	kind             runKind
}

// expander reads files for [expand].
type expander struct {
	fsys   fs.FS
	opts   ResolveOptions
	cache  map[string]int32 // index into out.files and out.config
	stack  []string         // files being read
	reads  int
	walked int
	out    expanded
}

// expand expands the INCLUDE lines of the file name in fsys (a name from
// the root, already cleaned by FSPath) or, when c is not nil, of c, which
// is called name in messages.
func expand(fsys fs.FS, name string, c *Config, opts ResolveOptions) (*expanded, error) {
	x := &expander{fsys: fsys, opts: opts, cache: map[string]int32{}}
	if c == nil {
		return &x.out, x.file(name, Pos{}, "")
	}
	x.stack = append(x.stack, name)
	x.out.files = append(x.out.files, name)
	x.out.config = append(x.out.config, c)
	x.presize(c)
	return &x.out, x.nodes(c.Nodes, 0)
}

// presize makes room for the runs of the first file read.
func (x *expander) presize(c *Config) {
	if x.out.runs != nil {
		return
	}
	n := 1
	for _, nd := range c.Nodes {
		if d, ok := nd.(*Directive); ok && (d.Keyword == KwInclude || d.Keyword == KwMenuInclude) {
			n += 3
		}
	}
	x.out.runs = make([]run, 0, min(n, maxRuns))
}

func (x *expander) warn(file string, at Pos, err error) {
	x.out.warnings = append(x.out.warnings, &ResolveError{File: file, Pos: at, Err: err})
	x.out.warnAt = append(x.out.warnAt, int32(len(x.out.runs)))
}

// add appends a run, unless it is an empty run of lines.
func (x *expander) add(r run) error {
	if r.start == r.end {
		return nil
	}
	if len(x.out.runs) >= maxRuns {
		return &ResolveError{File: x.out.files[r.file], Pos: x.out.nodes(r)[0].Pos(), Err: fmt.Errorf("%w (more than %d INCLUDE lines)", ErrTooLarge, maxRuns)}
	}
	x.out.runs = append(x.out.runs, r)
	return nil
}

// file reads and expands one file.
func (x *expander) file(file string, at Pos, from string) error {
	for _, f := range x.stack {
		if f == file {
			return &ResolveError{File: from, Pos: at, Err: fmt.Errorf("%w: %s", ErrIncludeCycle, strings.Join(append(x.stack, file), " -> "))}
		}
	}
	if len(x.stack) >= x.opts.MaxDepth {
		return &ResolveError{File: from, Pos: at, Err: fmt.Errorf("%w (more than %d)", ErrIncludeDepth, x.opts.MaxDepth)}
	}
	if x.reads >= x.opts.MaxFiles {
		return &ResolveError{File: from, Pos: at, Err: fmt.Errorf("%w (more than %d)", ErrTooManyFiles, x.opts.MaxFiles)}
	}
	x.reads++
	idx, ok := x.cache[file]
	if !ok {
		if x.fsys == nil {
			return &fs.PathError{Op: "open", Path: file, Err: fs.ErrNotExist}
		}
		data, err := readLimited(x.fsys, file, x.opts.MaxFileSize)
		if err != nil {
			if errors.Is(err, ErrFileTooLarge) {
				return &ResolveError{File: from, Pos: at, Err: err}
			}
			return err
		}
		c, err := Parse(data)
		if err != nil {
			var pe *ParseError
			if errors.As(err, &pe) {
				pe.File = file
			}
			return err
		}
		idx = int32(len(x.out.files))
		x.cache[file] = idx
		x.out.files = append(x.out.files, file)
		x.out.config = append(x.out.config, c)
		x.presize(c)
	}
	x.stack = append(x.stack, file)
	err := x.nodes(x.out.config[idx].Nodes, idx)
	x.stack = x.stack[:len(x.stack)-1]
	return err
}

// readLimited reads a whole file of at most max bytes.
func readLimited(fsys fs.FS, name string, max int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrFileTooLarge, name, max)
	}
	return data, nil
}

// nodes expands the lines of one file.
func (x *expander) nodes(nodes []Node, idx int32) error {
	file := x.out.files[idx]
	from := 0 // nodes[from:i] are still to be added
	for i, n := range nodes {
		x.walked++
		if l, ok := n.(*Label); ok {
			x.walked += len(l.Body)
		}
		if x.walked > maxWalk {
			return &ResolveError{File: file, Pos: n.Pos(), Err: fmt.Errorf("%w (more than %d lines read)", ErrTooLarge, maxWalk)}
		}
		d, ok := n.(*Directive)
		if !ok || d.Keyword != KwInclude && d.Keyword != KwMenuInclude {
			continue
		}
		if err := x.add(run{kind: runLines, file: idx, start: int32(from), end: int32(i)}); err != nil {
			return err
		}
		from = i + 1
		if err := x.include(d, idx, int32(i)); err != nil {
			return err
		}
	}
	return x.add(run{kind: runLines, file: idx, start: int32(from), end: int32(len(nodes))})
}

// include expands one INCLUDE or MENU INCLUDE line d, line i of file idx.
//
// A file that cannot be read is skipped with a warning, as syslinux skips
// it. With a tag, the submenu is made first, whatever becomes of the file:
// menu.c32 and vesamenu.c32 (com32/menu/readconfig.c, do_include) open
// the submenu before they open the file, so a missing file leaves an
// entry for an empty submenu, which is what the user is shown. (ldlinux.c32
// without a UI, com32/elflink/ldlinux/readconfig.c, opens the file first
// and skips the line; it shows no submenus, and an empty one holds no
// label, so the two agree on what can be booted.)
func (x *expander) include(d *Directive, idx, i int32) error {
	name := d.Word(0)
	_, _, end := firstWord(d.Value, 0)
	tag := trimBlanks(d.Value[end:])
	if tag != "" {
		if err := x.add(run{kind: runBegin, file: idx, start: i, end: i + 1}); err != nil {
			return err
		}
	}
	if err := x.includeFile(d, idx, name); err != nil {
		return err
	}
	if tag != "" {
		return x.add(run{kind: runEnd, file: idx, start: i, end: i + 1})
	}
	return nil
}

// includeFile expands the file name that line d of file idx includes, or
// warns that it cannot be read.
func (x *expander) includeFile(d *Directive, idx int32, name string) error {
	file := x.out.files[idx]
	target, ok := FSPath(x.opts.Dir, name)
	if !ok {
		x.warn(file, d.Position, fmt.Errorf("%w: %q", ErrBadInclude, name))
		return nil
	}
	if err := x.file(target, d.Position, file); err != nil {
		if isFatal(err) {
			return err
		}
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w: %s", ErrMissingInclude, target)
		}
		// Syslinux skips any file it cannot open.
		x.warn(file, d.Position, err)
	}
	return nil
}

// isFatal reports whether an error of an included file stops resolution:
// a limit, a cycle or a syntax error, as opposed to a file that cannot be
// opened or read.
func isFatal(err error) bool {
	var re *ResolveError
	var pe *ParseError
	return errors.As(err, &re) || errors.As(err, &pe)
}
