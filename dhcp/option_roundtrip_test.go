package dhcp

import (
	"bytes"
	"encoding"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
)

// optionValue is what every option type offers.
type optionValue interface {
	encoding.BinaryAppender
	encoding.BinaryMarshaler
	dhcpv4.OptionValue
	Option() dhcpv4.Option
}

// roundTrip checks that v encodes to want, that want decodes back to v,
// and that the encoding survives a trip through a whole DHCP packet built
// and parsed by insomniacslk (RFC 3396 splitting included).
func roundTrip[T optionValue](t *testing.T, parse func([]byte) (T, error), v T, want []byte) {
	t.Helper()
	got, err := v.MarshalBinary()
	if err != nil {
		t.Fatalf("%T.MarshalBinary() error %v", v, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%T.MarshalBinary() = % x, want % x", v, got, want)
	}
	prefix := []byte{0xde, 0xad}
	app, err := v.AppendBinary(prefix)
	if err != nil || !bytes.Equal(app[:2], prefix) || !bytes.Equal(app[2:], want) {
		t.Fatalf("%T.AppendBinary(prefix) = % x, %v", v, app, err)
	}
	if tb := v.ToBytes(); !bytes.Equal(tb, want) {
		t.Fatalf("%T.ToBytes() = % x, want % x", v, tb, want)
	}
	back, err := parse(want)
	if err != nil {
		t.Fatalf("parse(% x) error %v", want, err)
	}
	if diff := cmp.Diff(v, back, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Fatalf("parse(% x) mismatch (-want +got):\n%s", want, diff)
	}

	opt := v.Option()
	pkt, err := dhcpv4.New(dhcpv4.WithOption(opt))
	if err != nil {
		t.Fatal(err)
	}
	wire := pkt.ToBytes()
	pkt2, err := dhcpv4.FromBytes(wire)
	if err != nil {
		t.Fatalf("dhcpv4.FromBytes: %v", err)
	}
	if gotOpt := pkt2.GetOneOption(opt.Code); !bytes.Equal(gotOpt, want) {
		t.Fatalf("option %d through a packet = % x, want % x", opt.Code.Code(), gotOpt, want)
	}
}

func TestVendorClassRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		v    VendorClass
		want string
	}{
		{"bios", VendorClass{Class: ClassPXEClient, Arch: iana.INTEL_X86PC, HasArch: true, UNDIMajor: 2, UNDIMinor: 1, HasUNDI: true}, "PXEClient:Arch:00000:UNDI:002001"},
		{"uefi", VendorClass{Class: ClassPXEClient, Arch: iana.EFI_X86_64, HasArch: true, UNDIMajor: 3, UNDIMinor: 16, HasUNDI: true}, "PXEClient:Arch:00007:UNDI:003016"},
		{"http", VendorClass{Class: ClassHTTPClient, Arch: iana.EFI_X86_64_HTTP, HasArch: true, UNDIMajor: 3, HasUNDI: true}, "HTTPClient:Arch:00016:UNDI:003000"},
		{"reply", VendorClass{Class: ClassPXEClient}, "PXEClient"},
		{"arch only", VendorClass{Class: ClassPXEClient, Arch: 65535, HasArch: true}, "PXEClient:Arch:65535"},
		{"undi only", VendorClass{Class: ClassPXEClient, UNDIMajor: 999, UNDIMinor: 999, HasUNDI: true}, "PXEClient:UNDI:999999"},
		{"rest", VendorClass{Class: ClassPXEClient, Arch: 11, HasArch: true, HasUNDI: true, UNDIMajor: 3, Rest: "vendor:x"}, "PXEClient:Arch:00011:UNDI:003000:vendor:x"},
		{"other", VendorClass{Class: "MSFT 5.0"}, "MSFT 5.0"},
		{"other with colon", VendorClass{Class: "PXEClientX:Arch:1"}, "PXEClientX:Arch:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			roundTrip(t, ParseVendorClass, tt.v, []byte(tt.want))
			if tt.v.String() != tt.want {
				t.Errorf("String() = %q, want %q", tt.v.String(), tt.want)
			}
		})
	}
}

