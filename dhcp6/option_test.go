package dhcp6

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
)

// Payloads as OVMF and iPXE lay them out (RFC 5970 §3, RFC 8415 §21).
var (
	// option 16: enterprise 343, one 32-byte entry.
	seedVendorClass = append([]byte{0, 0, 1, 0x57, 0, 32}, "PXEClient:Arch:00007:UNDI:003016"...)
	// option 15: one 4-byte class "iPXE".
	seedUserClass = append([]byte{0, 4}, "iPXE"...)
	// option 61: x64 UEFI (7), then x64 UEFI HTTP (16).
	seedArchList = []byte{0, 7, 0, 16}
	// option 62: UNDI (1) version 3.16.
	seedNII = []byte{1, 3, 16}
	// option 1: DUID-LLT, hw type 1, time 0x2a2b2c2d, MAC 52:54:00:12:34:56.
	seedDUIDLLT = []byte{0, 1, 0, 1, 0x2a, 0x2b, 0x2c, 0x2d, 0x52, 0x54, 0, 0x12, 0x34, 0x56}
	// option 1: DUID-UUID as OVMF sends it (type 4 + 16 bytes).
	seedDUIDUUID = []byte{0, 4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	// option 60: two parameters.
	seedParams = append(append([]byte{0, 3}, "a=b"...), append([]byte{0, 1}, 'c')...)
)

func TestParseValues(t *testing.T) {
	vc, err := ParseVendorClass(seedVendorClass)
	if err != nil || vc.Enterprise != 343 || vc.Class() != "PXEClient" {
		t.Errorf("ParseVendorClass = %+v, %v; want enterprise 343 PXEClient", vc, err)
	}
	uc, err := ParseUserClass(seedUserClass)
	if err != nil || !uc.Has("iPXE") || uc.Has("ipxe") {
		t.Errorf("ParseUserClass = %q, %v", uc, err)
	}
	al, err := ParseArchList(seedArchList)
	if err != nil || !cmp.Equal(al, ArchList{iana.EFI_X86_64, iana.EFI_X86_64_HTTP}) {
		t.Errorf("ParseArchList = %v, %v", al, err)
	}
	n, err := ParseNII(seedNII)
	if err != nil || n != (NII{1, 3, 16}) {
		t.Errorf("ParseNII = %v, %v", n, err)
	}
	d, err := ParseDUID(CodeClientID, seedDUIDLLT)
	mac, ok := d.MAC()
	if err != nil || !ok || mac.String() != "52:54:00:12:34:56" || d.Time != 0x2a2b2c2d {
		t.Errorf("ParseDUID(LLT) = %+v, %v; MAC %v %v", d, err, mac, ok)
	}
	d, err = ParseDUID(CodeClientID, seedDUIDUUID)
	if _, ok := d.MAC(); err != nil || ok || d.Type != DUIDUUID || len(d.ID) != 16 {
		t.Errorf("ParseDUID(UUID) = %+v, %v", d, err)
	}
	p, err := ParseBootFileParams(seedParams)
	if err != nil || !cmp.Equal(p, BootFileParams{"a=b", "c"}) {
		t.Errorf("ParseBootFileParams = %q, %v", p, err)
	}
}

// TestAgreesWithInsomniacslk checks that what we encode, insomniacslk's
// dhcpv6 decodes to the same values.
func TestAgreesWithInsomniacslk(t *testing.T) {
	b, _ := ArchList{7, 16}.AppendBinary(nil)
	o, err := dhcpv6.ParseOption(dhcpv6.OptionClientArchType, b)
	if err != nil || o.String() == "" {
		t.Fatalf("dhcpv6.ParseOption(61) = %v, %v", o, err)
	}
	if !bytes.Equal(o.ToBytes(), b) {
		t.Errorf("option 61 re-encoded by dhcpv6 = %x, want %x", o.ToBytes(), b)
	}
	d, err := dhcpv6.DUIDFromBytes(seedDUIDLLT)
	if err != nil || !bytes.Equal(d.ToBytes(), seedDUIDLLT) {
		t.Errorf("dhcpv6.DUIDFromBytes = %v, %v", d, err)
	}
}

func TestMalformed(t *testing.T) {
	cases := []struct {
		name string
		fn   func() error
	}{
		{"arch empty", func() error { _, err := ParseArchList(nil); return err }},
		{"arch odd", func() error { _, err := ParseArchList([]byte{0, 7, 0}); return err }},
		{"nii short", func() error { _, err := ParseNII([]byte{1, 3}); return err }},
		{"user class truncated", func() error { _, err := ParseUserClass([]byte{0, 5, 'i'}); return err }},
		{"user class half length", func() error { _, err := ParseUserClass([]byte{0}); return err }},
		{"vendor class short", func() error { _, err := ParseVendorClass([]byte{0, 0, 1}); return err }},
		{"vendor class overrun", func() error { _, err := ParseVendorClass([]byte{0, 0, 1, 0x57, 0xff, 0xff, 'P'}); return err }},
		{"url empty", func() error { _, err := ParseBootFileURL(nil); return err }},
		{"url nul", func() error { _, err := ParseBootFileURL([]byte("tftp://x\x00")); return err }},
		{"params empty entry", func() error { _, err := ParseBootFileParams([]byte{0, 0}); return err }},
		{"duid short", func() error { _, err := ParseDUID(1, []byte{0, 3}); return err }},
		{"duid long", func() error { _, err := ParseDUID(1, make([]byte, 131)); return err }},
		{"duid-llt short", func() error { _, err := ParseDUID(1, []byte{0, 1, 0, 1, 0, 0}); return err }},
		{"duid-uuid short", func() error { _, err := ParseDUID(1, []byte{0, 4, 1, 2, 3}); return err }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.fn()
			var oe *OptionError
			if !errors.Is(err, ErrMalformedOption) || !errors.As(err, &oe) {
				t.Fatalf("err = %v, want an *OptionError wrapping ErrMalformedOption", err)
			}
		})
	}
}

