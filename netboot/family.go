package netboot

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Names of the distribution families [DetectFamily] recognises.
const (
	FamilyLiveBoot   = "live-boot"   // Debian Live, Kali, Clonezilla, GParted, grml
	FamilyCasper     = "casper"      // Ubuntu, Mint, Pop!_OS desktop and live-server images
	FamilyAnaconda   = "anaconda"    // Fedora, RHEL, CentOS, Rocky, Alma installers
	FamilyDracutLive = "dracut-live" // Fedora Live and other dracut dmsquash-live images
	FamilyArchiso    = "archiso"     // Arch Linux, EndeavourOS, SystemRescue
	FamilyOpenSUSE   = "opensuse"    // openSUSE and SLE installers (linuxrc)
	FamilyAlpine     = "alpine"      // Alpine Linux
	FamilyDebianCD   = "debian-cd"   // Debian (and old Ubuntu) netinst/DVD: d-i's CD initrd
)

var (
	// ErrUnknownFamily is wrapped by [DetectFamily]'s error for an image
	// whose layout matches no family; the error says what was looked for.
	ErrUnknownFamily = errors.New("netboot: image of no known distribution family")
	// ErrNotNetbootable is wrapped by [Family.Rewrite]'s error for an
	// entry whose initramfs has no way to fetch its root over the network;
	// the error says why and what to boot instead.
	ErrNotNetbootable = errors.New("netboot: entry cannot boot over the network")
	// ErrNeedImage is wrapped by [Family.Rewrite]'s error when the family
	// downloads the whole image file and [Served.ImageURL] is not set.
	ErrNeedImage = errors.New("netboot: the whole image file must be served over HTTP")
	// ErrMissingFile is wrapped by [Family.Rewrite]'s error when the
	// command line needs a file the image does not have.
	ErrMissingFile = errors.New("netboot: file needed by the kernel line is not in the image")
)

// Family is a recognised distribution family: how its initramfs finds its
// root file system, and what an HTTP server must offer for it to find it
// over the network. [DetectFamily] makes one from an image's layout;
// [Family.Rewrite] turns the image's own kernel lines into network ones.
//
// A Family is read-only after DetectFamily returns, and safe for
// concurrent use.
type Family struct {
	// Name is one of the Family* constants.
	Name string
	// Evidence lists the paths in the image that recognised it.
	Evidence []string
	// Serve lists the image paths the initramfs downloads over HTTP, as
	// served under [Served.BaseURL]; a name ending in "/" is a directory
	// whose files it may read. Empty when NeedsImage is set.
	Serve []string
	// NeedsImage reports that the initramfs downloads the whole image
	// file ([Served.ImageURL]) rather than files out of it (casper).
	NeedsImage bool
	// Notes are caveats for whoever boots it: RAM needed, what the
	// initramfs may lack.
	Notes []string
	// Treeinfo is the image's parsed .treeinfo (anaconda), or nil.
	Treeinfo *Treeinfo

	files    map[string]bool // relevant files found, by image path
	squashfs []string        // live-boot and casper root images
	archiso  []archisoRoot   // archiso base directories and arches
}

type archisoRoot struct {
	base, arch, img string // img: "sfs" or "erofs"
}

// Served says where the image is offered over HTTP, and for which entry a
// command line is rewritten.
type Served struct {
	// BaseURL is the URL under which the image's files are served, its
	// root at the end: "http://10.0.0.1:8080/debian/". A missing final
	// "/" is added. Use an IP address: several initramfs downloaders
	// (busybox wget in live-boot and casper) cannot resolve host names.
	BaseURL string
	// ImageURL is the URL of the whole image file, when it is served;
	// casper needs it (it loop-mounts the downloaded ISO), and it must
	// end in ".iso".
	ImageURL string
	// Kernel is the entry's kernel path as its configuration writes it
	// (bootmenu's Entry.Kernel), taken relative to the image's root: a
	// leading "/" or syslinux's "::" is ignored. Some families read their
	// layout from it (archiso's base directory, Alpine's flavour).
	Kernel string
	// Extra are the operator's own arguments. Each replaces every
	// argument of the image's line with the same name, and any that
	// Rewrite would add; flags are added once.
	Extra string
}

func (s Served) base() string {
	if strings.HasSuffix(s.BaseURL, "/") {
		return s.BaseURL
	}
	return s.BaseURL + "/"
}

