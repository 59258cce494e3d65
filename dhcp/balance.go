package dhcp

import (
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// loadbTable is the mixing table of RFC 3074 §6: the 256 byte values in
// a fixed pseudo-random order.
var loadbTable = [256]uint8{
	251, 175, 119, 215, 81, 14, 79, 191, 103, 49, 181, 143, 186, 157, 0,
	232, 31, 32, 55, 60, 152, 58, 17, 237, 174, 70, 160, 144, 220, 90, 57,
	223, 59, 3, 18, 140, 111, 166, 203, 196, 134, 243, 124, 95, 222, 179,
	197, 65, 180, 48, 36, 15, 107, 46, 233, 130, 165, 30, 123, 161, 209, 23,
	97, 16, 40, 91, 219, 61, 100, 10, 210, 109, 250, 127, 22, 138, 29, 108,
	244, 67, 207, 9, 178, 204, 74, 98, 126, 249, 167, 116, 34, 77, 193,
	200, 121, 5, 20, 113, 71, 35, 128, 13, 182, 94, 25, 226, 227, 199, 75,
	27, 41, 245, 230, 224, 43, 225, 177, 26, 155, 150, 212, 142, 218, 115,
	241, 73, 88, 105, 39, 114, 62, 255, 192, 201, 145, 214, 168, 158, 221,
	148, 154, 122, 12, 84, 82, 163, 44, 139, 228, 236, 205, 242, 217, 11,
	187, 146, 159, 64, 86, 239, 195, 42, 106, 198, 118, 112, 184, 172, 87,
	2, 173, 117, 176, 229, 247, 253, 137, 185, 99, 164, 102, 147, 45, 66,
	231, 52, 141, 211, 194, 206, 246, 238, 56, 110, 78, 248, 63, 240, 189,
	93, 92, 51, 53, 183, 19, 171, 72, 50, 33, 104, 101, 69, 8, 252, 83, 120,
	76, 135, 85, 54, 202, 125, 188, 213, 96, 235, 136, 208, 162, 129, 190,
	132, 156, 38, 47, 1, 7, 254, 24, 4, 216, 131, 89, 21, 28, 133, 37, 153,
	149, 80, 170, 68, 6, 169, 234, 151,
}

// LoadBalanceHash is the hash of RFC 3074 §5 over key: a Pearson hash
// that starts from the key's length (mod 256) and mixes the key's bytes
// from last to first through the RFC's table. Its value is the client's
// hash bucket (0-255). It does not allocate.
func LoadBalanceHash(key []byte) uint8 {
	h := uint8(len(key))
	for i := len(key) - 1; i >= 0; i-- {
		h = loadbTable[h^key[i]]
	}
	return h
}

// BalanceKey is what RFC 3074 §4 hashes for req: the value of its client
// identifier (option 61) when present, else its chaddr. It shares memory
// with req.
func BalanceKey(req *dhcpv4.DHCPv4) []byte {
	if id := req.Options.Get(dhcpv4.OptionClientIdentifier); len(id) > 0 {
		return id
	}
	return req.ClientHWAddr
}

// A Balancer says which hash buckets (RFC 3074) a server answers.
// Implementations must be safe for concurrent use.
type Balancer interface {
	Serves(bucket uint8) bool
}

// Split is a static RFC 3074 assignment of the 256 buckets to N servers:
// bucket b belongs to server b mod N; this server is number Index
// (0-based). The zero value (N 0 or 1) serves every bucket.
type Split struct {
	Index, N int
}

// Serves reports whether bucket belongs to server s.Index.
func (s Split) Serves(bucket uint8) bool {
	if s.N <= 1 {
		return true
	}
	return int(bucket)%s.N == s.Index
}

// balanced reports whether s answers req, which arrived as in, under
// s.Balancer: its bucket is served, or it has waited (secs) at least
// BalanceSecs (RFC 3074 §4, the failsafe for a peer that is down), or it
// is not subject to balancing at all.
//
// RFC 3074 balances the messages with which a client looks for a server:
// DISCOVER, INFORM, and a REQUEST that names no server because the client
// is rebooting (INIT-REBOOT) or rebinding (broadcast). A message that
// names a server in option 54 (a REQUEST in SELECTING state, DECLINE,
// RELEASE: RFC 2131 §4.3.2, §4.4.4) belongs to the server it names, and
// a REQUEST unicast straight from the client (RENEWING: ciaddr set, no
// relay, not broadcast) to the server that gave the lease; checking their
// buckets would only drop a client this server already serves (after the
// secs failsafe answered it, or after a failover moved its bucket).
//
// Implementations differ on the REQUESTs: ISC dhcpd balances none (a
// renewing client reaches one server only, a rebinding one has lost its
// own), Kea's HA hook balances every type, leases being copied between
// its peers. Here a peer's lease is in the shared store, so the owner of
// a rebooting or rebinding client's bucket can answer it, and does, and
// the others answer it only once its owner is down (Failover) or the
// client has waited BalanceSecs.
func (s *Server) balanced(req *dhcpv4.DHCPv4, in inbound) bool {
	if s.Balancer == nil || !balancedType(req, in) {
		return true
	}
	if s.BalanceSecs > 0 && req.NumSeconds >= s.BalanceSecs {
		return true
	}
	return s.Balancer.Serves(LoadBalanceHash(BalanceKey(req)))
}

// balancedType reports whether RFC 3074 balancing applies to req (see
// balanced).
func balancedType(req *dhcpv4.DHCPv4, in inbound) bool {
	switch msgType(req) {
	case dhcpv4.MessageTypeDecline, dhcpv4.MessageTypeRelease:
		return false
	case dhcpv4.MessageTypeRequest:
		if len(req.Options.Get(dhcpv4.OptionServerIdentifier)) > 0 {
			return false // SELECTING: the client chose its server
		}
		ciaddr := req.ClientIPAddr.To4()
		giaddr := req.GatewayIPAddr.To4()
		renewing := ciaddr != nil && !ciaddr.IsUnspecified() && (giaddr == nil || giaddr.IsUnspecified()) &&
			in.dst.IsValid() && in.dst != netip.AddrFrom4([4]byte{255, 255, 255, 255})
		return !renewing
	}
	return true
}
