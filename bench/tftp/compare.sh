#!/usr/bin/env bash
# compare.sh: pxekit's TFTP server (examples/tftpd) against dnsmasq
# (--enable-tftp) and tftpd-hpa, in the same run, with the same clients.
# Each server runs in a network namespace of its own made for the run
# (loopback only), all at once; measurements take turns between servers
# and are repeated, and the median is reported, so that load from other
# programs on the machine falls on all servers alike.
#
#   sudo bench/tftp/compare.sh            # from the repository root
#
# Throughput: curl downloads a SIZE_MB file at each blksize with 1 and CONC
# concurrent clients; atftp (the only installed client that speaks RFC
# 7440) downloads it with windowsize 1 and 16. Loss: LOSS_RUNS downloads
# of 1 MiB through LOSS_PCT % random UDP loss (nftables, input hook of each
# server's namespace: both directions), timed per server.
#
# tftpd-hpa conflicts with the installed atftpd, so its package (and
# libwrap0, which it links against) is downloaded with apt-get download and
# unpacked into the run's temp directory.
#
# Downloads land in a tmpfs (/dev/shm) and are checked after the clock
# stops: written to a disk, 32 × 64 MiB of dirty pages are flushed while
# the next server is measured, and that server loses. For the same reason
# the order of the servers turns with each repetition.
#
# Environment: SIZE_MB (64), CONC (32), BLKSIZES ("512 1468 8192"), REPS
# (5: single-client repetitions), CONC_REPS (3), THROUGHPUT (1; 0 skips the
# throughput part), LOSS_PCT (2), LOSS_RUNS (3; 0 skips), SERVERS ("pxekit
# dnsmasq tftpd-hpa"), PXEKIT_FLAGS (more flags for examples/tftpd, e.g.
# "-busy-poll=-1ns" to measure without polling for ACKs).
set -euo pipefail

SIZE_MB=${SIZE_MB:-64}
CONC=${CONC:-32}
BLKSIZES=${BLKSIZES:-"512 1468 8192"}
REPS=${REPS:-5}
CONC_REPS=${CONC_REPS:-3}
THROUGHPUT=${THROUGHPUT:-1}
LOSS_PCT=${LOSS_PCT:-2}
LOSS_RUNS=${LOSS_RUNS:-3}
SERVERS=${SERVERS:-"pxekit dnsmasq tftpd-hpa"}
PXEKIT_FLAGS=${PXEKIT_FLAGS:-}

[ "$(id -u)" = 0 ] || { echo "compare.sh: needs root (network namespaces)" >&2; exit 1; }
for p in curl atftp dnsmasq nft ip apt-get dpkg-deb go sha256sum; do
	command -v "$p" >/dev/null || [ -x "/usr/sbin/$p" ] || { echo "compare.sh: $p not installed" >&2; exit 1; }
done

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/tftp-compare.XXXXXX)
shm=/dev/shm
[ -d "$shm" ] && [ -w "$shm" ] || shm=/tmp
out=$(mktemp -d "$shm/tftp-compare-out.XXXXXX")
declare -A ns pid

cleanup() {
	for srv in "${!pid[@]}"; do kill "${pid[$srv]}" 2>/dev/null || true; done
	for srv in "${!ns[@]}"; do
		ip netns pids "${ns[$srv]}" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del "${ns[$srv]}" 2>/dev/null || true
	done
	rm -rf "$work" "$out"
}
trap cleanup EXIT

echo "# building examples/tftpd" >&2
(cd "$repo" && go build -o "$work/pxekit-tftpd" ./examples/tftpd)
echo "# fetching tftpd-hpa" >&2
(cd "$work" && apt-get download -q tftpd-hpa libwrap0 >/dev/null 2>&1 &&
	dpkg-deb -x tftpd-hpa_*.deb hpa && dpkg-deb -x libwrap0_*.deb hpa)
hpa=$work/hpa/usr/sbin/in.tftpd
hpa_libs=$(find "$work/hpa" -name 'libwrap.so*' -printf '%h\n' | head -1)
[ -x "$hpa" ] && [ -n "$hpa_libs" ] || { echo "compare.sh: could not unpack tftpd-hpa" >&2; exit 1; }

mkdir -p "$work/root"
head -c "$((SIZE_MB << 20))" /dev/urandom >"$work/root/big"
head -c "$((1 << 20))" /dev/urandom >"$work/root/small"
big_sum=$(sha256sum <"$work/root/big" | cut -d' ' -f1)
small_sum=$(sha256sum <"$work/root/small" | cut -d' ' -f1)

