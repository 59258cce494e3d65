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

// LoadBalanceHash is the hash function of RFC 3074 §6 over key: Pearson's
// hash, which starts from the key's length (mod 256) and mixes the key's
// bytes from last to first through the RFC's table. Its value is the
// request's hash bucket (0-255). It hashes all of key: the RFC's key, the
// STID, is at most 16 bytes ([BalanceKey] cuts it). It does not allocate.
func LoadBalanceHash(key []byte) uint8 {
	h := uint8(len(key))
	for i := len(key) - 1; i >= 0; i-- {
		h = loadbTable[h^key[i]]
	}
	return h
}

// BalanceKey is what RFC 3074 §4 hashes for req, its service transaction
// ID (STID): the value of its client identifier (option 61) when present,
// else its chaddr (hlen bytes of it), and of either at most the first 16
// bytes. It shares memory with req.
//
// The cut matters for long client identifiers, such as RFC 4361's (type
// 255, IAID and DUID: 19 bytes and more); ISC dhcpd hashes the whole
// identifier, so it may put such a client in another bucket than pxekit.
func BalanceKey(req *dhcpv4.DHCPv4) []byte {
	key := []byte(req.ClientHWAddr)
	if id := req.Options.Get(dhcpv4.OptionClientIdentifier); len(id) > 0 {
		key = id
	}
	return key[:min(len(key), maxSTID)]
}

// maxSTID is the most bytes of a client identifier or chaddr that RFC
// 3074 §4 hashes.
const maxSTID = 16

// A Balancer says which hash buckets (RFC 3074) a server answers: its
// hash bucket assignment (HBA), the set of buckets whose requests it
// must service (§5.2). Implementations must be safe for concurrent use.
type Balancer interface {
	Serves(bucket uint8) bool
}

// Split is a static RFC 3074 assignment of the 256 buckets to N servers
// by an agreed rule (§5.1, whose example is odd and even buckets):
// bucket b belongs to server b mod N; this server is number Index
// (0-based). The zero value (N 0 or 1) serves every bucket.
type Split struct {
	Index, N int
}

// HBA is a hash bucket assignment in the form RFC 3074 §5.2 gives for
// configuring a server: a bitmap of 32 octets, octet i holding buckets
// 8i to 8i+7, each octet's least significant bit the smallest bucket. A
// set bit means the server serves that bucket. The zero value serves
// none; a Split or Failover suits servers that split the buckets among
// themselves, an HBA one configured alongside other implementations.
type HBA [32]byte

// Serves reports whether bucket's bit is set in h.
func (h *HBA) Serves(bucket uint8) bool {
	return h[bucket>>3]&(1<<(bucket&7)) != 0
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
// BalanceSecs (RFC 3074 §4 and §5.3, the Delayed Service parameter: the
// failsafe for a peer that is down or out of addresses), or it is not
// subject to balancing at all.
//
// RFC 3074 decides per request: a server services a request only if the
// hash of its STID is in the server's hash bucket assignment (§4, §5.2).
// It names no message types; its case is the broadcast DISCOVER that
// every server hears (§3), and its unit is the service transaction, the
// DISCOVER/OFFER/REQUEST/ACK exchange (§2.2), all of whose messages
// carry the same STID. Which messages are balanced is the server's
// choice, made here from RFC 2131: a DISCOVER, an INFORM, and a REQUEST
// that names no server because the client is rebooting (INIT-REBOOT) or
// rebinding (broadcast). A message that names a server in option 54 (a
// REQUEST in SELECTING state, DECLINE, RELEASE: RFC 2131 §4.3.2,
// §4.4.4) belongs to the server it names, and a REQUEST unicast straight
// from the client (RENEWING: ciaddr set, no relay, not broadcast) to the
// server that gave the lease; checking their buckets would only drop a
// client this server already serves (after the secs failsafe answered
// it, or after a failover moved its bucket).
//
// Implementations differ on the REQUESTs: ISC dhcpd balances the
// DISCOVER (and BOOTP) only, none of the REQUESTs (a renewing client
// reaches one server only, a rebinding one has lost its own), Kea's HA
// hook balances every type, leases being copied between its peers. Here
// a peer's lease is in the shared store, so the owner of a rebooting or
// rebinding client's bucket can answer it, and does, and the others
// answer it only once its owner is down (Failover) or the client has
// waited BalanceSecs.
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
