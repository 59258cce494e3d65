package dhcp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrLeaseFile is wrapped by the errors of a lease file that cannot be
// decoded.
var ErrLeaseFile = errors.New("dhcp: malformed lease file")

// FileStore is a [LeaseStore] that keeps the leases in one text file.
//
// The file is a snapshot followed by a journal. Each change is appended as
// one line and the file is synced before Save or Delete returns; changes
// that arrive while a write is in progress are appended together by the
// next write (group commit), so a burst of REQUESTs costs one fsync per
// batch, not per lease. When the journal has grown past the snapshot, and
// on every Load, the file is compacted atomically: the live leases are
// written to a temporary file in the same directory, synced, renamed over
// the old file, and the directory is synced. A crash therefore leaves
// either the old or the new snapshot plus whole journal lines that were
// synced, and at most one torn last line, whose change was never
// acknowledged and which Load ignores.
//
// The format is one record per line: "ADDR MAC EXPIRY HOSTNAME" adds or
// replaces the lease for ADDR (EXPIRY in Unix seconds, HOSTNAME a Go-quoted
// string); "ADDR -" deletes it; lines starting with '#' are comments; later
// lines win. A FileStore is safe for concurrent use. Its zero value with
// Path set is ready; a missing file is an empty store.
type FileStore struct {
	// Path is the lease file.
	Path string

	mu       sync.Mutex
	cond     sync.Cond
	loaded   bool
	leases   map[netip.Addr]Lease
	f        *os.File // open for appending after the first compaction
	journal  int      // journal lines in the file
	pending  []byte   // journal lines not yet written
	gen      uint64   // changes made
	flushed  uint64   // changes on disk
	flushing bool
	broken   bool   // a write failed: the file state is unknown
	failed   uint64 // changes up to this one failed to reach the disk
	failErr  error  // why
	real     string // Path with symbolic links resolved
}

// Load reads the lease file and compacts it.
func (s *FileStore) Load(ctx context.Context) ([]Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadLocked(); err != nil {
		return nil, err
	}
	out := make([]Lease, 0, len(s.leases))
	for _, l := range s.leases {
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b Lease) int { return a.Addr.Compare(b.Addr) })
	return out, nil
}

func (s *FileStore) loadLocked() error {
	s.cond.L = &s.mu
	if s.loaded {
		return nil
	}
	b, err := os.ReadFile(s.Path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if i := bytes.LastIndexByte(b, '\n'); i+1 < len(b) {
		b = b[:i+1] // a torn last line: never acknowledged
	}
	leases, err := ParseLeaseFile(b)
	if err != nil {
		return fmt.Errorf("%s: %w", s.Path, err)
	}
	s.leases = make(map[netip.Addr]Lease, len(leases))
	for _, l := range leases {
		s.leases[l.Addr] = l
	}
	if err := s.compactLocked(); err != nil {
		return err
	}
	s.loaded = true
	return nil
}

// compactLocked replaces the file with a snapshot of the live leases and
// reopens it for appending.
func (s *FileStore) compactLocked() error {
	if err := writeFileAtomic(s.path(), s.encodeLocked()); err != nil {
		return err
	}
	if s.f != nil {
		s.f.Close()
	}
	f, err := os.OpenFile(s.path(), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		s.f = nil
		return err
	}
	s.f, s.journal = f, 0
	return nil
}

// Save adds or replaces the lease for l.Addr and returns once it is on disk.
func (s *FileStore) Save(ctx context.Context, l Lease) error {
	l.MAC = slices.Clone(l.MAC)
	return s.change(func() {
		s.leases[l.Addr] = l
		s.pending = appendLeaseLine(s.pending, l)
	})
}

// Delete removes the lease for addr and returns once that is on disk.
func (s *FileStore) Delete(ctx context.Context, addr netip.Addr) error {
	return s.change(func() {
		delete(s.leases, addr)
		s.pending = addr.AppendTo(s.pending)
		s.pending = append(s.pending, " -\n"...)
	})
}

// Close closes the file. A later Load reads it again.
func (s *FileStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.flushing {
		s.cond.Wait()
	}
	var err error
	if s.f != nil {
		err = s.f.Close()
	}
	s.f, s.loaded, s.broken = nil, false, false
	return err
}

// change applies fn and waits until a write that includes it completes.
// The first waiter writes for everyone queued behind it. A failed write
// fails the changes it carried and leaves the file in an unknown state
// (a partial journal line, a full disk); the next change then rewrites the
// whole snapshot instead of appending, so the store recovers as soon as
// writing works again.
func (s *FileStore) change(fn func()) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadLocked(); err != nil {
		return err
	}
	fn()
	s.gen++
	mine := s.gen
	for s.flushed < mine {
		if s.failed >= mine {
			return s.failErr
		}
		if s.flushing {
			s.cond.Wait()
			continue
		}
		s.flushing = true
		target := s.gen
		var err error
		if s.broken || s.f == nil || s.journal+bytes.Count(s.pending, []byte{'\n'}) > 2*len(s.leases)+1024 {
			// Compact: the snapshot holds every change so far.
			data := s.encodeLocked()
			pending := s.pending
			s.pending = s.pending[:0]
			s.mu.Unlock()
			err = writeFileAtomic(s.path(), data)
			s.mu.Lock()
			if err == nil {
				s.journal, s.broken = 0, false
				if s.f != nil {
					s.f.Close()
				}
				s.f, err = os.OpenFile(s.path(), os.O_WRONLY|os.O_APPEND, 0)
				if err != nil {
					s.f = nil
				}
			} else if len(s.pending) == 0 {
				s.pending = pending // keep the journal lines: appending them may work again
			}
		} else {
			data := s.pending
			s.pending = nil
			s.journal += bytes.Count(data, []byte{'\n'})
			f := s.f
			s.mu.Unlock()
			_, err = f.Write(data)
			if err == nil {
				err = f.Sync()
			}
			s.mu.Lock()
			if s.pending == nil {
				s.pending = data[:0]
			}
		}
		s.flushing = false
		if err != nil {
			// The file may hold part of this batch: rewrite it next time.
			s.broken = true
			s.failed, s.failErr = target, fmt.Errorf("dhcp: lease file %s: %w", s.Path, err)
		} else if target > s.flushed {
			s.flushed = target
		}
		s.cond.Broadcast()
	}
	return nil
}

