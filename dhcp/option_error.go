package dhcp

import (
	"errors"
	"fmt"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// ErrMalformedOption is wrapped by every error that reports option bytes
// which do not follow the option's specification (wrong length, bad
// syntax, truncated sub-option). Test for it with [errors.Is].
var ErrMalformedOption = errors.New("dhcp: malformed option")

// ErrInvalidOptionValue is wrapped by every error that reports a typed
// option value that cannot be encoded (an empty string, a number out of
// range, an address that is not IPv4).
var ErrInvalidOptionValue = errors.New("dhcp: invalid option value")

// OptionError describes a malformed or unencodable option. It unwraps to
// [ErrMalformedOption] or [ErrInvalidOptionValue].
type OptionError struct {
	// Code is the option code (60, 93, 43 …).
	Code uint8
	// Sub is the sub-option code inside an encapsulating option (43, 175),
	// or 0 when the error is about the option as a whole.
	Sub uint8
	// Msg says what is wrong.
	Msg string
	// Err is ErrMalformedOption or ErrInvalidOptionValue.
	Err error
}

// Error returns a message such as "dhcp: option 43.8: truncated boot server
// list".
func (e *OptionError) Error() string {
	if e.Sub != 0 {
		return fmt.Sprintf("dhcp: option %d.%d: %s", e.Code, e.Sub, e.Msg)
	}
	return fmt.Sprintf("dhcp: option %d: %s", e.Code, e.Msg)
}

// Unwrap returns e.Err.
func (e *OptionError) Unwrap() error { return e.Err }

func optMalformed(code dhcpv4.OptionCode, sub uint8, format string, args ...any) error {
	return &OptionError{Code: code.Code(), Sub: sub, Msg: fmt.Sprintf(format, args...), Err: ErrMalformedOption}
}

func optInvalid(code dhcpv4.OptionCode, sub uint8, format string, args ...any) error {
	return &OptionError{Code: code.Code(), Sub: sub, Msg: fmt.Sprintf(format, args...), Err: ErrInvalidOptionValue}
}

// optBytes is the ToBytes of every option type: the encoding, or nil when
// the value cannot be encoded.
func optBytes(b []byte, err error) []byte {
	if err != nil {
		return nil
	}
	return b
}

// optModifier returns a modifier that sets option code to enc's encoding,
// or leaves the packet unchanged when the value cannot be encoded.
func optModifier(code dhcpv4.OptionCode, b []byte, err error) dhcpv4.Modifier {
	return func(d *dhcpv4.DHCPv4) {
		if err != nil {
			return
		}
		d.UpdateOption(dhcpv4.OptGeneric(code, b))
	}
}
