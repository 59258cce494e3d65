package netboot

import (
	"bytes"
	"io"
	"io/fs"
	"path"
	"time"
)

// memFile is a generated file: an [fs.File] that is also an io.ReaderAt
// and io.Seeker, so that TFTP reads blocks and HTTP serves ranges of it.
type memFile struct {
	*bytes.Reader
	name string
	size int64
}

func newMemFile(name string, data []byte) *memFile {
	return &memFile{Reader: bytes.NewReader(data), name: name, size: int64(len(data))}
}

func (f *memFile) Stat() (fs.FileInfo, error) {
	return memInfo{name: path.Base(f.name), size: f.size}, nil
}
func (f *memFile) Close() error { return nil }

type memInfo struct {
	name string
	size int64
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return 0o444 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }

// aliasFile serves f under name: its Stat says name, and it keeps the
// io.ReaderAt and io.Seeker of f, which the TFTP and HTTP servers use.
func aliasFile(f fs.File, name string) fs.File {
	a := aliased{File: f, name: name}
	if _, ok := f.(interface {
		io.ReaderAt
		io.Seeker
	}); ok {
		return aliasedAt{a}
	}
	return a
}

type aliased struct {
	fs.File
	name string
}

func (a aliased) Stat() (fs.FileInfo, error) {
	st, err := a.File.Stat()
	if err != nil {
		return nil, err
	}
	return renamed{st, a.name}, nil
}

type aliasedAt struct{ aliased }

func (a aliasedAt) ReadAt(p []byte, off int64) (int, error) {
	return a.File.(io.ReaderAt).ReadAt(p, off)
}
func (a aliasedAt) Seek(off int64, whence int) (int64, error) {
	return a.File.(io.Seeker).Seek(off, whence)
}

// Section passes on the section of f, so that [FileServer] sends an
// alias of a file of an image by sendfile(2) too.
func (a aliasedAt) Section() (*io.SectionReader, bool) {
	if s, ok := a.File.(sectioner); ok {
		return s.Section()
	}
	return nil, false
}
