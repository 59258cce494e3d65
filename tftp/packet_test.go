package tftp

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		wantErr bool
		want    request
	}{
		{"plain", rrq("pxelinux.0", "octet"), false,
			request{op: opRRQ, name: "pxelinux.0", mode: "octet", blksize: -1, timeout: -1, window: -1, rollover: -1}},
		{"mode case", rrq("a", "NetASCII"), false,
			request{op: opRRQ, name: "a", mode: "netascii", blksize: -1, timeout: -1, window: -1, rollover: -1}},
		{"ovmf options", rrq("a", "octet", "tsize", "0", "blksize", "1468", "windowsize", "4"), false,
			request{op: opRRQ, name: "a", mode: "octet", blksize: 1468, tsize: true, timeout: -1, window: 4, rollover: -1, order: []string{"tsize", "blksize", "windowsize"}}},
		{"blksize clamped, repeated option keeps first", rrq("a", "octet", "blksize", "70000", "blksize", "512"), false,
			request{op: opRRQ, name: "a", mode: "octet", blksize: 65464, timeout: -1, window: -1, rollover: -1, order: []string{"blksize"}}},
		{"out of range ignored", rrq("a", "octet", "blksize", "7", "timeout", "256", "windowsize", "0", "rollover", "2"), false,
			request{op: opRRQ, name: "a", mode: "octet", blksize: -1, timeout: -1, window: -1, rollover: -1}},
		{"atftp tsize enable", rrq("a", "octet", "tsize", "enable"), false,
			request{op: opRRQ, name: "a", mode: "octet", blksize: -1, tsize: true, timeout: -1, window: -1, rollover: -1, order: []string{"tsize"}}},
		{"trailing NUL padding", append(rrq("a", "octet", "tsize", "0"), 0, 0, 0), false,
			request{op: opRRQ, name: "a", mode: "octet", blksize: -1, tsize: true, timeout: -1, window: -1, rollover: -1, order: []string{"tsize"}}},
		{"unterminated option", append(rrq("a", "octet"), "blksize\x00100"...), false,
			request{op: opRRQ, name: "a", mode: "octet", blksize: -1, timeout: -1, window: -1, rollover: -1}},
		{"wrq", append([]byte{0, 2}, "a\x00octet\x00"...), false,
			request{op: opWRQ, name: "a", mode: "octet", blksize: -1, timeout: -1, window: -1, rollover: -1}},
		{"empty name", rrq("", "octet"), true, request{}},
		{"no mode NUL", []byte("\x00\x01a\x00octet"), true, request{}},
		{"bad mode", rrq("a", "binary"), true, request{}},
		{"ack opcode", []byte{0, 4, 0, 1}, true, request{}},
		{"short", []byte{0, 1}, true, request{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseRequest(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("parseRequest(%q) error %v, want error %v", tc.in, err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if !got.equal(&tc.want) {
				t.Errorf("parseRequest(%q) = %+v, want %+v", tc.in, *got, tc.want)
			}
		})
	}
}

// FuzzParseRequest: no panic, bounded work, and a parsed request re-encodes
// to a packet that parses to the same request.
func FuzzParseRequest(f *testing.F) {
	f.Add(rrq("pxelinux.0", "octet", "tsize", "0", "blksize", "1468", "windowsize", "4"))
	f.Add(rrq("/boot/grub/x86_64-efi/normal.mod", "octet", "blksize", "1024", "tsize", "0"))
	f.Add(rrq("::pxelinux.cfg/01-52-54-00-12-34-56", "netascii", "timeout", "1", "rollover", "1"))
	f.Add([]byte{0, 2, 'a', 0, 'o', 'c', 't', 'e', 't', 0})
	seeds, _ := filepath.Glob("testdata/requests/*.bin")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseRequest(b)
		if err != nil {
			return
		}
		if len(r.order) > maxOptions || r.name == "" || bytes.IndexByte([]byte(r.name), 0) >= 0 {
			t.Fatalf("bad request %+v", r)
		}
		// Re-encode with the accepted options only.
		var opts []string
		for _, k := range r.order {
			switch k {
			case "blksize":
				opts = append(opts, k, itoa(r.blksize))
			case "tsize":
				opts = append(opts, k, "0")
			case "timeout":
				opts = append(opts, k, itoa(r.timeout))
			case "windowsize":
				opts = append(opts, k, itoa(r.window))
			case "rollover":
				opts = append(opts, k, itoa(r.rollover))
			}
		}
		enc := rrq(r.name, r.mode, opts...)
		enc[1] = byte(r.op)
		if len(enc) > maxRequestLen {
			return
		}
		r2, err := parseRequest(enc)
		if err != nil || !r.equal(r2) {
			t.Fatalf("round trip: %+v -> %q -> %+v, %v", r, enc, r2, err)
		}
		CleanPath(r.name)
	})
}

func itoa(n int) string {
	return string(appendOption(nil, "", int64(n))[1 : len(appendOption(nil, "", int64(n)))-1])
}
