#!/usr/bin/env bash
# compare.sh: pxekit's TFTP server (examples/tftpd) against dnsmasq
# (--enable-tftp) and tftpd-hpa, in the same run, with the same clients,
# inside a network namespace made for the run (loopback only).
#
#   sudo bench/tftp/compare.sh            # from the repository root
#
# Throughput: curl downloads a SIZE_MB file at each blksize, with 1 and
# CONC concurrent clients; atftp (the only installed client that speaks
# RFC 7440) downloads it with windowsize 1 and 16. Loss: LOSS_RUNS
# downloads of 1 MiB through LOSS_PCT % random UDP loss (nftables on the
# namespace's input hook), timed per server.
#
# tftpd-hpa conflicts with the installed atftpd, so its package is
# downloaded (apt-get download) and unpacked into the run's temp directory.
#
# Environment: SIZE_MB (64), CONC (32), BLKSIZES ("512 1468 8192"),
# LOSS_PCT (2), LOSS_RUNS (3; 0 skips), SERVERS ("pxekit dnsmasq tftpd-hpa").
set -euo pipefail

SIZE_MB=${SIZE_MB:-64}
CONC=${CONC:-32}
BLKSIZES=${BLKSIZES:-"512 1468 8192"}
LOSS_PCT=${LOSS_PCT:-2}
LOSS_RUNS=${LOSS_RUNS:-3}
SERVERS=${SERVERS:-"pxekit dnsmasq tftpd-hpa"}

[ "$(id -u)" = 0 ] || { echo "compare.sh: needs root (network namespace)" >&2; exit 1; }
for p in curl atftp dnsmasq nft ip apt-get dpkg-deb go sha256sum; do
	command -v "$p" >/dev/null || [ -x "/usr/sbin/$p" ] || { echo "compare.sh: $p not installed" >&2; exit 1; }
done

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/tftp-compare.XXXXXX)
ns=pxkbench$$
server_pid=""

cleanup() {
	stop_server
	ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

echo "# building examples/tftpd"
(cd "$repo" && go build -o "$work/pxekit-tftpd" ./examples/tftpd)
echo "# fetching tftpd-hpa"
# in.tftpd links against libwrap0 (TCP wrappers), which is not installed
# either: unpack it beside and point the loader at it.
(cd "$work" && apt-get download -q tftpd-hpa libwrap0 >/dev/null 2>&1 &&
	dpkg-deb -x tftpd-hpa_*.deb hpa && dpkg-deb -x libwrap0_*.deb hpa)
hpa=$work/hpa/usr/sbin/in.tftpd
hpa_libs=$(find "$work/hpa" -name 'libwrap.so*' -printf '%h\n' | head -1)
[ -x "$hpa" ] || { echo "compare.sh: could not unpack tftpd-hpa" >&2; exit 1; }

mkdir -p "$work/root"
head -c "$((SIZE_MB << 20))" /dev/urandom >"$work/root/big"
head -c "$((1 << 20))" /dev/urandom >"$work/root/small"
big_sum=$(sha256sum <"$work/root/big" | cut -d' ' -f1)
small_sum=$(sha256sum <"$work/root/small" | cut -d' ' -f1)

ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
nsx() { ip netns exec "$ns" "$@"; }

start_server() {
	case $1 in
	# ip netns exec (not the nsx function) so that $! is the server itself.
	pxekit) ip netns exec "$ns" "$work/pxekit-tftpd" -addr 127.0.0.1:69 -root "$work/root" 2>"$work/server.log" & ;;
	dnsmasq) ip netns exec "$ns" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --enable-tftp \
		--tftp-root="$work/root" --listen-address=127.0.0.1 --bind-interfaces --user=root \
		--pid-file="$work/dnsmasq.pid" --tftp-max=200 2>"$work/server.log" & ;;
	# tftpd-hpa exits silently when given -a 127.0.0.1:69: listen on all
	# addresses of the namespace instead.
	tftpd-hpa) ip netns exec "$ns" env LD_LIBRARY_PATH="$hpa_libs" "$hpa" --foreground --user root --secure "$work/root" 2>"$work/server.log" & ;;
	esac
	server_pid=$!
	sleep 0.5
	kill -0 "$server_pid" 2>/dev/null || { echo "compare.sh: $1 did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
}

stop_server() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		server_pid=""
	fi
}

now() { date +%s.%N; }

# fetch CLIENT BLKSIZE WINDOW OUT: one download of big.
fetch() {
	case $1 in
	curl) nsx curl -sS --fail --max-time 600 --tftp-blksize "$2" -o "$4" tftp://127.0.0.1/big ;;
	atftp)
		local opts=(--option "blksize $2")
		[ "$3" -gt 1 ] && opts+=(--option "windowsize $3")
		nsx atftp -g -r big -l "$4" "${opts[@]}" 127.0.0.1 69 >/dev/null 2>&1
		;;
	esac
}

