#!/bin/sh
# mkiso.sh makes ISO 9660 test images with real mastering tools (xorriso,
# genisoimage) for pxekit's tests. Other packages' tests may call it too.
#
# Usage: mkiso.sh KIND OUT.iso [ARGS...]
#
# KIND is one of:
#   plain-l1   genisoimage, ISO 9660 level 1 (8.3 names), no extensions
#   plain-l2   genisoimage -iso-level 2 (31-character names)
#   plain-l3   genisoimage -iso-level 3 (level 2 names, files may have
#              several extents)
#   joliet     genisoimage -J -joliet-long, no Rock Ridge
#   rr-geniso  genisoimage -R -J: Rock Ridge with deep directories moved to
#              rr_moved (RE/CL/PL), long, unicode names, symlinks, modes
#   rr-xorriso xorriso -as mkisofs -R -J: the same tree, names so long that
#              they need SUSP continuation areas (CE)
#   many       xorriso -R -J, ARGS[0] (default 10000) small files in
#              directories of 100
#   zisofs     xorriso -R -J with the --zisofs filter on every file it
#              shrinks (Rock Ridge ZF entries): text of several blocks, a
#              file of zeros (sparse blocks), a file of exactly one block, a
#              tiny and a random file (left uncompressed); ARGS[0] is the
#              block size (32k, 64k or 128k; default 32k)
#   hybrid     xorriso El Torito BIOS + EFI isohybrid image: isolinux
#              (/usr/lib/ISOLINUX/isolinux.bin, ldlinux.c32) with
#              isolinux/isolinux.cfg, a pxelinux-syntax menu booting
#              /boot/vmlinuz and /boot/initrd.img; EFI image efi.img, the
#              FAT image Debian's ipxe package ships (from
#              /usr/lib/ipxe/ipxe.iso). ARGS[0] and ARGS[1], if given, are
#              a kernel and an initrd copied to /boot/vmlinuz and
#              /boot/initrd.img (default: small placeholder files).
#   hidden-efi like hybrid, but the EFI image is an appended GPT partition
#              that no directory lists (Debian's installer ISO layout)
#
# The script writes only OUT.iso and a temporary directory it removes.
set -eu

