#!/bin/sh
# capture.sh: record the first DHCPDISCOVER that real firmware sends, as the
# raw BOOTP message (the UDP payload), into captures/<name>.bin.
#
# Usage (as root, from anywhere):  nbp/testdata/capture.sh [name ...]
# With no name it records every capture listed in case_cmd below.
#
# Each firmware runs in QEMU (TCG, no KVM needed) inside a network namespace
# made for the purpose, attached to a tap device in that namespace; tcpdump
# listens on the tap. Nothing answers the DISCOVER (but dnsmasq, inside the
# namespace, in the pxelinux-uuid runs) and no packet leaves the namespace.
# The namespace is removed at exit. Needs: ip, tcpdump, go,
# qemu-system-x86_64 with ipxe-qemu and ovmf, qemu-system-aarch64 with
# qemu-efi-aarch64 (AAVMF), and for pxelinux-uuid dnsmasq and pxelinux.
#
# This is a manual tool: go test only reads the committed captures.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out="$here/captures"
ns="pxkcap$$"
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

(cd "$here" && go build -o "$tmp/pcap2bootp" ./pcap2bootp)

# A fixed machine UUID (SMBIOS), so option 97 is known: firmware that copies
# the SMBIOS bytes as stored sends the first three fields byte-swapped.
uuid=12345678-9abc-def0-1122-334455667788
tap="-netdev tap,id=n0,ifname=tap0,script=no,downscript=no"
x86="qemu-system-x86_64 -accel tcg -m 256 -nographic -no-reboot -uuid $uuid"
arm="qemu-system-aarch64 -M virt -cpu max -accel tcg -m 512 -nographic -no-reboot -uuid $uuid"
ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd
aavmf_code=/usr/share/AAVMF/AAVMF_CODE.fd
nopxe="-fw_cfg name=opt/org.tianocore/IPv4PXESupport,string=no -fw_cfg name=opt/org.tianocore/IPv6PXESupport,string=no"

# case_cmd NAME prints the QEMU command line of capture NAME.
case_cmd() {
	case $1 in
	ipxe-bios-e1000) # QEMU's iPXE option ROM for e1000 under SeaBIOS
		echo "$x86 -boot n $tap -device e1000,netdev=n0,mac=52:54:00:00:00:01" ;;
	ipxe-bios-virtio) # QEMU's iPXE option ROM for virtio-net under SeaBIOS
		echo "$x86 -boot n $tap -device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:02" ;;
	ovmf-ipxe-virtio) # OVMF running QEMU's iPXE EFI option ROM for virtio-net, which boots by itself
		cp /usr/share/OVMF/OVMF_VARS_4M.fd "$tmp/ovmf-ipxe.vars"
		echo "$x86 -drive if=pflash,format=raw,readonly=on,file=$ovmf_code -drive if=pflash,format=raw,file=$tmp/ovmf-ipxe.vars $tap -device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:03" ;;
	ovmf-pxe) # OVMF (EDK2) UEFI PXE, x86-64; romfile= keeps iPXE's ROM out so EDK2's own PXE runs
		cp /usr/share/OVMF/OVMF_VARS_4M.fd "$tmp/ovmf-pxe.vars"
		echo "$x86 -drive if=pflash,format=raw,readonly=on,file=$ovmf_code -drive if=pflash,format=raw,file=$tmp/ovmf-pxe.vars $tap -device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:07,romfile=" ;;
	ovmf-http) # OVMF (EDK2) UEFI HTTP boot: PXE turned off through fw_cfg, no iPXE ROM
		cp /usr/share/OVMF/OVMF_VARS_4M.fd "$tmp/ovmf-http.vars"
		echo "$x86 -drive if=pflash,format=raw,readonly=on,file=$ovmf_code -drive if=pflash,format=raw,file=$tmp/ovmf-http.vars $nopxe $tap -device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:04,romfile=" ;;
	aavmf-pxe) # AAVMF (EDK2) UEFI PXE, arm64
		cp /usr/share/AAVMF/AAVMF_VARS.fd "$tmp/aavmf-pxe.vars"
		echo "$arm -drive if=pflash,format=raw,readonly=on,file=$aavmf_code -drive if=pflash,format=raw,file=$tmp/aavmf-pxe.vars $tap -device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:05,romfile=" ;;
	aavmf-http) # AAVMF UEFI HTTP boot, arm64
		cp /usr/share/AAVMF/AAVMF_VARS.fd "$tmp/aavmf-http.vars"
		echo "$arm -drive if=pflash,format=raw,readonly=on,file=$aavmf_code -drive if=pflash,format=raw,file=$tmp/aavmf-http.vars $nopxe $tap -device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:06,romfile=" ;;
	*) echo "capture.sh: unknown capture $1" >&2; return 1 ;;
	esac
}

