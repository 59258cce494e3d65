package dhcp

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// recordAttrs returns the attributes of r by key.
func recordAttrs(r slog.Record) map[string]slog.Value {
	m := map[string]slog.Value{}
	r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value; return true })
	return m
}

// records returns the records logged at level l.
func (h *logRecorder) records(l slog.Level) []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []slog.Record
	for _, r := range h.rec {
		if r.Level == l {
			out = append(out, r)
		}
	}
	return out
}

// goodLeaseFile writes three leases through a FileStore and returns the
// file's bytes and the byte offset of each record line.
func goodLeaseFile(t *testing.T) (b []byte, recs []int, leases []Lease) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "leases")
	s := &FileStore{Path: path}
	if _, err := s.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		l := Lease{Addr: netip.AddrFrom4([4]byte{10, 0, 0, byte(10 + i)}), MAC: net.HardwareAddr{2, 0, 0, 0, 0, byte(i)}, Expiry: time.Unix(1_800_000_000+int64(i), 0), Hostname: "pc"}
		leases = append(leases, l)
		if err := s.Save(t.Context(), l); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = &FileStore{Path: path}
	if _, err := s.Load(t.Context()); err != nil { // compact: header and three records
		t.Fatal(err)
	}
	s.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(b); {
		if b[off] != '#' {
			recs = append(recs, off)
		}
		off += bytes.IndexByte(b[off:], '\n') + 1
	}
	if len(recs) != 3 {
		t.Fatalf("file %q: %d records, want 3", b, len(recs))
	}
	return b, recs, leases
}

// TestFileStoreDamage loads damaged lease files and checks that the
// readable leases are kept, that a warning names the file and the offset
// of the damage, that Load returns a *LeaseFileDamage, and that the
// damaged file is kept aside before the store rewrites it.
func TestFileStoreDamage(t *testing.T) {
	good, recs, all := goodLeaseFile(t)
	zeroMiddle := bytes.Clone(good)
	for i := recs[1] + 3; i < recs[2]+5; i++ { // record 2, its newline and the start of record 3
		zeroMiddle[i] = 0
	}
	tests := []struct {
		name   string
		data   []byte
		offset int64
		keep   []Lease
	}{
		{"truncated in header", good[:10], 0, nil},
		{"truncated in first record", good[:recs[0]+12], int64(recs[0]), nil},
		{"zeroed", make([]byte, len(good)), 0, nil},
		{"garbage in the middle", append(append(bytes.Clone(good[:recs[1]]), "10.0.0.99 zz:zz \x01garbage\n"...), good[recs[1]:]...), int64(recs[1]), all},
		{"garbage line in place of a record", append(append(bytes.Clone(good[:recs[1]]), "\xff\xfe not a lease\n"...), good[recs[2]:]...), int64(recs[1]), []Lease{all[0], all[2]}},
		{"zeroed blocks in the middle", zeroMiddle, int64(recs[1]), []Lease{all[0]}},
		{"torn last line", append(bytes.Clone(good), "10.0.0.50 02:00:00"...), int64(len(good)), all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "leases")
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			logs := &logRecorder{min: slog.LevelWarn}
			s := &FileStore{Path: path, Logger: slog.New(logs)}
			got, err := s.Load(t.Context())
			d, ok := errors.AsType[*LeaseFileDamage](err)
			if !ok {
				t.Fatalf("Load: err %v, want a *LeaseFileDamage", err)
			}
			if !errors.Is(err, ErrLeaseFile) {
				t.Errorf("Load error does not wrap ErrLeaseFile")
			}
			if d.Offset != tt.offset || d.Path != path {
				t.Errorf("damage at %s byte %d, want %s byte %d", d.Path, d.Offset, path, tt.offset)
			}
			if d.SkippedRecords == 0 || d.SkippedBytes == 0 || d.Leases != len(tt.keep) {
				t.Errorf("damage %+v: want skipped records and bytes, %d leases", d, len(tt.keep))
			}
			if !sameLeases(got, tt.keep) {
				t.Errorf("Load = %v, want %v", got, tt.keep)
			}

			w := logs.records(slog.LevelWarn)
			if len(w) != 1 {
				t.Fatalf("%d warnings, want 1", len(w))
			}
			a := recordAttrs(w[0])
			if a["file"].String() != path || a["offset"].Int64() != tt.offset || a["copy"].String() != d.Copy {
				t.Errorf("warning %q %v: want file %s, offset %d, copy %s", w[0].Message, a, path, tt.offset, d.Copy)
			}
			if !strings.HasPrefix(filepath.Base(d.Copy), "leases.damaged-") || filepath.Dir(d.Copy) != dir {
				t.Errorf("damaged copy %q, want %s/leases.damaged-…", d.Copy, dir)
			}
			if kept, err := os.ReadFile(d.Copy); err != nil || !bytes.Equal(kept, tt.data) {
				t.Errorf("damaged copy %s: %q, %v; want the damaged file", d.Copy, kept, err)
			}

			// The store rewrote the file with what it kept: it loads clean.
			s.Close()
			s2 := &FileStore{Path: path, Logger: slog.New(logs)}
			got2, err := s2.Load(t.Context())
			if err != nil || !sameLeases(got2, tt.keep) {
				t.Errorf("Load after repair = %v, %v; want %v, nil", got2, err, tt.keep)
			}
			s2.Close()
			if n := len(logs.records(slog.LevelWarn)); n != 1 {
				t.Errorf("repaired file warned again")
			}
		})
	}
}