kind=${1:?usage: mkiso.sh KIND OUT.iso [ARGS...]}
out=${2:?usage: mkiso.sh KIND OUT.iso [ARGS...]}
shift 2
case $out in /*) ;; *) out=$(pwd)/$out ;; esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$tmp/src
mkdir "$src"

# tree makes the common source tree: modes, long and unicode names,
# symbolic links, directories deeper than 8 levels, empty files and dirs.
tree() {
	d=$1
	printf 'hello, world\n' >"$d/hello.txt"
	chmod 0640 "$d/hello.txt"
	printf 'read me\n' >"$d/README"
	mkdir -p "$d/bin" "$d/empty" "$d/data"
	printf '#!/bin/sh\necho tool\n' >"$d/bin/tool"
	chmod 0755 "$d/bin/tool"
	printf 'suid\n' >"$d/bin/suid"
	chmod 4755 "$d/bin/suid"
	: >"$d/empty.txt"
	# Deterministic binary data of a few blocks.
	i=0
	while [ $i -lt 300 ]; do
		printf 'line %05d of a file that spans several 2048-byte blocks\n' $i
		i=$((i + 1))
	done >"$d/data/blocks.txt"
	head -c 70001 /usr/lib/ISOLINUX/isolinux.bin >"$d/data/odd-size.bin"
	p=$d/deep
	for n in 1 2 3 4 5 6 7 8 9 10 11; do
		p=$p/level$n
	done
	mkdir -p "$p"
	printf 'at the bottom\n' >"$p/bottom.txt"
	mkdir -p "$d/names"
	printf 'long\n' >"$d/names/a file name that is longer than sixty-four characters, to see how each tree keeps it.txt"
	printf 'unicode\n' >"$d/names/Ünïcödé ファイル.txt"
	printf 'astral\n' >"$d/names/rocket 🚀.txt"
	printf 'mixed\n' >"$d/names/MixedCase.Name.With.Dots"
	ln -s hello.txt "$d/link"
	ln -s bin "$d/dirlink"
	ln -s ../../../hello.txt "$d/deep/level1/level2/up"
	ln -s /hello.txt "$d/abslink"
	ln -s ../bin/tool "$d/data/tool-link"
}

# longtree adds names and a link target too long for one directory record,
# which Rock Ridge continues in CE areas.
longtree() {
	d=$1
	long=$(printf 'n%.0s' $(seq 1 200))
	mkdir -p "$d/long/$long"
	printf 'long dir\n' >"$d/long/$long/$long.txt"
	ln -s "$long/$long.txt" "$d/long/link-with-a-long-target"
}

isolinux() {
	d=$1
	mkdir -p "$d/isolinux" "$d/boot"
	cp /usr/lib/ISOLINUX/isolinux.bin "$d/isolinux/"
	cp /usr/lib/syslinux/modules/bios/ldlinux.c32 "$d/isolinux/"
	cat >"$d/isolinux/isolinux.cfg" <<'CFG'
# pxekit test image: isolinux menu in pxelinux syntax
DEFAULT linux
PROMPT 1
TIMEOUT 50
SERIAL 0 115200

LABEL linux
  MENU LABEL ^Boot Linux
  KERNEL /boot/vmlinuz
  APPEND initrd=/boot/initrd.img console=ttyS0,115200

LABEL rescue
  MENU LABEL ^Rescue shell
  KERNEL /boot/vmlinuz
  APPEND initrd=/boot/initrd.img rescue/enable=true console=ttyS0,115200

LABEL local
  MENU LABEL Boot from ^local disk
  LOCALBOOT 0
CFG
	if [ $# -ge 3 ]; then
		cp "$2" "$d/boot/vmlinuz"
		cp "$3" "$d/boot/initrd.img"
	else
		printf 'placeholder kernel\n' >"$d/boot/vmlinuz"
		printf 'placeholder initrd\n' >"$d/boot/initrd.img"
	fi
	xorriso -osirrox on -indev /usr/lib/ipxe/ipxe.iso -extract /efi.img "$tmp/efi.img" >/dev/null 2>&1
	chmod 0644 "$tmp/efi.img"
}

quiet() { "$@" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }; }

case $kind in
plain-l1) tree "$src"; quiet genisoimage -o "$out" -V PLAIN1 "$src" ;;
plain-l2) tree "$src"; quiet genisoimage -iso-level 2 -o "$out" -V PLAIN2 "$src" ;;
plain-l3) tree "$src"; quiet genisoimage -iso-level 3 -o "$out" -V PLAIN3 "$src" ;;
joliet) tree "$src"; quiet genisoimage -J -joliet-long -o "$out" -V JOLIET "$src" ;;
rr-geniso) tree "$src"; quiet genisoimage -R -J -joliet-long -o "$out" -V RRGENISO "$src" ;;
rr-xorriso)
	tree "$src"
	longtree "$src"
	quiet xorriso -as mkisofs -R -J -joliet-long -V RRXORRISO -o "$out" "$src"
	;;
many)
	count=${1:-10000}
	i=0
	while [ $i -lt "$count" ]; do
		dir=$src/directory-$((i / 100))
		[ $((i % 100)) -eq 0 ] && mkdir -p "$dir"
		printf 'file %d\n' $i >"$dir/a-rock-ridge-file-name-$i.txt"
		i=$((i + 1))
	done
	quiet xorriso -as mkisofs -R -J -V MANY -o "$out" "$src"
	;;
zisofs)
	mkdir -p "$src/sub"
	i=0
	while [ $i -lt 3000 ]; do
		printf 'line %05d of a compressible text\n' $i
		i=$((i + 1))
	done >"$src/text.txt"
	i=0
	while [ $i -lt 20000 ]; do
		printf '%d\n' $i
		i=$((i + 1))
	done >"$src/sub/numbers.txt"
	head -c 32768 "$src/text.txt" >"$src/sub/one-block.txt"
	head -c 300000 /dev/zero >"$src/zeros.bin"
	printf 'tiny\n' >"$src/tiny.txt"
	head -c 5000 /usr/lib/ISOLINUX/isolinux.bin | gzip -9 >"$src/packed.gz"
	quiet xorriso -outdev "$out" -zisofs block_size="${1:-32k}" -volid ZISOFS \
		-joliet on -map "$src" / -set_filter_r --zisofs / -- -commit
	;;
hybrid)
	isolinux "$src" "$@"
	cp "$tmp/efi.img" "$src/efi.img"
	quiet xorriso -as mkisofs -R -J -V HYBRID -o "$out" \
		-isohybrid-mbr /usr/lib/ISOLINUX/isohdpfx.bin \
		-c isolinux/boot.cat \
		-b isolinux/isolinux.bin -no-emul-boot -boot-load-size 4 -boot-info-table \
		-eltorito-alt-boot -e efi.img -no-emul-boot -isohybrid-gpt-basdat \
		"$src"
	;;
hidden-efi)
	isolinux "$src" "$@"
	quiet xorriso -as mkisofs -R -J -V HIDDENEFI -o "$out" \
		-isohybrid-mbr /usr/lib/ISOLINUX/isohdpfx.bin \
		-c isolinux/boot.cat \
		-b isolinux/isolinux.bin -no-emul-boot -boot-load-size 4 -boot-info-table \
		-eltorito-alt-boot -e --interval:appended_partition_2:all:: -no-emul-boot \
		-append_partition 2 0xef "$tmp/efi.img" -isohybrid-gpt-basdat \
		"$src"
	;;
*)
	echo "mkiso.sh: unknown kind $kind" >&2
	exit 2
	;;
esac
