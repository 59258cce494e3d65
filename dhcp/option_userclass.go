package dhcp

import (
	"strings"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// UserClass is option 77, the user class. It comes in two encodings:
//
//   - plain: the whole value is one class name, as iPXE sends "iPXE" and
//     as RFC 3004 predecessors and many clients still do;
//   - RFC 3004 §4: a sequence of classes, each a length byte followed by
//     that many bytes.
//
// The zero value is empty and cannot be encoded.
type UserClass struct {
	// Classes are the class names. A plain value has exactly one.
	Classes []string
	// RFC3004 selects the RFC 3004 encoding.
	RFC3004 bool
}

// ParseUserClass decodes option 77. A value that parses completely as an
// RFC 3004 list of non-empty classes is taken as one; anything else is one
// plain class. (A plain name whose first byte happens to give the length
// of the rest, such as "\x04iPXE", cannot be told apart and is read as
// RFC 3004.)
func ParseUserClass(b []byte) (UserClass, error) {
	if len(b) == 0 {
		return UserClass{}, optMalformed(dhcpv4.OptionUserClassInformation, 0, "empty value")
	}
	if n := userClassCount(b); n > 0 {
		s := string(b)
		u := UserClass{Classes: make([]string, 0, n), RFC3004: true}
		for i := 0; i < len(s); {
			l := int(s[i])
			u.Classes = append(u.Classes, s[i+1:i+1+l])
			i += 1 + l
		}
		return u, nil
	}
	return UserClass{Classes: []string{string(b)}}, nil
}

// userClassCount returns the number of classes in b read as an RFC 3004
// list, or 0 when b is not one.
func userClassCount(b []byte) int {
	n := 0
	for i := 0; i < len(b); {
		l := int(b[i])
		if l == 0 || i+1+l > len(b) {
			return 0
		}
		i += 1 + l
		n++
	}
	return n
}

// UserClassHas reports whether the option 77 value b, in either encoding,
// contains class. It does not allocate.
func UserClassHas(b []byte, class string) bool {
	if userClassCount(b) > 0 {
		for i := 0; i < len(b); {
			l := int(b[i])
			if string(b[i+1:i+1+l]) == class {
				return true
			}
			i += 1 + l
		}
		return false
	}
	return string(b) == class
}

// Has reports whether u contains class.
func (u UserClass) Has(class string) bool {
	for _, c := range u.Classes {
		if c == class {
			return true
		}
	}
	return false
}

// AppendBinary appends the option value to b. It fails when there is no
// class, when a plain value has more than one class, or when an RFC 3004
// class is empty or longer than 255 bytes.
func (u UserClass) AppendBinary(b []byte) ([]byte, error) {
	const code = dhcpv4.OptionUserClassInformation
	if len(u.Classes) == 0 {
		return b, optInvalid(code, 0, "no class")
	}
	if !u.RFC3004 {
		if len(u.Classes) != 1 || u.Classes[0] == "" {
			return b, optInvalid(code, 0, "a plain user class holds exactly one non-empty class, not %q", u.Classes)
		}
		return append(b, u.Classes[0]...), nil
	}
	for _, c := range u.Classes {
		if c == "" || len(c) > 255 {
			return b, optInvalid(code, 0, "RFC 3004 class of length %d, want 1 to 255", len(c))
		}
		b = append(b, byte(len(c)))
		b = append(b, c...)
	}
	return b, nil
}

// MarshalBinary returns the option value.
func (u UserClass) MarshalBinary() ([]byte, error) { return u.AppendBinary(nil) }

// ToBytes implements [dhcpv4.OptionValue]; it returns nil when u cannot be
// encoded.
func (u UserClass) ToBytes() []byte { return optBytes(u.AppendBinary(nil)) }

// String returns the classes separated by commas.
func (u UserClass) String() string { return strings.Join(u.Classes, ", ") }

// Option returns u as option 77.
func (u UserClass) Option() dhcpv4.Option {
	return dhcpv4.Option{Code: dhcpv4.OptionUserClassInformation, Value: u}
}

// WithUserClass returns a modifier that sets option 77, or leaves the
// packet alone when u cannot be encoded.
func WithUserClass(u UserClass) dhcpv4.Modifier {
	b, err := u.AppendBinary(nil)
	return optModifier(dhcpv4.OptionUserClassInformation, b, err)
}