capture() {
	name=$1
	cmd=$(case_cmd "$name")
	echo "== $name: $cmd" >&2
	rm -f "$tmp/$name.pcap"
	ip netns exec "$ns" tcpdump -q -i tap0 -U -c 1 -w "$tmp/$name.pcap" 'udp and dst port 67' 2>"$tmp/$name.tcpdump" &
	tpid=$!
	sleep 2
	# shellcheck disable=SC2086
	ip netns exec "$ns" timeout 600 $cmd </dev/null >"$tmp/$name.console" 2>&1 &
	qpid=$!
	# tcpdump exits after the first DHCP packet; give up after 600 s.
	n=0
	while kill -0 "$tpid" 2>/dev/null && [ $n -lt 600 ]; do sleep 1; n=$((n + 1)); done
	kill "$qpid" 2>/dev/null || true
	kill "$tpid" 2>/dev/null || true
	wait "$qpid" 2>/dev/null || true
	wait "$tpid" 2>/dev/null || true
	if "$tmp/pcap2bootp" <"$tmp/$name.pcap" >"$out/$name.bin"; then
		echo "== $name: $(wc -c <"$out/$name.bin") bytes after ${n}s" >&2
	else
		rm -f "$out/$name.bin"
		echo "== $name: no DHCP packet; console tail:" >&2
		tail -c 2000 "$tmp/$name.console" >&2 || true
	fi
}

# pxelinux_uuid NAME UUID boots Debian's pxelinux.0 through QEMU's iPXE BIOS
# ROM with dnsmasq (DHCP, PXE, TFTP) in the namespace, records the
# DHCPDISCOVER as captures/NAME.bin, dnsmasq's first reply (its OFFER) as
# captures/NAME-dnsmasq-offer.bin and, one per line, the pxelinux.cfg/
# files that pxelinux asked for as captures/NAME.txt. pxelinux-uuid uses a
# UUID whose byte 6 (in wire order) pxelinux accepts, so the first name is
# its per-machine UUID file; pxelinux-uuid-skipped uses the UUID of the
# other captures, whose byte 6 is 0xf0, and pxelinux tries no UUID file.
pxelinux_uuid() {
	name=$1
	echo "== $name" >&2
	ip netns exec "$ns" ip addr flush dev tap0
	ip netns exec "$ns" ip addr add 192.168.77.1/24 dev tap0
	mkdir -p "$tmp/tftp"
	cp /usr/lib/PXELINUX/pxelinux.0 /usr/lib/syslinux/modules/bios/ldlinux.c32 "$tmp/tftp/"
	ip netns exec "$ns" dnsmasq --no-daemon --conf-file=/dev/null --port=0 --interface=tap0 \
		--bind-interfaces --dhcp-range=192.168.77.10,192.168.77.20 \
		--pxe-service=x86PC,boot,pxelinux --enable-tftp --tftp-root="$tmp/tftp" \
		--dhcp-leasefile="$tmp/leases" >"$tmp/dnsmasq.log" 2>&1 &
	dpid=$!
	ip netns exec "$ns" tcpdump -q -i tap0 -U -c 1 -w "$tmp/$name.pcap" 'udp and dst port 67' 2>"$tmp/$name.tcpdump" &
	tpid=$!
	# dnsmasq's first answer (its OFFER, with PXE option 43) as well.
	ip netns exec "$ns" tcpdump -q -i tap0 -U -c 1 -w "$tmp/$name-offer.pcap" 'udp and dst port 68' 2>"$tmp/$name-offer.tcpdump" &
	opid=$!
	sleep 2
	# shellcheck disable=SC2086
	ip netns exec "$ns" timeout 300 qemu-system-x86_64 -accel tcg -m 256 -nographic -no-reboot \
		-uuid "$2" -boot n $tap \
		-device e1000,netdev=n0,mac=52:54:00:00:00:08 </dev/null >"$tmp/$name.console" 2>&1 &
	qpid=$!
	n=0
	while ! grep -q 'pxelinux.cfg/default' "$tmp/dnsmasq.log" && [ $n -lt 300 ]; do sleep 1; n=$((n + 1)); done
	kill "$qpid" "$tpid" "$dpid" "$opid" 2>/dev/null || true
	wait "$qpid" "$dpid" "$opid" 2>/dev/null || true
	"$tmp/pcap2bootp" <"$tmp/$name.pcap" >"$out/$name.bin"
	"$tmp/pcap2bootp" <"$tmp/$name-offer.pcap" >"$out/$name-dnsmasq-offer.bin"
	# dnsmasq logs "file <root>/pxelinux.cfg/<name> not found"; keep <name>.
	sed -n 's#.*/pxelinux\.cfg/\([^ ]*\) not found.*#\1#p' "$tmp/dnsmasq.log" >"$out/$name.txt"
	rm -f "$tmp/dnsmasq.log" "$tmp/leases"
	echo "== $name: pxelinux asked for $(head -1 "$out/$name.txt") first, after ${n}s" >&2
}

if [ $# -eq 0 ]; then
	set -- ipxe-bios-e1000 ipxe-bios-virtio ovmf-ipxe-virtio ovmf-pxe ovmf-http aavmf-pxe aavmf-http pxelinux-uuid pxelinux-uuid-skipped
fi
for name in "$@"; do
	if [ "$name" = pxelinux-uuid ]; then
		pxelinux_uuid "$name" 12345678-9abc-4e40-8122-334455667788
	elif [ "$name" = pxelinux-uuid-skipped ]; then
		pxelinux_uuid "$name" "$uuid"
	else
		capture "$name"
	fi
done
