package netboot

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// DebianPrograms maps the names under which boot programs are served to
// where Debian's packages install them: pxelinux (pxelinux.0,
// lpxelinux.0), syslinux-efi (syslinux.efi, ldlinux.e64), ipxe
// (undionly.kpxe, ipxe.efi, snponly.efi, ipxe.lkrn) and, for every
// syslinux-common BIOS module (ldlinux.c32, menu.c32, …), its file
// under /usr/lib/syslinux/modules/bios, which pxelinux.0 loads from its
// own directory. Only files present on this machine are listed.
func DebianPrograms() map[string]string {
	known := map[string]string{
		"pxelinux.0":    "/usr/lib/PXELINUX/pxelinux.0",
		"lpxelinux.0":   "/usr/lib/PXELINUX/lpxelinux.0",
		"syslinux.efi":  "/usr/lib/SYSLINUX.EFI/efi64/syslinux.efi",
		"ldlinux.e64":   "/usr/lib/syslinux/modules/efi64/ldlinux.e64",
		"undionly.kpxe": "/usr/lib/ipxe/undionly.kpxe",
		"ipxe.efi":      "/usr/lib/ipxe/ipxe.efi",
		"snponly.efi":   "/usr/lib/ipxe/snponly.efi",
		"ipxe.lkrn":     "/usr/lib/ipxe/ipxe.lkrn",
	}
	mods, _ := filepath.Glob("/usr/lib/syslinux/modules/bios/*.c32")
	for _, m := range mods {
		known[filepath.Base(m)] = m
	}
	found := map[string]string{}
	for name, p := range known {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			found[name] = p
		}
	}
	return found
}

// DebianPackages names the Debian packages that install the programs of
// [DebianPrograms], for a message that says how to get them.
const DebianPackages = "pxelinux syslinux-common syslinux-efi ipxe"

// Files serves the named files of this machine as a flat [fs.FS]: name
// (no slashes) → absolute path. It is how a server hands out boot
// programs it does not keep in its tree, each one chosen by the operator
// (or by [DebianPrograms]), so links in those paths are followed: naming
// a file is the allowance. Nothing else on the machine can be reached
// through it. Files are opened when asked for, so a package upgrade is
// served at once.
func Files(files map[string]string) (*FilesFS, error) {
	m := make(map[string]string, len(files))
	for name, p := range files {
		if name == "" || strings.Contains(name, "/") || !fs.ValidPath(name) {
			return nil, fmt.Errorf("netboot: file name %q: want a name without slashes", name)
		}
		if !filepath.IsAbs(p) {
			return nil, fmt.Errorf("netboot: %s: path %q is not absolute", name, p)
		}
		m[name] = p
	}
	return &FilesFS{files: m}, nil
}

// FilesFS is the file system of [Files]. It implements [fs.StatFS] and
// [fs.ReadDirFS].
type FilesFS struct {
	files map[string]string
}

// Names returns the served names, sorted.
func (f *FilesFS) Names() []string { return slices.Sorted(maps.Keys(f.files)) }

// Path returns the file of this machine served as name.
func (f *FilesFS) Path(name string) (string, bool) {
	p, ok := f.files[name]
	return p, ok
}

// Open implements [fs.FS].
func (f *FilesFS) Open(name string) (fs.File, error) {
	if name == "." {
		return &listedDir{name: ".", list: func() ([]fs.DirEntry, error) { return f.ReadDir(".") }}, nil
	}
	p, ok := f.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	file, err := os.Open(p)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: unwrapPath(err)}
	}
	st, err := file.Stat()
	if err == nil && !st.Mode().IsRegular() {
		file.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("not a regular file")}
	}
	return file, nil
}

// Stat implements [fs.StatFS].
func (f *FilesFS) Stat(name string) (fs.FileInfo, error) {
	if name == "." {
		return dirInfo{}, nil
	}
	p, ok := f.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	st, err := os.Stat(p)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: unwrapPath(err)}
	}
	return renamed{st, name}, nil
}

// ReadDir implements [fs.ReadDirFS].
func (f *FilesFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name != "." {
		if _, ok := f.files[name]; ok {
			return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
		}
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	var out []fs.DirEntry
	for _, n := range f.Names() {
		st, err := f.Stat(n)
		if err != nil {
			continue
		}
		out = append(out, fs.FileInfoToDirEntry(st))
	}
	return out, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

type renamed struct {
	fs.FileInfo
	name string
}

func (r renamed) Name() string { return path.Base(r.name) }

type dirInfo struct{ name string }

func (d dirInfo) Name() string {
	if d.name == "" {
		return "."
	}
	return d.name
}
func (dirInfo) Size() int64        { return 0 }
func (dirInfo) Mode() fs.FileMode  { return fs.ModeDir | 0o555 }
func (dirInfo) ModTime() time.Time { return time.Time{} }
func (dirInfo) IsDir() bool        { return true }
func (dirInfo) Sys() any           { return nil }

// listedDir is an open directory whose entries list returns, read in
// parts as [fs.ReadDirFile] asks: the directories of [FilesFS] and of
// [Boot]'s overlay.
type listedDir struct {
	name    string
	list    func() ([]fs.DirEntry, error)
	entries []fs.DirEntry
	started bool
}

func (d *listedDir) Stat() (fs.FileInfo, error) {
	if d.name == "." {
		return dirInfo{}, nil
	}
	return dirInfo{name: path.Base(d.name)}, nil
}
func (d *listedDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}
func (d *listedDir) Close() error { return nil }

// ReadDir implements [fs.ReadDirFile].
func (d *listedDir) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.started {
		d.started = true
		es, err := d.list()
		if err != nil {
			return nil, err
		}
		d.entries = es
	}
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.entries))
	out := d.entries[:n]
	d.entries = d.entries[n:]
	return out, nil
}