func TestVendorClassIsPXE(t *testing.T) {
	v, _ := ParseVendorClass([]byte("HTTPClient:Arch:00016:UNDI:003000"))
	if v.IsPXE() || !v.IsHTTP() {
		t.Errorf("HTTPClient: IsPXE %v IsHTTP %v", v.IsPXE(), v.IsHTTP())
	}
	v, _ = ParseVendorClass([]byte("PXEClient"))
	if !v.IsPXE() || v.IsHTTP() {
		t.Errorf("PXEClient: IsPXE %v IsHTTP %v", v.IsPXE(), v.IsHTTP())
	}
	v, _ = ParseVendorClass([]byte("udhcp 1.36.1"))
	if v.IsPXE() || v.IsHTTP() {
		t.Errorf("udhcp: IsPXE %v IsHTTP %v", v.IsPXE(), v.IsHTTP())
	}
}

func TestVendorClassTrailingNUL(t *testing.T) {
	v, err := ParseVendorClass([]byte("PXEClient:Arch:00000:UNDI:002001\x00"))
	if err != nil || !v.HasUNDI || v.UNDIMinor != 1 || v.String() != "PXEClient:Arch:00000:UNDI:002001" {
		t.Errorf("ParseVendorClass with a NUL = %#v, %v", v, err)
	}
	if _, err := ParseVendorClass([]byte("\x00")); !errors.Is(err, ErrMalformedOption) {
		t.Errorf("ParseVendorClass(NUL) error = %v", err)
	}
}

func TestVendorClassErrors(t *testing.T) {
	for _, in := range []string{
		"",
		"PXEClient:Arch:7",
		"PXEClient:Arch:000007",
		"PXEClient:Arch:0000x",
		"PXEClient:Arch:99999",
		"PXEClient:Arch:00000:UNDI:2001",
		"PXEClient:Arch:00000:UNDI:00200a",
		"PXEClient:",
		"HTTPClient:Arch:00016:",
	} {
		_, err := ParseVendorClass([]byte(in))
		var oe *OptionError
		if !errors.Is(err, ErrMalformedOption) || !errors.As(err, &oe) || oe.Code != 60 {
			t.Errorf("ParseVendorClass(%q) error = %v, want a malformed option 60 error", in, err)
		}
	}
	for _, v := range []VendorClass{
		{},
		{Class: "MSFT 5.0", HasArch: true},
		{Class: ClassPXEClient, HasUNDI: true, UNDIMajor: 1000},
	} {
		if _, err := v.MarshalBinary(); !errors.Is(err, ErrInvalidOptionValue) {
			t.Errorf("%#v.MarshalBinary() error = %v, want ErrInvalidOptionValue", v, err)
		}
		if b := v.ToBytes(); b != nil {
			t.Errorf("%#v.ToBytes() = %q, want nil", v, b)
		}
		pkt, _ := dhcpv4.New(WithVendorClass(v))
		if pkt.Options.Has(dhcpv4.OptionClassIdentifier) {
			t.Errorf("WithVendorClass(%#v) set option 60", v)
		}
	}
}

