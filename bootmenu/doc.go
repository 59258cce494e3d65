// Package bootmenu reads, edits and writes pxelinux/syslinux menu
// configuration, and renders the same menu for iPXE and GRUB.
//
// It covers the configuration language that syslinux's documentation
// describes for pxelinux, isolinux and syslinux (syslinux.cfg(5),
// pxelinux(1)) and the menu.c32 and vesamenu.c32 menu systems (menu.txt):
// global directives (DEFAULT, UI, PROMPT, TIMEOUT, TOTALTIMEOUT, ONTIMEOUT,
// ONERROR, NOESCAPE, NOCOMPLETE, ALLOWOPTIONS, IMPLICIT, SERIAL, CONSOLE,
// FONT, KBDMAP, DISPLAY, F1–F12, SAY, PATH, INCLUDE, global APPEND and
// IPAPPEND/SYSAPPEND), LABEL blocks (KERNEL and its typed forms LINUX,
// BOOT, BSS, PXE, FDIMAGE, COMBOOT, COM32, CONFIG; INITRD, APPEND,
// IPAPPEND, SYSAPPEND, LOCALBOOT, TEXT HELP … ENDTEXT) and every MENU
// directive (TITLE, LABEL, DEFAULT, HIDE, DISABLE, PASSWD, MASTER PASSWD,
// INDENT, SEPARATOR, BACKGROUND, COLOR, MSGCOLOR, the layout rows and
// margins, RESOLUTION, BEGIN/END, GOTO, EXIT, QUIT, HELP, INCLUDE, …).
// Keywords match without regard to case, and a blank is any byte up to
// ' ', as in syslinux.
//
// # Syntax tree
//
// [Parse] turns a file into a [Config]: every line is a [Node] in order —
// [*Directive] for known keywords, [*Label] for a LABEL with the lines that
// belong to it, [*Text] for TEXT … ENDTEXT, [*Comment], [*Blank], and
// [*Raw] for anything syslinux would ignore. Nodes keep their position and
// spelling, so [Format] reproduces an unmodified file byte for byte, and
// Parse(Format(c)) gives back c. Parsing does no I/O. Errors are
// [*ParseError] values with line and column.
//
// MENU BEGIN and MENU END stay flat directives in the tree, because real
// configurations open a submenu in one file and close it in another.
//
// # Editing
//
// [Config.Labels], [Config.Label], [Config.AddLabel], [Config.RemoveLabel],
// [Config.MoveLabel] and [Config.Set] edit the file; [Label.SetKernel],
// [Label.SetInitrds], [Label.SetAppend], [Label.SetMenuLabel],
// [Label.SetHelp] and [Label.Set] edit an entry. New lines follow the
// style of the file around them. [Config.RewritePaths] moves every file
// name under another prefix; [FSPath] says which file a name refers to.
//
// # Resolved menus and renderers
//
// [FindConfig] finds the isolinux or syslinux configuration of an image
// or tree. [Resolve] reads a configuration from an [io/fs.FS] and works
// in two steps: it expands INCLUDE and MENU INCLUDE (with cycle detection
// and depth and file limits), then interprets the result as menu.c32
// does: a [Resolved] with the title, timeout and default, and a tree of
// [Menu] and [Entry] values with kernel, command line and help text. An
// entry's command line ([Entry.Append]) is the one place its initrds are
// named: [Entry.Initrds] reads them as pxelinux does (the first initrd=
// option only) and [Entry.SetInitrds] edits them. [RenderIPXE],
// [RenderGRUB] and [RenderPXELinux] write that menu for iPXE, for GRUB and
// as one pxelinux file; the first two name files from the root of the
// file system, taking relative names from [Resolved.Dir].
// [Resolved.RewritePaths] moves kernels and initrds to where they are
// served. [SearchPath] lists the configuration files pxelinux asks for, in
// its order, skipping a UUID pxelinux does not accept.
//
// # GRUB configurations
//
// Images without an isolinux menu (Ubuntu 22.04 and later, Fedora 37 and
// later, RHEL 9) boot through GRUB only. [FindGRUBConfig] finds their
// grub.cfg and [ResolveGRUB] reads it into the same [Resolved] value, so
// the renderers work on it unchanged: menuentry blocks become entries with
// their linux/linuxefi and initrd/initrdefi files, submenu blocks become
// submenus, set default= and set timeout= give the default and timeout,
// source and configfile are followed through the fs.FS, and variables the
// file sets are substituted. Nothing is executed: the entries of every
// if/elif/else branch are kept, function bodies are skipped, and unset
// variables are dropped, each with a warning (see ResolveGRUB for the
// rules). Quoting follows GRUB's lexer.
//
// # Checked against
//
// The tests read real GRUB configurations of archiso, Fedora lorax,
// Debian live-build and Ubuntu live-server images (testdata/grub, with
// their provenance), and 117 real syslinux configurations from public projects, Debian's
// netboot menus, the syslinux manual's examples and isolinux menus read
// through isofs from xorriso-mastered images; run pxelinux.0 and the iPXE
// ROM in QEMU on SearchPath's names and on rendered output; and check
// rendered GRUB configurations with grub-script-check.
//
// # Not covered
//
// The package does not boot anything or fetch files other than through
// the fs.FS given to Resolve; it does not run COM32 modules, so CONFIG
// entries, MENU HIDDENKEY commands and kernels given as URLs are data, not
// followed. Colours, layout and F-key screens are parsed and kept but not
// interpreted. The GRUB and iPXE renderers leave out entries those loaders
// cannot run (COM32 modules, floppy images, CONFIG) and say so in a
// comment.
//
// # Concurrency
//
// Parse, Resolve and the renderers may be called concurrently. A Config or
// Resolved value must not be modified while another goroutine reads it.
package bootmenu
