package nbp

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/pxekit/pxekit/dhcp"
)

// FuzzIdentify feeds whole DHCP messages, seeded with the packets real
// firmware sent, through insomniacslk's parser and Identify. Identify must
// not panic, must fail only with ErrNotPXE or a malformed option error,
// and a Policy must be able to judge every client it accepts.
func FuzzIdentify(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "captures", "*.bin"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no captures: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	p := &Policy{HTTPBase: "http://h/", IPXEScript: "s.ipxe"}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := dhcpv4.FromBytes(b)
		if err != nil {
			return
		}
		c, err := Identify(req)
		if err != nil {
			if !errors.Is(err, ErrNotPXE) && !errors.Is(err, dhcp.ErrMalformedOption) {
				t.Fatalf("Identify error %v is neither ErrNotPXE nor malformed", err)
			}
			return
		}
		if !c.VendorClass.IsPXE() && !c.VendorClass.IsHTTP() {
			t.Fatalf("Identify accepted vendor class %q", c.VendorClass.Class)
		}
		ch, err := p.Choose(c)
		if err != nil {
			if !errors.Is(err, ErrUncovered) && !errors.Is(err, ErrChainLoop) {
				t.Fatalf("Choose error %v", err)
			}
			return
		}
		if ch.File == "" {
			t.Fatalf("Choose(%v) chose no file", c)
		}
		_ = c.String()
		_ = c.UUID()
	})
}
