#!/usr/bin/env bash
# bench/storm.sh: a boot storm, pxekit against dnsmasq.
#
# N emulated machines (examples/pxestorm, package pxeclient; profile
# ovmf-pxe by default: EDK2's UEFI PXE) power on within RAMP and boot all
# the way, all over TFTP: the boot program (syslinux.efi, with EDK2's tsize
# probe, blksize 1468, windowsize 4), the pxelinux configuration search,
# then the kernel and the initrd the menu names (as syslinux.efi asks:
# tsize, blksize 1408); a machine counts as booted when it has loaded
# the initrd. The servers, each in a fresh pair of network namespaces joined by a veth,
# serve the same tree:
#   pxekit    examples/minimal-server -range (full DHCP, TFTP)
#   dnsmasq   DHCP and TFTP, --tftp-max and --dhcp-lease-max raised to N
#             (its defaults, 50 transfers and 1,000 leases, would make it
#             drop most of a storm; see issue 17)
# The runs are interleaved (pxekit, dnsmasq, pxekit, dnsmasq, ...) and
# repeated RUNS times. Per run it prints pxestorm's summary; at the end a
# table per server: machines booted, whole-storm wall time, boot p50 and
# p99, p99/p50, server CPU and peak RSS (medians over the runs), and the
# ratio of the wall times pxekit/dnsmasq.
#
# Needs root, ip, dnsmasq and Go. Usage:
#   sudo bench/storm.sh                          # N=1000, RUNS=3, 8 + 32 MiB
#   N=200 RUNS=3 KERNEL_MIB=1 INITRD_MIB=4 bench/storm.sh
#   PROFILE=mix SCALE=0.25 bench/storm.sh        # every PXE firmware, short timeouts
#   SERVERS=dnsmasq POOL=1000 bench/storm.sh     # one server; a pool as large as the storm
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
n=${N:-1000}
runs=${RUNS:-3}
kmib=${KERNEL_MIB:-8}
imib=${INITRD_MIB:-32}
ramp=${RAMP:-1s}
profile=${PROFILE:-ovmf-pxe}
scale=${SCALE:-1}
timeout=${TIMEOUT:-15m}

work=$(mktemp -d /tmp/pxekit-storm.XXXXXX)
id=$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')
srvns=pxks$id cli=pxkc$id
cleanup() {
	for ns in "$srvns" "$cli"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work" ./examples/minimal-server ./examples/pxestorm
root=$work/root
mkdir -p "$root/pxelinux.cfg"
head -c 200003 /dev/urandom >"$root/syslinux.efi"
head -c 150001 /dev/urandom >"$root/grubnetaa64.efi"
head -c 46000 /dev/urandom >"$root/pxelinux.0"
head -c $((kmib << 20)) /dev/urandom >"$root/vmlinuz"
head -c $((imib << 20)) /dev/urandom >"$root/initrd.img"
printf 'DEFAULT linux\nLABEL linux\n  KERNEL vmlinuz\n  APPEND initrd=initrd.img console=ttyS0\n' >"$root/pxelinux.cfg/default"

# The pool: 10.80.0.0/20, server at .0.1, addresses from 10.80.1.1 on,
# POOL addresses (default twice N: with a pool barely larger than the
# storm, dnsmasq, which holds no address for an offer, offers the same
# free address to many machines at once and NAKs all but one of their
# REQUESTs, again on every retry).
last=$((${POOL:-$((2 * n))} + 16))
if ((last > 3800)); then echo "POOL at most 3784" >&2; exit 2; fi
first_ip=10.80.1.1
last_ip=10.80.$((1 + last / 254)).$((1 + last % 254))

setup() {
	ip netns add "$srvns"
	ip netns add "$cli"
	ip -n "$srvns" link set lo up
	ip -n "$cli" link set lo up
	ip link add "vs$id" netns "$srvns" type veth peer name "vc$id" netns "$cli"
	ip -n "$srvns" addr add 10.80.0.1/20 dev "vs$id"
	ip -n "$cli" addr add 10.80.15.250/32 dev "vc$id"
	ip -n "$srvns" link set "vs$id" up
	ip -n "$cli" link set "vc$id" up
}

teardown() {
	for ns in "$srvns" "$cli"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	done
	sleep 1
}

start_server() { # $1: pxekit or dnsmasq; prints the server's pid
	case $1 in
	pxekit)
		ip netns exec "$srvns" "$work/minimal-server" -iface "vs$id" -range "$first_ip-$last_ip" \
			-root "$root" -http "" >"$work/server.log" 2>&1 &
		;;
	dnsmasq)
		ip netns exec "$srvns" dnsmasq --no-daemon --conf-file=/dev/null --port=0 --user=root --group=root \
			--interface="vs$id" --bind-interfaces --pid-file= --no-ping --log-facility=- \
			--dhcp-range="$first_ip,$last_ip,255.255.240.0,1h" --dhcp-leasefile="$work/dnsmasq.leases" \
			--dhcp-lease-max=$((n + 100)) --enable-tftp --tftp-root="$root" --tftp-max=$((n + 100)) \
			--dhcp-match=set:efi64,option:client-arch,7 --dhcp-match=set:arm64,option:client-arch,11 \
			--dhcp-boot=tag:efi64,syslinux.efi --dhcp-boot=tag:arm64,grubnetaa64.efi --dhcp-boot=pxelinux.0 \
			>"$work/server.log" 2>&1 &
		;;
	esac
	local pid=""
	for _ in $(seq 50); do
		pid=$(ip netns pids "$srvns" | head -1)
		[[ -n $pid ]] && break
		sleep 0.1
	done
	sleep 1.5 # the servers print no readiness line in common; pxestorm retransmits anyway
	echo "$pid"
}

