#!/usr/bin/env bash
# compare.sh: load pxekit's DHCP server as users run it (examples/minimal-server)
# with perfdhcp, in full mode with its lease file (a /16 pool, the subnet
# taken from the interface) and in proxyDHCP mode, and the reference
# servers dnsmasq (--no-ping) and Kea's kea-dhcp4 (memfile, persisted),
# all in the same pair of network namespaces in one run. For each server
# it raises the offered rate step by step (the servers taking turns at each
# step) and prints the highest rate that was sustained: the achieved 4-way
# (DORA) rate at least 95% of the rate asked for and at most MAXDROP
# percent of DISCOVERs and REQUESTs dropped, in one of ATTEMPTS runs.
# MAXDROP=0 asks for drop-free steps. pxekit-mem is pxekit-full with its
# leases in memory only: Kea's memfile appends each lease to its file
# without an fsync (strace: 0 fsync calls in 5 s at 500/s, against
# pxekit-full's ~75 a second), so pxekit-full against kea prices pxekit's
# durability in, and pxekit-mem against kea leaves both without it. It then measures each server's CPU
# time (user and system, from /proc) per DORA exchange at CPURATE (500/s)
# for PERIOD seconds, CPUREPS times (3) with the servers taking turns,
# and prints the medians and their ratios.
#
# perfdhcp plays a relay agent (giaddr = its address) with RANGE distinct
# MACs; every server is restarted with an empty lease file for each step.
# Each run also prints the UDP datagrams the kernel dropped for a full
# receive buffer, in the server's namespace (srv buf: requests the server
# did not read in time) and in perfdhcp's (cli buf: replies perfdhcp did
# not read in time), so that a drop is charged to the side that lost it.
# perfdhcp does not size its socket's receive buffer, so it gets the
# namespace's net.core.rmem_default: RMEM (bytes, default 8 MiB) sets
# rmem_default and rmem_max in both namespaces where the kernel lets a
# namespace have its own (the host's are never touched: on a kernel that
# shows them read-only in a namespace, as 6.18 does, the host's apply and
# the summary says which); RMEM=0 does not try. CLIBUF (bytes, default
# 8 MiB; 0 turns it off) gives perfdhcp's own socket that receive buffer
# through the LD_PRELOAD shim rcvbuf.c (built with gcc), the same for
# every server measured. SRVBUF (default 4 MiB, what pxekit's server
# asks for its own socket; 0 turns it off) gives Kea's and dnsmasq's
# sockets that buffer the same way, since neither sizes its own. For the pxekit servers
# each step also prints what the server saw (see trace).
# Needs root, perfdhcp (kea-admin), dnsmasq, kea-dhcp4 (kea-dhcp4-server)
# and go.
#
# With PostgreSQL (the postgresql package), two more servers keep their
# leases in one PostgreSQL server that the script starts (initdb in the
# temporary directory, as user nobody, Unix socket only, fsync on):
# pxekit-pg (pgstore/examples/dhcpd, one server of a shared pool: each
# offer and each lease is a conditional write, committed before the
# reply) and kea-pg (kea-dhcp4 with its postgresql lease back end, schema
# by kea-admin db-init pgsql). Their tables are emptied before each run.
# pxekit-pg2 is two such servers (ids a and b, each in a namespace of its
# own on the segment) sharing that one database, each answering its half
# of the clients by RFC 3074's hash (dhcp.Failover over heartbeat rows).
#
# The namespaces meet on a bridge: the servers' (10.9.0.1 and, for the
# second pxekit-pg2 server, 10.9.0.3) and perfdhcp's (10.9.0.2). perfdhcp
# as a relay unicasts to one server, so pxekit-pg2 is loaded in broadcast
# mode (perfdhcp -l <interface> -B, no server address): every DISCOVER
# reaches both servers and the owner of its bucket answers. BCAST=1 loads
# every server that way, so that pxekit-pg, kea-pg and pxekit-pg2 are
# measured alike (Kea then uses raw sockets, as it must for clients
# without an address); BCAST=0 (the default) keeps the relay for all but
# pxekit-pg2. Each run also prints the CPU the server(s) and PostgreSQL
# used, in percent of one CPU, and the machine's idle share, so that a
# limit set by the machine (two servers, perfdhcp and PostgreSQL on few
# CPUs) shows as such, and the rows each server committed, so that a split
# that does not hold shows too (and, for pxekit-pg2, the second server's
# own CPU: the first's is the rest of "srv cpu").
#
# SERVER_CPU=0.1 caps each DHCP server process (pxekit's and Kea's; each
# of pxekit-pg2's two on its own) at that share of one CPU, in a CPU
# cgroup of its own (cgroup v2 cpu.max, or v1 cpu.cfs_quota_us, per 100
# ms), while PostgreSQL and perfdhcp run uncapped: the servers are then
# the bottleneck, as on a site where each server has a machine of its
# own, and pxekit-pg2 against pxekit-pg says whether a second server adds
# capacity rather than what the whole machine holds. Choose the cap so
# that the machine keeps idle time at the highest rates (the idle
# column); each row then also says in which share of the CFS periods the
# cap stopped each server ("thr a=… b=…": near 100% is a server at its
# cap). The CPU-per-exchange rounds (CPURATE) run capped too: set
# CPURATE below what one capped server sustains.
#
#   sudo bench/dhcp/compare.sh                    # defaults below
#   RATES="1000 2000 4000" PERIOD=10 MAXDROP=0 SERVERS="pxekit-full kea dnsmasq" sudo -E bench/dhcp/compare.sh
#   BCAST=1 MAXDROP=0 SERVERS="pxekit-pg kea-pg pxekit-pg2" sudo -E bench/dhcp/compare.sh
#   SERVER_CPU=0.1 BCAST=1 MAXDROP=0 SERVERS="pxekit-pg pxekit-pg2 kea-pg" CPURATE=200 sudo -E bench/dhcp/compare.sh
#
# Results, with the commands that gave them, are in README.md beside this
# script.
set -euo pipefail