# One namespace per server; each server on 127.0.0.1:69 of its own.
for srv in $SERVERS; do
	ns[$srv]=pxkb$$${srv%%-*}
	ip netns add "${ns[$srv]}"
	ip netns exec "${ns[$srv]}" ip link set lo up
	log=$work/$srv.log
	case $srv in
	# All clients come from 127.0.0.1: lift pxekit's per-client limit (16
	# by default), as dnsmasq's --tftp-max is lifted.
	pxekit) ip netns exec "${ns[$srv]}" "$work/pxekit-tftpd" -addr 127.0.0.1:69 -root "$work/root" \
		-max-client-transfers 1024 $PXEKIT_FLAGS 2>"$log" & ;;
	dnsmasq) ip netns exec "${ns[$srv]}" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 \
		--enable-tftp --tftp-root="$work/root" --listen-address=127.0.0.1 --bind-interfaces \
		--user=root --pid-file="$work/dnsmasq.pid" --tftp-max=200 2>"$log" & ;;
	# tftpd-hpa exits silently when given -a 127.0.0.1:69: it listens on
	# all addresses of its namespace instead.
	tftpd-hpa) ip netns exec "${ns[$srv]}" env LD_LIBRARY_PATH="$hpa_libs" "$hpa" --foreground \
		--user root --secure "$work/root" 2>"$log" & ;;
	*) echo "compare.sh: unknown server $srv" >&2; exit 1 ;;
	esac
	pid[$srv]=$!
done
sleep 0.5
for srv in $SERVERS; do
	kill -0 "${pid[$srv]}" 2>/dev/null || { echo "compare.sh: $srv did not start:" >&2; cat "$work/$srv.log" >&2; exit 1; }
done

now() { date +%s.%N; }

# fetch SERVER CLIENT BLKSIZE WINDOW FILE OUT: one download.
fetch() {
	local n=${ns[$1]}
	case $2 in
	curl) ip netns exec "$n" curl -sS --fail --max-time 600 --tftp-blksize "$3" -o "$6" "tftp://127.0.0.1/$5" 2>/dev/null ;;
	atftp)
		local opts=(--option "blksize $3")
		[ "$4" -gt 1 ] && opts+=(--option "windowsize $4")
		ip netns exec "$n" atftp -g -r "$5" -l "$6" "${opts[@]}" 127.0.0.1 69 >/dev/null 2>&1
		;;
	esac
}

# measure SERVER CLIENT BLKSIZE WINDOW N: prints the aggregate MB/s (10^6
# bytes/s) of N concurrent downloads of big; every file is checked.
measure() {
	local srv=$1 client=$2 blk=$3 win=$4 n=$5 t0 t1 i pids=() fail=0
	t0=$(now)
	for ((i = 0; i < n; i++)); do
		fetch "$srv" "$client" "$blk" "$win" big "$out/out.$i" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || fail=1; done
	t1=$(now)
	for ((i = 0; i < n; i++)); do
		[ "$(sha256sum <"$out/out.$i" | cut -d' ' -f1)" = "$big_sum" ] || fail=1
	done
	rm -f "$out"/out.*
	if [ "$fail" = 1 ]; then
		echo FAIL
	else
		awk -v n="$n" -v mb="$SIZE_MB" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.1f", n * mb * 1048576 / 1e6 / (t1 - t0) }'
	fi
}

