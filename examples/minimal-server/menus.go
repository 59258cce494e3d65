package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/pxekit/pxekit/bootmenu"
	"github.com/pxekit/pxekit/netboot"
	"github.com/pxekit/pxekit/tftp"
)

// Names of the generated files.
const (
	genPXELinux = "pxelinux.cfg/default"
	genIPXE     = "boot.ipxe"
	genGRUB     = "grub/grub.cfg"
)

// menus holds the boot menus generated from the tree's isolinux/syslinux
// configuration, in the three formats clients read. It serves them over
// TFTP (as a tftp.FileSource) and HTTP; the served tree is asked first, so a
// file there always wins.
type menus struct {
	files    map[string][]byte
	fallback fs.FS // asked after the generated files; nil for none
	log      *slog.Logger
}

// generatedMenus reads the isolinux/syslinux configuration of fsys (a
// pxelinux tree's own pxelinux.cfg/default last, which is served as it is
// to pxelinux) and renders it. A tree without one gets no generated files.
func generatedMenus(fsys, fallback fs.FS, log *slog.Logger) (*menus, error) {
	m := &menus{files: map[string][]byte{}, fallback: fallback, log: log}
	name, dir, err := bootmenu.FindConfig(fsys)
	if errors.Is(err, bootmenu.ErrNoConfig) {
		return m, nil
	}
	r, err := bootmenu.Resolve(fsys, name, &bootmenu.ResolveOptions{Dir: dir})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	// syslinux passes over missing INCLUDE files too (Debian's text-mode
	// netboot tree names the graphical ones); one line says how many.
	for _, w := range r.Warnings {
		log.Debug("boot menu", "file", name, "warning", w)
	}
	if len(r.Warnings) > 0 {
		log.Info("boot menu: skipped what syslinux would skip too (-v lists it)", "file", name, "warnings", len(r.Warnings))
	}
	// isolinux looks files up relative to its configuration's directory;
	// the generated menus name them from the root of the tree instead.
	r.RewritePaths(func(_ bootmenu.PathKind, p string) string {
		if n, ok := bootmenu.FSPath(dir, p); ok {
			return "/" + n
		}
		return p // a URL
	})
	var b bytes.Buffer
	if err := bootmenu.RenderIPXE(&b, r, &bootmenu.IPXEOptions{InitrdArg: true}); err != nil {
		return nil, fmt.Errorf("rendering %s as iPXE script: %w", name, err)
	}
	m.files[genIPXE] = slices.Clone(b.Bytes())
	b.Reset()
	if err := bootmenu.RenderGRUB(&b, r, nil); err != nil {
		return nil, fmt.Errorf("rendering %s as GRUB config: %w", name, err)
	}
	m.files[genGRUB] = slices.Clone(b.Bytes())
	b.Reset()
	// pxelinux loads UI modules from its own directory; an ISO keeps its
	// modules (built for its own syslinux version) beside isolinux.bin,
	// so the menu module is kept only when the tree has it at the top.
	if ui := strings.Fields(r.UI); len(ui) > 0 {
		if _, err := fs.Stat(fsys, ui[0]); err != nil {
			log.Info("boot menu: pxelinux menu without UI module", "ui", r.UI, "reason", "not at the top of the tree")
			r.UI = ""
		}
	}
	if err := bootmenu.RenderPXELinux(&b, r); err != nil {
		return nil, fmt.Errorf("rendering %s as pxelinux config: %w", name, err)
	}
	m.files[genPXELinux] = slices.Clone(b.Bytes())
	log.Info("boot menu", "from", name, "entries", len(r.Menu.Entries), "generated", strings.Join(m.Names(), ","))
	return m, nil
}

// Names returns the names of the generated files, sorted.
func (m *menus) Names() []string {
	var n []string
	for k := range m.files {
		n = append(n, k)
	}
	slices.Sort(n)
	return n
}

// lookup finds a generated file. pxelinux asks for its configuration under
// several names (pxelinux.cfg/01-<mac>, hex IP prefixes, default) and GRUB
// for grub.cfg under its prefix (Debian's signed netboot GRUB uses
// /debian-installer/amd64/grub/): every pxelinux.cfg/* name gets the
// pxelinux menu and every */grub.cfg the GRUB one.
func (m *menus) lookup(name string) ([]byte, string, bool) {
	name = strings.TrimLeft(name, "/")
	if b, ok := m.files[name]; ok {
		return b, name, true
	}
	switch {
	case strings.HasPrefix(name, "pxelinux.cfg/") || strings.Contains(name, "/pxelinux.cfg/"):
		b, ok := m.files[genPXELinux]
		return b, genPXELinux, ok
	case path.Base(name) == "grub.cfg":
		b, ok := m.files[genGRUB]
		return b, genGRUB, ok
	}
	return nil, "", false
}

// Open implements tftp.FileSource: a generated file, else one of the
// fallback tree.
func (m *menus) Open(_ context.Context, client netip.AddrPort, name string) (fs.File, error) {
	b, gen, ok := m.lookup(name)
	if !ok {
		if m.fallback != nil {
			return m.fallback.Open(strings.TrimLeft(name, "/"))
		}
		return nil, fs.ErrNotExist
	}
	m.log.Info("generated file", "proto", "tftp", "peer", client.Addr(), "file", name, "as", gen, "bytes", len(b))
	return tftp.BytesFile(name, b), nil
}

// httpHandler serves fsys over HTTP, with the generated menus for names
// that fsys does not have, and logs one line per request.
func httpHandler(fsys fs.FS, m *menus, log *slog.Logger) http.Handler {
	files := &netboot.FileServer{FS: fsys}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		if _, err := fs.Stat(fsys, name); errors.Is(err, fs.ErrNotExist) {
			if b, _, ok := m.lookup(name); ok {
				http.ServeContent(sw, r, path.Base(name), time.Time{}, bytes.NewReader(b))
				log.Info("http", "peer", r.RemoteAddr, "file", name, "generated", true, "status", sw.status, "bytes", sw.n, "time", time.Since(start).Round(time.Millisecond))
				return
			}
			if m.fallback != nil {
				if st, err := fs.Stat(m.fallback, name); err == nil && st.Mode().IsRegular() {
					(&netboot.FileServer{FS: m.fallback}).ServeHTTP(sw, r)
					log.Info("http", "peer", r.RemoteAddr, "file", name, "from", "this machine", "status", sw.status, "bytes", sw.n, "time", time.Since(start).Round(time.Millisecond))
					return
				}
			}
		}
		files.ServeHTTP(sw, r)
		log.Info("http", "peer", r.RemoteAddr, "file", name, "status", sw.status, "bytes", sw.n, "time", time.Since(start).Round(time.Millisecond))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

// has reports whether name is one of the generated files.
func (m *menus) has(name string) bool {
	_, ok := m.files[name]
	return ok
}