# measure CLIENT BLKSIZE WINDOW N: prints aggregate MB/s (10^6 bytes/s) of N
# concurrent downloads; the first client's file is checked.
measure() {
	local client=$1 blk=$2 win=$3 n=$4 t0 t1 i pids=() fail=0
	t0=$(now)
	for ((i = 0; i < n; i++)); do
		fetch "$client" "$blk" "$win" "$work/out.$i" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || fail=1; done
	t1=$(now)
	if [ "$fail" = 1 ] || [ "$(sha256sum <"$work/out.0" | cut -d' ' -f1)" != "$big_sum" ]; then
		echo "FAIL"
	else
		awk -v n="$n" -v mb="$SIZE_MB" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.1f", n * mb * 1048576 / 1e6 / (t1 - t0) }'
	fi
	rm -f "$work"/out.*
}

declare -A result
configs=()
for blk in $BLKSIZES; do
	configs+=("curl $blk 1 1" "curl $blk 1 $CONC")
done
configs+=("atftp 1468 1 1" "atftp 1468 16 1" "atftp 8192 1 1" "atftp 8192 16 1")

for srv in $SERVERS; do
	start_server "$srv"
	for c in "${configs[@]}"; do
		read -r client blk win n <<<"$c"
		# Peers without RFC 7440 answer without windowsize: lock-step.
		result["$srv $c"]=$(measure "$client" "$blk" "$win" "$n")
		echo "  $srv: $client blksize=$blk windowsize=$win clients=$n: ${result["$srv $c"]} MB/s" >&2
	done
	stop_server
done

echo
echo "## Throughput, MB/s (10^6 bytes/s), ${SIZE_MB} MiB file, loopback in a namespace"
echo
printf '| client | blksize | windowsize | clients |'
for srv in $SERVERS; do printf ' %s |' "$srv"; done
echo ' pxekit / faster peer |'
printf '|---|---|---|---|'
for srv in $SERVERS; do printf -- '---|'; done
echo '---|'
for c in "${configs[@]}"; do
	read -r client blk win n <<<"$c"
	printf '| %s | %s | %s | %s |' "$client" "$blk" "$win" "$n"
	best=0
	for srv in $SERVERS; do
		v=${result["$srv $c"]}
		printf ' %s |' "$v"
		if [ "$srv" != pxekit ] && [ "$v" != FAIL ]; then
			best=$(awk -v a="$best" -v b="$v" 'BEGIN { print (b > a) ? b : a }')
		fi
	done
	ours=${result["pxekit $c"]:-FAIL}
	if [ "$ours" != FAIL ] && [ "$best" != 0 ]; then
		awk -v a="$ours" -v b="$best" 'BEGIN { printf " %.2fx |\n", a / b }'
	else
		echo " - |"
	fi
done
if [[ " $SERVERS " == *" pxekit "* ]]; then
	for blk in 1468 8192; do
		w1=${result["pxekit atftp $blk 1 1"]}
		w16=${result["pxekit atftp $blk 16 1"]}
		if [ "$w1" != FAIL ] && [ "$w16" != FAIL ]; then
			awk -v a="$w16" -v b="$w1" -v blk="$blk" 'BEGIN { printf "\npxekit windowsize 16 / its own lock-step at blksize %s (atftp): %.2fx\n", blk, a / b }'
		fi
	done
fi
echo "(dnsmasq and tftpd-hpa do not implement windowsize: their windowsize-16 rows are lock-step.)"

if [ "$LOSS_RUNS" -gt 0 ]; then
	echo
	echo "## ${LOSS_PCT}% random UDP loss (both directions), 1 MiB, curl --tftp-blksize 1468, seconds per download"
	nsx nft add table inet loss
	nsx nft "add chain inet loss input { type filter hook input priority 0 ; }"
	nsx nft add rule inet loss input meta l4proto udp numgen random mod 100 "<" "$LOSS_PCT" drop
	echo
	echo "| server | runs (s) | mean (s) |"
	echo "|---|---|---|"
	for srv in $SERVERS; do
		start_server "$srv"
		times=()
		for ((i = 0; i < LOSS_RUNS; i++)); do
			t0=$(now)
			if nsx curl -sS --fail --max-time 300 --tftp-blksize 1468 -o "$work/lossout" tftp://127.0.0.1/small 2>/dev/null &&
				[ "$(sha256sum <"$work/lossout" | cut -d' ' -f1)" = "$small_sum" ]; then
				t1=$(now)
				times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')")
			else
				times+=(FAIL)
			fi
		done
		stop_server
		mean=$(printf '%s\n' "${times[@]}" | awk '$1 != "FAIL" { s += $1; n++ } END { if (n) printf "%.2f", s / n; else print "-" }')
		echo "| $srv | ${times[*]} | $mean |"
	done
	nsx nft delete table inet loss
fi
