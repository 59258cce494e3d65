package tftp

// How a requested name becomes an open file, in one place: cleaning
// ([CleanPath]), generated files ([FileSource], [Server.FSFirst]), the
// served [io/fs.FS] with its links ([resolveLinks]) and, optionally, a
// case-folding retry ([Server.CaseInsensitive]).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"path"
	"strings"
	"time"
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

// A RootedLinksFS is a file system that resolves the symbolic links of
// the names it is given inside its own root, as in a chroot: an absolute
// target starts at its root and ".." stops there, so no name leads out of
// it. [github.com/pxekit/pxekit/isofs.FS] is one (links inside an image
// resolve inside the image).
//
// The server opens names on a file system whose LinksInRoot reports true
// as they are, with one lookup, rather than walking their links itself
// (see [Server.FS]): the result is the same, and the walk costs a lookup
// per element of every prefix of the name, so a time growing with the
// square of its depth. A file system that wraps others (an overlay)
// reports true only when every one it may answer from does.
type RootedLinksFS interface {
	fs.FS
	LinksInRoot() bool
}

// resolveLinks follows the symbolic links along name in fsys when fsys
// reports them ([io/fs.ReadLinkFS], as [os.DirFS] does), and returns a
// name without links for the same file, so that Open cannot follow one
// out of the root. Links resolve inside the root, as in a chroot (the
// rule of tftpd-hpa --secure, and the one isofs applies inside an
// image): an absolute target starts at the root and ".." stops at it.
// So a link never leads out, whatever it says; a link to a host path
// outside the root names a file under the root, usually none. Elements
// that do not exist end the walk, and Open then reports them.
//
// A file system that does not report links (isofs behind netboot's
// overlay, netboot.Dir, fstest.MapFS), or that applies this rule itself
// ([RootedLinksFS]), is opened as it is.
//
// The walk Lstats each prefix of the name once: on os.DirFS that is one
// system call per element.
func resolveLinks(fsys fs.FS, name string) (string, error) {
	rl, ok := fsys.(fs.ReadLinkFS)
	if !ok {
		return name, nil
	}
	if r, ok := fsys.(RootedLinksFS); ok && r.LinksInRoot() {
		return name, nil
	}
	// done is the resolved prefix, free of links, as a path; todo the
	// elements still to walk.
	done := ""
	todo := name
	hops := 0
	for todo != "" {
		var elem string
		elem, todo, _ = strings.Cut(todo, "/")
		switch elem {
		case "", ".":
			continue
		case "..":
			done = done[:max(strings.LastIndexByte(done, '/'), 0)]
			continue
		}
		cur := elem
		if done != "" {
			cur = done + "/" + elem
		}
		fi, err := rl.Lstat(cur)
		if err != nil {
			// Missing: keep the rest unresolved for Open to report.
			if todo != "" {
				return cur + "/" + todo, nil
			}
			return cur, nil
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			done = cur
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
		if strings.HasPrefix(target, "/") {
			done = ""
		}
		if todo != "" {
			target += "/" + todo
		}
		todo = target
	}
	if done == "" {
		return "", fmt.Errorf("%w: %q resolves to the root", ErrAccessViolation, name)
	}
	return done, nil
}

// open finds name for client, in Files and FS in the order FSFirst says.
func (s *Server) open(ctx context.Context, client netip.AddrPort, name string) (fs.File, error) {
	notFound := &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	if s.Files != nil && !s.FSFirst {
		f, err := s.Files.Open(ctx, client, name)
		if err == nil && f != nil {
			return f, nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	if s.FS != nil {
		f, err := s.openFS(name)
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			return f, err
		}
	}
	if s.Files != nil && s.FSFirst {
		f, err := s.Files.Open(ctx, client, name)
		if err == nil && f != nil {
			return f, nil
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, notFound
}

func (s *Server) openFS(name string) (fs.File, error) {
	f, err := openResolved(s.FS, name)
	if err != nil && errors.Is(err, fs.ErrNotExist) && s.CaseInsensitive {
		if alt, ok := foldPath(s.FS, name); ok && alt != name {
			return openResolved(s.FS, alt)
		}
	}
	return f, err
}

func openResolved(fsys fs.FS, name string) (fs.File, error) {
	real, err := resolveLinks(fsys, name)
	if err != nil {
		return nil, err
	}
	return fsys.Open(real)
}

// A FileSource generates files on request, before or after [Server.FS] is
// consulted (see [Server.FSFirst]).
//
// Open is called with the requesting client and the cleaned name (see
// [CleanPath]), from the transfer's goroutine; ctx ends with the transfer.
// To decline a name and let the lookup go on, return an error that wraps
// [io/fs.ErrNotExist]. Any other error ends the request: [io/fs.ErrPermission]
// as TFTP "access violation", the rest as "not defined".
//
// The returned file is closed after the transfer. Its Stat size is sent as
// tsize; a file that also implements [io.ReaderAt] is re-read on
// retransmission, otherwise a window of blocks is buffered. [BytesFile]
// wraps generated bytes.
type FileSource interface {
	Open(ctx context.Context, client netip.AddrPort, name string) (fs.File, error)
}

// FileSourceFunc adapts a function to [FileSource].
type FileSourceFunc func(ctx context.Context, client netip.AddrPort, name string) (fs.File, error)

// Open calls f(ctx, client, name).
func (f FileSourceFunc) Open(ctx context.Context, client netip.AddrPort, name string) (fs.File, error) {
	return f(ctx, client, name)
}

// BytesFile returns a read-only regular file named path.Base(name) holding
// data, for [FileSource] implementations that render files in memory. The
// file implements [io.ReaderAt] and [io.Seeker]; it keeps data, which must
// not be modified afterwards.
func BytesFile(name string, data []byte) fs.File {
	return &bytesFile{name: path.Base(name), r: bytes.NewReader(data), size: int64(len(data)), mod: time.Now()}
}

type bytesFile struct {
	name string
	r    *bytes.Reader
	size int64
	mod  time.Time
}

func (f *bytesFile) Stat() (fs.FileInfo, error)                { return bytesInfo{f}, nil }
func (f *bytesFile) Read(p []byte) (int, error)                { return f.r.Read(p) }
func (f *bytesFile) ReadAt(p []byte, off int64) (int, error)   { return f.r.ReadAt(p, off) }
func (f *bytesFile) Seek(off int64, whence int) (int64, error) { return f.r.Seek(off, whence) }
func (f *bytesFile) Close() error                              { return nil }
func (f *bytesFile) WriteTo(w io.Writer) (int64, error)        { return f.r.WriteTo(w) }

type bytesInfo struct{ f *bytesFile }

func (i bytesInfo) Name() string       { return i.f.name }
func (i bytesInfo) Size() int64        { return i.f.size }
func (i bytesInfo) Mode() fs.FileMode  { return 0o444 }
func (i bytesInfo) ModTime() time.Time { return i.f.mod }
func (i bytesInfo) IsDir() bool        { return false }
func (i bytesInfo) Sys() any           { return nil }
