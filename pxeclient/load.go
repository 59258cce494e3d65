package pxeclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/pxekit/pxekit/bootmenu"
)

// File kinds in [Report.Files].
const (
	KindBoot   = "boot"   // the boot program
	KindConfig = "config" // a configuration: the one found, an INCLUDE, a chained iPXE script
	KindKernel = "kernel" // the kernel the default entry boots, or the program an iPXE script chains to
	KindInitrd = "initrd" // an initrd of the default entry (iPXE: initrd, module, imgfetch)
)

// File is one file a boot loaded, as [Report.Files] lists them.
type File struct {
	// Kind says what the file was for (KindBoot … KindInitrd).
	Kind string
	// Name is the name asked for: a TFTP path or a URL.
	Name string
	// Bytes is the size received, CRC32C its CRC-32 (Castagnoli) so that
	// a test or a storm can check the file arrived intact.
	Bytes  int64
	CRC32C uint32
	// Time is the transfer time (for the boot program, including a size
	// probe).
	Time time.Duration
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// CRC32C returns the checksum that [File.CRC32C] holds for content b.
func CRC32C(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// Limits on what a configuration may make the client read into memory.
const (
	maxConfigSize = 1 << 20 // a configuration, an INCLUDE, an iPXE script
	maxInitrds    = 16
	maxIPXESteps  = 10_000 // lines an iPXE script run may execute
	maxChains     = 8      // nested iPXE chain-loads of scripts
)

// ErrNoKernel is returned (wrapped) when the configuration found boots no
// kernel by default: a local boot, a COM32 module, an empty menu, an iPXE
// script that never runs "boot".
var ErrNoKernel = errors.New("pxeclient: the configuration boots no kernel")

// fetcher fetches the files a loader names after its boot program: over
// HTTP relative to base when the boot program came over HTTP, else over
// TFTP from the boot server relative to prefix; absolute http://,
// https:// and tftp:// URLs go where they say.
type fetcher struct {
	c        *Client
	ctx      context.Context
	rep      *Report
	src      netip.Addr
	hc       *http.Client
	tftpPort uint16
	prefix   string   // TFTP path prefix (option 210 or the boot file's directory)
	base     *url.URL // HTTP base directory; nil for TFTP
	// server, if valid, replaces the boot server for TFTP (a GRUB
	// prefix naming its server).
	server netip.Addr
	// loader, if set, replaces the profile's Loader habits (GRUB's
	// own TFTP client).
	loader *TFTPHabits
	// fetch, if set, replaces the network (for tests): name is the URL
	// or TFTP path, a missing file is ErrNotFound.
	fetch func(name string, w io.Writer) error
}

// resolve returns where name is fetched from: a URL for HTTP, or a TFTP
// server and path.
func (f *fetcher) resolve(name string, base *url.URL) (u *url.URL, server netip.AddrPort, tftpPath string, err error) {
	if strings.Contains(name, "://") {
		u, err := url.Parse(name)
		if err != nil {
			return nil, netip.AddrPort{}, "", err
		}
		switch u.Scheme {
		case "http", "https":
			return u, netip.AddrPort{}, "", nil
		case "tftp":
			host := u.Hostname()
			a, err := netip.ParseAddr(host)
			if err != nil {
				return nil, netip.AddrPort{}, "", fmt.Errorf("pxeclient: %s: host %q is not an address", name, host)
			}
			port := uint16(69)
			if p := u.Port(); p != "" {
				n, err := strconv.ParseUint(p, 10, 16)
				if err != nil {
					return nil, netip.AddrPort{}, "", fmt.Errorf("pxeclient: %s: bad port", name)
				}
				port = uint16(n)
			}
			return nil, netip.AddrPortFrom(a, port), strings.TrimPrefix(u.Path, "/"), nil
		}
		return nil, netip.AddrPort{}, "", fmt.Errorf("pxeclient: %s: scheme %q not supported", name, u.Scheme)
	}
	if base != nil {
		return base.ResolveReference(&url.URL{Path: name}), netip.AddrPort{}, "", nil
	}
	full := name
	if !strings.HasPrefix(name, "/") {
		full = f.prefix + name
	}
	host := f.rep.Server
	if f.server.IsValid() {
		host = f.server
	}
	return nil, netip.AddrPortFrom(host, f.tftpPort), full, nil
}

// get fetches name (relative to f.base or f.prefix) into w, at most limit
// bytes when limit > 0, and records it in the report under kind. The
// returned File's Name is what was asked for, also on error.
func (f *fetcher) get(name, kind string, w io.Writer, limit int64) (File, error) {
	return f.getFrom(name, f.base, kind, w, limit)
}

func (f *fetcher) getFrom(name string, base *url.URL, kind string, w io.Writer, limit int64) (File, error) {
	file := File{Kind: kind, Name: name}
	u, server, tftpPath, err := f.resolve(name, base)
	if err != nil {
		return file, err
	}
	s := &sink{w: w, limit: limit}
	t := time.Now()
	switch {
	case f.fetch != nil:
		if u != nil {
			file.Name = u.String()
		} else {
			file.Name = tftpPath
		}
		err = f.fetch(file.Name, s)
	case u != nil:
		file.Name = u.String()
		_, err = httpGet(f.ctx, f.hc, file.Name, s)
	default:
		file.Name = tftpPath
		var r tftpResult
		h := f.c.Profile.Loader
		if f.loader != nil {
			h = *f.loader
		}
		r, err = tftpGet(f.ctx, f.c.listen, f.src, server, tftpPath, h, false, f.c.Profile.TFTPTimeout, f.c.Profile.TFTPRetries, s)
		f.rep.TFTPRetrans += r.retrans
	}
	if err != nil {
		return file, err
	}
	file.Bytes, file.CRC32C, file.Time = s.n, s.crc, time.Since(t)
	f.rep.Files = append(f.rep.Files, file)
	return file, nil
}

// sink counts, checksums and passes on what it is written, refusing more
// than limit bytes when limit > 0.
type sink struct {
	w     io.Writer
	n     int64
	limit int64
	crc   uint32
}

var errTooLarge = errors.New("pxeclient: file too large")

func (s *sink) Write(p []byte) (int, error) {
	if s.limit > 0 && s.n+int64(len(p)) > s.limit {
		return 0, fmt.Errorf("%w (over %d bytes)", errTooLarge, s.limit)
	}
	s.n += int64(len(p))
	s.crc = crc32.Update(s.crc, castagnoli, p)
	return s.w.Write(p)
}

// load reads the configuration cfg (found as name), picks what it boots
// by default and loads the kernel and initrds.
func (f *fetcher) load(name string, cfg []byte) error {
	t := time.Now()
	var kernel string
	var initrds []string
	var err error
	switch {
	case bytes.HasPrefix(cfg, []byte("#!ipxe")):
		// The iPXE interpreter fetches as it goes, as iPXE does.
		err = f.runIPXE(name, cfg)
		if err == nil {
			f.rep.Load = time.Since(t)
			f.rep.Stage = StageLoaded
		}
		return err
	case isGRUBConfig(name):
		kernel, initrds, err = f.grubDefault(name, cfg)
	default:
		kernel, initrds, err = f.pxelinuxDefault(name, cfg)
	}
	if err != nil {
		return fmt.Errorf("load: %s: %w", name, err)
	}
	if err := f.loadImages(kernel, initrds, f.base); err != nil {
		return err
	}
	f.rep.Load = time.Since(t)
	f.rep.Stage = StageLoaded
	return nil
}

// loadImages fetches the kernel and then each initrd, as the loaders do.
func (f *fetcher) loadImages(kernel string, initrds []string, base *url.URL) error {
	if len(initrds) > maxInitrds {
		return fmt.Errorf("load: %d initrds, more than %d", len(initrds), maxInitrds)
	}
	file, err := f.getFrom(kernel, base, KindKernel, io.Discard, 0)
	if err != nil {
		return fmt.Errorf("load kernel %s: %w", file.Name, err)
	}
	f.rep.Kernel = file.Name
	for _, name := range initrds {
		file, err := f.getFrom(name, base, KindInitrd, io.Discard, 0)
		if err != nil {
			return fmt.Errorf("load initrd %s: %w", file.Name, err)
		}
		f.rep.Initrds = append(f.rep.Initrds, file.Name)
	}
	return nil
}

func isGRUBConfig(name string) bool {
	b := path.Base(name)
	return b == "grub.cfg" || strings.HasPrefix(b, "grub.cfg-")
}

// pxelinuxDefault returns the kernel and initrds of the entry pxelinux
// boots when nobody touches the keyboard: ONTIMEOUT's label, else
// DEFAULT's (or MENU DEFAULT's), else the first entry; into submenus by
// their default. A DEFAULT that names no label is a command line: its
// first word is the kernel, its initrd= options the initrds.
func (f *fetcher) pxelinuxDefault(name string, cfg []byte) (string, []string, error) {
	c, err := bootmenu.Parse(cfg)
	if err != nil {
		return "", nil, err
	}
	r, err := bootmenu.ResolveConfig(&remoteFS{f: f}, c, name, nil)
	if err != nil {
		return "", nil, err
	}
	e := r.Menu.Entry(firstWord(r.OnTimeout))
	if e == nil {
		e = r.Menu.Entry(firstWord(r.Default))
	}
	if e == nil && r.Default != "" && !strings.HasSuffix(firstWord(r.Default), ".c32") {
		ws := strings.Fields(r.Default)
		var initrds []string
		for _, w := range ws[1:] {
			if v, ok := strings.CutPrefix(w, "initrd="); ok {
				initrds = append(initrds, splitComma(v)...)
			}
		}
		return ws[0], initrds, nil
	}
	if e == nil {
		e = r.Menu.DefaultEntry()
	}
	return entryImages(e)
}

// grubDefault returns the kernel and initrds of GRUB's default entry.
func (f *fetcher) grubDefault(name string, cfg []byte) (string, []string, error) {
	fsName, ok := bootmenu.FSPath("", name)
	if !ok {
		return "", nil, fmt.Errorf("pxeclient: %s: not a file name GRUB reads", name)
	}
	r, err := bootmenu.ResolveGRUB(&remoteFS{f: f, seed: map[string][]byte{fsName: cfg}}, fsName, nil)
	if err != nil {
		return "", nil, err
	}
	return entryImages(r.Menu.DefaultEntry())
}

// entryImages follows submenus to the entry booted and returns its files.
func entryImages(e *bootmenu.Entry) (string, []string, error) {
	for depth := 0; e != nil && e.Action == bootmenu.ActionSubmenu && e.Submenu != nil && depth < 16; depth++ {
		e = e.Submenu.DefaultEntry()
	}
	if e == nil {
		return "", nil, fmt.Errorf("%w: no default entry", ErrNoKernel)
	}
	if !e.IsLinux() || e.Kernel == "" {
		return "", nil, fmt.Errorf("%w: default entry %q is %s %s", ErrNoKernel, e.Label, e.Type, e.Kernel)
	}
	return e.Kernel, e.Initrds(), nil
}

func firstWord(s string) string {
	if ws := strings.Fields(s); len(ws) > 0 {
		return ws[0]
	}
	return ""
}

func splitComma(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// remoteFS is the boot server as an fs.FS for the configuration reader:
// Open fetches the whole file (at most maxConfigSize bytes) with the
// fetcher, relative to its prefix or base URL, and records it as a
// KindConfig file. seed holds files already fetched.
type remoteFS struct {
	f    *fetcher
	seed map[string][]byte
}

func (r *remoteFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if b, ok := r.seed[name]; ok {
		return &memFile{name: name, Reader: bytes.NewReader(b)}, nil
	}
	var buf bytes.Buffer
	_, err := r.f.get(name, KindConfig, &buf, maxConfigSize)
	if errors.Is(err, ErrNotFound) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &memFile{name: name, Reader: bytes.NewReader(buf.Bytes())}, nil
}

// memFile is a fetched file held in memory.
type memFile struct {
	name string
	*bytes.Reader
}

func (m *memFile) Stat() (fs.FileInfo, error) { return memInfo{m}, nil }
func (m *memFile) Close() error               { return nil }

type memInfo struct{ m *memFile }

func (i memInfo) Name() string       { return path.Base(i.m.name) }
func (i memInfo) Size() int64        { return i.m.Size() }
func (i memInfo) Mode() fs.FileMode  { return 0o444 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }
