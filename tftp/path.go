package tftp

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// ErrAccessViolation is returned (wrapped) for a requested name that would
// leave the served file system: a ".." element, a NUL byte, or a symbolic
// link whose target lies outside the root. Clients receive TFTP error 2
// "access violation".
var ErrAccessViolation = errors.New("tftp: access violation")

// maxLinkHops bounds symbolic link resolution, like the kernel's 40.
const maxLinkHops = 40

// CleanPath turns a file name as PXE clients send it into a name for
// [io/fs.FS], or reports [ErrAccessViolation]:
//
//   - a pxelinux "::" prefix (its absolute-path syntax) is dropped;
//   - backslashes, from menus written on Windows, become slashes;
//   - leading slashes (GRUB and some ROMs send "/pxelinux.0") are dropped,
//     as are empty and "." elements;
//   - a ".." element anywhere, or a NUL byte, is an access violation:
//     names are refused rather than rewritten into something else.
//
// The result satisfies [io/fs.ValidPath]; the root itself (".") is
// refused, since it is not a file.
func CleanPath(name string) (string, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return "", fmt.Errorf("%w: NUL byte in name", ErrAccessViolation)
	}
	name = strings.TrimPrefix(name, "::")
	name = strings.ReplaceAll(name, `\`, "/")
	var b strings.Builder
	b.Grow(len(name))
	for elem := range strings.SplitSeq(name, "/") {
		switch elem {
		case "", ".":
			continue
		case "..":
			return "", fmt.Errorf("%w: %q leaves the root", ErrAccessViolation, name)
		}
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		b.WriteString(elem)
	}
	p := b.String()
	if p == "" {
		return "", fmt.Errorf("%w: %q names no file", ErrAccessViolation, name)
	}
	if !fs.ValidPath(p) {
		return "", fmt.Errorf("%w: invalid name %q", ErrAccessViolation, name)
	}
	return p, nil
}

// resolveLinks follows the symbolic links along name in fsys, when fsys can
// report them ([io/fs.ReadLinkFS], which [os.DirFS] implements), and
// returns a name without links that refers to the same file. A link whose
// target is absolute or climbs above the root is an access violation.
// Elements that do not exist end the walk; Open then reports them.
func resolveLinks(fsys fs.FS, name string) (string, error) {
	rl, ok := fsys.(fs.ReadLinkFS)
	if !ok {
		return name, nil
	}
	var done []string                     // resolved elements, free of links
	todo := strings.Split(name, "/")      // elements still to walk
	todo = append([]string(nil), todo...) // owned copy: we prepend to it
	hops := 0
	for len(todo) > 0 {
		elem := todo[0]
		todo = todo[1:]
		switch elem {
		case "", ".":
			continue
		case "..":
			if len(done) == 0 {
				return "", fmt.Errorf("%w: link in %q leaves the root", ErrAccessViolation, name)
			}
			done = done[:len(done)-1]
			continue
		}
		cur := strings.Join(append(done, elem), "/")
		fi, err := rl.Lstat(cur)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			done = append(done, elem)
			if err != nil {
				// Missing: keep the rest unresolved for Open to report.
				return strings.Join(append(done, todo...), "/"), nil
			}
			continue
		}
		hops++
		if hops > maxLinkHops {
			return "", fmt.Errorf("%w: too many links in %q", ErrAccessViolation, name)
		}
		target, err := rl.ReadLink(cur)
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrAccessViolation, err)
		}
		if path.IsAbs(target) || strings.HasPrefix(target, `\`) {
			return "", fmt.Errorf("%w: %q links to absolute %q", ErrAccessViolation, cur, target)
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	if len(done) == 0 {
		return "", fmt.Errorf("%w: %q resolves to the root", ErrAccessViolation, name)
	}
	return strings.Join(done, "/"), nil
}

// foldPath finds the file whose name matches name case-insensitively, one
// directory at a time; an exact match wins over a folded one. It returns
// false when some element has no match.
func foldPath(fsys fs.FS, name string) (string, bool) {
	dir := "."
	for elem := range strings.SplitSeq(name, "/") {
		ents, err := fs.ReadDir(fsys, dir)
		if err != nil {
			return "", false
		}
		found := ""
		for _, e := range ents {
			if e.Name() == elem {
				found = elem
				break
			}
			if found == "" && strings.EqualFold(e.Name(), elem) {
				found = e.Name()
			}
		}
		if found == "" {
			return "", false
		}
		dir = path.Join(dir, found)
	}
	return dir, true
}
