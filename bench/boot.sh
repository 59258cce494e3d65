#!/usr/bin/env bash
# bench/boot.sh: boot time of the BIOS PXE path, pxekit against dnsmasq.
#
# QEMU's iPXE ROM (TCG, no KVM) boots Debian's pxelinux.0, the Debian
# installer kernel and a small marker initrd from pxekit's minimal server
# and from dnsmasq serving the same files, RUNS times each, interleaved, in
# network namespaces of their own. Prints the median time from QEMU start
# to the marker on the serial console, per server, and the ratio.
#
# Needs root and the packages .ci/run installs. Usage:
#   sudo bench/boot.sh            # 5 runs each
#   RUNS=3 FLAGS="-ra=false" bench/boot.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
runs=${RUNS:-5}
PXEKIT_BOOTBENCH_RUNS=$runs PXEKIT_BOOTBENCH_FLAGS=${FLAGS:-} \
	go test -count=1 -timeout 90m -run '^TestBootBench$' -v ./e2e/ >/tmp/pxekit-boot-bench.log 2>&1 || {
	cat /tmp/pxekit-boot-bench.log
	exit 1
}
grep -E 'marker after|^BENCH' /tmp/pxekit-boot-bench.log