func sameLeases(got, want []Lease) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].Addr != want[i].Addr || got[i].MAC.String() != want[i].MAC.String() || !got[i].Expiry.Equal(want[i].Expiry) || got[i].Hostname != want[i].Hostname {
			return false
		}
	}
	return true
}

// TestFileStoreIntactNoWarning checks that an intact file, an empty one and
// a missing one load without a warning or a damaged copy.
func TestFileStoreIntactNoWarning(t *testing.T) {
	good, _, all := goodLeaseFile(t)
	for name, data := range map[string][]byte{"intact": good, "empty": {}, "missing": nil} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "leases")
			if data != nil {
				if err := os.WriteFile(path, data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			logs := &logRecorder{min: slog.LevelWarn}
			s := &FileStore{Path: path, Logger: slog.New(logs)}
			got, err := s.Load(t.Context())
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			defer s.Close()
			if want := map[bool][]Lease{true: all}[name == "intact"]; !sameLeases(got, want) {
				t.Errorf("Load = %v, want %v", got, want)
			}
			if n := len(logs.rec); n != 0 {
				t.Errorf("%d log lines, want none", n)
			}
			if m, _ := filepath.Glob(filepath.Join(dir, "*damaged*")); len(m) != 0 {
				t.Errorf("damaged copies %v of a sound file", m)
			}
		})
	}
}

// TestPoolServesDamagedStore checks that a pool whose FileStore was damaged
// starts with the leases that could be read.
func TestPoolServesDamagedStore(t *testing.T) {
	good, recs, all := goodLeaseFile(t)
	path := filepath.Join(t.TempDir(), "leases")
	bad := append(append(bytes.Clone(good[:recs[1]]), "\x00\x00\x00\n"...), good[recs[1]:]...)
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	p := &Pool{First: netip.MustParseAddr("10.0.0.10"), Last: netip.MustParseAddr("10.0.0.20"), Store: &FileStore{Path: path}}
	p.now = func() time.Time { return time.Unix(1_700_000_000, 0) }
	if err := p.init(context.Background()); err != nil {
		t.Fatalf("init with a damaged store: %v", err)
	}
	if got := p.Leases(); len(got) != len(all) {
		t.Errorf("%d leases, want %d", len(got), len(all))
	}
}

// TestFileStoreSymlink checks that a lease file that is a symbolic link
// stays one: writes go to the link's target, in the target's directory,
// and the link is noted once at info level.
func TestFileStoreSymlink(t *testing.T) {
	for _, dangling := range []bool{false, true} {
		t.Run(map[bool]string{false: "target exists", true: "target missing"}[dangling], func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "data"), 0o700); err != nil {
				t.Fatal(err)
			}
			target := filepath.Join(dir, "data", "leases.real")
			if !dangling {
				if err := os.WriteFile(target, []byte("10.0.0.5 02:00:00:00:00:05 1800000000 \"old\"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			link := filepath.Join(dir, "leases")
			if err := os.Symlink("data/leases.real", link); err != nil {
				t.Fatal(err)
			}
			logs := &logRecorder{min: slog.LevelInfo}
			s := &FileStore{Path: link, Logger: slog.New(logs)}
			for round := range 2 {
				if _, err := s.Load(t.Context()); err != nil {
					t.Fatal(err)
				}
				l := Lease{Addr: netip.AddrFrom4([4]byte{10, 0, 0, byte(20 + round)}), MAC: net.HardwareAddr{2, 0, 0, 0, 1, byte(round)}, Expiry: time.Unix(1_800_000_000, 0)}
				if err := s.Save(t.Context(), l); err != nil {
					t.Fatal(err)
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
			fi, err := os.Lstat(link)
			if err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Fatalf("%s after writes: %v, %v; want a symbolic link", link, fi.Mode(), err)
			}
			b, err := os.ReadFile(target)
			if err != nil {
				t.Fatal(err)
			}
			ls, err := ParseLeaseFile(b)
			if err != nil {
				t.Fatal(err)
			}
			want := 2
			if !dangling {
				want = 3
			}
			if len(ls) != want {
				t.Errorf("target holds %d leases, want %d:\n%s", len(ls), want, b)
			}
			if m, _ := filepath.Glob(filepath.Join(dir, ".leases*")); len(m) != 0 {
				t.Errorf("temporary files beside the link: %v", m)
			}
			infos := logs.records(slog.LevelInfo)
			if len(infos) != 1 || recordAttrs(infos[0])["target"].String() != target {
				t.Errorf("info lines %v, want one naming target %s", infos, target)
			}
		})
	}
}
