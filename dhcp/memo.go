package dhcp

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// boot returns the boot decision for req: from the Decider for a boot
// client, remembered by MAC for a boot loader's own exchange shortly after
// the firmware's (see [Server.RememberFor]), or ErrNoBoot.
func (s *Server) boot(ctx context.Context, req *dhcpv4.DHCPv4) (*Boot, error) {
	mac := req.ClientHWAddr
	now := s.now()
	if isBootClient(req) {
		if s.Decider == nil {
			return nil, ErrNoBoot
		}
		b, err := s.Decider.Decide(ctx, req)
		if err != nil {
			return nil, err
		}
		if ttl := s.rememberFor(); ttl > 0 {
			s.memo.put(mac, b, now, now.Add(ttl))
		}
		return &b, nil
	}
	// Only a request that looks like a boot loader asking again is
	// answered from memory; an operating system's DHCP client is answered
	// as an operating system, whether it sends its own class (udhcpc:
	// "udhcp 1.36.1") or not (ISC dhclient, systemd-networkd).
	if s.rememberFor() > 0 && !looksLikeOS(req) {
		if b, ok := s.memo.get(mac, now); ok {
			return &b, nil
		}
	}
	return nil, ErrNoBoot
}

// looksLikeOS reports whether req, which lacks a PXE or HTTP boot class,
// comes from an operating system's DHCP client rather than from a boot
// loader's bare exchange (syslinux.efi sends options 53, 57 and 55 only):
// it has a vendor class of its own (60), a host name (12), a client
// identifier (61) or FQDN (81), or it asks for options only a system
// configures: domain search (119), classless static routes (121, 249),
// NTP servers (42), WPAD (252).
func looksLikeOS(req *dhcpv4.DHCPv4) bool {
	for _, c := range [...]dhcpv4.OptionCode{dhcpv4.OptionClassIdentifier, dhcpv4.OptionHostName, dhcpv4.OptionClientIdentifier, dhcpv4.OptionFQDN} {
		if _, ok := req.Options[c.Code()]; ok {
			return true
		}
	}
	for _, c := range req.Options.Get(dhcpv4.OptionParameterRequestList) {
		switch c {
		case 42, 119, 121, 249, 252:
			return true
		}
	}
	return false
}

// now is the server's clock: the Pool's (tests set it) or the real one.
func (s *Server) now() time.Time {
	if p := s.Pool; p == nil && len(s.Pools) > 0 {
		if p := s.Pools[0]; p.now != nil {
			return p.now()
		}
	} else if p != nil && p.now != nil {
		return p.now()
	}
	return time.Now()
}

// defaultRememberFor bounds the memory of boot decisions to the boot
// loader's exchange: syslinux.efi asks within seconds of the firmware,
// an operating system's DHCP client only after its kernel has booted.
const defaultRememberFor = 60 * time.Second

func (s *Server) rememberFor() time.Duration {
	if s.RememberFor == 0 {
		return defaultRememberFor
	}
	return s.RememberFor
}

// memo remembers boot decisions by MAC, bounded in size.
type memo struct {
	mu sync.Mutex
	m  map[string]memoEntry
}

type memoEntry struct {
	boot    Boot
	expires time.Time
}

const memoMax = 1 << 16

func (m *memo) put(mac net.HardwareAddr, b Boot, now, expires time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = make(map[string]memoEntry)
	}
	if _, ok := m.m[string(mac)]; ok {
		m.m[string(mac)] = memoEntry{b, expires}
		return
	}
	if len(m.m) >= memoMax {
		for k, e := range m.m {
			if e.expires.Before(now) {
				delete(m.m, k)
			}
		}
		for k := range m.m {
			if len(m.m) < memoMax {
				break
			}
			delete(m.m, k)
		}
	}
	m.m[string(mac)] = memoEntry{b, expires}
}

func (m *memo) get(mac net.HardwareAddr, now time.Time) (Boot, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[string(mac)]
	if !ok || e.expires.Before(now) {
		return Boot{}, false
	}
	return e.boot, true
}

// macSet remembers MAC addresses for a while, bounded in size: which
// clients a once-per-client log line was written for.
type macSet struct {
	mu sync.Mutex
	m  map[string]time.Time // MAC → when it was added
}

// macSetFor is how long a [macSet] remembers a MAC.
const macSetFor = time.Hour

// add records mac and reports whether it was not already recorded within
// macSetFor before now.
func (s *macSet) add(mac net.HardwareAddr, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at, ok := s.m[string(mac)]; ok && now.Sub(at) < macSetFor && !now.Before(at) {
		return false
	}
	if s.m == nil {
		s.m = make(map[string]time.Time)
	}
	if len(s.m) >= memoMax {
		for k, at := range s.m {
			if now.Sub(at) >= macSetFor || len(s.m) >= memoMax {
				delete(s.m, k)
			}
		}
	}
	s.m[string(mac)] = now
	return true
}
