package dhcp

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// The string options of a PXE reply: 66, 67, 209 and 210. Each is a
// non-empty string (RFC 2132 §3.1: minimum length 1). Decoders drop NUL
// bytes at the end, which some servers and clients append, and reject a
// value that is empty or holds a NUL inside. Values longer than 255 bytes
// are legal: insomniacslk's Options.Marshal splits them into several
// instances of the option and its parser joins them again (RFC 3396).

func parseOptString(code dhcpv4.OptionCode, b []byte) (string, error) {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return "", optMalformed(code, 0, "empty value")
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return "", optMalformed(code, 0, "NUL byte inside the value")
	}
	return string(b), nil
}

func appendOptString(code dhcpv4.OptionCode, b []byte, s string) ([]byte, error) {
	if s == "" {
		return b, optInvalid(code, 0, "empty value")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return b, optInvalid(code, 0, "NUL byte in %q", s)
	}
	return append(b, s...), nil
}

// TFTPServerName is option 66, the TFTP server name (RFC 2132 §9.4): a
// host name or dotted address. The zero value is empty and cannot be
// encoded.
type TFTPServerName string

// ParseTFTPServerName decodes option 66.
func ParseTFTPServerName(b []byte) (TFTPServerName, error) {
	s, err := parseOptString(dhcpv4.OptionTFTPServerName, b)
	return TFTPServerName(s), err
}

// AppendBinary appends the option value (without code and length) to b.
func (v TFTPServerName) AppendBinary(b []byte) ([]byte, error) {
	return appendOptString(dhcpv4.OptionTFTPServerName, b, string(v))
}

// MarshalBinary returns the option value.
func (v TFTPServerName) MarshalBinary() ([]byte, error) { return v.AppendBinary(nil) }

// ToBytes implements [dhcpv4.OptionValue]; it returns nil when v cannot be
// encoded.
func (v TFTPServerName) ToBytes() []byte { return optBytes(v.AppendBinary(nil)) }

// String returns the name.
func (v TFTPServerName) String() string { return string(v) }

// Option returns v as option 66.
func (v TFTPServerName) Option() dhcpv4.Option {
	return dhcpv4.Option{Code: dhcpv4.OptionTFTPServerName, Value: v}
}

// WithTFTPServerName returns a modifier that sets option 66, or leaves
// the packet alone when v cannot be encoded.
func WithTFTPServerName(v TFTPServerName) dhcpv4.Modifier {
	b, err := v.AppendBinary(nil)
	return optModifier(dhcpv4.OptionTFTPServerName, b, err)
}

// BootFileName is option 67, the boot file name (RFC 2132 §9.5): a TFTP
// path, or a URL for UEFI HTTP boot and iPXE. The zero value is empty and
// cannot be encoded.
type BootFileName string

// ParseBootFileName decodes option 67.
func ParseBootFileName(b []byte) (BootFileName, error) {
	s, err := parseOptString(dhcpv4.OptionBootfileName, b)
	return BootFileName(s), err
}

// AppendBinary appends the option value (without code and length) to b.
func (v BootFileName) AppendBinary(b []byte) ([]byte, error) {
	return appendOptString(dhcpv4.OptionBootfileName, b, string(v))
}

// MarshalBinary returns the option value.
func (v BootFileName) MarshalBinary() ([]byte, error) { return v.AppendBinary(nil) }

// ToBytes implements [dhcpv4.OptionValue]; it returns nil when v cannot be
// encoded.
func (v BootFileName) ToBytes() []byte { return optBytes(v.AppendBinary(nil)) }

// String returns the file name.
func (v BootFileName) String() string { return string(v) }

// Option returns v as option 67.
func (v BootFileName) Option() dhcpv4.Option {
	return dhcpv4.Option{Code: dhcpv4.OptionBootfileName, Value: v}
}

// WithBootFileName returns a modifier that sets option 67, or leaves the
// packet alone when v cannot be encoded.
func WithBootFileName(v BootFileName) dhcpv4.Modifier {
	b, err := v.AppendBinary(nil)
	return optModifier(dhcpv4.OptionBootfileName, b, err)
}

// PXELinuxConfigFile is option 209 (RFC 5071 §5.1): the configuration file
// pxelinux loads instead of searching pxelinux.cfg/. A relative name is
// relative to the path prefix (option 210). The zero value is empty and
// cannot be encoded.
type PXELinuxConfigFile string

// ParsePXELinuxConfigFile decodes option 209.
func ParsePXELinuxConfigFile(b []byte) (PXELinuxConfigFile, error) {
	s, err := parseOptString(dhcpv4.OptionPXELinuxConfigFile, b)
	return PXELinuxConfigFile(s), err
}

// AppendBinary appends the option value (without code and length) to b.
func (v PXELinuxConfigFile) AppendBinary(b []byte) ([]byte, error) {
	return appendOptString(dhcpv4.OptionPXELinuxConfigFile, b, string(v))
}

// MarshalBinary returns the option value.
func (v PXELinuxConfigFile) MarshalBinary() ([]byte, error) { return v.AppendBinary(nil) }

// ToBytes implements [dhcpv4.OptionValue]; it returns nil when v cannot be
// encoded.
func (v PXELinuxConfigFile) ToBytes() []byte { return optBytes(v.AppendBinary(nil)) }

