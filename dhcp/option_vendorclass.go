package dhcp

import (
	"bytes"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
)

// Vendor class identifiers that PXE and UEFI HTTP boot clients put first in
// option 60, and that a server echoes in its reply.
const (
	// ClassPXEClient marks a PXE client (PXE 2.1 §2.2.5). PXE ROMs ignore
	// offers that do not echo it.
	ClassPXEClient = "PXEClient"
	// ClassHTTPClient marks a UEFI HTTP boot client (UEFI 2.x §24.7). It
	// rejects offers that do not echo it.
	ClassHTTPClient = "HTTPClient"
)

// VendorClass is option 60, the vendor class identifier (RFC 2132 §9.13),
// as PXE and UEFI HTTP boot clients format it:
//
//	PXEClient:Arch:00007:UNDI:003016
//	HTTPClient:Arch:00016:UNDI:003001
//	PXEClient                           (in a server's reply)
//
// Arch is five decimal digits (an IANA processor architecture type, the
// same as option 93) and UNDI six (three for the major and three for the
// minor version of the UNDI API). Any other vendor class ("MSFT 5.0",
// "udhcp 1.36.1") is kept whole in Class, undecoded.
//
// The zero value is empty and cannot be encoded.
type VendorClass struct {
	// Class is "PXEClient", "HTTPClient" or, for any other vendor class,
	// the whole option value.
	Class string

	// Arch is the architecture from the "Arch:" field, valid when HasArch
	// is set.
	Arch    iana.Arch
	HasArch bool

	// UNDIMajor and UNDIMinor are the "UNDI:" field (000–999 each), valid
	// when HasUNDI is set.
	UNDIMajor, UNDIMinor uint16
	HasUNDI              bool

	// Rest holds what follows the fields above, without its leading
	// colon, kept verbatim so that the value encodes back unchanged.
	Rest string
}

// IsPXE reports whether v is a PXE client's class ("PXEClient…").
func (v VendorClass) IsPXE() bool { return v.Class == ClassPXEClient }

// IsHTTP reports whether v is a UEFI HTTP boot client's class
// ("HTTPClient…").
func (v VendorClass) IsHTTP() bool { return v.Class == ClassHTTPClient }

// ParseVendorClass decodes option 60. A value that starts with
// "PXEClient" or "HTTPClient" must follow the format shown at
// [VendorClass] as far as it goes: "Arch:" with exactly five digits (at
// most 65535), then "UNDI:" with exactly six; anything after is kept in
// Rest. Any other non-empty value is returned whole in Class. NUL bytes
// at the end, which some firmware appends, are dropped.
func ParseVendorClass(b []byte) (VendorClass, error) {
	const code = dhcpv4.OptionClassIdentifier
	b = bytes.TrimRight(b, "\x00") // some firmware NUL-terminates it
	if len(b) == 0 {
		return VendorClass{}, optMalformed(code, 0, "empty value")
	}
	class, rest, more := bytes.Cut(b, []byte(":"))
	var v VendorClass
	switch string(class) { // no allocation: the conversion is only compared
	case ClassPXEClient:
		v.Class = ClassPXEClient
	case ClassHTTPClient:
		v.Class = ClassHTTPClient
	default:
		return VendorClass{Class: string(b)}, nil
	}
	if f, ok := bytes.CutPrefix(rest, []byte("Arch:")); ok && more {
		var digits []byte
		digits, rest, more = bytes.Cut(f, []byte(":"))
		n, ok := vcDigits(digits, 5)
		if !ok || n > 0xffff {
			return VendorClass{}, optMalformed(code, 0, "Arch field %q in %q is not five decimal digits up to 65535", digits, b)
		}
		v.Arch, v.HasArch = iana.Arch(n), true
	}
	if f, ok := bytes.CutPrefix(rest, []byte("UNDI:")); ok && more {
		var digits []byte
		digits, rest, more = bytes.Cut(f, []byte(":"))
		n, ok := vcDigits(digits, 6)
		if !ok {
			return VendorClass{}, optMalformed(code, 0, "UNDI field %q in %q is not six decimal digits", digits, b)
		}
		v.UNDIMajor, v.UNDIMinor, v.HasUNDI = uint16(n/1000), uint16(n%1000), true
	}
	if more {
		if len(rest) == 0 {
			return VendorClass{}, optMalformed(code, 0, "trailing colon in %q", b)
		}
		v.Rest = string(rest)
	}
	return v, nil
}

// vcDigits parses exactly n decimal digits.
func vcDigits(s []byte, n int) (int, bool) {
	if len(s) != n {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// AppendBinary appends the option value to b. It fails when Class is
// empty or holds a colon next to PXE fields, when Arch or UNDI is set on a
// class other than PXEClient or HTTPClient, or when a UNDI number exceeds
// 999.
func (v VendorClass) AppendBinary(b []byte) ([]byte, error) {
	const code = dhcpv4.OptionClassIdentifier
	if v.Class == "" {
		return b, optInvalid(code, 0, "empty class")
	}
	pxe := v.Class == ClassPXEClient || v.Class == ClassHTTPClient
	if !pxe && (v.HasArch || v.HasUNDI || v.Rest != "") {
		return b, optInvalid(code, 0, "Arch, UNDI or Rest set on class %q", v.Class)
	}
	if v.HasUNDI && (v.UNDIMajor > 999 || v.UNDIMinor > 999) {
		return b, optInvalid(code, 0, "UNDI version %d.%d out of range", v.UNDIMajor, v.UNDIMinor)
	}
	b = append(b, v.Class...)
	if v.HasArch {
		b = append(b, ":Arch:"...)
		b = vcAppendDigits(b, int(v.Arch), 5)
	}
	if v.HasUNDI {
		b = append(b, ":UNDI:"...)
		b = vcAppendDigits(b, int(v.UNDIMajor), 3)
		b = vcAppendDigits(b, int(v.UNDIMinor), 3)
	}
	if v.Rest != "" {
		b = append(b, ':')
		b = append(b, v.Rest...)
	}
	return b, nil
}

func vcAppendDigits(b []byte, v, n int) []byte {
	var d [5]byte
	for i := n - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:n]...)
}

// MarshalBinary returns the option value.
func (v VendorClass) MarshalBinary() ([]byte, error) { return v.AppendBinary(nil) }

// ToBytes implements [dhcpv4.OptionValue]; it returns nil when v cannot be
// encoded.
func (v VendorClass) ToBytes() []byte { return optBytes(v.AppendBinary(nil)) }

// String returns the option value as text, or the class alone when v
// cannot be encoded.
func (v VendorClass) String() string {
	b, err := v.AppendBinary(nil)
	if err != nil {
		return v.Class
	}
	return string(b)
}

// Option returns v as option 60.
func (v VendorClass) Option() dhcpv4.Option {
	return dhcpv4.Option{Code: dhcpv4.OptionClassIdentifier, Value: v}
}

// WithVendorClass returns a modifier that sets option 60, or leaves the
// packet alone when v cannot be encoded.
func WithVendorClass(v VendorClass) dhcpv4.Modifier {
	b, err := v.AppendBinary(nil)
	return optModifier(dhcpv4.OptionClassIdentifier, b, err)
}
