// Package dhcp6 holds the DHCPv6 side of network boot: typed boot options
// (RFC 5970 options 59–62, RFC 8415 options 1, 2, 15 and 16) with
// decoders that return clear errors, and the [Boot] answer and [Decider]
// seam a boot policy such as nbp.Policy plugs into.
//
// It builds on github.com/insomniacslk/dhcp/dhcpv6 for the message type
// and option codes; the decoders here work on an option's payload bytes
// (what [dhcpv6.Option.ToBytes] returns), so they check what that library
// accepts without checking.
//
// # Options
//
//   - 1 and 2 (client and server identifier): [ParseDUID], [DUID.AppendBinary];
//     [DUID.MAC] gives the link-layer address a DUID-LL or DUID-LLT carries.
//   - 15 (user class, RFC 8415 §21.15): [ParseUserClass]; iPXE sends "iPXE".
//   - 16 (vendor class, RFC 8415 §21.16): [ParseVendorClass]; PXE firmware
//     sends enterprise 343 with "PXEClient:Arch:…" or "HTTPClient:Arch:…".
//   - 59 (boot file URL, RFC 5970 §3.1): [ParseBootFileURL].
//   - 60 (boot file parameters, RFC 5970 §3.2): [ParseBootFileParams].
//   - 61 (client architecture list, RFC 5970 §3.3): [ParseArchList].
//   - 62 (client network interface identifier, RFC 5970 §3.4): [ParseNII].
//
// Every decoder wraps [ErrMalformedOption] in an [*OptionError] and keeps
// no reference to its input. Decoders and encoders are safe for concurrent
// use.
//
// # Servers
//
// [Server] answers on UDP port 547, stateless (boot options only, the
// v6 counterpart of proxyDHCP) or, with a [Pool], stateful: IA_NA
// addresses (RFC 8415 §18.3) with Rapid Commit, Renew, Rebind, Release,
// Decline and Confirm, leases kept through dhcp.LeaseStore (a
// dhcp.FileStore file of their own) under the same durability rule as
// DHCPv4's. Package dhcp6 imports package dhcp for that store interface
// only.
//
// [Server.Hook] reports what the server does as [events.Event] values of
// the same kinds and shape as package dhcp's (request, identified boot
// client, reply with the boot URL and the address given, ignored with a
// reason), with the client's MAC taken from its DUID, a relay's option 79
// or its link-local address: a timeline joins a v6 machine's transfers
// to its MAC as it does for v4.
//
// The package does not do router advertisements (package ra) or DHCPv4
// (package dhcp).
package dhcp6
