// Package netboot turns a boot image or tree into what the network serves:
// point it at a distribution's ISO image (through package isofs) or a
// directory, and every machine on the network can boot it.
//
// [New] finds the image's boot configuration (isolinux/syslinux, or a
// pxelinux tree's own menu), recognises its distribution family from its
// layout ([DetectFamily]: live-boot, casper, anaconda, dracut live,
// archiso, openSUSE, Alpine, Debian's CD installer) and rewrites each
// entry's kernel line so that the booted system fetches the rest of itself
// from this server over HTTP ([Family.Rewrite]: fetch=, url=,
// inst.stage2=, root=live:, archiso_http_srv=, install=, alpine_repo=),
// removing the selectors that would send it looking for a CD. It renders
// the menu for every loader — pxelinux (under every name pxelinux asks
// for), iPXE and GRUB — with an unattended default and timeout where the
// image's own menu waits for ever, and says in [Boot.Warnings] what it
// could not make bootable.
//
// The [Boot] is one read-only [io/fs.FS] over three layers, asked in one
// order written once in [Boot.Lookup]: the tree itself (a name the tree
// has always wins), the generated configurations, then this machine's
// boot programs ([Files], [DebianPrograms]) where the image has none.
// Give it to tftp.Server{FS: boot} and to [FileServer] unchanged.
// [Boot.Policy] chooses each client's boot program over that same file
// system, so no client is offered a file it cannot fetch
// ([PolicyOptions.HTTPImage] hands UEFI HTTP boot clients a served disk
// image, such as the ISO itself, to boot as a RAM disk instead of iPXE), and
// [Boot.Decider] adds per-machine plans ([Options.Machine]: a machine's
// own kernel, one entry, or its local disk) for provisioning tools.
//
// Secure Boot: [Boot.Policy] offers UEFI clients, over PXE and HTTP
// boot, the tree's shim signed by Microsoft's UEFI CA ([Boot.Shim]);
// [Boot.Lookup] serves shim's second stage under the name shim asks for;
// [ParseEFIProgram] reads a program's signature, signer, and a GRUB's
// built-in prefix and modules; and [Boot.SecureBoot] names every link of
// the offered chain that a machine with Secure Boot enforcing refuses.
//
// [Dir] serves a directory so that nothing outside it is ever read, whatever
// its symbolic links say, unless the operator allows a directory by name;
// TFTP, HTTP and the boot-program choice all read through it and agree.
// [FileServer], [HTTPServer] and [LimitListener] serve a tree over HTTP
// to boot clients with bounds no client can stretch: no listings, capped
// ranges, a deadline per write, header/read/idle timeouts and connection
// caps per client and in all; when the total cap is full, a new client
// takes the place of the connection that has waited longest without a
// request in progress ([LimitConnState]), so that connections that send
// nothing cannot lock clients out, while downloads are never cut.
// [ObserveHTTP] reports each request as [events.Event] values (file,
// range, bytes, status, time).
//
// [New] turns a boot image or tree into the one [fs.FS] that TFTP and HTTP
// serve: the tree, and pxelinux, iPXE and GRUB menus generated from the
// image's isolinux/syslinux configuration or, for images that boot only
// through GRUB (Ubuntu 22.04+, Fedora 37+, RHEL 9), from its grub.cfg
// ([bootmenu.ResolveGRUB]), with kernel lines rewritten per distribution
// family so the booted system fetches its root from this server.
//
// The package opens no sockets of its own: it wraps the listener and
// handler that its caller creates, and the DHCP decider its caller
// serves.
package netboot