func TestClientArchsRoundTrip(t *testing.T) {
	roundTrip(t, ParseClientArchs, ClientArchs{iana.EFI_X86_64}, []byte{0, 7})
	roundTrip(t, ParseClientArchs, ClientArchs{iana.EFI_BC, iana.EFI_ARM64_HTTP, 0xffff}, []byte{0, 9, 0, 19, 0xff, 0xff})

	// 200 types are 400 bytes: insomniacslk splits them into two option
	// 93 instances on the wire (RFC 3396) and joins them when parsing.
	long := make(ClientArchs, 200)
	for i := range long {
		long[i] = iana.Arch(i)
	}
	want, _ := long.MarshalBinary()
	roundTrip(t, ParseClientArchs, long, want)
	pkt, _ := dhcpv4.New(WithClientArchs(long...))
	wire := pkt.ToBytes()
	if n := bytes.Count(wire, []byte{93, 255, 0, 0}); n != 1 {
		t.Errorf("first instance of the long option 93 found %d times in % x", n, wire)
	}

	if s := (ClientArchs{iana.EFI_X86_64}).String(); s != "7 (EFI x86-64)" {
		t.Errorf("String() = %q", s)
	}
	for _, in := range [][]byte{nil, {0}, {0, 7, 1}} {
		if _, err := ParseClientArchs(in); !errors.Is(err, ErrMalformedOption) {
			t.Errorf("ParseClientArchs(% x) error = %v", in, err)
		}
		if _, err := FirstClientArch(in); !errors.Is(err, ErrMalformedOption) {
			t.Errorf("FirstClientArch(% x) error = %v", in, err)
		}
	}
	if a, err := FirstClientArch([]byte{0, 11, 0, 7}); a != iana.EFI_ARM64 || err != nil {
		t.Errorf("FirstClientArch = %v, %v", a, err)
	}
	if _, err := ClientArchs(nil).MarshalBinary(); !errors.Is(err, ErrInvalidOptionValue) {
		t.Errorf("empty ClientArchs encoded: %v", err)
	}
}

func TestClientNDIRoundTrip(t *testing.T) {
	roundTrip(t, ParseClientNDI, ClientNDI{Type: NDITypeUNDI, Major: 3, Minor: 16}, []byte{1, 3, 16})
	if s := (ClientNDI{Type: 1, Major: 2, Minor: 1}).String(); s != "UNDI 2.1" {
		t.Errorf("String() = %q", s)
	}
	if s := (ClientNDI{Type: 5, Major: 1}).String(); s != "type 5 1.0" {
		t.Errorf("String() = %q", s)
	}
	for _, in := range [][]byte{nil, {1, 2}, {1, 2, 3, 4}} {
		if _, err := ParseClientNDI(in); !errors.Is(err, ErrMalformedOption) {
			t.Errorf("ParseClientNDI(% x) error = %v", in, err)
		}
	}
}

func TestClientGUIDRoundTrip(t *testing.T) {
	g := ClientGUID{0x78, 0x56, 0x34, 0x12, 0xbc, 0x9a, 0xf0, 0xde, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}
	roundTrip(t, ParseClientGUID, g, append([]byte{0}, g[:]...))
	if got, want := g.UUID(), "78563412-bc9a-f0de-1122-334455667788"; got != want {
		t.Errorf("UUID() = %q, want %q", got, want)
	}
	// pxelinux skips this GUID (byte 6 is 0xf0) and the nil GUID; it
	// accepts byte 6 = 0x40 (see nbp/testdata/captures/pxelinux-uuid*).
	if g.PXELinuxAccepts() || (ClientGUID{}).PXELinuxAccepts() {
		t.Error("PXELinuxAccepts() = true for byte 6 0xf0 or the nil GUID")
	}
	if g2 := (ClientGUID{6: 0x40}); !g2.PXELinuxAccepts() {
		t.Error("PXELinuxAccepts() = false for byte 6 0x40")
	}
	if g.IsZero() || !(ClientGUID{}).IsZero() {
		t.Error("IsZero wrong")
	}
	if got := (ClientGUID{}).String(); got != "00000000-0000-0000-0000-000000000000" {
		t.Errorf("zero String() = %q", got)
	}
	for _, in := range [][]byte{nil, make([]byte, 16), make([]byte, 18), append([]byte{1}, make([]byte, 16)...)} {
		if _, err := ParseClientGUID(in); !errors.Is(err, ErrMalformedOption) {
			t.Errorf("ParseClientGUID(% x) error = %v", in, err)
		}
	}
}

