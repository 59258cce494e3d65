package isofs

import (
	"errors"
	"fmt"
)

// Errors returned by [Open], [OpenWith] and the methods of [FS]. Test for
// them with [errors.Is]; the errors returned carry detail in a
// [*FormatError] or an [*fs.PathError] wrapping these sentinels.
var (
	// ErrNotISO means the image has no ISO 9660 primary volume descriptor
	// at sector 16.
	ErrNotISO = errors.New("isofs: not an ISO 9660 image")
	// ErrCorrupt means a structure of the image is inconsistent: a length,
	// offset or count that cannot be right, a record that points past the
	// end of the image, a directory that loops back or is shared.
	ErrCorrupt = errors.New("isofs: corrupt image")
	// ErrTruncated means the image is shorter than its volume descriptor
	// says, or than a structure that it references.
	ErrTruncated = errors.New("isofs: truncated image")
	// ErrNoTree means [Options.Names] asked for a directory tree (Rock
	// Ridge or Joliet) that the image does not have.
	ErrNoTree = errors.New("isofs: requested name tree not in image")
	// ErrLinkLoop means path resolution followed too many symbolic links.
	ErrLinkLoop = errors.New("isofs: too many levels of symbolic links")
	// ErrUnsupported means the image uses a feature isofs does not read:
	// interleaved files (ECMA-119 §9.1.7, file unit size not zero).
	ErrUnsupported = errors.New("isofs: unsupported feature")
	// ErrNoBootImage means the image has no El Torito boot catalog entry
	// with the requested index.
	ErrNoBootImage = errors.New("isofs: no such El Torito boot image")
)

// FormatError describes where in the image a structure failed to decode.
// Its Err is one of the package's sentinels ([ErrCorrupt], [ErrTruncated],
// ...), so errors.Is(err, ErrCorrupt) works on it.
type FormatError struct {
	Offset int64  // byte offset in the image of the offending structure
	What   string // which structure, e.g. "directory record"
	Err    error  // sentinel
}

// Error describes the error and where it is.
func (e *FormatError) Error() string {
	return fmt.Sprintf("%v: %s at byte %d", e.Err, e.What, e.Offset)
}

// Unwrap returns the sentinel, for [errors.Is].
func (e *FormatError) Unwrap() error { return e.Err }

func corrupt(off int64, what string) error {
	return &FormatError{Offset: off, What: what, Err: ErrCorrupt}
}

func truncated(off int64, what string) error {
	return &FormatError{Offset: off, What: what, Err: ErrTruncated}
}
