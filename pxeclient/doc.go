// Package pxeclient behaves like PXE boot firmware, for tests of PXE
// servers and for boot-storm measurements: a [Client] with a [Profile]
// taken from a real firmware's DHCPDISCOVER does DHCP, proxyDHCP, loads its
// boot program over TFTP or HTTP and searches the configuration as
// pxelinux or GRUB would, and returns a [Report] of each stage's time and outcome.
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
// captured, so that placement is an assumption). A DHCPNAK starts DHCP
// over with a DISCOVER (RFC 2131 §4.4.1), at most three times, counted in
// [Report.NAKs]. DISCOVER and REQUEST are
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
// that starts with "#!ipxe" is the configuration itself.
//
// A boot program that is GRUB (a PE/COFF image with GRUB's module area)
// reads files as GRUB does: under the prefix built into the image (its
// directory when it has none), with paths from the root of the server
// and GRUB's TFTP habits ("blksize 1024 tsize 0"). A GRUB image without
// an embedded configuration searches as GRUB's normal mode does
// ([bootmenu.GRUBSearchPath]): over TFTP grub.cfg-<UUID> (when the ACK
// echoed option 97), grub.cfg-01-<MAC>, grub.cfg-<hex IP> shortened one
// digit at a time, then grub.cfg; over HTTP grub.cfg alone. One with an
// embedded configuration, as Debian's signed images are ("normal
// (memdisk)/grub.cfg", a script that sources $prefix/grub.cfg), makes
// no search and reads prefix/grub.cfg; Debian 12's installer GRUB under
// OVMF was seen doing exactly that in the end-to-end test TestBootPaths/uefi-pxe-grub.
// Either way normal mode first asks for its module lists
// (<prefix>/x86_64-efi/command.lst, fs.lst, crypto.lst, terminal.lst;
// arm64-efi on ARM64), which servers seldom have; the client asks for
// them too, after the search and before the configuration is read (GRUB
// opens the configuration found twice, the client reads it once). A
// boot program that is shim
// (its SBAT names "shim") first loads grubx64.efi, or grubaa64.efi for
// ARM64, from its own directory the way the firmware loaded shim, and
// that GRUB searches; a second stage that is not GRUB stops the boot
// with [ErrNotGRUB]. [Report.Loader] says which search ran. Programs
// are recognised by their content only: a file named grubx64.efi that
// is no GRUB image gets the pxelinux search.
//
// # Kernel and initrds
//
// The last stage, [StageLoaded], loads what the configuration boots when
// nobody touches the keyboard, over the same protocol and relative to the
// same place as the configuration (absolute http:// and tftp:// URLs go
// where they say):
//
//   - a pxelinux menu (INCLUDE files fetched as well): the ONTIMEOUT
//     label, else the DEFAULT label (or MENU DEFAULT, into submenus), else
//     the first entry; a DEFAULT that names no label is a command line
//     whose first word is the kernel. Its kernel, then its initrds in
//     order.
//   - a GRUB configuration (a file named grub.cfg or grub.cfg-…, read by
//     [bootmenu.ResolveGRUB]): the default entry's linux and initrd files.
//   - an iPXE script, run as iPXE runs it unattended: menus take their
//     --default (or first) item, prompts time out, isset, iseq, set, goto
//     and the || and && chains are followed; kernel, initrd, module and
//     imgfetch load images, boot ends the run, chain loads a script and
//     runs it (names then relative to it) or ends the run with the
//     program it loaded. Other commands do nothing.
//
// A configuration that boots no kernel by default (local boot, a COM32
// module, exit) stops the boot with [ErrNoKernel]. [Report.Files] lists
// every file loaded, with its size and CRC-32C, so that a caller can
// check each arrived intact; [Client.NoLoad] stops at [StageConfig].
// Kernels and initrds are counted and checksummed, never kept in memory.
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