func TestUserClassRoundTrip(t *testing.T) {
	roundTrip(t, ParseUserClass, UserClass{Classes: []string{"iPXE"}}, []byte("iPXE"))
	roundTrip(t, ParseUserClass, UserClass{Classes: []string{"iPXE"}, RFC3004: true}, []byte("\x04iPXE"))
	roundTrip(t, ParseUserClass, UserClass{Classes: []string{"a", "gPXE", "iPXE"}, RFC3004: true}, []byte("\x01a\x04gPXE\x04iPXE"))
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"iPXE", true}, {"\x04iPXE", true}, {"\x03abc\x04iPXE", true},
		{"iPXEx", false}, {"\x05iPXE", false}, {"\x03abc", false}, {"", false},
	} {
		if got := UserClassHas([]byte(tt.in), "iPXE"); got != tt.want {
			t.Errorf("UserClassHas(%q, iPXE) = %v, want %v", tt.in, got, tt.want)
		}
		if u, err := ParseUserClass([]byte(tt.in)); err == nil && u.Has("iPXE") != tt.want {
			t.Errorf("ParseUserClass(%q).Has(iPXE) = %v, want %v", tt.in, u.Has("iPXE"), tt.want)
		}
	}
	// A value that is not a valid RFC 3004 list is one plain class.
	u, err := ParseUserClass([]byte("\x05iPXE"))
	if err != nil || u.RFC3004 || len(u.Classes) != 1 || u.Classes[0] != "\x05iPXE" {
		t.Errorf("ParseUserClass(\\x05iPXE) = %#v, %v", u, err)
	}
	if _, err := ParseUserClass(nil); !errors.Is(err, ErrMalformedOption) {
		t.Errorf("ParseUserClass(nil) error = %v", err)
	}
	for _, u := range []UserClass{{}, {Classes: []string{"a", "b"}}, {Classes: []string{""}, RFC3004: true}, {Classes: []string{strings.Repeat("x", 256)}, RFC3004: true}} {
		if _, err := u.MarshalBinary(); !errors.Is(err, ErrInvalidOptionValue) {
			t.Errorf("%#v.MarshalBinary() error = %v", u, err)
		}
	}
}

func TestStringOptionsRoundTrip(t *testing.T) {
	roundTrip(t, ParseTFTPServerName, TFTPServerName("192.168.10.1"), []byte("192.168.10.1"))
	roundTrip(t, ParseBootFileName, BootFileName("pxelinux.0"), []byte("pxelinux.0"))
	roundTrip(t, ParsePXELinuxConfigFile, PXELinuxConfigFile("pxelinux.cfg/default"), []byte("pxelinux.cfg/default"))
	roundTrip(t, ParsePXELinuxPathPrefix, PXELinuxPathPrefix("/srv/tftp/"), []byte("/srv/tftp/"))

	// A URL longer than 255 bytes crosses the option length limit; it is
	// split on the wire (RFC 3396) and joined again.
	url := "http://boot.example/" + strings.Repeat("a", 400) + ".efi"
	roundTrip(t, ParseBootFileName, BootFileName(url), []byte(url))

	// Trailing NULs, as some firmware sends, are dropped.
	if v, err := ParseBootFileName([]byte("ipxe.efi\x00\x00")); v != "ipxe.efi" || err != nil {
		t.Errorf("ParseBootFileName with NULs = %q, %v", v, err)
	}
	for _, in := range []string{"", "\x00", "a\x00b"} {
		if _, err := ParseTFTPServerName([]byte(in)); !errors.Is(err, ErrMalformedOption) {
			t.Errorf("ParseTFTPServerName(%q) error = %v", in, err)
		}
	}
	for _, v := range []BootFileName{"", "a\x00"} {
		if _, err := v.MarshalBinary(); !errors.Is(err, ErrInvalidOptionValue) {
			t.Errorf("BootFileName(%q).MarshalBinary() error = %v", v, err)
		}
	}
}