// String returns the file name.
func (v PXELinuxConfigFile) String() string { return string(v) }

// Option returns v as option 209.
func (v PXELinuxConfigFile) Option() dhcpv4.Option {
	return dhcpv4.Option{Code: dhcpv4.OptionPXELinuxConfigFile, Value: v}
}

// WithPXELinuxConfigFile returns a modifier that sets option 209, or
// leaves the packet alone when v cannot be encoded.
func WithPXELinuxConfigFile(v PXELinuxConfigFile) dhcpv4.Modifier {
	b, err := v.AppendBinary(nil)
	return optModifier(dhcpv4.OptionPXELinuxConfigFile, b, err)
}

// PXELinuxPathPrefix is option 210 (RFC 5071 §5.2): the prefix pxelinux
// puts before every relative file name it loads, usually a directory
// ending in "/". The zero value is empty and cannot be encoded.
type PXELinuxPathPrefix string

// ParsePXELinuxPathPrefix decodes option 210.
func ParsePXELinuxPathPrefix(b []byte) (PXELinuxPathPrefix, error) {
	s, err := parseOptString(dhcpv4.OptionPXELinuxPathPrefix, b)
	return PXELinuxPathPrefix(s), err
}

// AppendBinary appends the option value (without code and length) to b.
func (v PXELinuxPathPrefix) AppendBinary(b []byte) ([]byte, error) {
	return appendOptString(dhcpv4.OptionPXELinuxPathPrefix, b, string(v))
}

// MarshalBinary returns the option value.
func (v PXELinuxPathPrefix) MarshalBinary() ([]byte, error) { return v.AppendBinary(nil) }

// ToBytes implements [dhcpv4.OptionValue]; it returns nil when v cannot be
// encoded.
func (v PXELinuxPathPrefix) ToBytes() []byte { return optBytes(v.AppendBinary(nil)) }

// String returns the prefix.
func (v PXELinuxPathPrefix) String() string { return string(v) }

// Option returns v as option 210.
func (v PXELinuxPathPrefix) Option() dhcpv4.Option {
	return dhcpv4.Option{Code: dhcpv4.OptionPXELinuxPathPrefix, Value: v}
}

// WithPXELinuxPathPrefix returns a modifier that sets option 210, or
// leaves the packet alone when v cannot be encoded.
func WithPXELinuxPathPrefix(v PXELinuxPathPrefix) dhcpv4.Modifier {
	b, err := v.AppendBinary(nil)
	return optModifier(dhcpv4.OptionPXELinuxPathPrefix, b, err)
}

// PXELinuxRebootTime is option 211 (RFC 5071 §5.3): how many seconds
// pxelinux waits, when it cannot load its configuration or kernel, before
// it reboots. It is sent as a 32-bit unsigned number of seconds; the zero
// value means "reboot at once".
type PXELinuxRebootTime uint32

// ParsePXELinuxRebootTime decodes option 211, which must be 4 bytes.
func ParsePXELinuxRebootTime(b []byte) (PXELinuxRebootTime, error) {
	if len(b) != 4 {
		return 0, optMalformed(dhcpv4.OptionPXELinuxRebootTime, 0, "length %d, want 4", len(b))
	}
	return PXELinuxRebootTime(binary.BigEndian.Uint32(b)), nil
}

// PXELinuxRebootTimeOf returns d in whole seconds, rounded up, and false
// when d is negative or too long for the option.
func PXELinuxRebootTimeOf(d time.Duration) (PXELinuxRebootTime, bool) {
	if d < 0 {
		return 0, false
	}
	s := (d + time.Second - 1) / time.Second
	if s > 1<<32-1 {
		return 0, false
	}
	return PXELinuxRebootTime(s), true
}

// Duration returns v as a [time.Duration].
func (v PXELinuxRebootTime) Duration() time.Duration { return time.Duration(v) * time.Second }

// AppendBinary appends the 4-byte option value to b. It never fails.
func (v PXELinuxRebootTime) AppendBinary(b []byte) ([]byte, error) {
	return binary.BigEndian.AppendUint32(b, uint32(v)), nil
}

// MarshalBinary returns the option value.
func (v PXELinuxRebootTime) MarshalBinary() ([]byte, error) { return v.AppendBinary(nil) }

// ToBytes implements [dhcpv4.OptionValue].
func (v PXELinuxRebootTime) ToBytes() []byte { return optBytes(v.AppendBinary(nil)) }

// String returns the time in seconds, such as "30s".
func (v PXELinuxRebootTime) String() string { return strconv.FormatUint(uint64(v), 10) + "s" }

// Option returns v as option 211.
func (v PXELinuxRebootTime) Option() dhcpv4.Option {
	return dhcpv4.Option{Code: dhcpv4.OptionPXELinuxRebootTime, Value: v}
}

// WithPXELinuxRebootTime returns a modifier that sets option 211.
func WithPXELinuxRebootTime(v PXELinuxRebootTime) dhcpv4.Modifier {
	b, err := v.AppendBinary(nil)
	return optModifier(dhcpv4.OptionPXELinuxRebootTime, b, err)
}
