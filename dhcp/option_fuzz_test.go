package dhcp

import (
	"bytes"
	"encoding"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fuzzDecoder checks a decoder against hostile bytes: no panic, and for
// every value it accepts a stable round trip (decode, encode, decode gives
// the same value and encoding again gives the same bytes). The seeds are
// the given values and the files testdata/options/<code>-*.bin, option
// values cut from packets that real firmware sent (see
// testdata/options/README.md).
func fuzzDecoder[T encoding.BinaryMarshaler](f *testing.F, code int, parse func([]byte) (T, error), seeds ...[]byte) {
	fuzzDecoderCheck(f, code, parse, nil, seeds...)
}

// fuzzDecoderCheck is fuzzDecoder with an extra check of each input and
// its decoding, for the allocation-free shortcuts that must agree with the
// full decoder.
func fuzzDecoderCheck[T encoding.BinaryMarshaler](f *testing.F, code int, parse func([]byte) (T, error), check func(t *testing.T, b []byte, v T, err error), seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "options", strconv.Itoa(code)+"-*.bin"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := parse(b)
		if check != nil {
			check(t, b, v, err)
		}
		if err != nil {
			return
		}
		enc, err := v.MarshalBinary()
		if err != nil {
			t.Fatalf("parse(% x) = %#v, which does not encode: %v", b, v, err)
		}
		v2, err := parse(enc)
		if err != nil {
			t.Fatalf("parse(encode(parse(% x))) = %v; encoding % x", b, err, enc)
		}
		// reflect.DeepEqual is cheap; cmp only explains a difference.
		if !reflect.DeepEqual(v, v2) {
			diff := cmp.Diff(v, v2, cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) }), cmp.Comparer(func(a, b netip.Addr) bool { return a == b }))
			t.Fatalf("round trip of % x changed the value (-first +second):\n%s", b, diff)
		}
		enc2, err := v2.MarshalBinary()
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("second encoding % x, %v; first % x", enc2, err, enc)
		}
	})
}

func FuzzOptionVendorClass(f *testing.F) {
	fuzzDecoder(f, 60, ParseVendorClass,
		[]byte("PXEClient:Arch:00000:UNDI:002001"),
		[]byte("HTTPClient:Arch:00016:UNDI:003000"),
		[]byte("PXEClient"), []byte("PXEClient:Arch:00007:x"), []byte("MSFT 5.0"))
}

func FuzzOptionClientArchs(f *testing.F) {
	fuzzDecoderCheck(f, 93, ParseClientArchs, func(t *testing.T, b []byte, a ClientArchs, err error) {
		first, ferr := FirstClientArch(b)
		if (err == nil) != (ferr == nil) || (err == nil && first != a[0]) {
			t.Fatalf("FirstClientArch(% x) = %v, %v; ParseClientArchs = %v, %v", b, first, ferr, a, err)
		}
	}, []byte{0, 7}, []byte{0, 9, 0, 0}, []byte{0})
}

func FuzzOptionClientNDI(f *testing.F) {
	fuzzDecoder(f, 94, ParseClientNDI, []byte{1, 3, 16}, []byte{1, 2})
}

func FuzzOptionClientGUID(f *testing.F) {
	fuzzDecoder(f, 97, ParseClientGUID, make([]byte, 17), append([]byte{1}, make([]byte, 16)...))
}

func FuzzOptionUserClass(f *testing.F) {
	fuzzDecoderCheck(f, 77, ParseUserClass, func(t *testing.T, b []byte, u UserClass, err error) {
		if err == nil && UserClassHas(b, "iPXE") != u.Has("iPXE") {
			t.Fatalf("UserClassHas(% x, iPXE) = %v, ParseUserClass(...).Has = %v", b, !u.Has("iPXE"), u.Has("iPXE"))
		}
	}, []byte("iPXE"), []byte("\x04iPXE"), []byte("\x04gPXE\x04iPXE"), []byte("\x05iPXE"))
}

func FuzzOptionIPXE(f *testing.F) {
	fuzzDecoderCheck(f, 175, ParseIPXEOptions, func(t *testing.T, b []byte, o IPXEOptions, err error) {
		fs, ferr := IPXEFeaturesOf(b)
		if (err == nil) != (ferr == nil) || (err == nil && fs != o.Features()) {
			t.Fatalf("IPXEFeaturesOf(% x) = %v, %v; ParseIPXEOptions features %v, %v", b, fs, ferr, o.Features(), err)
		}
	},
		[]byte{177, 5, 1, 0x80, 0x86, 0x10, 0x0e, 235, 3, 1, 0, 0, 0x13, 1, 1, 255},
		[]byte{1, 1, 1, 1, 1, 2, 0, 176, 0, 255, 9},
		[]byte{0x13, 2, 1})
}

func FuzzOptionPXEVendor(f *testing.F) {
	fuzzDecoder(f, 43, ParsePXEVendorOptions,
		// discovery control 8, then End
		[]byte{6, 1, 8, 255},
		// Raspberry Pi style: menu entry type 0 "Raspberry Pi Boot   ",
		// prompt timeout 0 "PXE", End
		append(append([]byte{9, 23, 0, 0, 20}, "Raspberry Pi Boot   "...), 10, 4, 0, 'P', 'X', 'E', 255),
		// boot servers: type 0x8000 with 10.0.0.1; boot item; MTFTP address
		[]byte{8, 7, 0x80, 0, 1, 10, 0, 0, 1, 71, 4, 0x80, 0, 0, 0, 1, 4, 224, 0, 1, 2, 255},
		[]byte{8, 3, 0, 0, 0, 8, 3, 0, 1, 0})
}

func FuzzOptionTFTPServerName(f *testing.F) {
	fuzzDecoder(f, 66, ParseTFTPServerName, []byte("10.0.0.1"), []byte("a\x00"))
}

func FuzzOptionBootFileName(f *testing.F) {
	fuzzDecoder(f, 67, ParseBootFileName, []byte("pxelinux.0"), []byte("http://x/ipxe.efi\x00"))
}

func FuzzOptionPXELinuxConfigFile(f *testing.F) {
	fuzzDecoder(f, 209, ParsePXELinuxConfigFile, []byte("pxelinux.cfg/default"))
}

func FuzzOptionPXELinuxPathPrefix(f *testing.F) {
	fuzzDecoder(f, 210, ParsePXELinuxPathPrefix, []byte("/tftpboot/"))
}

func FuzzOptionPXELinuxRebootTime(f *testing.F) {
	fuzzDecoder(f, 211, ParsePXELinuxRebootTime, []byte{0, 0, 0, 30}, []byte{1})
}

func FuzzOptionRelayAgentInfo(f *testing.F) {
	fuzzDecoderCheck(f, 82, ParseRelayAgentInfo, func(t *testing.T, b []byte, r RelayAgentInfo, err error) {
		if a, ok := r.LinkSelection(); ok && !a.Is4() {
			t.Fatalf("LinkSelection of % x = %v", b, a)
		}
	}, []byte{1, 6, 'e', 't', 'h', '0', '/', '7', 2, 2, 0, 1}, []byte{5, 4, 10, 20, 5, 5}, []byte{1, 0}, []byte{5, 3, 1, 2, 3})
}
