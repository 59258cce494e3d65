package main

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// defaultFiles is what the server serves when it is started without -root
// and -iso: an iPXE menu and a pxelinux menu, both offering "boot from
// local disk" and a shell.
//
//go:embed default
var defaultFiles embed.FS

// debianBootPrograms are the boot programs that Debian packages install,
// copied into the default tree under the name on the left when present.
var debianBootPrograms = map[string]string{
	"pxelinux.0":    "/usr/lib/PXELINUX/pxelinux.0",  // pxelinux
	"lpxelinux.0":   "/usr/lib/PXELINUX/lpxelinux.0", // pxelinux
	"syslinux.efi":  "/usr/lib/SYSLINUX.EFI/efi64/syslinux.efi",
	"ldlinux.e64":   "/usr/lib/syslinux/modules/efi64/ldlinux.e64",
	"undionly.kpxe": "/usr/lib/ipxe/undionly.kpxe", // ipxe
	"ipxe.efi":      "/usr/lib/ipxe/ipxe.efi",
	"snponly.efi":   "/usr/lib/ipxe/snponly.efi",
	"ipxe.lkrn":     "/usr/lib/ipxe/ipxe.lkrn",
}

// defaultTree writes the embedded files and the Debian boot programs found
// on this machine (with the pxelinux BIOS modules) into a new temporary
// directory, and returns it with the list of what it copied.
func defaultTree() (dir string, copied []string, err error) {
	dir, err = os.MkdirTemp("", "pxekit-default-")
	if err != nil {
		return "", nil, err
	}
	sub, err := fs.Sub(defaultFiles, "default")
	if err != nil {
		return dir, nil, err
	}
	if err := os.CopyFS(dir, sub); err != nil {
		return dir, nil, err
	}
	copyIn := func(name, src string) error {
		data, err := os.ReadFile(src)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		copied = append(copied, name+" ("+src+")")
		return os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	for _, name := range slices.Sorted(maps.Keys(debianBootPrograms)) {
		src := debianBootPrograms[name]
		if err := copyIn(name, src); err != nil {
			return dir, copied, err
		}
	}
	// pxelinux.0 loads ldlinux.c32 and the menu modules from its own
	// directory (syslinux-common).
	mods, _ := filepath.Glob("/usr/lib/syslinux/modules/bios/*.c32")
	n := len(copied)
	for _, m := range mods {
		if err := copyIn(filepath.Base(m), m); err != nil {
			return dir, copied, err
		}
	}
	if len(copied) > n {
		copied = append(copied[:n], fmt.Sprintf("%d syslinux BIOS modules (/usr/lib/syslinux/modules/bios)", len(copied)-n))
	}
	return dir, copied, nil
}

// checkProgram reports an error unless name is a regular file in fsys.
func checkProgram(fsys fs.FS, flag, name string) error {
	st, err := fs.Stat(fsys, name)
	if err != nil {
		return fmt.Errorf("-%s %s: %w", flag, name, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("-%s %s: not a regular file", flag, name)
	}
	return nil
}

// layers is a read-only union of file systems: the first one that has a
// name serves it. Nil layers are skipped.
type layers []fs.FS

// Open implements fs.FS.
func (l layers) Open(name string) (fs.File, error) {
	var first error
	for _, fsys := range l {
		if fsys == nil {
			continue
		}
		f, err := fsys.Open(name)
		if err == nil {
			return f, nil
		}
		if first == nil {
			first = err
		}
	}
	if first == nil {
		first = &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return nil, first
}
