package isofs

import (
	"fmt"
	"io/fs"
	"path"
)

// maxCheckErrors bounds the errors [FS.Check] returns.
const maxCheckErrors = 1000

// Check walks the whole directory tree of the image and returns what is
// damaged in it, so that a server can report a bad image at start-up
// rather than when a client asks for the broken file. It returns nil for
// a sound image.
//
// Each error is an [*fs.PathError] with Op "check" and the path of the
// damaged entry (or, for a directory that cannot be read or a record
// without a name, of the directory), wrapping a [*FormatError] that says
// what is wrong and where, itself wrapping [ErrCorrupt] or [ErrTruncated].
// A damaged entry is left out of its directory's listing, and opening it
// returns that same error; the rest of the directory is served. When the
// image has an El Torito boot record, an unreadable boot catalog is
// reported with the path "" (see [FS.BootImages]).
//
// Check reads every directory once, as a walk with [fs.WalkDir] would; it
// does not read file contents or follow symbolic links. It stops after
// 1000 errors.
func (f *FS) Check() []error {
	var errs []error
	add := func(p string, err error) bool {
		if len(errs) == maxCheckErrors {
			return false
		}
		errs = append(errs, &fs.PathError{Op: "check", Path: p, Err: err})
		return true
	}
	type item struct {
		n      *node
		parent int64
		path   string
	}
	// Every directory has one parent (dirOf), so the walk ends after each
	// directory of the image has been visited at most once.
	stack := []item{{f.root, f.root.off, "."}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		d, err := f.dirOf(it.n, it.parent)
		if err != nil {
			if !add(it.path, err) {
				return errs
			}
			continue
		}
		for i := range d.bad {
			p := it.path
			if d.bad[i].name != "" {
				p = path.Join(it.path, d.bad[i].name)
			}
			if !add(p, d.bad[i].err) {
				return errs
			}
		}
		if d.lost > 0 && !add(it.path, fmt.Errorf("%w: %d more damaged directory records", ErrCorrupt, d.lost)) {
			return errs
		}
		for i := len(d.entries) - 1; i >= 0; i-- {
			c := &d.entries[i]
			if c.mode.IsDir() {
				stack = append(stack, item{c, it.n.off, path.Join(it.path, c.name)})
			}
		}
	}
	if f.vol.ElTorito {
		if _, err := f.BootImages(); err != nil {
			add("", err)
		}
	}
	return errs
}