func TestPXELinuxRebootTime(t *testing.T) {
	roundTrip(t, ParsePXELinuxRebootTime, PXELinuxRebootTime(30), []byte{0, 0, 0, 30})
	roundTrip(t, ParsePXELinuxRebootTime, PXELinuxRebootTime(1<<32-1), []byte{0xff, 0xff, 0xff, 0xff})
	if d := PXELinuxRebootTime(90).Duration(); d != 90*time.Second {
		t.Errorf("Duration() = %v", d)
	}
	for _, tt := range []struct {
		d    time.Duration
		want PXELinuxRebootTime
		ok   bool
	}{
		{0, 0, true}, {1500 * time.Millisecond, 2, true}, {time.Minute, 60, true},
		{-time.Second, 0, false}, {(1 << 32) * time.Second, 0, false},
	} {
		if got, ok := PXELinuxRebootTimeOf(tt.d); got != tt.want || ok != tt.ok {
			t.Errorf("PXELinuxRebootTimeOf(%v) = %v, %v; want %v, %v", tt.d, got, ok, tt.want, tt.ok)
		}
	}
	if _, err := ParsePXELinuxRebootTime([]byte{1, 2, 3}); !errors.Is(err, ErrMalformedOption) {
		t.Errorf("3-byte option 211: %v", err)
	}
}

func TestIPXEOptionsRoundTrip(t *testing.T) {
	o := IPXEOptions{Options: []SubOption{
		{Code: IPXESubBusID, Data: []byte{1, 0x80, 0x86, 0x10, 0x0e}},
		{Code: IPXESubVersion, Data: []byte{1, 21, 1}},
		{Code: byte(IPXEFeatureHTTP), Data: []byte{1}},
		{Code: byte(IPXEFeatureHTTPS), Data: []byte{1}},
		{Code: IPXESubNoPXEDHCP, Data: []byte{}},
	}}
	want := []byte{177, 5, 1, 0x80, 0x86, 0x10, 0x0e, 235, 3, 1, 21, 1, 0x13, 1, 1, 0x14, 1, 1, 176, 0, 255}
	roundTrip(t, ParseIPXEOptions, o, want)

	f := o.Features()
	if !f.Has(IPXEFeatureHTTP) || !f.Has(IPXEFeatureHTTPS) || f.Has(IPXEFeatureDNS) || f.Len() != 2 {
		t.Errorf("Features() = %v", f)
	}
	if s := f.String(); s != "HTTP,HTTPS" {
		t.Errorf("Features().String() = %q", s)
	}
	if maj, min, patch, ok := o.Version(); !ok || maj != 1 || min != 21 || patch != 1 {
		t.Errorf("Version() = %d.%d.%d %v", maj, min, patch, ok)
	}
	f2, err := IPXEFeaturesOf(want)
	if err != nil || f2 != f {
		t.Errorf("IPXEFeaturesOf = %v, %v; want %v", f2, err, f)
	}

	// Repeated sub-options are joined (RFC 3396), pad is skipped, bytes
	// after End are ignored.
	got, err := ParseIPXEOptions([]byte{0, 1, 1, 0xaa, 0x13, 1, 1, 1, 2, 0xbb, 0xcc, 255, 7, 7})
	wantOpts := []SubOption{{Code: 1, Data: []byte{0xaa, 0xbb, 0xcc}}, {Code: 0x13, Data: []byte{1}}}
	if err != nil || !cmp.Equal(got.Options, wantOpts) {
		t.Errorf("ParseIPXEOptions(repeated) = %v, %v; want %v", got.Options, err, wantOpts)
	}

	// A sub-option longer than 255 bytes is split when encoded.
	long := IPXEOptions{Options: []SubOption{{Code: IPXESubScriptlet, Data: bytes.Repeat([]byte("x"), 300)}}}
	enc, _ := long.MarshalBinary()
	if len(enc) != 2+255+2+45+1 || enc[1] != 255 || enc[257] != IPXESubScriptlet || enc[258] != 45 {
		t.Errorf("long sub-option encoded as % x", enc[:4])
	}
	roundTrip(t, ParseIPXEOptions, long, enc)

	for _, in := range [][]byte{{0x13}, {0x13, 2, 1}, {1, 1, 1, 177, 9, 0}} {
		if _, err := ParseIPXEOptions(in); !errors.Is(err, ErrMalformedOption) {
			t.Errorf("ParseIPXEOptions(% x) error = %v", in, err)
		}
		if _, err := IPXEFeaturesOf(in); !errors.Is(err, ErrMalformedOption) {
			t.Errorf("IPXEFeaturesOf(% x) error = %v", in, err)
		}
	}
	if _, err := (IPXEOptions{Options: []SubOption{{Code: 255}}}).MarshalBinary(); !errors.Is(err, ErrInvalidOptionValue) {
		t.Errorf("sub-option 255 encoded: %v", err)
	}
	if s := IPXEFeature(0x4a).String(); s != "feature 0x4a" {
		t.Errorf("unnamed feature String() = %q", s)
	}
}

