package dhcp

import (
	"fmt"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// SubOption is one option inside an encapsulating option such as 43 (PXE
// vendor options) or 175 (iPXE options): a code and its value.
type SubOption struct {
	Code uint8
	Data []byte
}

// String returns "code: hex bytes".
func (s SubOption) String() string { return fmt.Sprintf("%d: % x", s.Code, s.Data) }

// parseSubOptions decodes an encapsulated option list into sub-options in
// the order their codes first appear. Pad (0) is skipped, End (255) stops
// the list and what follows it is ignored. A code that appears more than
// once has its values joined in order, the rule RFC 3396 sets for options,
// applied to sub-options as well. All values share one copy of b.
func parseSubOptions(code dhcpv4.OptionCode, b []byte) ([]SubOption, error) {
	var (
		lens     [256]int   // value bytes per code
		seen     [256]bool  // code present
		order    [256]uint8 // codes in first-seen order
		distinct int
		total    int
	)
	end := len(b)
	for i := 0; i < len(b); {
		c := b[i]
		if c == 0 {
			i++
			continue
		}
		if c == 255 {
			end = i
			break
		}
		if i+1 >= len(b) {
			return nil, optMalformed(code, c, "truncated: no length byte")
		}
		n := int(b[i+1])
		if i+2+n > len(b) {
			return nil, optMalformed(code, c, "truncated: length %d, %d bytes left", n, len(b)-i-2)
		}
		if !seen[c] {
			seen[c] = true
			order[distinct] = c
			distinct++
		}
		lens[c] += n
		total += n
		i += 2 + n
	}
	if distinct == 0 {
		return nil, nil
	}
	buf := make([]byte, total)
	subs := make([]SubOption, distinct)
	var next [256]int // where the next piece of each code's value goes
	off := 0
	for k, c := range order[:distinct] {
		subs[k] = SubOption{Code: c, Data: buf[off : off+lens[c] : off+lens[c]]}
		next[c] = off
		off += lens[c]
	}
	for i := 0; i < end; {
		c := b[i]
		if c == 0 {
			i++
			continue
		}
		n := int(b[i+1])
		next[c] += copy(buf[next[c]:], b[i+2:i+2+n])
		i += 2 + n
	}
	return subs, nil
}

// appendSubOption appends one sub-option, split into several instances of
// at most 255 bytes each when it is longer (RFC 3396's splitting rule,
// applied to the sub-option).
func appendSubOption(code dhcpv4.OptionCode, b []byte, sub uint8, data []byte) ([]byte, error) {
	if sub == 0 || sub == 255 {
		return b, optInvalid(code, sub, "sub-option code %d is reserved for pad or end", sub)
	}
	if len(data) == 0 {
		return append(b, sub, 0), nil
	}
	for len(data) > 0 {
		n := min(len(data), 255)
		b = append(b, sub, byte(n))
		b = append(b, data[:n]...)
		data = data[n:]
	}
	return b, nil
}
