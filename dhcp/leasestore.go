package dhcp

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
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
// batch, not per lease. With SyncInterval set, a write that follows the
// previous one closely waits until that interval has passed since it
// began, so that a steady stream of REQUESTs that never overlap (one
// every 2 ms, each write taking 1 ms) still shares its syncs. When the journal has grown past the snapshot, and
// on every Load, the file is compacted atomically: the live leases are
// written to a temporary file in the same directory, synced, renamed over
// the old file, and the directory is synced. A crash therefore leaves
// either the old or the new snapshot plus whole journal lines that were
// synced, and at most one torn last line, whose change was never
// acknowledged.
//
// The format is one record per line: "ADDR MAC EXPIRY HOSTNAME [CLIENTID]"
// adds or replaces the lease for ADDR (EXPIRY in Unix seconds, HOSTNAME a
// Go-quoted string, CLIENTID the client's option 61 in hex, present only
// for a client that sent one, so files written before it load as they
// are); "ADDR conflict MAC DECLINED" records that the client MAC declined
// ADDR at DECLINED (Unix seconds), a known conflict ([Lease.Declined]);
// "ADDR -" deletes either; lines starting with '#' are comments; later
// lines win. ADDR is an IPv4 or an IPv6 address (package dhcp6 keeps its
// IA_NA leases in the same format, with the IAID and DUID as CLIENTID and
// an empty MAC when the client's is unknown). A FileStore is safe for concurrent use. Its zero value with
// Path set is ready; a missing or empty file is an empty store.
//
// # Damage
//
// A file damaged by something other than this store (a truncation inside a
// record, zeroed blocks after a crash of the file system, stray bytes) is
// read record by record: an unreadable line is skipped and reading goes on
// at the next line, and after the last NUL byte of a line that holds NULs,
// so the leases before and after the damage are kept. The last line is
// unreadable when it lacks its newline, however it looks. When Load skips
// anything it first copies the file, as it was, to
// FILE.damaged-YYYYMMDDTHHMMSS (UTC) beside it, then logs a warning on
// Logger and returns the leases it read together with a
// [*LeaseFileDamage] error that says what was lost and where the copy is;
// only then is the file compacted. If the copy cannot be written, Load
// fails and leaves the file alone.
//
// # Symbolic links
//
// When Path is a symbolic link, the file written is the link's final
// target: compaction writes its temporary file in the target's directory
// and renames it over the target, so the link stays a link. Load says so
// once on Logger, at info level.
type FileStore struct {
	// Path is the lease file.
	Path string

	// Logger receives a warning when Load finds damage in the file and an
	// info line when Path is a symbolic link; nil discards.
	Logger *slog.Logger

	// SyncInterval, when positive, is the least time from the start of
	// one write of the journal (a write and an fsync) to the start of
	// the next: a change that comes sooner waits, and every change that
	// arrives meanwhile is written by the same write. Each Save and
	// Delete still returns only once its change is synced, so a change
	// waits up to SyncInterval longer, and the syncs per second are at
	// most 1/SyncInterval, whatever the rate of changes. A change after a
	// quiet spell is written at once. A sync costs the CPU of the
	// kernel's write-out (hundreds of microseconds in a virtual machine),
	// so a server under a steady load of REQUESTs that do not overlap
	// spends most of its CPU on syncs without it. Zero or negative writes
	// each change as soon as the previous write is done (the changes that
	// arrived during that write share the next).
	SyncInterval time.Duration

	mu        sync.Mutex
	cond      sync.Cond
	loaded    bool
	leases    map[netip.Addr]Lease
	f         *os.File // open for appending after the first compaction
	journal   int      // journal lines in the file
	pending   []byte   // journal lines not yet written
	gen       uint64   // changes made
	flushed   uint64   // changes on disk
	flushing  bool
	broken    bool             // a write failed: the file state is unknown
	failed    uint64           // changes up to this one failed to reach the disk
	failErr   error            // why
	real      string           // Path with symbolic links resolved, when Path is a link
	linkNoted bool             // the link was logged
	damage    *LeaseFileDamage // what the last reading of the file skipped
	lastWrite time.Time        // when the last write of the file began
	writes    uint64           // writes of the file (journal or snapshot), for tests
}