func TestPXEVendorOptionsRoundTrip(t *testing.T) {
	o := PXEVendorOptions{
		DiscoveryControl:    PXEDiscoveryBootFile | PXEDiscoveryNoMulticast,
		HasDiscoveryControl: true,
		BootServers: []PXEBootServer{
			{Type: 0, Addrs: []netip.Addr{netip.MustParseAddr("192.168.10.1")}},
			{Type: 0x8000, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")}},
		},
		BootMenu:      []PXEMenuItem{{Type: 0, Description: "Raspberry Pi Boot"}},
		MenuPrompt:    PXEMenuPrompt{Timeout: 0, Prompt: "PXE"},
		HasMenuPrompt: true,
		BootItem:      PXEBootItem{Type: 0x8000, Layer: 0},
		HasBootItem:   true,
		Other:         []SubOption{{Code: PXESubMTFTPAddr, Data: []byte{224, 1, 1, 1}}},
	}
	want := []byte{
		6, 1, 0x0a, // discovery control: bits 1 and 3
		8, 18, // boot servers, 18 bytes
		0, 0, 1, 192, 168, 10, 1, // type 0, one address
		0x80, 0, 2, 10, 0, 0, 1, 10, 0, 0, 2, // type 0x8000, two addresses
		9, 20, 0, 0, 17, 'R', 'a', 's', 'p', 'b', 'e', 'r', 'r', 'y', ' ', 'P', 'i', ' ', 'B', 'o', 'o', 't', // menu
		10, 4, 0, 'P', 'X', 'E', // prompt: timeout 0, "PXE"
		71, 4, 0x80, 0, 0, 0, // boot item type 0x8000 layer 0
		1, 4, 224, 1, 1, 1, // MTFTP address, kept as Other
		255,
	}
	roundTrip(t, ParsePXEVendorOptions, o, want)
	roundTrip(t, ParsePXEVendorOptions, PXEVendorOptions{}, []byte{255})

	if s := o.String(); !strings.Contains(s, `menu type 0 "Raspberry Pi Boot"`) || !strings.Contains(s, "discovery control 0xa") {
		t.Errorf("String() = %s", s)
	}

	for name, in := range map[string][]byte{
		"truncated":            {6, 2, 8},
		"discovery length":     {6, 2, 8, 0, 255},
		"empty servers":        {8, 0},
		"server count":         {8, 7, 0, 0, 2, 1, 2, 3, 4},
		"server header":        {8, 2, 0, 0},
		"menu text":            {9, 4, 0, 0, 5, 'a'},
		"menu header":          {9, 1, 0},
		"empty menu":           {9, 0},
		"empty prompt":         {10, 0},
		"boot item length":     {71, 3, 0, 0, 0},
		"missing length byte":  {6},
		"length past the end":  {1, 200, 0},
		"truncated after pads": {0, 0, 0, 71},
	} {
		if _, err := ParsePXEVendorOptions(in); !errors.Is(err, ErrMalformedOption) {
			t.Errorf("%s: ParsePXEVendorOptions(% x) error = %v", name, in, err)
		}
	}
	for name, v := range map[string]PXEVendorOptions{
		"ipv6":        {BootServers: []PXEBootServer{{Addrs: []netip.Addr{netip.MustParseAddr("::1")}}}},
		"empty list":  {BootServers: []PXEBootServer{}},
		"long menu":   {BootMenu: []PXEMenuItem{{Description: strings.Repeat("m", 256)}}},
		"empty menu":  {BootMenu: []PXEMenuItem{}},
		"other typed": {Other: []SubOption{{Code: PXESubBootMenu, Data: []byte{0, 0, 0}}}},
		"other end":   {Other: []SubOption{{Code: 255}}},
	} {
		if _, err := v.MarshalBinary(); !errors.Is(err, ErrInvalidOptionValue) {
			t.Errorf("%s: MarshalBinary() error = %v", name, err)
		}
	}
}

func TestOptionErrorMessage(t *testing.T) {
	_, err := ParsePXEVendorOptions([]byte{71, 3, 0, 0, 0})
	if got, want := err.Error(), "dhcp: option 43.71: length 3, want 4"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	_, err = ParseClientNDI([]byte{1})
	if got, want := err.Error(), "dhcp: option 94: length 1, want 3"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestOptionModifiers(t *testing.T) {
	pkt, err := dhcpv4.New(
		WithVendorClass(VendorClass{Class: ClassPXEClient}),
		WithTFTPServerName("10.0.0.1"),
		WithBootFileName("undionly.kpxe"),
		WithPXELinuxConfigFile("pxelinux.cfg/x"),
		WithPXELinuxPathPrefix("/"),
		WithPXELinuxRebootTime(5),
		WithClientArchs(iana.EFI_X86_64),
		WithClientNDI(ClientNDI{1, 3, 16}),
		WithClientGUID(ClientGUID{1}),
		WithUserClass(UserClass{Classes: []string{"iPXE"}}),
		WithIPXEOptions(IPXEOptions{}),
		WithPXEVendorOptions(PXEVendorOptions{HasDiscoveryControl: true, DiscoveryControl: PXEDiscoveryBootFile}),
	)
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint8]string{
		60: "PXEClient", 66: "10.0.0.1", 67: "undionly.kpxe", 209: "pxelinux.cfg/x", 210: "/",
		211: "\x00\x00\x00\x05", 93: "\x00\x07", 94: "\x01\x03\x10",
		97: "\x00\x01" + strings.Repeat("\x00", 15), 77: "iPXE", 175: "\xff", 43: "\x06\x01\x08\xff",
	}
	for code, w := range want {
		if got := pkt.Options.Get(dhcpv4.GenericOptionCode(code)); string(got) != w {
			t.Errorf("option %d = %q, want %q", code, got, w)
		}
	}
	// Modifiers of unencodable values leave the packet alone.
	pkt, _ = dhcpv4.New(WithBootFileName(""), WithClientArchs(), WithUserClass(UserClass{}))
	for _, c := range []dhcpv4.OptionCode{dhcpv4.OptionBootfileName, dhcpv4.OptionClientSystemArchitectureType, dhcpv4.OptionUserClassInformation} {
		if pkt.Options.Has(c) {
			t.Errorf("option %v set from an unencodable value", c)
		}
	}
}

// TestPXEVendorOptionsFromDnsmasq decodes the option 43 that dnsmasq 2.90
// put into its OFFER to iPXE (--pxe-service=x86PC,boot,pxelinux; captured
// by nbp/testdata/capture.sh pxelinux-uuid), and re-encodes it.
func TestPXEVendorOptionsFromDnsmasq(t *testing.T) {
	b, err := os.ReadFile("testdata/options/43-dnsmasq-offer.bin")
	if err != nil {
		t.Fatal(err)
	}
	o, err := ParsePXEVendorOptions(b)
	if err != nil {
		t.Fatal(err)
	}
	want := PXEVendorOptions{
		DiscoveryControl:    PXEDiscoveryNoBroadcast | PXEDiscoveryNoMulticast,
		HasDiscoveryControl: true,
		BootServers:         []PXEBootServer{{Type: 0x8000, Addrs: []netip.Addr{netip.MustParseAddr("192.168.77.1")}}},
		BootMenu:            []PXEMenuItem{{Type: 0x8000, Description: "boot"}},
		MenuPrompt:          PXEMenuPrompt{Timeout: 0, Prompt: "PXE"},
		HasMenuPrompt:       true,
	}
	if diff := cmp.Diff(want, o, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Fatalf("dnsmasq's option 43 (-want +got):\n%s", diff)
	}
	// dnsmasq orders the sub-options 6, 10, 8, 9; ours are 6, 8, 9, 10, so
	// compare values, not bytes.
	enc, err := o.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(enc) != len(b) {
		t.Errorf("re-encoded length %d, dnsmasq's %d", len(enc), len(b))
	}
	back, err := ParsePXEVendorOptions(enc)
	if err != nil || !cmp.Equal(o, back, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })) {
		t.Errorf("re-encoded %x decodes to %+v, %v", enc, back, err)
	}
}

