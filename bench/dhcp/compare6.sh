#!/usr/bin/env bash
# compare6.sh: load pxekit's stateful DHCPv6 server (examples/dhcpd
# -prefix6, with its lease file) and Kea's kea-dhcp6 (memfile, persisted)
# with perfdhcp -6, in the same pair of network namespaces in one run, as
# compare.sh does for DHCPv4. For each server it raises the offered rate
# step by step (the servers taking turns at each step) and prints the
# highest rate sustained: the achieved 4-way (Solicit, Advertise,
# Request, Reply: SARR) rate at least 95% of the rate asked for and at
# most MAXDROP percent of Solicits and Requests dropped, in one of
# ATTEMPTS runs.
#
# perfdhcp sends to ff02::1:2 on its veth with RANGE distinct DUIDs;
# every server is restarted with an empty lease file for each step. After
# each pxekit run the lease file is checked against the leases the server
# says it holds (every Reply's lease is on disk, no client twice). Each run
# also prints the UDP datagrams the kernel dropped for a full receive
# buffer in the server's namespace (srv buf) and in perfdhcp's (cli buf).
# Needs root, perfdhcp (kea-admin), kea-dhcp6 (kea-dhcp6-server) and go.
#
#   sudo bench/dhcp/compare6.sh
#   RATES="500 1000 2000" PERIOD=5 sudo -E bench/dhcp/compare6.sh
set -euo pipefail

RATES=${RATES:-"250 500 1000 2000 3000 4000 6000 8000"}
PERIOD=${PERIOD:-4}     # seconds per step
MAXDROP=${MAXDROP:-0.1} # percent
RANGE=${RANGE:-50000}   # distinct clients
SERVERS=${SERVERS:-"pxekit kea"}
ATTEMPTS=${ATTEMPTS:-2}

cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "compare6.sh: needs root (network namespaces)" >&2; exit 1; }
export PATH=$PATH:/usr/sbin:/sbin
for c in perfdhcp kea-dhcp6 ip go; do
	command -v "$c" >/dev/null || { echo "compare6.sh: $c not installed" >&2; exit 1; }
done