results=$work/results
: >"$results"
for run in $(seq "$runs"); do
	for server in ${SERVERS:-pxekit dnsmasq}; do
		rm -f "$work/dnsmasq.leases"
		setup
		pid=$(start_server $server)
		# Each run has its own file descriptor budget: a storm of N
		# machines holds N sockets at once on either side.
		out=$(ulimit -n "$(ulimit -Hn)" && ip netns exec "$cli" "$work/pxestorm" -iface "vc$id" -n "$n" -ramp "$ramp" \
			-profile "$profile" -scale "$scale" -timeout "$timeout" -pid "$pid" 2>&1) || true
		teardown
		echo "=== run $run, $server"
		echo "$out"
		booted=$(sed -nE 's/^[0-9]+ machines, ([0-9]+) reached.*/\1/p' <<<"$out")
		wall=$(sed -nE 's/.*; storm ([0-9.]+) s$/\1/p' <<<"$out")
		read -r p50 p99 < <(awk '/^whole boot \(ok\)/ {print $5, $7}' <<<"$out") || true
		read -r cpu rss < <(sed -nE 's/.*CPU ([0-9.]+) s during the storm, peak RSS ([0-9.]+) MiB/\1 \2/p' <<<"$out") || true
		echo "$server ${booted:-0} ${wall:-0} ${p50:-0} ${p99:-0} ${cpu:-0} ${rss:-0}" >>"$results"
	done
done

# Durations from pxestorm are Go durations (1.234s, 850ms); make them seconds.
secs() { awk -v d="$1" 'BEGIN { if (d ~ /ms$/) { sub(/ms$/, "", d); print d / 1000 } else if (d ~ /µs$/) { sub(/µs$/, "", d); print d / 1e6 } else if (d ~ /m[0-9.]+s$/) { split(d, a, "m"); sub(/s$/, "", a[2]); print a[1] * 60 + a[2] } else { sub(/s$/, "", d); print d + 0 } }'; }
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo
echo "storm of $n machines ($profile, scale $scale, ramp $ramp), kernel $kmib MiB + initrd $imib MiB, $runs runs each, interleaved"
printf '%-8s %-16s %-22s %9s %9s %8s %8s %10s\n' server booted "wall s (runs)" "p50 s" "p99 s" p99/p50 "CPU s" "RSS MiB"
declare -A wallmed
for server in ${SERVERS:-pxekit dnsmasq}; do
	rows=$(awk -v s=$server '$1 == s' "$results")
	booted=$(awk '{ printf "%s%s", sep, $2; sep = "," }' <<<"$rows")
	walls=$(awk '{ printf "%s%s", sep, $3; sep = "," }' <<<"$rows")
	wm=$(awk '{ print $3 }' <<<"$rows" | median)
	p50=$(while read -r _ _ _ a _; do secs "$a"; done <<<"$rows" | median)
	p99=$(while read -r _ _ _ _ b _; do secs "$b"; done <<<"$rows" | median)
	cpu=$(awk '{ print $6 }' <<<"$rows" | median)
	rss=$(awk '{ print $7 }' <<<"$rows" | median)
	ratio=$(awk -v a="$p99" -v b="$p50" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
	wallmed[$server]=$wm
	printf '%-8s %-16s %-22s %9.2f %9.2f %8s %8s %10s\n' $server "$booted/$n" "$wm ($walls)" "$p50" "$p99" "$ratio" "$cpu" "$rss"
done
awk -v a="${wallmed[pxekit]}" -v b="${wallmed[dnsmasq]}" 'BEGIN { if (b > 0) printf "wall time pxekit/dnsmasq: %.2f (medians)\n", a / b }'