func TestOptionStrings(t *testing.T) {
	for _, tt := range []struct {
		v    dhcpv4.OptionValue
		want string
	}{
		{TFTPServerName("10.0.0.1"), "10.0.0.1"},
		{BootFileName("pxelinux.0"), "pxelinux.0"},
		{PXELinuxConfigFile("pxelinux.cfg/x"), "pxelinux.cfg/x"},
		{PXELinuxPathPrefix("/t/"), "/t/"},
		{PXELinuxRebootTime(30), "30s"},
		{UserClass{Classes: []string{"a", "iPXE"}, RFC3004: true}, "a, iPXE"},
		{IPXEOptions{Options: []SubOption{{Code: 235, Data: []byte{1, 0, 0}}, {Code: 0x13, Data: []byte{1}}}}, "[235: 01 00 00; 19: 01]"},
		{VendorClass{Class: ClassPXEClient, HasUNDI: true, UNDIMajor: 1000}, "PXEClient"},
		{ClientArchs{0, 0x7fff}, "0 (Intel x86PC), 32767 (unknown)"},
	} {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.v, got, tt.want)
		}
	}
	o := IPXEOptions{}
	if _, ok := o.Get(1); ok {
		t.Error("Get on empty options found something")
	}
	if _, _, _, ok := o.Version(); ok {
		t.Error("Version on empty options ok")
	}
	if (IPXEFeatureSet{}).Has(0x50) || (IPXEFeatureSet{}).Has(5) {
		t.Error("Has out of range")
	}
	var s IPXEFeatureSet
	s.Add(0x80) // outside the feature range: ignored
	s.Add(IPXEFeatureNFS)
	s.Add(IPXEFeaturePXEExt)
	var got []IPXEFeature
	for f := range s.All() {
		got = append(got, f)
		break
	}
	if s.Len() != 2 || len(got) != 1 || got[0] != IPXEFeaturePXEExt {
		t.Errorf("set %v: Len %d, first %v", s, s.Len(), got)
	}
}

