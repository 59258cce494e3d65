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

// FileStore is a [LeaseStore] that keeps every lease in one text file,
// rewritten whole on each change: written to a temporary file in the same
// directory, synced, renamed over the old one and the directory synced, so
// that the file always holds either the old or the new set of leases and
// a crash loses nothing that was acknowledged. Saves and Deletes that
// arrive while a write is in progress are batched into the next write
// (group commit), which keeps the number of fsyncs per second bounded.
//
// The file format is one lease per line, "ADDR MAC EXPIRY HOSTNAME", with
// EXPIRY in Unix seconds and HOSTNAME a Go-quoted string; lines starting
// with '#' are comments. A FileStore is safe for concurrent use. Its zero
// value with Path set is ready; a missing file is an empty store.
type FileStore struct {
	// Path is the lease file.
	Path string

	mu       sync.Mutex
	cond     sync.Cond
	loaded   bool
	leases   map[netip.Addr]Lease
	gen      uint64 // changes made
	flushed  uint64 // changes on disk
	flushing bool
}

// Load reads the lease file.
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
	leases, err := ParseLeaseFile(b)
	if err != nil {
		return fmt.Errorf("%s: %w", s.Path, err)
	}
	s.leases = make(map[netip.Addr]Lease, len(leases))
	for _, l := range leases {
		s.leases[l.Addr] = l
	}
	s.loaded = true
	return nil
}

// Save adds or replaces the lease for l.Addr and returns once it is on disk.
func (s *FileStore) Save(ctx context.Context, l Lease) error {
	l.MAC = slices.Clone(l.MAC)
	return s.change(func() { s.leases[l.Addr] = l })
}

// Delete removes the lease for addr and returns once that is on disk.
func (s *FileStore) Delete(ctx context.Context, addr netip.Addr) error {
	return s.change(func() { delete(s.leases, addr) })
}

// change applies fn and waits until a write that includes it completes.
// The first waiter writes for everyone queued behind it.
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
		if s.flushing {
			s.cond.Wait()
			continue
		}
		s.flushing = true
		target := s.gen
		data := s.encodeLocked()
		s.mu.Unlock()
		err := writeFileAtomic(s.Path, data)
		s.mu.Lock()
		s.flushing = false
		if err == nil && target > s.flushed {
			s.flushed = target
		}
		s.cond.Broadcast()
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *FileStore) encodeLocked() []byte {
	addrs := make([]netip.Addr, 0, len(s.leases))
	for a := range s.leases {
		addrs = append(addrs, a)
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	b := make([]byte, 0, 32+64*len(addrs))
	b = append(b, "# pxekit dhcp leases: address mac expiry(unix) hostname\n"...)
	for _, a := range addrs {
		l := s.leases[a]
		b = l.Addr.AppendTo(b)
		b = append(b, ' ')
		b = append(b, l.MAC.String()...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, l.Expiry.Unix(), 10)
		b = append(b, ' ')
		b = strconv.AppendQuote(b, l.Hostname)
		b = append(b, '\n')
	}
	return b
}

// ParseLeaseFile decodes the contents of a [FileStore] file. Errors wrap
// [ErrLeaseFile] and name the line.
func ParseLeaseFile(b []byte) ([]Lease, error) {
	var out []Lease
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 64<<10)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		l, err := parseLeaseLine(line)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrLeaseFile, n, err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLeaseFile, err)
	}
	return out, nil
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