RATES=${RATES:-"250 500 1000 2000 3000 4000 6000 8000 12000 16000"}
PERIOD=${PERIOD:-4}     # seconds per step
MAXDROP=${MAXDROP:-0.1} # percent
RANGE=${RANGE:-50000}   # distinct clients
SERVERS=${SERVERS:-"pxekit-full pxekit-proxy dnsmasq kea pxekit-pg kea-pg"}
RMEM=${RMEM:-8388608}   # receive buffer default and maximum in both namespaces
CLIBUF=${CLIBUF:-8388608} # perfdhcp's receive buffer (rcvbuf.c), 0: the default
SRVBUF=${SRVBUF:-4194304} # Kea's and dnsmasq's (rcvbuf.c): what pxekit asks for itself; 0: the default
BCAST=${BCAST:-0}       # 1: perfdhcp broadcasts to every server (pxekit-pg2 always)
SERVER_CPU=${SERVER_CPU:-0} # >0: each server process capped at this share of one CPU (cgroup)

cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "compare.sh: needs root (network namespaces)" >&2; exit 1; }
for c in perfdhcp dnsmasq kea-dhcp4 ip go; do
	PATH=$PATH:/usr/sbin:/sbin command -v "$c" >/dev/null || { echo "compare.sh: $c not installed" >&2; exit 1; }
done
export PATH=$PATH:/usr/sbin:/sbin