// LeaseFileDamage describes what [FileStore.Load] skipped in a damaged
// lease file. Load returns it as its error together with the leases it
// could read; a [Pool] then serves with those leases. It wraps
// [ErrLeaseFile].
type LeaseFileDamage struct {
	Path           string // FileStore.Path
	Offset         int64  // first damaged byte
	Line           int    // line of that byte, from 1
	Records        int    // records read (additions and deletions)
	Leases         int    // leases loaded
	SkippedRecords int    // unreadable lines skipped
	SkippedBytes   int64  // bytes in them
	Copy           string // where the damaged file was kept
	Err            error  // why the first damaged line is unreadable
}

func (d *LeaseFileDamage) Error() string {
	return fmt.Sprintf("dhcp: lease file %s damaged at byte %d (line %d: %v): %d records read, %d unreadable lines (%d bytes) skipped; damaged file kept as %s",
		d.Path, d.Offset, d.Line, d.Err, d.Records, d.SkippedRecords, d.SkippedBytes, d.Copy)
}

func (d *LeaseFileDamage) Unwrap() error { return ErrLeaseFile }

func (s *FileStore) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Load reads the lease file and compacts it. When the file was damaged it
// returns the leases it could read and a [*LeaseFileDamage].
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
	if s.damage != nil {
		return out, s.damage
	}
	return out, nil
}

func (s *FileStore) loadLocked() error {
	s.cond.L = &s.mu
	if s.loaded {
		return nil
	}
	real, err := resolveLink(s.Path)
	if err != nil {
		return fmt.Errorf("dhcp: lease file %s: %w", s.Path, err)
	}
	s.real = ""
	if real != s.Path {
		s.real = real
		if !s.linkNoted {
			s.linkNoted = true
			s.logger().Info("dhcp: lease file is a symbolic link; writing to its target", "file", s.Path, "target", real)
		}
	}
	b, err := os.ReadFile(s.path())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	sc := scanLeaseFile(b, true)
	s.damage = nil
	if sc.bad > 0 {
		cp, err := keepDamaged(s.path(), b)
		if err != nil {
			return fmt.Errorf("dhcp: lease file %s is damaged at byte %d and cannot be kept aside, so it is left alone: %w", s.Path, sc.offset, err)
		}
		s.damage = &LeaseFileDamage{
			Path: s.Path, Offset: sc.offset, Line: sc.line, Records: sc.records, Leases: len(sc.leases),
			SkippedRecords: sc.bad, SkippedBytes: sc.badBytes, Copy: cp, Err: sc.err,
		}
		s.logger().Warn("dhcp: lease file damaged; unreadable records skipped, their leases are lost",
			"file", s.Path, "offset", sc.offset, "line", sc.line, "records", sc.records, "leases", len(sc.leases),
			"skipped_records", sc.bad, "skipped_bytes", sc.badBytes, "copy", cp, "err", sc.err)
	}
	s.leases = make(map[netip.Addr]Lease, len(sc.leases))
	for _, l := range sc.leases {
		s.leases[l.Addr] = l
	}
	if err := s.compactLocked(); err != nil {
		return err
	}
	s.loaded = true
	return nil
}

// maxLinks bounds the symbolic links followed from a lease file's path.
const maxLinks = 40

// resolveLink follows path while it is a symbolic link and returns the
// final target, which need not exist; path itself when it is no link.
func resolveLink(path string) (string, error) {
	p := path
	for range maxLinks {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return p, nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return p, nil
		}
		t, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(t) {
			t = filepath.Join(filepath.Dir(p), t)
		}
		p = t
	}
	return "", fmt.Errorf("more than %d symbolic links", maxLinks)
}

