// Package pxekit is a toolkit of PXE network-boot building blocks: packages
// that answer PXE clients over DHCP, serve boot programs over TFTP, read and
// write pxelinux menus, read files straight out of ISO images, and decide
// which boot program each kind of client gets. This package holds no code;
// it is the map.
//
// # How a PXE boot flows
//
// A machine's firmware (a BIOS PXE ROM, UEFI PXE, UEFI HTTP boot or iPXE)
// broadcasts a DHCPDISCOVER that names its architecture (option 93), its
// class ("PXEClient:Arch:00007:UNDI:003016", option 60), its network
// interface (94) and its machine GUID (97).
//
//   - [github.com/pxekit/pxekit/nbp] reads that request into a typed
//     description of the client and chooses what it boots: a TFTP file, an
//     HTTP URL, or an iPXE script for a client that already runs iPXE.
//   - [github.com/pxekit/pxekit/dhcp] encodes and decodes the PXE options and
//     answers the client, either as a full DHCP server that also hands out
//     addresses or as proxyDHCP beside an existing DHCP server, from the
//     address on the client's own segment. Several full DHCP servers share
//     one pool through github.com/pxekit/pxekit/pgstore, a PostgreSQL lease
//     store in a module of its own (so that this one needs no database
//     driver), with RFC 3074 load balancing and failover.
//   - [github.com/pxekit/pxekit/dhcp6] is the DHCPv6 counterpart: typed
//     boot options (RFC 5970 59–62, user and vendor class, DUIDs), the
//     seam through which nbp answers v6 clients with boot URLs, and a
//     DHCPv6 server, stateless or with an IA_NA address pool.
//   - [github.com/pxekit/pxekit/tftp] serves the boot program, and then its
//     configuration files, kernels and initrds, from any [io/fs.FS]: a
//     directory, an ISO image, or files generated per request.
//   - [github.com/pxekit/pxekit/bootmenu] parses, edits and prints pxelinux
//     menus, renders the same menu as an iPXE script or a GRUB configuration,
//     and knows the order in which pxelinux looks for its configuration.
//   - [github.com/pxekit/pxekit/isofs] reads ISO 9660 images (Joliet, Rock
//     Ridge, El Torito) as an [io/fs.FS], so kernels and initrds are served
//     straight out of distribution media without mounting them.
//   - [github.com/pxekit/pxekit/ra] sends IPv6 router advertisements
//     (M/O flags for the DHCPv6 mode, prefixes for SLAAC, RDNSS),
//     solicited and periodic.
//   - [github.com/pxekit/pxekit/pxeclient] is the other side: it behaves
//     like the firmware (captured DHCP requests, proxyDHCP, TFTP and HTTP
//     with each firmware's habits, the pxelinux or GRUB configuration
//     search, shim's second stage, the kernel and initrds the
//     configuration boots), to
//     test any PXE server; examples/pxestorm boots hundreds of such
//     machines at once and prints per-stage percentiles.
//
// Each server reports what it does as [github.com/pxekit/pxekit/events]
// values through a hook (one shape for DHCP, TFTP and HTTP), and
// [github.com/pxekit/pxekit/timeline] joins them into one boot timeline
// per machine.
//
// The packages meet only at standard interfaces ([io/fs.FS], [io.ReaderAt],
// [net.PacketConn], [log/slog.Logger]), so each one can be used, or
// replaced, on its own. The programs under examples/ assemble them into
// working boot servers; examples/minimal-server is the place to start.
package pxekit