func TestInvalidValues(t *testing.T) {
	for name, fn := range map[string]func() error{
		"arch empty":     func() error { _, err := ArchList(nil).AppendBinary(nil); return err },
		"url empty":      func() error { _, err := BootFileURL("").AppendBinary(nil); return err },
		"params empty":   func() error { _, err := BootFileParams{""}.AppendBinary(nil); return err },
		"user class nil": func() error { _, err := UserClass(nil).AppendBinary(nil); return err },
		"duid uuid":      func() error { _, err := DUID{Type: DUIDUUID, ID: []byte{1, 2}}.AppendBinary(nil); return err },
	} {
		if err := fn(); !errors.Is(err, ErrInvalidOptionValue) {
			t.Errorf("%s: err = %v, want ErrInvalidOptionValue", name, err)
		}
	}
}

// roundTrip decodes b with parse, encodes, and decodes again; the two
// values and the two encodings must agree.
func roundTrip[T any](t testing.TB, b []byte, parse func([]byte) (T, error), enc func(T) ([]byte, error)) {
	v, err := parse(b)
	if err != nil {
		return
	}
	out, err := enc(v)
	if err != nil {
		t.Fatalf("encode(%+v) of %x: %v", v, b, err)
	}
	v2, err := parse(out)
	if err != nil {
		t.Fatalf("decode(encode(%x)) = %v", b, err)
	}
	if !cmp.Equal(v, v2) {
		t.Fatalf("round trip of %x: %+v, then %+v", b, v, v2)
	}
	out2, _ := enc(v2)
	if !bytes.Equal(out, out2) {
		t.Fatalf("encoding not stable: %x, then %x", out, out2)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, b := range [][]byte{seedVendorClass, seedUserClass, seedArchList, seedNII, seedDUIDLLT, seedDUIDUUID, seedParams, []byte("tftp://[2001:db8::1]/x")} {
		checkAll(t, b)
	}
}

func checkAll(t testing.TB, b []byte) {
	roundTrip(t, b, ParseArchList, func(v ArchList) ([]byte, error) { return v.AppendBinary(nil) })
	roundTrip(t, b, ParseNII, func(v NII) ([]byte, error) { return v.AppendBinary(nil) })
	roundTrip(t, b, ParseUserClass, func(v UserClass) ([]byte, error) { return v.AppendBinary(nil) })
	roundTrip(t, b, ParseVendorClass, func(v VendorClass) ([]byte, error) { return v.AppendBinary(nil) })
	roundTrip(t, b, ParseBootFileURL, func(v BootFileURL) ([]byte, error) { return v.AppendBinary(nil) })
	roundTrip(t, b, ParseBootFileParams, func(v BootFileParams) ([]byte, error) { return v.AppendBinary(nil) })
	roundTrip(t, b, func(b []byte) (DUID, error) { return ParseDUID(1, b) }, func(v DUID) ([]byte, error) { return v.AppendBinary(nil) })
}

// FuzzOptions feeds every decoder the same bytes: no panic, and a stable
// round trip for whatever decodes.
func FuzzOptions(f *testing.F) {
	for _, b := range [][]byte{seedVendorClass, seedUserClass, seedArchList, seedNII, seedDUIDLLT, seedDUIDUUID, seedParams, {0, 3, 0, 1, 1, 2, 3, 4, 5, 6}, {0, 2, 0, 0, 0, 9, 1}} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkAll(t, b)
		_ = VendorClass{}.Class()
		if v, err := ParseVendorClass(b); err == nil {
			_ = v.Class()
		}
		if d, err := ParseDUID(2, b); err == nil {
			_, _ = d.MAC()
			_ = d.Key()
		}
	})
}