// keepDamaged writes data, the contents of the damaged file path, to a new
// file path.damaged-YYYYMMDDTHHMMSS (with a -N suffix when that exists),
// synced, and returns its name.
func keepDamaged(path string, data []byte) (string, error) {
	base := path + ".damaged-" + time.Now().UTC().Format("20060102T150405")
	for i := 1; i <= 100; i++ {
		name := base
		if i > 1 {
			name += "-" + strconv.Itoa(i)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		_, err = f.Write(data)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(name)
			return "", err
		}
		if d, err := os.Open(filepath.Dir(name)); err == nil {
			err = d.Sync()
			d.Close()
			if err != nil {
				return "", err
			}
		}
		return name, nil
	}
	return "", fmt.Errorf("%s: too many copies", base)
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
	l.ClientID = slices.Clone(l.ClientID)
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
		if wait := s.SyncInterval - time.Since(s.lastWrite); s.SyncInterval > 0 && wait > 0 {
			// Let the changes of the next moments join this write.
			s.mu.Unlock()
			time.Sleep(wait)
			s.mu.Lock()
		}
		s.lastWrite = time.Now()
		s.writes++
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
	b = append(b, "# pxekit dhcp leases: ADDR MAC EXPIRY(unix) HOSTNAME [CLIENTID(hex)], or ADDR - (deleted)\n"...)
	for _, a := range addrs {
		b = appendLeaseLine(b, s.leases[a])
	}
	return b
}

func appendLeaseLine(b []byte, l Lease) []byte {
	if !l.Declined.IsZero() {
		b = l.Addr.AppendTo(b)
		b = append(b, " conflict "...)
		b = append(b, l.MAC.String()...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, l.Declined.Unix(), 10)
		return append(b, '\n')
	}
	b = l.Addr.AppendTo(b)
	b = append(b, ' ')
	b = append(b, l.MAC.String()...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, l.Expiry.Unix(), 10)
	b = append(b, ' ')
	b = strconv.AppendQuote(b, l.Hostname)
	if len(l.ClientID) > 0 {
		b = append(b, ' ')
		b = hex.AppendEncode(b, l.ClientID)
	}
	return append(b, '\n')
}

// ParseLeaseFile decodes the contents of a [FileStore] file, snapshot and
// journal, into the live leases in the order of their first appearance.
// Errors wrap [ErrLeaseFile] and name the line. Unlike [FileStore.Load],
// which skips damaged lines, it accepts no damage, and it reads a last
// line that lacks its newline like any other.
func ParseLeaseFile(b []byte) ([]Lease, error) {
	sc := scanLeaseFile(b, false)
	if sc.bad > 0 {
		return nil, fmt.Errorf("%w: line %d: %v", ErrLeaseFile, sc.line, sc.err)
	}
	return sc.leases, nil
}

// maxLeaseLine bounds a lease file line; longer lines are unreadable.
const maxLeaseLine = 64 << 10

// leaseScan is what scanLeaseFile found.
type leaseScan struct {
	leases   []Lease
	records  int   // lines applied: additions and deletions
	bad      int   // unreadable lines skipped
	badBytes int64 // bytes skipped
	offset   int64 // first byte skipped, when bad > 0
	line     int   // its line, from 1
	err      error // why that line is unreadable
}

