// Package netboot turns a tree of boot files into what the network serves,
// under one rule for every protocol.
//
// [Dir] serves a directory so that nothing outside it is ever read, whatever
// its symbolic links say, unless the operator allows a directory by name;
// TFTP, HTTP and the boot-program choice all read through it and agree.
// [FileServer], [HTTPServer] and [LimitListener] serve such a tree over HTTP
// to boot clients with bounds no client can stretch: no listings, capped
// ranges, a deadline per write, header/read/idle timeouts and connection
// caps per client and in all.
//
// [New] turns a boot image or tree into the one [fs.FS] that TFTP and HTTP
// serve: the tree, and pxelinux, iPXE and GRUB menus generated from the
// image's isolinux/syslinux configuration or, for images that boot only
// through GRUB (Ubuntu 22.04+, Fedora 37+, RHEL 9), from its grub.cfg
// ([bootmenu.ResolveGRUB]), with kernel lines rewritten per distribution
// family so the booted system fetches its root from this server.
//
// The package opens no sockets of its own: it wraps the listener and
// handler that its caller creates. Image recognition (distribution families
// and their fetch-the-root parameters) is still to come.
package netboot
