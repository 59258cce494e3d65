// Package dhcp encodes and decodes the DHCP options of PXE and answers PXE
// clients as a proxyDHCP or full DHCP server. It builds on
// github.com/insomniacslk/dhcp: requests and replies are its
// [dhcpv4.DHCPv4], and every typed option here plugs into its Option and
// Modifier API.
//
// # Options
//
// Typed values with a Parse function and AppendBinary encoder for the
// options of network boot: 60 vendor class ([VendorClass]), 66 and 67
// ([TFTPServerName], [BootFileName]), 93, 94, 97 ([ClientArchs],
// [ClientNDI], [ClientGUID]), 43 PXE vendor options ([PXEVendorOptions]),
// 77 user class, 175 iPXE options, 209–211 pxelinux, 82 relay agent
// information ([RelayAgentInfo], whose link selection sub-option and
// option 118 choose a relayed request's pool); and the options of a
// lease beyond address and mask: address lists 3, 6, 42 ([AddrList]), 26
// ([InterfaceMTU]), 119 domain search list ([DomainSearch], RFC 3397)
// and 121 classless static routes ([ClasslessRoutes], RFC 3442).
//
// # Replies and responders
//
// [NewReply] turns a request and a [Boot] decision into an OFFER or ACK
// with what PXE firmware needs; [AppendMessage] encodes it within the
// client's message size, using option overload (RFC 2132 §9.3) when the
// options do not fit; [ParseRequest] decodes requests defensively.
//
// [Server] answers as proxyDHCP (port 67 and 4011, beside another DHCP
// server, silent to all but boot clients) or, with a [Pool], as a full
// DHCP server (RFC 2131), with one pool per subnet ([Server.Pools]:
// the segments it serves and relayed subnets, chosen by arrival
// interface or giaddr, and by ciaddr for what a relayed client unicasts
// to the server: its renewals and its release), whose leases persist in a [LeaseStore] such as
// [FileStore]; its subnet is that of the served interface unless
// [Pool.Subnet] says otherwise, and [ParseRange] and [ParseAddrs] read the
// ranges and address lists of command lines. Clients are identified by
// option 61 when they send it, else by chaddr; a declined address is a
// known conflict, kept in the store until it is seen free (see [Pool]).
// A FileStore that finds its file damaged keeps the readable leases,
// keeps a copy of the damaged file, warns and reports the damage as a
// [*LeaseFileDamage]; a lease file that is a symbolic link stays one.
// It takes the boot decision from a [Decider], which package
// nbp provides; the strategy per firmware family is described at [Boot].
// [Listen] opens a server's socket, so that a caller binds first and
// serves later ([Server.LoadPools] readies the pools in between).
// It reads IP_PKTINFO to answer each client from the address, and out of
// the interface, it reached, and tells the Decider about both through
// [ArrivalFromContext]. The Server needs Linux (IP_PKTINFO,
// SO_BINDTODEVICE); on other systems Serve and ListenAndServe return an
// error that wraps [errors.ErrUnsupported], and the rest of the package
// works as on Linux. Its log lines caused by single datagrams are rate
// limited per message and sender, with a summary of what was held back,
// so that no client can flood the log.
//
// # Events
//
// [Server.Hook] is told, as [events.Event] values, about every request
// decoded, every boot client identified (architecture and firmware
// family), every reply sent (with its boot file or URL and the address
// given) and every request left unanswered, with the reason (not a boot
// client, no boot program for it, no free address, another segment or
// server, lease store failure, error). Without a hook nothing is built.
//
// # Several servers on one segment
//
// [Server.Balancer] splits clients between servers by RFC 3074: each
// client's hash bucket ([LoadBalanceHash] over [BalanceKey]) has one
// owner, [Split] assigns bucket b to server b mod N, and a server leaves
// the other buckets to its peers (an ignored event with reason
// peer-bucket); [HBA] is the RFC's own bitmap form of a server's buckets.
// RFC 3074 names no message types; here balancing applies to the
// messages with which a client looks for a server (DISCOVER, INFORM, the
// REQUEST of a rebooting or rebinding client), not to those that name a
// server in option 54 or are unicast by a renewing client (RFC 2131).
// [Server.BalanceSecs] answers a client that has waited that many
// seconds anyway (the RFC's Delayed Service parameter, §4 and §5.3).
//
// Servers that share one pool give each address once through a store
// that implements [Allocator] (module github.com/pxekit/pxekit/pgstore
// keeps it in PostgreSQL): offers and leases are claimed in the store,
// conditionally, before they are sent. [Failover] is a Balancer whose
// split follows heartbeats in a [PeerStore] (the same database): a peer
// silent for longer than DeadAfter has its buckets served by the others,
// and gets them back when it beats again. While the shared store cannot
// be reached a server offers nothing and leases nothing new, but it
// acknowledges a RENEW, REBIND or INIT-REBOOT of a lease it holds for
// that lease's time left, extending nothing ([Stats].FromMemory): the
// store keeps the lease's row until then, and no server can claim the
// address before it ends.
//
// # Not covered
//
// DHCPv6 and IPv6 network boot; BOOTP clients without DHCP option 53;
// reservations by client identifier (a client that sends option 61 is
// identified by it, RFC 2131 §4.2, else by chaddr; reservations are by
// chaddr);
// unicast replies to clients without an address (they get broadcasts,
// which RFC 2131 §4.1 permits); sharing one pool through [FileStore]
// (it is no [Allocator]); the DHCP failover protocol (the peers meet in
// their shared store instead); DNS updates. The package does no file system access beyond [FileStore].
//
// # Concurrency
//
// [Server], [Pool] and [FileStore] are safe for concurrent use; the option
// values are plain values. A Decider is called from several goroutines.
package dhcp