// scanLeaseFile decodes a lease file line by line and skips the lines it
// cannot read. In a line that holds NUL bytes (zeroed blocks), what
// follows the last NUL is read as a line of its own. With torn, a last
// line without its newline is unreadable.
func scanLeaseFile(b []byte, torn bool) leaseScan {
	var sc leaseScan
	live := map[netip.Addr]int{} // address → index in sc.leases
	skip := func(off int64, n int, line int, err error) {
		if sc.bad == 0 {
			sc.offset, sc.line, sc.err = off, line, err
		}
		sc.bad++
		sc.badBytes += int64(n)
	}
	off := 0
	for n := 1; off < len(b); n++ {
		raw := b[off:]
		end := bytes.IndexByte(raw, '\n')
		if end < 0 {
			end = len(raw)
			if torn {
				skip(int64(off), end, n, errors.New("last line without newline: a write cut short"))
				break
			}
		}
		raw = raw[:end]
		start := off
		off += end + 1
		if len(raw) > maxLeaseLine {
			skip(int64(start), end+1, n, errors.New("line too long"))
			continue
		}
		if i := bytes.LastIndexByte(raw, 0); i >= 0 {
			// Zeroed blocks: resynchronise after the last NUL.
			skip(int64(start), i+1, n, errors.New("NUL bytes"))
			if err := sc.apply(live, string(raw[i+1:])); err != nil {
				sc.badBytes += int64(len(raw) - i - 1)
			}
			continue
		}
		if err := sc.apply(live, string(raw)); err != nil {
			skip(int64(start), len(raw), n, err)
		}
	}
	sc.leases = slices.DeleteFunc(sc.leases, func(l Lease) bool { return !l.Addr.IsValid() })
	return sc
}

// apply reads one line into sc.
func (sc *leaseScan) apply(live map[netip.Addr]int, line string) error {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return nil
	}
	if a, ok := strings.CutSuffix(line, " -"); ok {
		addr, err := netip.ParseAddr(a)
		if err != nil || addr.Zone() != "" || addr.Is4In6() {
			return fmt.Errorf("bad address %q", a)
		}
		if i, ok := live[addr]; ok {
			sc.leases[i] = Lease{}
			delete(live, addr)
		}
		sc.records++
		return nil
	}
	l, err := parseLeaseLine(line)
	if err != nil {
		return err
	}
	sc.records++
	if i, ok := live[l.Addr]; ok {
		sc.leases[i] = l
		return nil
	}
	live[l.Addr] = len(sc.leases)
	sc.leases = append(sc.leases, l)
	return nil
}

func parseLeaseLine(line string) (Lease, error) {
	f := strings.SplitN(line, " ", 4)
	if len(f) != 4 {
		return Lease{}, errors.New("want 4 fields")
	}
	a, err := netip.ParseAddr(f[0])
	if err != nil || a.Zone() != "" || a.Is4In6() {
		return Lease{}, fmt.Errorf("bad address %q", f[0])
	}
	if f[1] == "conflict" {
		return parseConflict(a, f[2], f[3])
	}
	var mac net.HardwareAddr
	if f[1] != "" {
		// Empty for a DHCPv6 client whose MAC is unknown.
		if mac, err = net.ParseMAC(f[1]); err != nil {
			return Lease{}, err
		}
	}
	exp, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || exp < 0 || exp > 1<<40 {
		return Lease{}, fmt.Errorf("bad expiry %q", f[2])
	}
	q, err := strconv.QuotedPrefix(f[3])
	if err != nil {
		return Lease{}, fmt.Errorf("bad hostname %s", f[3])
	}
	host, _ := strconv.Unquote(q)
	var cid []byte
	if rest := f[3][len(q):]; rest != "" {
		// Since option 61 identifies clients: the client identifier in hex.
		h, ok := strings.CutPrefix(rest, " ")
		if cid, err = hex.DecodeString(h); !ok || err != nil || len(cid) == 0 || len(cid) > 255 {
			return Lease{}, fmt.Errorf("bad client identifier %q", rest)
		}
	}
	return Lease{Addr: a, MAC: mac, ClientID: cid, Expiry: time.Unix(exp, 0), Hostname: host}, nil
}

// parseConflict reads the fields after "ADDR conflict": "MAC DECLINED".
// MAC may be empty ("" when the decline came without a chaddr).
func parseConflict(a netip.Addr, macField, rest string) (Lease, error) {
	var mac net.HardwareAddr
	if macField != "" {
		var err error
		if mac, err = net.ParseMAC(macField); err != nil {
			return Lease{}, err
		}
	}
	at, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || at <= 0 || at > 1<<40 {
		return Lease{}, fmt.Errorf("bad decline time %q", rest)
	}
	return Lease{Addr: a, MAC: mac, Declined: time.Unix(at, 0)}, nil
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
