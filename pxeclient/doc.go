// Package pxeclient behaves like PXE boot firmware, for tests of PXE
// servers and for boot-storm measurements: a [Client] with a [Profile]
// taken from a real firmware's DHCPDISCOVER does DHCP, proxyDHCP, loads its
// boot program over TFTP or HTTP and searches the configuration as
// pxelinux would, and returns a [Report] of each stage's time and outcome.
//
// # Profiles
//
// [Profiles] holds one profile per captured firmware (the captures and how
// they were made: nbp/testdata/README.md):
//
//   - "bios-ipxe": the iPXE option ROM under SeaBIOS (ipxe-bios-e1000.bin)
//   - "ipxe-efi": the iPXE EFI driver under OVMF (ovmf-ipxe-virtio.bin)
//   - "ovmf-pxe", "aavmf-pxe": EDK2's UEFI PXE on x86-64 and arm64
//   - "ovmf-http", "aavmf-http": EDK2's UEFI HTTP boot on x86-64 and arm64
//
// A client sends the captured options in the captured order, with the
// captured header flags, replacing only what identifies the machine: its
// MAC (chaddr and option 61), its transaction ID, and option 97 when
// [Client.UUID] is set. A REQUEST is the same option list with option 53
// set to 3 and options 54 and 50 right after it (only DISCOVERs were
// captured, so that placement is an assumption). DISCOVER and REQUEST are
// sent on [Profile.Retransmit], the PXE specification's 4, 8, 16, 32 s for
// every profile (iPXE's own timer is shorter; [Profile.Scaled] shrinks all
// timeouts for tests).
//
// # proxyDHCP
//
// When the offer with an address names no boot file, the client keeps
// collecting offers for [Profile.OfferWait] and boots from a proxyDHCP
// offer (yiaddr 0, option 60 "PXEClient", or "HTTPClient" for HTTP boot).
// The iPXE profiles ([Profile.Proxy4011]) then send a REQUEST to port 4011
// of the proxy server and boot what its ACK names, as iPXE does; the EDK2
// PXE profiles boot the proxy offer's file and go to port 4011 only when
// the offer names none; HTTP boot never goes to port 4011.
//
// # Boot program and configuration
//
// EDK2 PXE asks for the boot program with "tsize 0 blksize 1468
// windowsize 4", reads the OACK, aborts with an ERROR and asks again
// without tsize; iPXE asks with "tsize 0 blksize 1432" and fetches http://
// boot files itself; HTTP boot profiles GET the URL. The TFTP client here
// is small and read-only (RFC 1350, 2347–2349, 7440), written for this
// package; it does not use the server packages.
//
// After the boot program the client looks for the configuration as
// pxelinux does, in [bootmenu.SearchPath] order (option 209 first, then
// UUID, MAC, the hex IP prefixes, "default"), relative to option 210 or the
// boot file's directory, over TFTP with [Profile.Loader] or over HTTP next
// to an HTTP boot file; the first file found wins. For iPXE a boot file
// that starts with "#!ipxe" is the configuration itself. Kernels and
// initrds are not fetched yet.
//
// # Sockets and concurrency
//
// DHCP goes through a [Conn] on port 68, shared by any number of clients
// and demultiplexed by transaction ID. After the ACK, [Client.OnLease] may
// configure the leased address; TFTP and HTTP then use it as their source.
// Every wait is bounded by the profile's timeouts and by the context.
// A [Client] runs one boot at a time; distinct clients may boot
// concurrently.
package pxeclient
