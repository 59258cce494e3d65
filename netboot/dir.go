package netboot

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrOutsideRoot is wrapped by the errors of a [Dir] for a name whose
// symbolic links lead out of the served directory, into no directory the
// operator allowed.
var ErrOutsideRoot = errors.New("netboot: link leads outside the served root")

// Dir serves the directory root as an [fs.FS] under one rule that every
// protocol shares: nothing outside root is ever read, whatever its
// symbolic links say. A link that stays inside root is followed; a link
// out of it is refused with an error wrapping [ErrOutsideRoot] and
// [fs.ErrPermission], unless its target lies in one of the allow
// directories (system boot programs, such as Debian's
// /usr/lib/ipxe/ipxe.efi -> /boot/ipxe.efi, served on purpose). The
// check runs on every open, so a link changed while the server runs is
// judged anew; the opens themselves go through [os.Root], so a link
// swapped between the check and the open cannot lead out either.
//
// The result implements [fs.StatFS], [fs.ReadDirFS] and [fs.ReadFileFS].
// It does not implement [fs.ReadLinkFS] on purpose: it resolves its own
// links, so a server that checks links itself (tftp.Server) trusts it, and
// the TFTP, HTTP and boot-program answers agree. Dir is safe for
// concurrent use; Close releases its directory handles.
func Dir(root string, allow ...string) (*DirFS, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("netboot: %w", err)
	}
	d := &DirFS{root: r, fs: r.FS(), path: root}
	if abs, err := filepath.EvalSymlinks(root); err == nil {
		d.path = abs
	}
	for _, a := range allow {
		abs, err := filepath.EvalSymlinks(a)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("netboot: allowed directory: %w", err)
		}
		ar, err := os.OpenRoot(abs)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("netboot: allowed directory: %w", err)
		}
		d.allow = append(d.allow, allowed{dir: abs, root: ar})
	}
	return d, nil
}

// DirFS is the file system of [Dir].
type DirFS struct {
	root  *os.Root
	fs    fs.FS
	path  string // root with its own links resolved
	allow []allowed
}

type allowed struct {
	dir  string
	root *os.Root
}

// Close releases the directory handles.
func (d *DirFS) Close() error {
	err := d.root.Close()
	for _, a := range d.allow {
		err = errors.Join(err, a.root.Close())
	}
	return err
}

// Path returns the served directory, its own links resolved.
func (d *DirFS) Path() string { return d.path }

// Open implements [fs.FS].
func (d *DirFS) Open(name string) (fs.File, error) {
	f, err := d.fs.Open(name)
	if err == nil || !escapes(err) {
		return f, err
	}
	fsys, rel, err := d.outside("open", name)
	if err != nil {
		return nil, err
	}
	return fsys.Open(rel)
}

// Stat implements [fs.StatFS].
func (d *DirFS) Stat(name string) (fs.FileInfo, error) {
	fi, err := fs.Stat(d.fs, name)
	if err == nil || !escapes(err) {
		return fi, err
	}
	fsys, rel, err := d.outside("stat", name)
	if err != nil {
		return nil, err
	}
	return fs.Stat(fsys, rel)
}

// ReadDir implements [fs.ReadDirFS].
func (d *DirFS) ReadDir(name string) ([]fs.DirEntry, error) {
	ents, err := fs.ReadDir(d.fs, name)
	if err == nil || !escapes(err) {
		return ents, err
	}
	fsys, rel, err := d.outside("readdir", name)
	if err != nil {
		return nil, err
	}
	return fs.ReadDir(fsys, rel)
}

// ReadFile implements [fs.ReadFileFS].
func (d *DirFS) ReadFile(name string) ([]byte, error) {
	b, err := fs.ReadFile(d.fs, name)
	if err == nil || !escapes(err) {
		return b, err
	}
	fsys, rel, err := d.outside("read", name)
	if err != nil {
		return nil, err
	}
	return fs.ReadFile(fsys, rel)
}

// Target reports where name's links lead when they lead out of the root:
// the resolved path, and whether an allowed directory holds it. It returns
// "" for a name that stays inside (or does not exist).
func (d *DirFS) Target(name string) (target string, allowedDir bool) {
	if !fs.ValidPath(name) {
		return "", false
	}
	t, err := filepath.EvalSymlinks(filepath.Join(d.path, filepath.FromSlash(name)))
	if err != nil || within(d.path, t) {
		return "", false
	}
	for _, a := range d.allow {
		if within(a.dir, t) {
			return t, true
		}
	}
	return t, false
}

// outside resolves a name whose links lead out of the root to a file
// system and name in an allowed directory, or refuses it.
func (d *DirFS) outside(op, name string) (fs.FS, string, error) {
	t, ok := d.Target(name)
	if ok {
		for _, a := range d.allow {
			if within(a.dir, t) {
				rel, err := filepath.Rel(a.dir, t)
				if err == nil {
					return a.root.FS(), filepath.ToSlash(rel), nil
				}
			}
		}
	}
	err := fmt.Errorf("%w (%s); allow its directory to serve it: %w", ErrOutsideRoot, t, fs.ErrPermission)
	if t == "" {
		err = fmt.Errorf("%w: %w", ErrOutsideRoot, fs.ErrPermission)
	}
	return nil, "", &fs.PathError{Op: op, Path: name, Err: err}
}

// escapes reports whether err is os.Root's refusal of a path that leaves it.
func escapes(err error) bool {
	return err != nil && strings.Contains(err.Error(), "path escapes from parent")
}

// within reports whether path p is dir or below it.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