# turn N WORD...: the words rotated left by N.
turn() {
	local k=$1
	shift
	local a=("$@")
	k=$((k % ${#a[@]}))
	echo "${a[@]:k}" "${a[@]:0:k}"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A result
configs=()
if [ "$THROUGHPUT" != 0 ]; then
for blk in $BLKSIZES; do
	configs+=("curl $blk 1 1" "curl $blk 1 $CONC")
done
configs+=("atftp 1468 1 1" "atftp 1468 16 1" "atftp 8192 1 1" "atftp 8192 16 1")

for c in "${configs[@]}"; do
	read -r client blk win n <<<"$c"
	reps=$REPS
	[ "$n" -gt 1 ] && reps=$CONC_REPS
	declare -A runs=()
	for ((r = 0; r < reps; r++)); do
		for srv in $(turn "$r" $SERVERS); do
			v=$(measure "$srv" "$client" "$blk" "$win" "$n")
			runs[$srv]="${runs[$srv]:-} $v"
		done
	done
	for srv in $SERVERS; do
		# shellcheck disable=SC2086
		if [[ "${runs[$srv]}" == *FAIL* ]]; then result["$srv $c"]=FAIL; else result["$srv $c"]=$(median ${runs[$srv]}); fi
		echo "  $srv: $client blksize=$blk windowsize=$win clients=$n: runs${runs[$srv]} -> ${result["$srv $c"]} MB/s" >&2
	done
	# Paired ratios: within one repetition the servers ran one after the
	# other, so the ratio of pxekit to the faster peer of that repetition
	# cancels slow drifts of the machine's speed that the medians keep.
	if [[ " $SERVERS " == *" pxekit "* ]]; then
		peers=()
		for srv in $SERVERS; do [ "$srv" = pxekit ] || peers+=("${runs[$srv]}"); done
		result["paired $c"]=$(printf '%s\n' "${runs[pxekit]}" "${peers[@]}" | awk '
			{ for (i = 1; i <= NF; i++) v[NR, i] = $i; if (NF > nf) nf = NF }
			END {
				for (i = 1; i <= nf; i++) {
					best = 0; bad = v[1, i] == "FAIL"
					for (r = 2; r <= NR; r++) if (v[r, i] != "FAIL" && v[r, i] + 0 > best) best = v[r, i] + 0
					if (bad || best == 0) { print "-"; exit }
					print v[1, i] / best
				}
			}' | sort -g | awk '
			$1 == "-" { print "-"; exit }
			{ q[NR] = $1 }
			END { if (NR) printf "%.2fx (%.2f-%.2f)", q[int((NR + 1) / 2)], q[1], q[NR] }')
	fi
	unset runs
done

echo
echo "## Throughput, MB/s (10^6 bytes/s), median of $REPS runs ($CONC_REPS with $CONC clients), ${SIZE_MB} MiB file, loopback"
echo
printf '| client | blksize | windowsize | clients |'
for srv in $SERVERS; do printf ' %s |' "$srv"; done
echo ' pxekit / faster peer (medians) | per repetition: median (range) |'
printf '|---|---|---|---|'
for srv in $SERVERS; do printf -- '---|'; done
echo '---|---|'
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
		awk -v a="$ours" -v b="$best" 'BEGIN { printf " %.2fx |", a / b }'
	else
		printf ' - |'
	fi
	echo " ${result["paired $c"]:--} |"
done
if [[ " $SERVERS " == *" pxekit "* ]]; then
	echo
	for blk in 1468 8192; do
		w1=${result["pxekit atftp $blk 1 1"]:-FAIL}
		w16=${result["pxekit atftp $blk 16 1"]:-FAIL}
		if [ "$w1" != FAIL ] && [ "$w16" != FAIL ]; then
			awk -v a="$w16" -v b="$w1" -v blk="$blk" 'BEGIN { printf "pxekit windowsize 16 / its own lock-step, blksize %s (atftp): %.2fx\n", blk, a / b }'
		fi
	done
fi
echo "dnsmasq 2.90 and tftpd-hpa 5.2 do not implement windowsize: their windowsize-16 rows are lock-step."
echo "pxekit grants at most 64 KiB per window: windowsize 16 at blksize 8192 is answered with 8."
fi

if [ "$LOSS_RUNS" -gt 0 ]; then
	echo
	echo "## ${LOSS_PCT}% random UDP loss (both directions), 1 MiB, curl --tftp-blksize 1468, seconds per download"
	for srv in $SERVERS; do
		n=${ns[$srv]}
		ip netns exec "$n" nft add table inet loss
		ip netns exec "$n" nft "add chain inet loss input { type filter hook input priority 0 ; }"
		ip netns exec "$n" nft add rule inet loss input meta l4proto udp numgen random mod 100 "<" "$LOSS_PCT" drop
	done
	declare -A times=()
	for ((r = 0; r < LOSS_RUNS; r++)); do
		for srv in $(turn "$r" $SERVERS); do
			t0=$(now)
			if fetch "$srv" curl 1468 1 small "$out/lossout" &&
				[ "$(sha256sum <"$out/lossout" | cut -d' ' -f1)" = "$small_sum" ]; then
				t=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
			else
				t=FAIL
			fi
			times[$srv]="${times[$srv]:-} $t"
			echo "  loss: $srv run $r: $t s" >&2
		done
	done
	echo
	echo "| server | runs (s) | median (s) |"
	echo "|---|---|---|"
	for srv in $SERVERS; do
		# shellcheck disable=SC2086
		echo "| $srv |${times[$srv]} | $(median ${times[$srv]}) |"
	done
fi