// path is the file that is written: Path, or the target of the symbolic
// link at Path.
func (s *FileStore) path() string {
	if s.real != "" {
		return s.real
	}
	return s.Path
}

func (s *FileStore) encodeLocked() []byte {
	addrs := make([]netip.Addr, 0, len(s.leases))
	for a := range s.leases {
		addrs = append(addrs, a)
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	b := make([]byte, 0, 64+64*len(addrs))
	b = append(b, "# pxekit dhcp leases: ADDR MAC EXPIRY(unix) HOSTNAME, or ADDR - (deleted)\n"...)
	for _, a := range addrs {
		b = appendLeaseLine(b, s.leases[a])
	}
	return b
}

func appendLeaseLine(b []byte, l Lease) []byte {
	b = l.Addr.AppendTo(b)
	b = append(b, ' ')
	b = append(b, l.MAC.String()...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, l.Expiry.Unix(), 10)
	b = append(b, ' ')
	b = strconv.AppendQuote(b, l.Hostname)
	return append(b, '\n')
}

// ParseLeaseFile decodes the contents of a [FileStore] file, snapshot and
// journal, into the live leases in the order of their first appearance.
// Errors wrap [ErrLeaseFile] and name the line.
func ParseLeaseFile(b []byte) ([]Lease, error) {
	live := map[netip.Addr]int{} // address → index in out
	var out []Lease
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 64<<10)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if a, ok := strings.CutSuffix(line, " -"); ok {
			addr, err := netip.ParseAddr(a)
			if err != nil || !addr.Is4() {
				return nil, fmt.Errorf("%w: line %d: bad address %q", ErrLeaseFile, n, a)
			}
			if i, ok := live[addr]; ok {
				out[i] = Lease{}
				delete(live, addr)
			}
			continue
		}
		l, err := parseLeaseLine(line)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrLeaseFile, n, err)
		}
		if i, ok := live[l.Addr]; ok {
			out[i] = l
			continue
		}
		live[l.Addr] = len(out)
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLeaseFile, err)
	}
	return slices.DeleteFunc(out, func(l Lease) bool { return !l.Addr.IsValid() }), nil
}

func parseLeaseLine(line string) (Lease, error) {
	f := strings.SplitN(line, " ", 4)
	if len(f) != 4 {
		return Lease{}, errors.New("want 4 fields")
	}
	a, err := netip.ParseAddr(f[0])
	if err != nil || !a.Is4() {
		return Lease{}, fmt.Errorf("bad address %q", f[0])
	}
	mac, err := net.ParseMAC(f[1])
	if err != nil {
		return Lease{}, err
	}
	exp, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || exp < 0 || exp > 1<<40 {
		return Lease{}, fmt.Errorf("bad expiry %q", f[2])
	}
	host, err := strconv.Unquote(f[3])
	if err != nil {
		return Lease{}, fmt.Errorf("bad hostname %s", f[3])
	}
	return Lease{Addr: a, MAC: mac, Expiry: time.Unix(exp, 0), Hostname: host}, nil
}

// writeFileAtomic replaces path with data: temporary file, fsync, rename,
// fsync of the directory.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(dir); err == nil {
		err = d.Sync()
		d.Close()
		return err
	}
	return nil
}