tmp=$(mktemp -d)
id=$RANDOM
nss=pxk6s$id nsc=pxk6c$id
cleanup() {
	[ -n "${srvpid:-}" ] && kill "$srvpid" 2>/dev/null || true
	ip netns pids "$nss" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
	ip netns del "$nss" 2>/dev/null || true
	ip netns del "$nsc" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$nss"
ip netns add "$nsc"
ip link add "b6s$id" netns "$nss" type veth peer name "b6c$id" netns "$nsc"
for ns in "$nss" "$nsc"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	ip -n "$ns" link set lo up
done
ip -n "$nss" link set "b6s$id" up
ip -n "$nsc" link set "b6c$id" up
ip -n "$nss" -6 addr add 2001:db8:99::1/64 dev "b6s$id" nodad
# Both ends need their link-local addresses: the clients send from theirs,
# the servers answer from theirs.
for i in $(seq 50); do
	ip -n "$nss" -6 addr show dev "b6s$id" scope link | grep -q fe80 &&
		ip -n "$nsc" -6 addr show dev "b6c$id" scope link | grep -q fe80 && break
	sleep 0.1
done

go build -o "$tmp/dhcpd" ./examples/dhcpd

cat >"$tmp/kea.json" <<EOF
{ "Dhcp6": {
  "interfaces-config": { "interfaces": [ "b6s$id" ] },
  "data-directory": "$tmp", "server-id": { "type": "LL", "persist": false },
  "lease-database": { "type": "memfile", "persist": true, "name": "$tmp/kea.leases", "lfc-interval": 0 },
  "preferred-lifetime": 2700, "valid-lifetime": 3600,
  "subnet6": [ { "id": 1, "subnet": "2001:db8:99::/64", "interface": "b6s$id",
                 "pools": [ { "pool": "2001:db8:99::100 - 2001:db8:99::ffff:ff7f" } ] } ],
  "loggers": [ { "name": "kea-dhcp6", "output_options": [ { "output": "$tmp/kea.log" } ], "severity": "WARN" } ]
} }
EOF

start() { # server
	rm -f "$tmp"/*.leases* "$tmp"/kea.log
	case $1 in
	pxekit) ip netns exec "$nss" "$tmp/dhcpd" -prefix6 2001:db8:99::/64 -iface "b6s$id" -tftp6 2001:db8:99::1 \
		-lease-time 1h -leases "$tmp/pxekit.leases" ${CPUPROFILE:+-cpuprofile "$CPUPROFILE"} 2>"$tmp/server.log" & ;;
	kea) KEA_PIDFILE_DIR=$tmp KEA_LOCKFILE_DIR=$tmp ip netns exec "$nss" kea-dhcp6 -c "$tmp/kea.json" >"$tmp/server.log" 2>&1 & ;;
	esac
	srvpid=$!
	sleep 1
}
cpu() {
	awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$srvpid/stat" 2>/dev/null || echo 0
}
stop() {
	kill "$srvpid" 2>/dev/null || true
	wait "$srvpid" 2>/dev/null || true
	srvpid=
}
rcvbuf() {
	ip netns exec "$1" awk '/^Udp6RcvbufErrors/ {print $2}' /proc/net/snmp6
}

# run rate: prints "achieved dropSA dropRR srvbuf clibuf"; achieved is the
# Replies received over PERIOD (perfdhcp waits a second after sending for
# the last answers, -W).
run() {
	local s0 c0 out
	s0=$(rcvbuf "$nss") c0=$(rcvbuf "$nsc")
	out=$(ip netns exec "$nsc" timeout $((PERIOD + 20)) perfdhcp -6 -l "b6c$id" -r "$1" -p "$PERIOD" -W 1000000 -R "$RANGE" 2>&1 || true)
	awk -v p="$PERIOD" -v sb="$(($(rcvbuf "$nss") - s0))" -v cb="$(($(rcvbuf "$nsc") - c0))" '/^received packets:/ {r[m++]=$3} /^drops ratio:/ {d[n++]=$3}
		END {printf "%.1f %s %s %s %s\n", r[1]/p, d[0]+0, d[1]+0, sb, cb}' <<<"$out"
}

# leasecheck: after a pxekit run, the lease file holds exactly the leases
# the server reported at its stop (a lease is saved before its Reply), no
# client (IAID+DUID, the fifth field) twice.
leasecheck() {
	local want
	want=$(sed -n 's/.*dhcpd stopped.* leases=\([0-9]*\).*/\1/p' "$tmp/server.log")
	[ -n "$want" ] || { echo "LOST(server did not report its leases)"; return; }
	awk -v want="$want" '
		/^#/ || NF == 0 { next }
		$2 == "-" { delete cid[$1]; next }
		{ cid[$1] = $5 }
		END {
			for (a in cid) { n++; if (seen[cid[a]]++) dup++ }
			if (dup) { printf "DUPLICATE(%d clients hold two addresses)\n", dup; exit }
			if (n != want) { printf "LOST(file %d leases, server %d)\n", n, want; exit }
			printf "leases=%d ok\n", n
		}' "$tmp/pxekit.leases" 2>/dev/null || echo "LOST(no lease file)"
}

declare -A best alive
for s in $SERVERS; do best[$s]=0 alive[$s]=1; done
lostdup=
printf '%-8s %7s %10s %8s %8s %7s %7s %s\n' server asked achieved "drop SA%" "drop RR%" "srv buf" "cli buf" "lease file"
for r in $RATES; do
	any=
	for s in $SERVERS; do
		[ "${alive[$s]}" = 1 ] || continue
		any=1 ok=
		for ((a = 1; a <= ATTEMPTS; a++)); do
			start "$s"
			read -r got d1 d2 sb cb < <(run "$r")
			stop
			[ -n "${SHOWLOG:-}" ] && cat "$tmp/server.log" "$tmp/kea.log" 2>/dev/null | tail -20 >&2
			check=
			[ "$s" = pxekit ] && check=$(leasecheck)
			printf '%-8s %7s %10s %8s %8s %7s %7s %s\n' "$s" "$r" "$got" "$d1" "$d2" "$sb" "$cb" "$check"
			case $check in LOST* | DUPLICATE*) lostdup=1 ;; esac
			if [[ $check != LOST* && $check != DUPLICATE* ]] &&
				awk -v g="$got" -v r="$r" -v a="$d1" -v b="$d2" -v m="$MAXDROP" 'BEGIN {exit !(g >= 0.95*r && a <= m && b <= m)}'; then
				ok=1
				break
			fi
		done
		if [ -n "$ok" ]; then best[$s]=$r; else alive[$s]=0; fi
	done
	[ -n "$any" ] || break
done

CPURATE=${CPURATE:-500}
echo
echo "server CPU per SARR exchange at $CPURATE/s for ${PERIOD}s:"
declare -A cost
for s in $SERVERS; do
	start "$s"
	c0=$(cpu)
	read -r got d1 d2 sb cb < <(run "$CPURATE")
	c1=$(cpu)
	stop
	cost[$s]=$(awk -v a="$c0" -v b="$c1" -v g="$got" -v p="$PERIOD" 'BEGIN {n = g*p; if (n > 0) printf "%.1f", (b-a)/n*1e6; else print 0}')
	printf '  %-8s %8s µs  (%s/s achieved, drops %s%% %s%%)\n' "$s" "${cost[$s]}" "$got" "$d1" "$d2"
done
if [ -n "${cost[kea]:-}" ] && [ "${cost[kea]}" != 0 ] && [ -n "${cost[pxekit]:-}" ]; then
	awk -v a="${cost[pxekit]}" -v b="${cost[kea]}" 'BEGIN {printf "  pxekit uses %.2fx the CPU of kea-dhcp6 per exchange\n", a/b}'
fi

echo
echo "highest sustained SARR rate (>= 95% of asked, <= $MAXDROP% drops), ${PERIOD}s steps, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg):"
for s in $SERVERS; do printf '  %-8s %6s/s\n' "$s" "${best[$s]}"; done
if [[ " $SERVERS " == *" pxekit "* ]]; then
	if [ -n "$lostdup" ]; then
		echo "  pxekit: LEASES LOST OR DUPLICATED in at least one run (see above)"
	else
		echo "  pxekit: every lease replied was in the lease file, none twice, in every run"
	fi
fi
if [ -n "${best[kea]:-}" ] && [ "${best[kea]}" != 0 ]; then
	awk -v a="${best[pxekit]:-0}" -v b="${best[kea]}" 'BEGIN {printf "  pxekit / kea-dhcp6 = %.2f\n", a/b}'
fi
