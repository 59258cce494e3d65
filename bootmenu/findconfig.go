package bootmenu

import (
	"errors"
	"io/fs"
	"path"
)

// ErrNoConfig is returned by [FindConfig] for a file system that holds no
// syslinux-family configuration file where it looks.
var ErrNoConfig = errors.New("bootmenu: no isolinux, syslinux or pxelinux configuration found")

// configDirs and configFiles are where ISOLINUX and SYSLINUX look for
// their configuration when their own directory has none, directory by
// directory, and (boot/<arch>/loader) where openSUSE's images keep
// isolinux.bin with its configuration, which isolinux reads from its own
// directory first.
var (
	configDirs  = []string{"boot/isolinux", "isolinux", "boot/syslinux", "syslinux", "boot/x86_64/loader", "boot/i386/loader", "."}
	configFiles = []string{"isolinux.cfg", "syslinux.cfg", "extlinux.conf"}
)

// FindConfig looks for the configuration of a boot image or tree in fsys,
// such as an ISO image opened with package isofs, and returns its name and
// the working directory to resolve it with ([ResolveOptions.Dir]):
//
//	name, dir, err := bootmenu.FindConfig(fsys)
//	r, err := bootmenu.Resolve(fsys, name, &bootmenu.ResolveOptions{Dir: dir})
//
// It tries isolinux.cfg, syslinux.cfg and extlinux.conf in boot/isolinux,
// isolinux, boot/syslinux, syslinux, boot/x86_64/loader, boot/i386/loader
// (openSUSE) and the top of fsys, in that order of directories, which are
// the places ISOLINUX and SYSLINUX search; the
// working directory is the file's own, as syslinux changes to it. Last it
// tries pxelinux.cfg/default, whose names pxelinux resolves against its
// path prefix, taken to be the top of fsys. The top is dir "". Only regular files
// count. Without any it returns [ErrNoConfig].
func FindConfig(fsys fs.FS) (name, dir string, err error) {
	for _, d := range configDirs {
		for _, f := range configFiles {
			if n := path.Join(d, f); isRegular(fsys, n) {
				if d == "." {
					d = ""
				}
				return n, d, nil
			}
		}
	}
	if n := "pxelinux.cfg/default"; isRegular(fsys, n) {
		return n, "", nil
	}
	return "", "", ErrNoConfig
}

func isRegular(fsys fs.FS, name string) bool {
	st, err := fs.Stat(fsys, name)
	return err == nil && st.Mode().IsRegular()
}