// TestNoAllocDecoders holds IPXEFeaturesOf and UserClassHas to the
// no-allocation promise in their doc comments.
func TestNoAllocDecoders(t *testing.T) {
	// Option 175 value, hand-made in iPXE's layout: feature sub-options
	// 0x13 (HTTP) and 0x14 (HTTPS), each code, length 1, value 1; then
	// sub-option 235 (version), length 3: 1.21.1.
	ipxe := []byte{0x13, 1, 1, 0x14, 1, 1, 235, 3, 1, 21, 1}
	// Option 77 in RFC 3004 form: length 4 "iPXE", then length 1 "x".
	uc := []byte{4, 'i', 'P', 'X', 'E', 1, 'x'}
	if n := testing.AllocsPerRun(100, func() {
		if f, err := IPXEFeaturesOf(ipxe); err != nil || !f.Has(IPXEFeatureHTTPS) {
			t.Fatalf("IPXEFeaturesOf(% x) = %v, %v", ipxe, f, err)
		}
	}); n != 0 {
		t.Errorf("IPXEFeaturesOf allocates %v times, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		if !UserClassHas(uc, "iPXE") {
			t.Fatalf("UserClassHas(% x, iPXE) = false", uc)
		}
	}); n != 0 {
		t.Errorf("UserClassHas allocates %v times, want 0", n)
	}
}
