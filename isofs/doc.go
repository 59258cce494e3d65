// Package isofs reads ISO 9660 images as an [io/fs.FS], straight from an
// [io.ReaderAt]: no mounting, no root, no copying of whole files.
//
// [Open] returns an [*FS] that implements [fs.FS], [fs.ReadDirFS],
// [fs.StatFS], [fs.ReadFileFS] and [fs.ReadLinkFS], so [net/http.FileServerFS],
// pxekit's tftp server or anything else that takes an fs.FS can serve an
// installer image as it is:
//
//	f, _ := os.Open("debian.iso")
//	fsys, err := isofs.Open(f)
//	http.Handle("/", http.FileServerFS(fsys))
//
// # What it reads
//
//   - ECMA-119 (ISO 9660) levels 1 to 3: the ";1" version suffix and the dot
//     of an empty extension are removed from names, which keep their case.
//     No entry is lost when that makes two names equal (a file
//     "12345678.;1" and a directory "12345678"): as xorriso does, a file
//     keeps the name and the other entries get "_" appended (then "_2",
//     "_3", ... if that is taken). The same holds for equal names in any
//     tree.
//   - Multi-extent files (ECMA-119 §6.5.1, level 3), such as files over
//     4 GiB, stitched into one file.
//   - Joliet supplementary volumes: UCS-2 (or UTF-16, as xorriso's
//     joliet_utf16 writes it) names. The Joliet specification allows 64
//     characters per name; images made with -joliet-long (xorriso,
//     genisoimage) hold up to 103, and isofs reads a name of any length
//     its record holds (at most 111 UCS-2 units, ";1" included).
//   - Rock Ridge (RRIP 1.10/1.12) over SUSP 1.10/1.12: NM names, PX modes,
//     owners and link counts ([Stat] from [fs.FileInfo.Sys]), TF times, SL
//     symbolic links (their targets as recorded, CURRENT, PARENT and ROOT
//     components and doubled slashes kept: ".//file", not "./file", as
//     xorriso extracts them), CE continuation areas, and RE/CL/PL
//     directories that mastering tools relocated to rr_moved to stay
//     within eight levels, shown back in their real place.
//   - zisofs compression (Rock Ridge ZF entries, algorithm "pz", as
//     mkzftree, mkisofs -z and xorriso's --zisofs filter write it): such
//     files read decompressed, as xorriso extracts them and Linux mounts
//     them, and their size is the uncompressed one. ReadAt at any offset
//     inflates only the blocks (32, 64 or 128 KiB) the bytes lie in; an
//     open file keeps the last block it inflated, so small sequential
//     reads inflate each block once. Only the Rock Ridge tree carries ZF
//     entries: the Joliet and plain trees show such files compressed, as
//     xorriso -read_fs norock extracts them.
//   - El Torito boot catalogs ([FS.BootImages]): BIOS and UEFI entries,
//     platform IDs, emulation types, load segments and image extents; the
//     images open as files ([FS.OpenBootImage], or [Options.BootDir] to put
//     them in the tree), so the EFI system partition inside a hybrid ISO can
//     be served even when no directory lists it.
//
// Names come from Rock Ridge when the image has it, else from Joliet, else
// from the plain ECMA-119 tree; [OpenWith] with [Options.Names] picks one.
// Without Rock Ridge, directories have mode 0555 and files 0555, as Linux
// and xorriso show them, and the recording time is the modification time.
//
// Symbolic links are followed by Open, Stat, ReadFile and ReadDir, and not by
// Lstat and ReadLink. They resolve inside the image: an absolute target
// starts at the image's root, and ".." never climbs above it. [FS.LinksInRoot]
// says so to servers that would otherwise walk the links themselves (the
// tftp package's RootedLinksFS).
//
// # What it does not read
//
// Writing or modifying images; multi-session images other than through the
// volume descriptor at sector 16 (the last session, as xorriso writes it on
// files); interleaved files (file unit size set, [ErrUnsupported]); ZF
// entries of another algorithm than zisofs "pz" (zisofs2 among them: opening
// such a file fails with [ErrUnsupported]); extended attribute records beyond skipping them; UDF bridges (a UDF-only
// image is not an ISO 9660 image); HFS and Apple extensions; associated
// files. The hidden (existence) flag is not honoured: such entries are
// listed.
//
// # Hostile images
//
// Nothing in an image is trusted. Every length, offset and count is checked
// against the image before it is used to read or to size memory, so a
// crafted image yields an error wrapping [ErrCorrupt] or [ErrTruncated],
// never a panic, a hang, or memory beyond a small multiple of the image's
// size: directory and file extents must lie inside the volume, whose last
// byte Open reads; a directory is at most 64 MiB; SUSP continuation chains
// stop after 32 areas or 64 KiB; a directory may appear in only one parent,
// so the tree can neither loop nor fan out; symbolic links are followed at
// most 40 times ([ErrLinkLoop]). A zisofs file's header must agree with
// its ZF entry and its block table must lie inside its recorded data
// (else opening it fails), and each block's pointers must lie inside it
// too, its compressed size at most a block's worst-case deflate size and
// its zlib stream inflate to exactly one block with a right checksum (else
// reading that block fails): reading costs at most one block buffer and
// one inflater at a time, whatever the ZF entry claims. The uncompressed
// size is at most a block per 4-byte table entry, 32,768 times the
// recorded size, and that bounds what [FS.ReadFile] allocates for it.
//
// Damage is kept to the entry it is in: a directory record whose extent
// lies outside the volume, whose size cannot be right or whose SUSP area is
// malformed is left out of its directory, and opening its name fails with
// an error wrapping [ErrCorrupt]; the other entries of the directory are
// still listed and served. [FS.Check] walks the tree and reports each
// damaged entry with its path, so a server can warn at start-up.
//
// # Concurrency and memory
//
// An [FS] is safe for concurrent use. It decodes each directory on first
// use and keeps it in a cache of at most [Options.MaxCacheBytes] bytes
// ([DefaultMaxCacheBytes], 64 MiB, unless set): when a new directory would
// exceed the bound, the least recently used ones are dropped, and decoded
// again from the image when next needed. A decoded directory costs 104
// bytes per entry, plus the entry's name and Rock Ridge TF entry (22 bytes
// as xorriso writes it), a symbolic link's target and 24 bytes per extent
// of a multi-extent or zisofs file (plus 24 for its list), plus 216 bytes
// for the directory. So an
// entry with a 22-character name costs about 148 bytes with Rock Ridge and
// 126 without (BenchmarkMemory: 100,000 entries cost 15 MiB of heap), and
// the default cache holds some 400,000 such entries; a directory larger
// than the bound is decoded on every use and not kept. The root
// directory, where every lookup starts, is never dropped when it costs at
// most a quarter of the bound (it still counts in it). Beyond the cache,
// an FS keeps about 40 bytes for each directory it has visited (its parent,
// which stops a hostile image from looping), and entries handed out
// ([fs.DirEntry], [fs.FileInfo], open files) keep their directory's memory
// until they are released. A file's contents are not cached, but for one
// window: when the image is an [*os.File] (or an [io.SectionReader] of
// one), files of 8 KiB or less read in the order they lie in the image (a
// walk that reads every file) are served from one 64 KiB window per FS,
// read ahead from the image, so that such a walk costs a system call per
// window rather than per file; reads in any other order, reads of larger
// files and reads of images in memory go straight to the image. An open
// [*File] costs 32 bytes and reads from the underlying [io.ReaderAt] as an
// [io.SectionReader] would, so ReadAt may be called from many goroutines
// at once (as [net/http.ServeContent] and TFTP transfers do), while Read
// and Seek share the file offset like those of an [os.File].
// [File.Section] tells where a file stored in one extent lies in the
// image, so that a server can send it from the image itself (with
// sendfile(2), as the netboot package's FileServer does) rather than
// through the file.
// [File.WriteTo] copies in 256 KiB blocks, so io.Copy from a file costs
// few system calls, and writes a small file served by the window straight
// from it.
//
// A lookup starts at the root, except for a name inside the directory in
// which the previous lookup (by any goroutine) found its last element,
// reached without a symbolic link: it starts there, and tries the entry
// after the one found then first, so opening the files of a directory in
// order, as a walk does, costs neither the path's prefix nor a binary
// search. Looking a name up allocates nothing once its directories are
// decoded.
package isofs
