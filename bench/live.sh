#!/usr/bin/env bash
# bench/live.sh: power-on → login prompt of a real Debian Live image,
# pxekit against the seeds' way.
#
# QEMU's iPXE ROM (TCG, no KVM, 2560 MB) boots the image's default entry,
# RUNS times per server, interleaved, each boot in a network namespace of
# its own (e2e TestLiveBench):
#   pxekit  minimal-server -iso IMAGE -timeout 5s -ra (full DHCP): the iPXE
#           script rendered from the image's menu, with fetch= added by
#           netboot's live-boot rule; kernel, initrd and squashfs over HTTP
#           read out of the image, which is never mounted
#   seeds   the image loop-mounted read-only (mount -o loop,ro; fuseiso
#           where the kernel has no iso9660, as on the machine the first
#           numbers came from), dnsmasq
#           (DHCP + TFTP) with Debian's pxelinux.0 and a hand-written menu
#           (TIMEOUT 50, fetch=http://…/live/filesystem.squashfs), kernel and
#           initrd over TFTP, busybox httpd over the mount for the squashfs
# Prints per server the median time from QEMU start to "login:" on the
# serial console (console=ttyS0 on the image's kernel line) and to the
# first console byte (firmware, DHCP, boot loader, kernel and initrd
# download), and the ratios pxekit/seeds.
#
# Needs root, the packages .ci/run installs (plus fuseiso on a kernel
# without iso9660), and an image made by
# live-build with --bootappend-live "boot=live components
# console=ttyS0,115200n8". Usage:
#   sudo ISO=/work/live-image/live-image-amd64.hybrid.iso bench/live.sh   # 2 runs each
#   RUNS=3 ISO=… bench/live.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
: "${ISO:?set ISO to the Debian Live image}"
runs=${RUNS:-2}
PXEKIT_LIVEBENCH_RUNS=$runs PXEKIT_E2E_LIVE_ISO=$ISO \
	go test -count=1 -timeout 180m -run '^TestLiveBench$' -v ./e2e/ >/tmp/pxekit-live-bench.log 2>&1 || {
	cat /tmp/pxekit-live-bench.log
	exit 1
}
grep -E 'login:" after|image mounted|^BENCH' /tmp/pxekit-live-bench.log
