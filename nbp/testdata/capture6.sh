#!/bin/sh
# capture6.sh: record the DHCPv6 messages that real firmware sends on a
# v6-only link in its first SECS seconds (60 unless set), as raw DHCPv6
# messages (UDP payloads to port 547), into captures6/<name>-<n>.bin: one
# file per distinct message (type and option codes), retransmissions left
# out.
#
# Usage (as root, from anywhere):  nbp/testdata/capture6.sh [name ...]
# With no name it records every capture listed in case_cmd below.
#
# As capture.sh: QEMU (TCG) on a tap device in a network namespace made for
# the purpose, tcpdump on the tap. The tap has only its IPv6 link-local
# address; ra6/ (package ra) advertises with the M flag every 3-4 s, which
# iPXE waits for before it starts DHCPv6. Nothing answers DHCP of either
# version and no packet leaves the namespace, which is removed at exit.
# Needs: ip, tcpdump, go, qemu-system-x86_64 with ipxe-qemu and ovmf.
#
# This is a manual tool: go test only reads the committed captures.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out="$here/captures6"
ns="pxkcap6$$"
tmp=$(mktemp -d)
mkdir -p "$out"

cleanup() {
	for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" ip tuntap add dev tap0 mode tap
ip netns exec "$ns" ip link set tap0 up

(cd "$here" && go build -o "$tmp/pcap2dhcp6" ./pcap2dhcp6 && go build -o "$tmp/ra6" ./ra6)
ip netns exec "$ns" "$tmp/ra6" tap0 2>"$tmp/ra6.log" &

uuid=12345678-9abc-def0-1122-334455667788
tap="-netdev tap,id=n0,ifname=tap0,script=no,downscript=no"
x86="qemu-system-x86_64 -accel tcg -m 256 -nographic -no-reboot -uuid $uuid"
ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd
nov4="-fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=no -fw_cfg name=opt/org.tianocore/IPv4HTTPSupport,string=no"

# case_cmd NAME prints the QEMU command line of capture NAME.
case_cmd() {
	case $1 in
	ovmf-pxe6) # OVMF (EDK2) UEFI PXE over IPv6: IPv4 PXE and HTTP off, so PXEv6 comes first
		cp /usr/share/OVMF/OVMF_VARS_4M.fd "$tmp/ovmf-pxe6.vars"
		echo "$x86 -drive if=pflash,format=raw,readonly=on,file=$ovmf_code -drive if=pflash,format=raw,file=$tmp/ovmf-pxe6.vars $nov4 $tap -device virtio-net-pci,netdev=n0,mac=52:54:00:00:06:01,romfile=" ;;
	ovmf-http6) # OVMF UEFI HTTP boot over IPv6: IPv4 PXE and HTTP and IPv6 PXE off
		cp /usr/share/OVMF/OVMF_VARS_4M.fd "$tmp/ovmf-http6.vars"
		echo "$x86 -drive if=pflash,format=raw,readonly=on,file=$ovmf_code -drive if=pflash,format=raw,file=$tmp/ovmf-http6.vars $nov4 -fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=no $tap -device virtio-net-pci,netdev=n0,mac=52:54:00:00:06:02,romfile=" ;;
	ipxe-bios-e1000-v6) # QEMU's iPXE option ROM for e1000 under SeaBIOS, DHCPv6 after the RA
		echo "$x86 -boot n $tap -device e1000,netdev=n0,mac=52:54:00:00:06:03" ;;
	ovmf-ipxe-virtio-v6) # OVMF running QEMU's iPXE EFI option ROM for virtio-net
		cp /usr/share/OVMF/OVMF_VARS_4M.fd "$tmp/ovmf-ipxe6.vars"
		echo "$x86 -drive if=pflash,format=raw,readonly=on,file=$ovmf_code -drive if=pflash,format=raw,file=$tmp/ovmf-ipxe6.vars $tap -device virtio-net-pci,netdev=n0,mac=52:54:00:00:06:04" ;;
	*) echo "capture6.sh: unknown capture $1" >&2; return 1 ;;
	esac
}

capture() {
	name=$1
	cmd=$(case_cmd "$name")
	echo "== $name: $cmd" >&2
	rm -f "$tmp/$name.pcap" "$out/$name"-*.bin
	ip netns exec "$ns" tcpdump -q -i tap0 -U -w "$tmp/$name.pcap" 'ip6 and udp dst port 547' 2>"$tmp/$name.tcpdump" &
	tpid=$!
	sleep 2
	# shellcheck disable=SC2086
	ip netns exec "$ns" timeout "${SECS:-60}" $cmd </dev/null >"$tmp/$name.console" 2>&1 || true
	sleep 1
	kill "$tpid" 2>/dev/null || true
	wait "$tpid" 2>/dev/null || true
	if "$tmp/pcap2dhcp6" "$out/$name" <"$tmp/$name.pcap"; then
		echo "== $name: $(ls "$out/$name"-*.bin | wc -l) distinct messages in ${SECS:-60}s" >&2
	else
		echo "== $name: no DHCPv6 packet; console tail:" >&2
		tail -c 2000 "$tmp/$name.console" >&2 || true
	fi
}

if [ $# -eq 0 ]; then
	set -- ovmf-pxe6 ovmf-http6 ipxe-bios-e1000-v6 ovmf-ipxe-virtio-v6
fi
for name in "$@"; do
	capture "$name"
done
