package netboot

import (
	"bytes"
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