tmp=$(mktemp -d)
id=$RANDOM
nss=pxkbs$id nss2=pxkbt$id nsc=pxkbc$id nsw=pxkbw$id
cleanup() {
	[ -n "${srvpid:-}" ] && kill "$srvpid" 2>/dev/null || true
	[ -n "${srvpid2:-}" ] && kill "$srvpid2" 2>/dev/null || true
	if [ -n "${pgpid:-}" ]; then
		# Signal postgres itself (runuser, its parent, does not pass it on).
		kill -INT "$(head -n1 "$tmp/pg/data/postmaster.pid" 2>/dev/null)" 2>/dev/null || kill "$pgpid" 2>/dev/null || true
		wait "$pgpid" 2>/dev/null || true
	fi
	for ns in "$nss" "$nss2"; do ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true; done
	for ns in "$nss" "$nss2" "$nsc" "$nsw"; do ip netns del "$ns" 2>/dev/null || true; done
	if [ -n "${cgdir:-}" ]; then
		# A cgroup goes once its killed processes have left it.
		for _ in $(seq 50); do
			rmdir "$cgdir/a" "$cgdir/b" 2>/dev/null || true
			rmdir "$cgdir" 2>/dev/null && break
			sleep 0.1
		done
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# One segment: a bridge in nsw, and a port of it in each of the servers'
# namespaces and perfdhcp's.
for ns in "$nss" "$nss2" "$nsc" "$nsw"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip -n "$nsw" link add br0 type bridge
ip -n "$nsw" link set br0 up
port() { # ns dev addr
	ip link add "$2" netns "$1" type veth peer name "w$2" netns "$nsw"
	ip -n "$nsw" link set "w$2" master br0 up
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$1" link set "$2" up
}
port "$nss" "bs$id" 10.9.0.1/16
port "$nss2" "bt$id" 10.9.0.3/16
port "$nsc" "bc$id" 10.9.0.2/16
rmemnote="rmem_default $(cat /proc/sys/net/core/rmem_default) (host's)"
if [ "$RMEM" != 0 ]; then
	for ns in "$nss" "$nss2" "$nsc"; do
		ip netns exec "$ns" sysctl -qw net.core.rmem_max="$RMEM" net.core.rmem_default="$RMEM" 2>/dev/null || true
		if [ "$(ip netns exec "$ns" cat /proc/sys/net/core/rmem_default)" = "$RMEM" ]; then
			rmemnote="rmem_default $RMEM (namespaces')"
		else
			# Linux 6.x shows these read-only in a namespace other than the
			# host's; the host's then apply, which this script leaves alone.
			echo "compare.sh: net.core.rmem_* are read-only in namespace $ns; perfdhcp keeps the host's rmem_default ($(cat /proc/sys/net/core/rmem_default))" >&2
		fi
	done
fi

go build -o "$tmp/minimal-server" ./examples/minimal-server
perfenv=() srvenv=()
if [ "$CLIBUF" != 0 ] || [ "$SRVBUF" != 0 ]; then
	gcc -shared -fPIC -O2 -o "$tmp/rcvbuf.so" bench/dhcp/rcvbuf.c -ldl
fi
if [ "$CLIBUF" != 0 ]; then
	perfenv=(env LD_PRELOAD="$tmp/rcvbuf.so" RCVBUF="$CLIBUF")
	rmemnote="$rmemnote, perfdhcp's socket $CLIBUF"
fi
if [ "$SRVBUF" != 0 ]; then
	srvenv=(env LD_PRELOAD="$tmp/rcvbuf.so" RCVBUF="$SRVBUF")
	rmemnote="$rmemnote, Kea's and dnsmasq's sockets $SRVBUF (pxekit's own: 4194304)"
fi

# SERVER_CPU: two CPU cgroups, a and b, each capped at SERVER_CPU of one
# CPU (CFS bandwidth: quota per 100 ms period); every server process runs
# in one of them (pxekit-pg2's second server in b, every other in a), so
# that each server has the CPU of a small machine of its own while
# PostgreSQL and perfdhcp, outside them, have the rest. cgroup v2 (cpu.max)
# where the cpu controller is on the unified hierarchy, else v1's cpu
# controller (cpu.cfs_quota_us).
cgdir= cgv=
if awk -v c="$SERVER_CPU" 'BEGIN {exit !(c > 0)}'; then
	quota=$(awk -v c="$SERVER_CPU" 'BEGIN {printf "%d", c * 100000}')
	if grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
		cgv=2 cgdir=/sys/fs/cgroup/pxkbcg$id
		echo +cpu >/sys/fs/cgroup/cgroup.subtree_control
		mkdir "$cgdir"
		echo +cpu >"$cgdir/cgroup.subtree_control"
		mkdir "$cgdir/a" "$cgdir/b"
		for g in a b; do echo "$quota 100000" >"$cgdir/$g/cpu.max"; done
	elif [ -w /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
		cgv=1 cgdir=/sys/fs/cgroup/cpu/pxkbcg$id
		mkdir "$cgdir" "$cgdir/a" "$cgdir/b"
		for g in a b; do
			echo 100000 >"$cgdir/$g/cpu.cfs_period_us"
			echo "$quota" >"$cgdir/$g/cpu.cfs_quota_us"
		done
	else
		echo "compare.sh: SERVER_CPU needs the cpu controller of cgroup v2 or v1" >&2
		exit 1
	fi
	rmemnote="$rmemnote, each server capped at $SERVER_CPU CPU (cgroup v$cgv)"
fi
# capped g cmd...: execs cmd in CPU cgroup g (a or b) when SERVER_CPU is
# set; run it with & so that its pid ($!) is the server's.
capped() {
	[ -n "$cgdir" ] && echo "$BASHPID" >"$cgdir/$1/cgroup.procs"
	shift
	exec "$@"
}
# throttled: per cgroup, the CFS periods so far and those in which the
# cap stopped the server ("periods throttled" for a and b).
throttled() {
	[ -n "$cgdir" ] || { echo "0 0 0 0"; return; }
	awk '$1 == "nr_periods" {p = $2} $1 == "nr_throttled" {t = $2} END {printf "%d %d ", p, t}' "$cgdir/a/cpu.stat"
	awk '$1 == "nr_periods" {p = $2} $1 == "nr_throttled" {t = $2} END {printf "%d %d\n", p, t}' "$cgdir/b/cpu.stat"
}

# PostgreSQL for pxekit-pg and kea-pg: dropped from SERVERS when missing.
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
psql_() { psql -h "$tmp/pg" -U pxekit -qAt "$@"; }
if [[ " $SERVERS " == *-pg* ]]; then
	if [ -z "$pgbin" ] || ! command -v psql >/dev/null; then
		echo "compare.sh: PostgreSQL not installed: skipping pxekit-pg and kea-pg" >&2
		SERVERS=$(tr ' ' '\n' <<<"$SERVERS" | grep -v -- '-pg2\?$' | tr '\n' ' ')
	else
		chmod 755 "$tmp"
		mkdir "$tmp/pg"
		chown nobody "$tmp/pg"
		(cd "$tmp/pg" && runuser -u nobody -- "$pgbin/initdb" -D "$tmp/pg/data" -U pxekit --auth=trust -E UTF8 >/dev/null)
		(cd "$tmp/pg" && exec runuser -u nobody -- "$pgbin/postgres" -D "$tmp/pg/data" -k "$tmp/pg" -c listen_addresses= -p 5432 \
			-c max_connections=100 >"$tmp/pg.log" 2>&1) &
		pgpid=$!
		for _ in $(seq 100); do psql_ -d postgres -c 'select 1' >/dev/null 2>&1 && break; sleep 0.1; done
		psql_ -d postgres -c 'CREATE DATABASE pxekit' -c 'CREATE DATABASE kea'
		kea-admin db-init pgsql -u pxekit -p pxekit -n kea -h "$tmp/pg" >"$tmp/kea-admin.log" 2>&1
		(cd pgstore && go build -o "$tmp/dhcpd-pg" ./examples/dhcpd)
		pgurl="postgres://pxekit@/pxekit?host=$tmp/pg&port=5432&sslmode=disable"
	fi
fi
# Kea answers clients without an address (broadcast mode) only from raw
# sockets; through a relay, UDP sockets do.
keasock=udp
[ "$BCAST" = 1 ] && keasock=raw

cat >"$tmp/kea.json" <<EOF
{ "Dhcp4": {
  "interfaces-config": { "interfaces": [ "bs$id" ], "dhcp-socket-type": "$keasock" },
  "lease-database": { "type": "memfile", "persist": true, "name": "$tmp/kea.leases", "lfc-interval": 0 },
  "valid-lifetime": 3600,
  "subnet4": [ { "id": 1, "subnet": "10.9.0.0/16", "pools": [ { "pool": "10.9.1.1 - 10.9.255.254" } ] } ],
  "loggers": [ { "name": "kea-dhcp4", "output_options": [ { "output": "$tmp/kea.log" } ], "severity": "WARN" } ]
} }
EOF

cat >"$tmp/kea-pg.json" <<EOF
{ "Dhcp4": {
  "interfaces-config": { "interfaces": [ "bs$id" ], "dhcp-socket-type": "$keasock" },
  "lease-database": { "type": "postgresql", "name": "kea", "host": "$tmp/pg", "user": "pxekit", "password": "pxekit" },
  "valid-lifetime": 3600,
  "subnet4": [ { "id": 1, "subnet": "10.9.0.0/16", "pools": [ { "pool": "10.9.1.1 - 10.9.255.254" } ] } ],
  "loggers": [ { "name": "kea-dhcp4", "output_options": [ { "output": "$tmp/kea.log" } ], "severity": "WARN" } ]
} }
EOF

# PXE vendor class for the proxy, which answers only PXE clients.
pxeclass=$(printf 'PXEClient:Arch:00000:UNDI:002001' | od -An -tx1 | tr -d ' \n')

start() { # server
	rm -f "$tmp"/*.leases* "$tmp"/kea.log
	case $1 in
	pxekit-full) capped a ip netns exec "$nss" "$tmp/minimal-server" -iface "bs$id" -range 10.9.1.1-10.9.255.254 -leases "$tmp/pxekit.leases" -http 127.0.0.1:8067 >"$tmp/server.log" 2>&1 & ;;
	pxekit-mem) capped a ip netns exec "$nss" "$tmp/minimal-server" -iface "bs$id" -range 10.9.1.1-10.9.255.254 -http 127.0.0.1:8067 >"$tmp/server.log" 2>&1 & ;;
	pxekit-proxy) capped a ip netns exec "$nss" "$tmp/minimal-server" -iface "bs$id" -proxy -http 127.0.0.1:8067 >"$tmp/server.log" 2>&1 & ;;
	dnsmasq) capped a ip netns exec "$nss" "${srvenv[@]}" dnsmasq --keep-in-foreground --port=0 --no-ping --no-resolv --user=root \
		--dhcp-range=10.9.1.1,10.9.255.254,255.255.0.0,1h --dhcp-lease-max=100000 \
		--dhcp-leasefile="$tmp/dnsmasq.leases" --pid-file="$tmp/dnsmasq.pid" 2>"$tmp/server.log" & ;;
	kea) capped a env KEA_PIDFILE_DIR="$tmp" KEA_LOCKFILE_DIR="$tmp" ip netns exec "$nss" "${srvenv[@]}" kea-dhcp4 -c "$tmp/kea.json" >"$tmp/server.log" 2>&1 & ;;
	pxekit-pg)
		psql_ -d pxekit -c 'TRUNCATE pxekit_leases, pxekit_peers' 2>/dev/null || true
		capped a ip netns exec "$nss" "$tmp/dhcpd-pg" -id bench -addr 0.0.0.0:67 -range 10.9.1.1-10.9.255.254 -subnet 10.9.0.0/16 -leases "$pgurl" 2>"$tmp/server.log" & ;;
	pxekit-pg2) # two servers, one database; b first, a's pid is srvpid.
		# 16 connections each, the one server's 32 together: with 32 each,
		# 64 PostgreSQL backends on few CPUs answered late (past perfdhcp's
		# 1 s drop time) though nothing was lost.
		psql_ -d pxekit -c 'TRUNCATE pxekit_leases, pxekit_peers' 2>/dev/null || true
		capped b ip netns exec "$nss2" "$tmp/dhcpd-pg" -id b -iface "bt$id" -addr 0.0.0.0:67 -range 10.9.1.1-10.9.255.254 -subnet 10.9.0.0/16 -failover-time 10s -leases "$pgurl&pool_max_conns=16" 2>"$tmp/server2.log" &
		srvpid2=$!
		capped a ip netns exec "$nss" "$tmp/dhcpd-pg" -id a -iface "bs$id" -addr 0.0.0.0:67 -range 10.9.1.1-10.9.255.254 -subnet 10.9.0.0/16 -failover-time 10s -leases "$pgurl&pool_max_conns=16" 2>"$tmp/server.log" & ;;
	kea-pg)
		psql_ -d kea -c 'TRUNCATE lease4'
		capped a env KEA_PIDFILE_DIR="$tmp" KEA_LOCKFILE_DIR="$tmp" ip netns exec "$nss" "${srvenv[@]}" kea-dhcp4 -c "$tmp/kea-pg.json" >"$tmp/server.log" 2>&1 & ;;
	esac
	srvpid=$!
	case $1 in
	pxekit-full | pxekit-mem | pxekit-proxy) # minimal-server says when its sockets are bound and its pools loaded
		for _ in $(seq 100); do grep -q 'msg=ready' "$tmp/server.log" 2>/dev/null && break; sleep 0.1; done ;;
	pxekit-pg2) # until both have seen the other's heartbeat (a beat every 2 s)
		for _ in $(seq 150); do
			[ "$(psql_ -d pxekit -c 'SELECT count(*) FROM pxekit_peers' 2>/dev/null)" = 2 ] && break
			sleep 0.1
		done
		sleep 3 ;;
	*) sleep 1 ;;
	esac
}
# cpu: user+system CPU seconds the server process(es) have used so far.
cpu() {
	local p
	for p in $srvpid ${srvpid2:-}; do cat "/proc/$p/stat" 2>/dev/null || true; done |
		awk -v hz="$(getconf CLK_TCK)" '{t += $14 + $15} END {print t / hz}'
}
# cpu2: the CPU seconds of the second server of pxekit-pg2 so far.
cpu2() {
	awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/${srvpid2:-0}/stat" 2>/dev/null || echo 0
}
# pgcpu: CPU seconds PostgreSQL has used so far: the postmaster with its
# ended children, and its live ones (the servers' connections).
pgcpu() {
	local pm p
	pm=$(head -n1 "$tmp/pg/data/postmaster.pid" 2>/dev/null) || { echo 0; return; }
	{
		awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat" 2>/dev/null
		for p in $(pgrep -P "$pm"); do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null; done
	} | awk -v hz="$(getconf CLK_TCK)" '{t += $1} END {print t / hz}'
}
# idle: the machine's idle and iowait jiffies so far, and all jiffies.
idle() {
	awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print $5 + $6, t}' /proc/stat
}
stop() {
	kill "$srvpid" ${srvpid2:-} 2>/dev/null || true
	wait "$srvpid" ${srvpid2:-} 2>/dev/null || true
	srvpid= srvpid2=
}

# rcvbuf ns: UDP datagrams the kernel dropped in namespace ns so far because
# a socket's receive buffer was full (RcvbufErrors of /proc/net/snmp).
rcvbuf() {
	ip netns exec "$1" awk '/^Udp:/ {n++} /^Udp:/ && n == 2 {for (i = 1; i <= NF; i++) if (h[i] == "RcvbufErrors") print $i} /^Udp:/ && n == 1 {for (i = 1; i <= NF; i++) h[i] = $i}' /proc/net/snmp
}

# run server rate: prints "achieved dropDO dropRA srvbuf clibuf". perfdhcp sends for
# PERIOD seconds and then waits a second for the last answers (-W), so that
# a server that answers within its drop time (-d, 1 s) is not charged with
# the exchanges still under way when sending stops; achieved is the number
# of ACKs received over PERIOD. srvbuf and clibuf say where datagrams were
# lost: requests dropped at the server's socket, replies dropped at
# perfdhcp's own (a perfdhcp short of CPU, or a burst of replies, overflows
# its receive buffer: drops the server cannot cause by being slow alone).
#
# perfdhcp plays a relay (-l its address, the server's address given), or,
# for pxekit-pg2 and with BCAST=1, a segment of clients: -l its interface
# and -B (the broadcast flag, so that the servers broadcast their
# answers), DISCOVERs and REQUESTs broadcast to every server.
run() {
	local extra=() s0 c0 out to=(-l 10.9.0.2 10.9.0.1)
	[ "$1" = pxekit-proxy ] && extra=(-o "60,$pxeclass")
	[ "$BCAST" = 1 ] || [ "$1" = pxekit-pg2 ] && to=(-l "bc$id" -B)
	s0=$(($(rcvbuf "$nss") + $(rcvbuf "$nss2"))) c0=$(rcvbuf "$nsc")
	out=$(ip netns exec "$nsc" "${perfenv[@]}" timeout $((PERIOD + 20)) perfdhcp -4 -r "$2" -p "$PERIOD" -W 1000000 -R "$RANGE" "${extra[@]}" "${to[@]}" 2>&1 || true)
	awk -v p="$PERIOD" -v sb="$(($(rcvbuf "$nss") + $(rcvbuf "$nss2") - s0))" -v cb="$(($(rcvbuf "$nsc") - c0))" '/^received packets:/ {r[m++]=$3} /^drops ratio:/ {d[n++]=$3}
		END {printf "%.1f %s %s %s %s\n", r[1]/p, d[0]+0, d[1]+0, sb, cb}' <<<"$out"
}

# trace: for a pxekit server, before it stops, what it saw of the run
# from its metrics (served on the namespace's loopback): requests
# decoded and replies sent per message type, and requests left
# unanswered by reason, so that perfdhcp's drops can be split into
# requests that never reached the server (srv buf), requests it did not
# answer (ignored), and replies lost on the way back (cli buf).
trace() {
	ip netns exec "$nss" curl -s --max-time 5 "http://127.0.0.1:8067/_pxekit/metrics" | awk '
		/^pxekit_dhcp_(requests|replies|ignored)_total/ {
			split($1, a, "{"); kind = a[1]; sub(/^pxekit_dhcp_/, "", kind); sub(/_total$/, "", kind)
			lab = ""; if (match($1, /(type|reason)="[^"]*"/)) lab = substr($1, RSTART, RLENGTH)
			gsub(/(type|reason)=|"/, "", lab); n[kind "." lab] += $2
		}
		END { out = ""; for (k in n) out = out (out == "" ? "" : ",") k "=" n[k]; print "server[" out "]" }'
}

# leasecheck: after a pxekit-full run, when the server has stopped and
# logged the number of leases it holds, checks that the lease file holds
# exactly those (a lease is stored before its ACK leaves, so every ACKed
# lease is among them), never one client twice; prints "leases=N ok", or
# LOST or DUPLICATE. That a crash loses none is TestKillRestart's job.
leasecheck() {
	local want
	want=$(sed -n 's/.*msg=leases bound=\([0-9]*\).*/\1/p' "$tmp/server.log")
	[ -n "$want" ] || { echo "LOST(server did not report its leases)"; return; }
	awk -v want="$want" '
		/^#/ || NF == 0 { next }
		$2 == "-" { delete mac[$1]; next }
		{ mac[$1] = $2 }
		END {
			for (a in mac) { n++; if (seen[mac[a]]++) dup++ }
			if (dup) { printf "DUPLICATE(%d clients hold two addresses)\n", dup; exit }
			if (n != want) { printf "LOST(file %d leases, server %d)\n", n, want; exit }
			printf "leases=%d ok\n", n
		}' "$tmp/pxekit.leases" 2>/dev/null || echo "LOST(no lease file)"
}

# pgleasecheck: leasecheck for pxekit-pg, over the database: the leases
# the stopped server held are exactly the lease rows (offers aside), and
# no client holds two.
# For pxekit-pg2 the two servers' leases together are the rows, and the
# line says how many each committed (a=N b=M: the split).
pgleasecheck() {
	local want n dup f w split=
	want=0
	for f in "$tmp/server.log" ${1:+"$tmp/server2.log"}; do
		w=$(sed -n 's/.*dhcpd stopped.* leases=\([0-9]*\).*/\1/p' "$f")
		[ -n "$w" ] || { echo "LOST(server did not report its leases)"; return; }
		want=$((want + w))
		[ -n "${1:-}" ] && split="$split $(sed -n 's/.*dhcpd serving" id=\([a-z]*\).*/\1/p' "$f")=$w($(sed -n 's/.*dhcpd stopped" received=\([0-9]*\) replied=\([0-9]*\) ignored=\([0-9]*\) errors=\([0-9]*\).*/rx \1 tx \2 ign \3 err \4/p' "$f"))"
	done
	# addr is the primary key: no address is in two rows; a client in
	# two rows would hold two addresses.
	read -r n dup < <(psql_ -d pxekit -F ' ' -c "SELECT count(*), count(*) - count(DISTINCT client) FROM pxekit_leases WHERE NOT offered AND declined IS NULL")
	if [ "$dup" != 0 ]; then echo "DUPLICATE($dup clients hold two addresses)"; return; fi
	if [ "$n" != "$want" ]; then echo "LOST(database $n leases, servers $want)"; return; fi
	# A server that counted errors says why (its first warning or error).
	for f in "$tmp/server.log" ${1:+"$tmp/server2.log"}; do
		w=$(grep -m1 -E 'level=(WARN|ERROR)' "$f" | cut -c1-200)
		[ -n "$w" ] && split="$split [${f##*/}: $w]"
	done
	echo "leases=$n ok$split"
}

# pair ref s: whether s is compared with ref: pxekit-pg with kea-pg, the
# others with kea and dnsmasq.
pair() {
	if [ "$1" = kea-pg ]; then [[ $2 == pxekit-pg* ]]; else [[ $2 != pxekit-pg* ]]; fi
}

# Servers take turns at each rate, so that all of them meet the same load
# of the machine; a step passes when one of ATTEMPTS runs passes, so that a
# passing spike of other work does not end a server's climb.
ATTEMPTS=${ATTEMPTS:-2}
declare -A best alive
for s in $SERVERS; do best[$s]=0 alive[$s]=1; done
lostdup=
printf '%-13s %7s %10s %8s %8s %7s %7s %7s %6s %5s %s\n' server asked achieved "drop DO%" "drop RA%" "srv buf" "cli buf" "srv cpu" "pg cpu" "idle" "lease file"
for r in $RATES; do
	any=
	for s in $SERVERS; do
		[ "${alive[$s]}" = 1 ] || continue
		any=1 ok=
		for ((a = 1; a <= ATTEMPTS; a++)); do
			start "$s"
			c0=$(cpu) p0=$(pgcpu) b0=$(cpu2)
			read -r i0 t0 < <(idle)
			read -r ap0 at0 bp0 bt0 < <(throttled)
			read -r got d1 d2 sb cb < <(run "$s" "$r")
			read -r ap1 at1 bp1 bt1 < <(throttled)
			read -r i1 t1 < <(idle)
			c1=$(cpu) p1=$(pgcpu) b1=$(cpu2)
			# CPU in percent of one CPU over the run (perfdhcp's -W second included)
			read -r sc pc idl < <(awk -v a="$c0" -v b="$c1" -v c="$p0" -v d="$p1" -v i="$((i1 - i0))" -v t="$((t1 - t0))" -v s="$((PERIOD + 1))" \
				'BEGIN {printf "%.0f%% %.0f%% %.0f%%\n", (b-a)/s*100, (d-c)/s*100, (t > 0 ? i/t*100 : 0)}')
			tr=
			[[ $s == pxekit-full || $s == pxekit-mem || $s == pxekit-proxy ]] && tr=$(trace)
			stop
			check=
			[ "$s" = pxekit-full ] && check=$(leasecheck)
			[ "$s" = pxekit-pg ] && check=$(pgleasecheck)
			[ "$s" = pxekit-pg2 ] && check="$(pgleasecheck two) cpu b=$(awk -v a="$b0" -v b="$b1" -v s="$((PERIOD + 1))" 'BEGIN {printf "%.0f%%", (b-a)/s*100}')"
			check="$check $tr"
			# With SERVER_CPU, the share of the run's CFS periods in which
			# the cap stopped each server: near 100% is a server at its cap.
			if [ -n "$cgdir" ]; then
				check="$check thr a=$(awk -v p="$((ap1 - ap0))" -v t="$((at1 - at0))" 'BEGIN {printf "%.0f%%", (p > 0 ? t/p*100 : 0)}')"
				[ "$s" = pxekit-pg2 ] && check="$check b=$(awk -v p="$((bp1 - bp0))" -v t="$((bt1 - bt0))" 'BEGIN {printf "%.0f%%", (p > 0 ? t/p*100 : 0)}')"
			fi
			printf '%-13s %7s %10s %8s %8s %7s %7s %7s %6s %5s %s\n' "$s" "$r" "$got" "$d1" "$d2" "$sb" "$cb" "$sc" "$pc" "$idl" "$check"
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

# CPU cost per exchange at a moderate rate: unlike the highest rate, it
# hardly depends on what else the machine is doing. CPUREPS rounds, the
# servers taking turns in each; each server's figure is its median.
CPURATE=${CPURATE:-500}
CPUREPS=${CPUREPS:-3}
echo
echo "server CPU per DORA exchange at $CPURATE/s for ${PERIOD}s, median of $CPUREPS interleaved runs:"
declare -A cost costs
for ((rep = 1; rep <= CPUREPS; rep++)); do
	for s in $SERVERS; do
		start "$s"
		c0=$(cpu)
		read -r got d1 d2 sb cb < <(run "$s" "$CPURATE")
		c1=$(cpu)
		stop
		c=$(awk -v a="$c0" -v b="$c1" -v g="$got" -v p="$PERIOD" 'BEGIN {n = g*p; if (n > 0) printf "%.1f", (b-a)/n*1e6; else print 0}')
		costs[$s]="${costs[$s]:-} $c"
		printf '  %-13s %8s µs  (run %d, %s/s achieved, drops %s%% %s%%)\n' "$s" "$c" "$rep" "$got" "$d1" "$d2"
	done
done
for s in $SERVERS; do
	cost[$s]=$(tr ' ' '\n' <<<"${costs[$s]:-}" | { grep . || true; } | sort -g | awk '{v[NR] = $1} END {if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f", (v[NR / 2] + v[NR / 2 + 1]) / 2}')
	printf '  %-13s %8s µs  median\n' "$s" "${cost[$s]}"
done
for ref in kea dnsmasq kea-pg; do
	[ -n "${cost[$ref]:-}" ] && [ "${cost[$ref]}" != 0 ] || continue
	for s in pxekit-full pxekit-mem pxekit-proxy pxekit-pg pxekit-pg2; do
		pair "$ref" "$s" || continue
		[ -n "${cost[$s]:-}" ] && [ "${cost[$s]}" != 0 ] || continue
		awk -v a="${cost[$s]}" -v b="${cost[$ref]}" -v s="$s" -v r="$ref" 'BEGIN {printf "  %s uses %.2fx the CPU of %s per exchange\n", s, a/b, r}'
	done
done

echo
echo "highest sustained DORA rate (>= 95% of asked, <= $MAXDROP% drops), ${PERIOD}s steps, $rmemnote, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg):"
for s in $SERVERS; do printf '  %-13s %6s/s\n' "$s" "${best[$s]}"; done
if [[ " $SERVERS " == *" pxekit-full "* || " $SERVERS " == *" pxekit-pg"* ]]; then
	if [ -n "$lostdup" ]; then
		echo "  pxekit-full/pxekit-pg/pxekit-pg2: LEASES LOST OR DUPLICATED in at least one run (see above)"
	else
		echo "  pxekit-full/pxekit-pg/pxekit-pg2: every ACKed lease was in the lease file or database, none twice, in every run"
	fi
fi
# The scale-out goal: two servers sharing one database at least 1.6 times one.
if [ -n "${best[pxekit-pg2]:-}" ] && [ "${best[pxekit-pg]:-0}" != 0 ]; then
	awk -v a="${best[pxekit-pg2]}" -v b="${best[pxekit-pg]}" 'BEGIN {printf "  pxekit-pg2 / pxekit-pg = %.2f (goal 1.6)\n", a/b}'
fi
for ref in kea dnsmasq kea-pg; do
	[ -n "${best[$ref]:-}" ] && [ "${best[$ref]}" != 0 ] || continue
	for s in pxekit-full pxekit-mem pxekit-proxy pxekit-pg pxekit-pg2; do
		pair "$ref" "$s" || continue
		[ -n "${best[$s]:-}" ] || continue
		awk -v a="${best[$s]}" -v b="${best[$ref]}" -v s="$s" -v r="$ref" 'BEGIN {printf "  %s / %s = %.2f\n", s, r, a/b}'
	done
done
