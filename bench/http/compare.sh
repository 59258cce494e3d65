#!/usr/bin/env bash
# bench/http/compare.sh: the CPU an HTTP server spends to send boot files,
# minimal-server -http against nginx (sendfile on), in network namespaces
# joined by a veth.
#
# C curl clients at once, each fetching a FILE_MIB MiB file R times over
# one connection; per server the wall time and the server's CPU time
# (every process in its namespace, /proc/PID/stat utime + stime), and CPU
# per GiB sent. Rounds are interleaved (round 1: every server; round 2:
# ...), ROUNDS times, and the medians printed.
#
# OLD=/path/to/minimal-server adds "pxekit-old", another build of
# minimal-server (say, the one before a change), to the servers.
#
# ISO=1 has minimal-server (and OLD) serve the file out of an ISO image
# of the directory (made by xorriso, read with -iso), while nginx still
# serves the directory, and adds "pxekit-dir", minimal-server serving the
# directory: the CPU of sending files of an image.
#
# NS=PREFIX starts the names of the two network namespaces (default px).
#
# Needs root, ip, nginx, curl and Go (and xorriso for ISO=1). Usage:
#   sudo bench/http/compare.sh                       # C=50 R=4 FILE_MIB=32 ROUNDS=3
#   OLD=/tmp/minimal-server.old ROUNDS=5 bench/http/compare.sh
#   ISO=1 OLD=/tmp/minimal-server.old bench/http/compare.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib.sh
export PATH="/usr/local/go/bin:$PATH"
c=${C:-50} r=${R:-4} mib=${FILE_MIB:-32} rounds=${ROUNDS:-3}
work=$(mktemp -d /tmp/pxekit-httpcmp.XXXXXX)
id=$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
srvns=${NS:-px}hs$id cli=${NS:-px}hc$id
cleanup() {
	del_netns "$srvns" "$cli"
	rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work" ./examples/minimal-server
chmod 755 "$work"
mkdir -p "$work/root"
head -c $((mib << 20)) /dev/urandom >"$work/root/initrd.img"
src=(-root "$work/root")
if [[ -n ${ISO:-} ]]; then
	xorriso -as mkisofs -R -quiet -o "$work/root.iso" "$work/root" 2>"$work/xorriso.log" || {
		cat "$work/xorriso.log" >&2
		exit 1
	}
	src=(-iso "$work/root.iso")
fi
srv=10.81.0.1
servers="pxekit nginx"
[[ -n ${OLD:-} ]] && servers="pxekit-old pxekit nginx"
[[ -n ${ISO:-} ]] && servers="${servers% nginx} pxekit-dir nginx"

start() { # $1: server
	case $1 in
	pxekit) ip netns exec "$srvns" "$work/minimal-server" -iface "vs$id" "${src[@]}" -http "$srv:8080" >"$work/server.log" 2>&1 & ;;
	pxekit-old) ip netns exec "$srvns" "$OLD" -iface "vs$id" "${src[@]}" -http "$srv:8080" >"$work/server.log" 2>&1 & ;;
	pxekit-dir) ip netns exec "$srvns" "$work/minimal-server" -iface "vs$id" -root "$work/root" -http "$srv:8080" >"$work/server.log" 2>&1 & ;;
	nginx)
		nginx_conf "$work/nginx" "$srv:8080" "$work/root"
		ip netns exec "$srvns" nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" >"$work/server.log" 2>&1 &
		;;
	esac
	disown # killed at the end of its round, without a word from bash
	for _ in $(seq 50); do
		ip netns exec "$cli" curl -sf -o /dev/null -r 0-0 "http://$srv:8080/initrd.img" && return
		sleep 0.1
	done
	echo "$1 did not start" >&2
	cat "$work/server.log" >&2
	exit 1
}

cpu() { # CPU seconds of the server namespace's processes
	local t=0 p
	for p in $(ip netns pids "$srvns" 2>/dev/null); do
		t=$((t + $(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	awk -v t=$t 'BEGIN { printf "%.2f", t / 100 }'
}

urls=$(for _ in $(seq "$r"); do printf 'http://%s:8080/initrd.img ' $srv; done)
results=$work/results
for round in $(seq "$rounds"); do
	for s in $servers; do
		ip netns add "$srvns"
		ip netns add "$cli"
		ip -n "$srvns" link set lo up
		ip -n "$cli" link set lo up
		ip link add "vs$id" netns "$srvns" type veth peer name "vc$id" netns "$cli"
		ip -n "$srvns" addr add $srv/24 dev "vs$id"
		ip -n "$cli" addr add 10.81.0.2/24 dev "vc$id"
		ip -n "$srvns" link set "vs$id" up
		ip -n "$cli" link set "vc$id" up
		start "$s"
		c0=$(cpu)
		t0=$(date +%s.%N)
		# shellcheck disable=SC2086
		seq "$c" | ip netns exec "$cli" xargs -P "$c" -I{} sh -c "curl -sf $(for _ in $(seq "$r"); do printf -- '-o /dev/null '; done) $urls || echo curl failed >&2"
		t1=$(date +%s.%N)
		c1=$(cpu)
		gib=$(awk -v c="$c" -v r="$r" -v m="$mib" 'BEGIN { print c * r * m / 1024 }')
		awk -v s="$s" -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v g="$gib" -v n="$round" 'BEGIN { printf "round %d %-10s wall %6.2f s  server CPU %6.2f s  %5.2f s/GiB\n", n, s, t1 - t0, b - a, (b - a) / g }'
		echo "$s $(awk -v t0="$t0" -v t1="$t1" 'BEGIN { print t1 - t0 }') $(awk -v a="$c0" -v b="$c1" -v g="$gib" 'BEGIN { print b - a, (b - a) / g }')" >>"$results"
		del_netns "$srvns" "$cli"
		sleep 0.5
	done
done
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo
echo "$c clients x $r fetches of $mib MiB${ISO:+ (pxekit from an ISO image, nginx from its directory)}, $rounds rounds interleaved; medians"
printf '%-10s %8s %12s %10s\n' server "wall s" "server CPU s" "CPU s/GiB"
declare -A per
for s in $servers; do
	w=$(awk -v s="$s" '$1 == s { print $2 }' "$results" | median)
	cp=$(awk -v s="$s" '$1 == s { print $3 }' "$results" | median)
	g=$(awk -v s="$s" '$1 == s { print $4 }' "$results" | median)
	per[$s]=$g
	printf '%-10s %8.2f %12.2f %10.3f\n' "$s" "$w" "$cp" "$g"
done
for s in $servers; do
	[[ $s == nginx ]] && continue
	awk -v s="$s" -v a="${per[$s]}" -v b="${per[nginx]}" 'BEGIN { if (b > 0) printf "CPU per GiB %s/nginx: %.2f\n", s, a / b }'
done