func (s Served) kernel() string {
	k := strings.TrimPrefix(s.Kernel, "::")
	k = strings.TrimLeft(k, "/")
	if k == "" {
		return ""
	}
	return path.Clean(k)
}

// maxScan bounds the directory entries DetectFamily reads in one
// directory: an image with more is not read further there.
const maxScan = 4096

// DetectFamily recognises the distribution family of an image or tree
// from its layout (never from its names or labels), reading fsys only
// with Stat, ReadDir and, for .treeinfo, ReadFile. It checks, in order:
//
//   - anaconda: a .treeinfo file (parsed into [Family.Treeinfo]) or
//     images/install.img;
//   - dracut-live: LiveOS/squashfs.img;
//   - casper: casper/*.squashfs;
//   - live-boot: live/*.squashfs, or live/<flavour>/*.squashfs;
//   - archiso: <base>/<arch>/airootfs.sfs or .erofs in a top-level
//     directory (arch, sysresccd, …);
//   - openSUSE: boot/<arch>/loader/linux with boot/<arch>/root or media.1/;
//   - Alpine: .alpine-release, or boot/modloop-* with apks/;
//   - debian-cd: dists/ and pool/ with install.<arch>/ or install/.
//
// An image that matches none gives an error wrapping [ErrUnknownFamily].
// Other errors are those of fsys (a .treeinfo that does not parse is a
// [*TreeinfoError]).
func DetectFamily(fsys fs.FS) (*Family, error) {
	d := detector{fsys: fsys}
	for _, try := range []func() (*Family, error){
		d.anaconda, d.dracutLive, d.casper, d.liveBoot, d.archiso,
		d.opensuse, d.alpine, d.debianCD,
	} {
		f, err := try()
		if err != nil || f != nil {
			return f, err
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	return nil, fmt.Errorf("%w: no .treeinfo, LiveOS/squashfs.img, casper/*.squashfs, live/*.squashfs, "+
		"<dir>/<arch>/airootfs.sfs, boot/<arch>/loader/, .alpine-release or dists/+install*/ found", ErrUnknownFamily)
}

type detector struct {
	fsys fs.FS
	err  error // the first error other than "does not exist"
}

func (d *detector) note(err error) {
	if err != nil && !errors.Is(err, fs.ErrNotExist) && d.err == nil {
		d.err = err
	}
}

func (d *detector) isFile(name string) bool {
	fi, err := fs.Stat(d.fsys, name)
	d.note(err)
	return err == nil && fi.Mode().IsRegular()
}

func (d *detector) isDir(name string) bool {
	fi, err := fs.Stat(d.fsys, name)
	d.note(err)
	return err == nil && fi.IsDir()
}

// list returns the entries of dir, at most maxScan of them.
func (d *detector) list(dir string) []fs.DirEntry {
	ents, err := fs.ReadDir(d.fsys, dir)
	d.note(err)
	if len(ents) > maxScan {
		ents = ents[:maxScan]
	}
	return ents
}

// filesWith returns the regular files in dir whose names end in suffix.
func (d *detector) filesWith(dir, suffix string) []string {
	var out []string
	for _, e := range d.list(dir) {
		if strings.HasSuffix(e.Name(), suffix) && e.Type().IsRegular() {
			out = append(out, path.Join(dir, e.Name()))
		}
	}
	return out
}

func newFamily(name string, evidence ...string) *Family {
	return &Family{Name: name, Evidence: evidence, files: map[string]bool{}}
}

// anaconda: lorax writes .treeinfo and images/install.img into every
// installer image and tree; anaconda's dracut hook reads [stage2]
// mainimage from the .treeinfo at the inst.repo/inst.stage2 URL, then
// falls back to images/install.img and LiveOS/squashfs.img (anaconda
// dracut/anaconda-lib.sh, anaconda_net_root).
func (d *detector) anaconda() (*Family, error) {
	hasTI := d.isFile(".treeinfo")
	hasStage2 := d.isFile("images/install.img")
	if !hasTI && !hasStage2 {
		return nil, nil
	}
	f := newFamily(FamilyAnaconda)
	if hasTI {
		b, err := fs.ReadFile(d.fsys, ".treeinfo")
		if err != nil {
			return nil, err
		}
		ti, err := ParseTreeinfo(b)
		if err != nil {
			return nil, err
		}
		f.Treeinfo = ti
		f.Evidence = append(f.Evidence, ".treeinfo")
		f.Serve = append(f.Serve, ".treeinfo")
	}
	main := ""
	if f.Treeinfo != nil {
		main = f.Treeinfo.MainImage()
	}
	stage2 := ""
	for _, p := range []string{main, "images/install.img", "LiveOS/squashfs.img"} {
		if p != "" && fs.ValidPath(p) && d.isFile(p) {
			stage2 = p
			break
		}
	}
	if stage2 == "" {
		if !hasTI {
			return nil, nil
		}
		f.Notes = append(f.Notes, "no stage 2 image (images/install.img) found: anaconda will not start")
	} else {
		f.Evidence = append(f.Evidence, stage2)
		f.Serve = append(f.Serve, stage2)
		f.files[stage2] = true
	}
	if d.isFile("LiveOS/squashfs.img") {
		f.files["LiveOS/squashfs.img"] = true
	}
	for _, p := range []string{"images/updates.img", "images/product.img"} {
		if d.isFile(p) {
			f.Serve = append(f.Serve, p)
		}
	}
	for _, r := range f.Treeinfo.Repositories() {
		r = path.Clean(r)
		if fs.ValidPath(r) && d.isDir(path.Join(r, "repodata")) {
			f.files["repo:"+r] = true
			if r == "." {
				r = ""
			}
			f.Serve = append(f.Serve, r+"/")
		}
	}
	if len(f.Treeinfo.Repositories()) == 0 && d.isDir("repodata") {
		f.files["repo:."] = true
		f.Serve = append(f.Serve, "/")
	}
	f.Notes = append(f.Notes, "the installer's stage 2 (install.img, several hundred MB) is held in RAM")
	return f, nil
}

// hasRepo reports whether the tree carries a package repository.
func (f *Family) hasRepo() bool {
	for k := range f.files {
		if strings.HasPrefix(k, "repo:") {
			return true
		}
	}
	return false
}

// dracut-live: Fedora Live images boot with root=live:CDLABEL=… and keep
// their root in LiveOS/squashfs.img (dracut modules.d/90dmsquash-live).
func (d *detector) dracutLive() (*Family, error) {
	const img = "LiveOS/squashfs.img"
	if !d.isFile(img) {
		return nil, nil
	}
	if d.isDir("boot/x86_64/loader") || d.isDir("boot/aarch64/loader") {
		// kiwi live images (openSUSE) use their own dracut module,
		// which takes root=live:<url of the .iso> only from kiwi
		// 10.2.24 on; not handled.
		return nil, fmt.Errorf("%w: kiwi live image (LiveOS/squashfs.img with boot/<arch>/loader/): not handled", ErrUnknownFamily)
	}
	f := newFamily(FamilyDracutLive, img)
	f.Serve = []string{img}
	f.squashfs = []string{img}
	f.Notes = []string{"the squashfs is downloaded into RAM; dracut's livenet module must be in the initrd " +
		"(Fedora's has it), and rd.minmem (default 1024 MiB) must be met"}
	return f, nil
}

// casper: Ubuntu images keep their root in casper/*.squashfs and mark
// themselves with .disk/casper-uuid*, which casper compares with the uuid
// its initrd was built with (casper scripts/casper, matches_uuid).
func (d *detector) casper() (*Family, error) {
	sq := d.filesWith("casper", ".squashfs")
	if len(sq) == 0 {
		return nil, nil
	}
	f := newFamily(FamilyCasper, sq...)
	f.squashfs = sq
	for _, u := range d.filesWith(".disk", "") {
		if strings.HasPrefix(path.Base(u), "casper-uuid") {
			f.Evidence = append(f.Evidence, u)
		}
	}
	f.NeedsImage = true
	f.Notes = []string{"casper downloads the whole ISO into RAM (wget) and loop-mounts it: " +
		"the client needs RAM for the ISO plus the running system"}
	return f, nil
}

// live-boot: live-build images keep their root in live/filesystem.squashfs
// (live-media-path=, default "live", names the directory: grml puts each
// flavour in live/<flavour>/).
func (d *detector) liveBoot() (*Family, error) {
	sq := d.filesWith("live", ".squashfs")
	for _, e := range d.list("live") {
		if e.IsDir() {
			sq = append(sq, d.filesWith(path.Join("live", e.Name()), ".squashfs")...)
		}
	}
	if len(sq) == 0 {
		return nil, nil
	}
	f := newFamily(FamilyLiveBoot, sq...)
	f.squashfs = sq
	f.Serve = sq
	if d.isDir("install") || d.isDir("install.amd") || d.isDir("d-i") {
		f.Notes = append(f.Notes, "the image's installer entries (install/) use d-i's CD initrd, which cannot install over the network")
	}
	f.Notes = append(f.Notes, "the squashfs is downloaded into RAM (fetch=)")
	return f, nil
}

// archiso: mkarchiso writes <install_dir>/<arch>/airootfs.sfs (or .erofs)
// and <install_dir>/boot/<arch>/vmlinuz-*; install_dir is "arch" for Arch
// Linux, "sysresccd" for SystemRescue (mkinitcpio-archiso hooks/archiso).
func (d *detector) archiso() (*Family, error) {
	var roots []archisoRoot
	for _, top := range d.list(".") {
		if !top.IsDir() || strings.HasPrefix(top.Name(), ".") {
			continue
		}
		for _, sub := range d.list(top.Name()) {
			if !sub.IsDir() || sub.Name() == "boot" {
				continue
			}
			for _, img := range []string{"sfs", "erofs"} {
				p := path.Join(top.Name(), sub.Name(), "airootfs."+img)
				if d.isFile(p) {
					roots = append(roots, archisoRoot{base: top.Name(), arch: sub.Name(), img: img})
					break
				}
			}
		}
	}
	if len(roots) == 0 {
		return nil, nil
	}
	f := newFamily(FamilyArchiso)
	f.archiso = roots
	for _, r := range roots {
		dir := path.Join(r.base, r.arch)
		img := path.Join(dir, "airootfs."+r.img)
		f.Evidence = append(f.Evidence, img)
		f.Serve = append(f.Serve, img)
		for _, extra := range []string{"airootfs.sha512", "airootfs." + r.img + ".sig", "airootfs." + r.img + ".cms.sig"} {
			if p := path.Join(dir, extra); d.isFile(p) {
				f.files[p] = true
				f.Serve = append(f.Serve, p)
			}
		}
	}
	f.Evidence = append(f.Evidence, d.filesWith("boot", ".uuid")...)
	f.Notes = []string{"archiso copies the root image into a tmpfs of 75% of RAM (archiso_http_spc=)"}
	return f, nil
}

// openSUSE: the installer's tree has boot/<arch>/loader/{linux,initrd}
// and the installation system in boot/<arch>/root; linuxrc takes the
// tree's URL in install= (openSUSE/linuxrc linuxrc_repo.md).
func (d *detector) opensuse() (*Family, error) {
	for _, arch := range []string{"x86_64", "aarch64", "ppc64le", "s390x", "i386"} {
		loader := path.Join("boot", arch, "loader")
		if !d.isFile(path.Join(loader, "linux")) {
			continue
		}
		root := path.Join("boot", arch, "root")
		if !d.isFile(root) && !d.isDir(root) && !d.isDir("media.1") {
			continue
		}
		f := newFamily(FamilyOpenSUSE, path.Join(loader, "linux"))
		if d.isDir("media.1") {
			f.Evidence = append(f.Evidence, "media.1/")
		}
		f.Serve = []string{"/"}
		return f, nil
	}
	return nil, nil
}

// Alpine: images carry .alpine-release, boot/{vmlinuz,initramfs,modloop}-
// <flavour> and the packages in apks/ (aports scripts/mkimg.base.sh).
func (d *detector) alpine() (*Family, error) {
	rel := d.isFile(".alpine-release")
	modloops := d.filesWith("boot", "")
	var ml []string
	for _, m := range modloops {
		if strings.HasPrefix(path.Base(m), "modloop-") {
			ml = append(ml, m)
		}
	}
	apks := d.isDir("apks")
	if !rel && (len(ml) == 0 || !apks) {
		return nil, nil
	}
	f := newFamily(FamilyAlpine)
	if rel {
		f.Evidence = append(f.Evidence, ".alpine-release")
	}
	f.Evidence = append(f.Evidence, ml...)
	for _, m := range ml {
		f.files[m] = true
	}
	f.Serve = append(f.Serve, ml...)
	if apks {
		f.files["apks/"] = true
		f.Serve = append(f.Serve, "apks/")
	}
	f.Notes = []string{"the initramfs of Alpine's ISO images is built without the network feature " +
		"(\"DHCP requested but not present in initrd\"); boot the release's netboot kernel and initramfs " +
		"with these parameters, or one built with mkinitfs -F network"}
	return f, nil
}

// debian-cd: netinst, CD and DVD images of Debian (and Ubuntu's old
// alternate images) carry d-i in install.<arch>/ (or install/) with the
// archive in dists/ and pool/.
func (d *detector) debianCD() (*Family, error) {
	if !d.isDir("dists") || !d.isDir("pool") {
		return nil, nil
	}
	var inst []string
	for _, e := range d.list(".") {
		if e.IsDir() && (e.Name() == "install" || strings.HasPrefix(e.Name(), "install.")) {
			inst = append(inst, e.Name()+"/")
		}
	}
	if len(inst) == 0 {
		return nil, nil
	}
	f := newFamily(FamilyDebianCD, append([]string{"dists/", "pool/"}, inst...)...)
	if d.isFile(".disk/info") {
		f.Evidence = append(f.Evidence, ".disk/info")
	}
	return f, nil
}

// Rewrite turns one of the image's kernel command lines (an entry's
// APPEND, as bootmenu's Entry.Append or Entry.Args gives it) into one
// that boots the same entry over the network from s: it adds the family's
// fetch-the-root parameters and removes the ones that make the initramfs
// look for a local disk or CD. Every other argument keeps its text and
// order, no parameter appears twice, and new ones go before a "--" or
// "---" separator. [Served.Extra] is applied last and wins.
//
// The parameters, per family (each checked against the initramfs code
// named in the comments of this file):
//
//   - live-boot: fetch=<squashfs URL>, boot=live; drops live-media=,
//     bootfrom=, findiso=, fromiso=, netboot=, nfsroot=, httpfs=, ftpfs=.
//   - casper: boot=casper url=<ImageURL> ip=dhcp cloud-config-url=/dev/null;
//     drops live-media=, netboot=, nfsroot=, iso-scan/filename=,
//     cdrom-detect/*.
//   - anaconda: inst.repo=<BaseURL> when the tree has packages, else
//     inst.stage2=<BaseURL>; ip=dhcp; inst.ks=cdrom:<path> becomes a URL;
//     drops root=, local inst.stage2=/inst.repo= (hd:, cdrom, cd:, file:),
//     rd.live.check.
//   - dracut-live: root=live:<squashfs URL> rd.live.image ip=dhcp; drops
//     rd.live.check and iso-scan/filename=.
//   - archiso: archisobasedir=<base> archiso_http_srv=<BaseURL> ip=dhcp;
//     drops archisolabel=, archisodevice=, archisosearchuuid=,
//     archisosearchfilename=, archiso_nbd_srv=, archiso_nfs_srv=, img_*=.
//     A checksum=y, verify=y or cms_verify=y whose file is missing is an
//     error wrapping [ErrMissingFile].
//   - opensuse: install=<BaseURL>.
//   - alpine: modloop=<URL> alpine_repo=<BaseURL>apks ip=dhcp
//     modules=loop,squashfs; drops alpine_dev=.
//   - debian-cd: always an error wrapping [ErrNotNetbootable].
//
// Rewrite does no I/O: it uses what DetectFamily found.
func (f *Family) Rewrite(line string, s Served) (string, error) {
	if f == nil {
		return "", ErrUnknownFamily
	}
	if s.BaseURL == "" && f.Name != FamilyDebianCD {
		return "", errors.New("netboot: Served.BaseURL is empty")
	}
	c := parseCmdline(line)
	var err error
	switch f.Name {
	case FamilyLiveBoot:
		c, err = f.liveBoot(c, s)
	case FamilyCasper:
		c, err = f.casper(c, s)
	case FamilyAnaconda:
		if v, _ := c.get("root"); strings.HasPrefix(v, "live:") && f.files["LiveOS/squashfs.img"] {
			// a live entry of an image that has both (a live image
			// with a .treeinfo): boot it live, as its line says
			c = f.dracutLive(c, s)
			break
		}
		c = f.anaconda(c, s)
	case FamilyDracutLive:
		c = f.dracutLive(c, s)
	case FamilyArchiso:
		c, err = f.archisoLine(c, s)
	case FamilyOpenSUSE:
		c = f.opensuse(c, s)
	case FamilyAlpine:
		c, err = f.alpine(c, s)
	case FamilyDebianCD:
		return "", debianCDError()
	default:
		return "", fmt.Errorf("netboot: family %q has no rewrite rule", f.Name)
	}
	if err != nil {
		return "", err
	}
	return c.String(), nil
}

func debianCDError() error {
	return fmt.Errorf("%w: the Debian installer's CD/DVD initrd has cdrom-retriever but no "+
		"net-retriever, so it cannot load its components or install from HTTP; boot the "+
		"release's netboot installer (netboot.tar.gz: debian-installer/<arch>/linux and initrd.gz) instead",
		ErrNotNetbootable)
}

// live-boot (checked against grml/live-boot-grml at de82b3d, a fork of
// Debian's live-boot with the same parameters): 9990-cmdline-old reads
// fetch=, httpfs=, ftpfs=, netboot=, nfsroot=, live-media=/bootfrom=,
// findiso=, live-media-path= (default "live", 0001-init-vars.sh);
// 9990-main.sh takes the network path when fetch=, httpfs=, ftpfs= or
// netboot= is set, and 9990-netboot.sh's do_netmount runs DHCP itself
// (do_netsetup) and tries fetch=/httpfs=/ftpfs= before NFS or CIFS;
// 9990-mount-http.sh downloads a fetch= URL ending in .squashfs, .iso,
// .tgz or .tar with wget into a ramfs at the live-media-path and mounts
// it from there.
func (f *Family) liveBoot(c cmdline, s Served) (cmdline, error) {
	k := s.kernel()
	bootLive := false
	if v, ok := c.get("boot"); ok && v == "live" {
		bootLive = true
	}
	if !bootLive {
		top, _, _ := strings.Cut(k, "/")
		if top == "install" || strings.HasPrefix(top, "install.") || top == "d-i" {
			return nil, debianCDError()
		}
	}
	dir := "live"
	if v, ok := c.get("live-media-path"); ok && strings.Trim(v, "/") != "" {
		dir = path.Clean(strings.Trim(v, "/"))
	}
	var in []string
	for _, p := range f.squashfs {
		if path.Dir(p) == dir {
			in = append(in, p)
		}
	}
	var sq string
	switch len(in) {
	case 0:
		return nil, fmt.Errorf("%w: no %s/*.squashfs", ErrMissingFile, dir)
	case 1:
		sq = in[0]
	default:
		for _, p := range in {
			if path.Base(p) == "filesystem.squashfs" {
				sq = p
			}
		}
		if sq == "" {
			return nil, fmt.Errorf("netboot: several root images in %s/ (%s): name one with fetch= in Served.Extra",
				dir, strings.Join(in, ", "))
		}
	}
	c = c.removeKeys("live-media", "bootfrom", "findiso", "fromiso", "netboot", "nfsroot", "httpfs", "ftpfs")
	c = c.setDefault("boot", "live")
	c = c.set("fetch", s.base()+sq)
	return c.override(parseCmdline(s.Extra)), nil
}

// casper (checked against casper 1.461, scripts/casper): parse_cmdline
// turns url=<…>.iso into NETBOOT=url (only a value matching *.iso), and a
// later netboot= overrides it; do_urlmount wgets the ISO and loop-mounts
// it, then checks .disk/casper-uuid* against the initrd's uuid as for a
// CD. live-media= names a local device. cloud-init also reads url= from
// the kernel line as its cloud-config URL (cloudinit/cmd/main.py,
// parse_cmdline_url with the names cloud-config-url and url, the first
// found winning): cloud-config-url=/dev/null stops it fetching the ISO.
func (f *Family) casper(c cmdline, s Served) (cmdline, error) {
	if s.ImageURL == "" {
		return nil, fmt.Errorf("%w: casper fetches the ISO itself (url=…iso), not files out of it", ErrNeedImage)
	}
	if !strings.HasSuffix(s.ImageURL, ".iso") {
		return nil, fmt.Errorf("%w: casper takes url= only when it ends in .iso, have %q", ErrNeedImage, s.ImageURL)
	}
	c = c.remove(func(k, _ string, _ bool) bool {
		switch k {
		case "live-media", "netboot", "nfsroot", "iso-scan/filename", "findiso":
			return true
		}
		return strings.HasPrefix(k, "cdrom-detect/")
	})
	c = c.setDefault("boot", "casper")
	c = c.set("url", s.ImageURL)
	c = c.setDefault("ip", "dhcp")
	c = c.setDefault("cloud-config-url", "/dev/null")
	return c.override(parseCmdline(s.Extra)), nil
}

// anaconda (checked against rhinstaller/anaconda dracut/
// parse-anaconda-repo.sh and anaconda-lib.sh): any root= makes the hook
// ignore inst.repo= and inst.stage2= altogether; inst.stage2= (or stage2=)
// wins over inst.repo= (or repo=) for finding stage 2; http, https, ftp
// and nfs values bring the network up (set_neednet) and read .treeinfo
// there; hd:, cd: and cdrom values wait for a local device.
// dmsquash-live-root runs checkisomd5 for rd.live.check, which needs the
// ISO's embedded checksum, not there in a downloaded image.
func (f *Family) anaconda(c cmdline, s Served) cmdline {
	local := func(v string) bool {
		t, _, _ := strings.Cut(v, ":")
		switch t {
		case "http", "https", "ftp", "nfs", "nfs4", "nfsiso":
			return false
		}
		return true
	}
	isStage2 := func(k string) bool { return k == "inst.stage2" || k == "stage2" }
	isRepo := func(k string) bool { return k == "inst.repo" || k == "repo" }
	netRepo := false
	for _, w := range c {
		if v, _ := wordValue(w); isRepo(wordKey(w)) && !local(v) && v != s.base() {
			netRepo = true
		}
	}
	c = c.removeKeys("root", "rd.live.check")
	for i, w := range c {
		k := wordKey(w)
		if k != "inst.ks" && k != "ks" {
			continue
		}
		v, _ := wordValue(w)
		if v == "cdrom" {
			c[i] = k + "=" + s.base() + "ks.cfg"
		} else if p, ok := strings.CutPrefix(v, "cdrom:"); ok && p != "" {
			c[i] = k + "=" + s.base() + strings.TrimLeft(p, "/")
		}
	}
	key := "inst.stage2"
	if f.hasRepo() && !netRepo {
		key = "inst.repo"
	}
	// The new word takes the place of the first local selector, the
	// others go.
	c = c.replace(func(k, v string, _ bool) bool {
		return isStage2(k) || (isRepo(k) && (local(v) || v == s.base()))
	}, key+"="+s.base())
	c = c.setDefault("ip", "dhcp")
	return c.override(parseCmdline(s.Extra))
}

// dracut-live (checked against dracutdevs/dracut modules.d/90livenet/
// parse-livenet.sh and livenetroot.sh, 90dmsquash-live/
// dmsquash-live-root.sh): root=live:<URL> with a URL that url-lib can
// fetch sets netroot=livenet:<URL>, which brings the network up, downloads
// the file and hands it to dmsquash-live-root (an .iso is loop-mounted
// first); rd.live.dir= and rd.live.squashimg= name the image inside a
// medium (default LiveOS/squashfs.img). rd.live.check: as for anaconda.
func (f *Family) dracutLive(c cmdline, s Served) cmdline {
	const img = "LiveOS/squashfs.img"
	c = c.removeKeys("rd.live.check", "iso-scan/filename")
	c = c.set("root", "live:"+s.base()+img)
	c = c.flag("rd.live.image")
	c = c.setDefault("ip", "dhcp")
	return c.override(parseCmdline(s.Extra))
}

// archiso (checked against archlinux/mkinitcpio-archiso at b206f34):
// hooks/archiso_pxe_http takes over when both ip= and archiso_http_srv=
// are set, downloads ${archiso_http_srv}${archisobasedir}/${arch}/
// airootfs.sfs (else .erofs) — so the URL must end in "/" — plus
// airootfs.sha512 for checksum=y, .sig for verify=y and .cms.sig for
// cms_verify=y (a failed download drops to a shell), then chains to
// archiso_mount_handler, which searches local disks when
// archisosearchuuid= or archisosearchfilename= is set and fails when
// none matches. archisobasedir defaults to "arch". The nbd and nfs hooks
// set their own mount handler when archiso_nbd_srv= or archiso_nfs_srv= is
// given; archiso_loop_mnt reads img_dev=, img_label=, img_loop=.
func (f *Family) archisoLine(c cmdline, s Served) (cmdline, error) {
	root, err := f.archisoRootFor(c, s.kernel())
	if err != nil {
		return nil, err
	}
	c = c.removeKeys("archisolabel", "archisodevice", "archisosearchuuid", "archisosearchfilename",
		"archiso_nbd_srv", "archiso_nfs_srv", "img_dev", "img_label", "img_loop")
	c = c.set("archisobasedir", root.base)
	c = c.set("archiso_http_srv", s.base())
	c = c.setDefault("ip", "dhcp")
	c = c.override(parseCmdline(s.Extra))
	dir := path.Join(root.base, root.arch)
	for _, v := range []struct{ key, file string }{
		{"checksum", "airootfs.sha512"},
		{"verify", "airootfs." + root.img + ".sig"},
		{"cms_verify", "airootfs." + root.img + ".cms.sig"},
	} {
		val, ok := c.get(v.key)
		if ok && (val == "y" || val == "") && !f.files[path.Join(dir, v.file)] {
			return nil, fmt.Errorf("%w: %s=y needs %s, which the image does not have (pass %s=n in Served.Extra to boot without it)",
				ErrMissingFile, v.key, path.Join(dir, v.file), v.key)
		}
	}
	return c, nil
}

// archisoRootFor picks the base directory and architecture for an entry:
// the line's archisobasedir=, else the directory above boot/ in the
// kernel path (<base>/boot/<arch>/vmlinuz-linux), else the only one.
func (f *Family) archisoRootFor(c cmdline, kernel string) (archisoRoot, error) {
	base, _ := c.get("archisobasedir")
	arch := ""
	if b, rest, ok := strings.Cut(kernel, "/boot/"); ok {
		if base == "" {
			base = b
		}
		arch, _, _ = strings.Cut(rest, "/")
	} else if rest, ok := strings.CutPrefix(kernel, "boot/"); ok {
		arch, _, _ = strings.Cut(rest, "/")
	}
	var match []archisoRoot
	for _, r := range f.archiso {
		if (base == "" || r.base == base) && (arch == "" || r.arch == arch) {
			match = append(match, r)
		}
	}
	if len(match) == 0 && arch != "" {
		// the kernel's directory need not be an arch name (i686 kernels
		// under boot/i686 with x86_64 roots do not happen, but custom
		// layouts might): retry on the base alone.
		for _, r := range f.archiso {
			if base == "" || r.base == base {
				match = append(match, r)
			}
		}
	}
	switch {
	case len(match) == 1:
		return match[0], nil
	case len(match) == 0:
		return archisoRoot{}, fmt.Errorf("%w: no %s/<arch>/airootfs.sfs or .erofs for kernel %q", ErrMissingFile, base, kernel)
	}
	var names []string
	for _, r := range match {
		names = append(names, path.Join(r.base, r.arch))
	}
	sort.Strings(names)
	return archisoRoot{}, fmt.Errorf("netboot: several archiso roots (%s) fit kernel %q: set archisobasedir= in Served.Extra",
		strings.Join(names, ", "), kernel)
}

// openSUSE (linuxrc, linuxrc_repo.md): install=<URL> names the
// repository; linuxrc brings the network up for a network URL and loads
// the installation system from boot/<arch>/root under it.
func (f *Family) opensuse(c cmdline, s Served) cmdline {
	c = c.set("install", s.base())
	return c.override(parseCmdline(s.Extra))
}

// Alpine (checked against alpinelinux/mkinitfs initramfs-init.in at
// cc4954b): alpine_repo= is a kernel option of the init, and an http URL
// there, or any ip=, turns networking on (DHCP with ip=dhcp, the default
// autoconf, when the initramfs has udhcpc's script); modules= lists the
// modules to load first. modloop= is read by the modloop service of the
// booted system (aports main/openrc), which downloads an http value ⚠
// (not read here: from aports scripts/mkimg.netboot.sh's default line).
func (f *Family) alpine(c cmdline, s Served) (cmdline, error) {
	k := s.kernel()
	flavour, ok := strings.CutPrefix(path.Base(k), "vmlinuz-")
	if !ok || flavour == "" {
		return nil, fmt.Errorf("%w: kernel %q is not boot/vmlinuz-<flavour>, so no modloop to match", ErrMissingFile, s.Kernel)
	}
	ml := path.Join(path.Dir(k), "modloop-"+flavour)
	if !f.files[ml] {
		return nil, fmt.Errorf("%w: %s", ErrMissingFile, ml)
	}
	c = c.removeKeys("alpine_dev")
	c = c.set("modloop", s.base()+ml)
	if f.files["apks/"] {
		c = c.set("alpine_repo", s.base()+"apks")
	}
	c = c.setDefault("ip", "dhcp")
	c = c.setDefault("modules", "loop,squashfs")
	return c.override(parseCmdline(s.Extra)), nil
}
