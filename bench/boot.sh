#!/usr/bin/env bash
# bench/boot.sh: boot time of the BIOS PXE path, pxekit against dnsmasq.
#
# QEMU's iPXE ROM (TCG, no KVM) boots the Debian installer kernel and a
# small marker initrd, RUNS times per server, interleaved, each boot in a
# network namespace of its own, from the same tree:
#   dnsmasq      DHCP + TFTP, Debian's pxelinux.0 and the tree's menu (--no-ping)
#   pxekit       minimal-server, the same pxelinux.0 and menu (-bios-boot
#                pxelinux.0), plus the flags in FLAGS (e.g. FLAGS=-ra)
#   pxekit-http  minimal-server as it runs by default for an iPXE client:
#                the menu rendered as an iPXE script, kernel and initrd over
#                HTTP, router advertisement answered (-ra)
# Prints per server the median time from QEMU start to the marker on the
# serial console and to the first console byte (the kernel's first line,
# i.e. the firmware + network part of the boot), and ratios to dnsmasq.
# BIG=1 puts Debian's 40 MB installer initrd in front of the marker initrd,
# so the boot moves as many bytes as a real installer boot.
#
# Needs root and the packages .ci/run installs. Usage:
#   sudo bench/boot.sh                  # 5 runs each
#   RUNS=3 BIG=1 FLAGS=-ra bench/boot.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
runs=${RUNS:-5}
PXEKIT_BOOTBENCH_RUNS=$runs PXEKIT_BOOTBENCH_FLAGS=${FLAGS:-} PXEKIT_BOOTBENCH_BIG=${BIG:-} \
	go test -count=1 -timeout 90m -run '^TestBootBench$' -v ./e2e/ >/tmp/pxekit-boot-bench.log 2>&1 || {
	cat /tmp/pxekit-boot-bench.log
	exit 1
}
grep -E 'marker after|^BENCH' /tmp/pxekit-boot-bench.log
