#!/usr/bin/env bash
# http-user-instructions.sh - user-space instructions per proxied keep-alive
# request of slb's worker and of HAProxy (mode http), counted by valgrind's
# callgrind. A benchmark, not a test: CI never runs it.
#
# Why: on a shared VM, CPU time per request spreads by +-20% from run to run
# (http-vs-haproxy-nginx.sh), more than a change to slb's own code moves it.
# An instruction count does not depend on the machine's load: it tells
# whether a change made the proxy's own code cheaper, and by how much,
# while the kernel's share (85% of slb's CPU) stays out of it.
# Both proxies run under callgrind over the same two nginx backends; each
# gets the same h2load run of N keep-alive requests for /small (612 B) on
# C connections after a warm-up, with callgrind's counters zeroed between.
#
# Usage (as root, from the repo root, after a release build: scripts/build.sh):
#   bash tests/bench/http-user-instructions.sh      # ~1 min
# Knobs: SLB_BIN_DIR (default the repo root), N=20000 C=10 BASE_PORT=18280 OUT_DIR.
# Output: instructions per request of each, their ratio, and each proxy's
#   ten costliest functions; all in $OUT_DIR/result.txt.
# ---- end of help
set -u -o pipefail
[[ ${1:-} == -h || ${1:-} == --help ]] && { sed -n '2,/^# ---- end of help/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0; }
export LC_ALL=C

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SLB_BIN_DIR=${SLB_BIN_DIR:-$ROOT}
N=${N:-20000} C=${C:-10} BASE_PORT=${BASE_PORT:-18280}
OUT_DIR=${OUT_DIR:-${TMPDIR:-/tmp}/slb-user-instr-$(date +%Y%m%d-%H%M%S)}
declare -A PORT=([b1]=$((BASE_PORT + 1)) [b2]=$((BASE_PORT + 2)) [haproxy]=$((BASE_PORT + 10))
		 [slb]=$((BASE_PORT + 15)))
declare -a PIDS=()

die() { echo "http-user-instructions: $*" >&2; exit 1; }
[[ $EUID == 0 ]] || die "run as root (slb's master drops to user root only from root)"
for b in valgrind callgrind_control callgrind_annotate haproxy nginx h2load curl setsid; do
	command -v $b >/dev/null || die "missing $b"
done
[[ -x $SLB_BIN_DIR/slb-master ]] || die "no $SLB_BIN_DIR/slb-master: build first"
mkdir -p "$OUT_DIR"/{logs,tmp,libexec} || die "cannot create $OUT_DIR"
# shellcheck source=tests/bench/http-common.sh
. "$HERE/http-common.sh"
www_small

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() { # NAME CMD...: NAME in its own session
	local name=$1
	shift
	setsid "$@" >"$OUT_DIR/logs/$name.out" 2>&1 </dev/null &
	PIDS+=($!)
}

under_callgrind() { # NAME: valgrind's command line for NAME's counts
	echo valgrind --tool=callgrind --callgrind-out-file="$OUT_DIR/$1.callgrind.%p"
}

# slb's master starts the worker from SLB_LIBEXECDIR: there, the worker is
# a wrapper that runs the real one under callgrind.
printf '#!/bin/sh\nexec %s "%s/slb-worker" "$@"\n' "$(under_callgrind slb)" "$SLB_BIN_DIR" \
	>"$OUT_DIR/libexec/slb-worker"
chmod +x "$OUT_DIR/libexec/slb-worker"
for b in slb-checker slb-failover slbctl; do ln -sf "$SLB_BIN_DIR/$b" "$OUT_DIR/libexec/$b"; done

for b in b1 b2; do
	backend_conf "$b" "${PORT[$b]}" >"$OUT_DIR/$b.conf"
	start "$b" nginx -p "$OUT_DIR/" -c "$OUT_DIR/$b.conf"
done
haproxy_conf "${PORT[haproxy]}" "${PORT[b1]}" "${PORT[b2]}" >"$OUT_DIR/haproxy.cfg"
slb_conf "userinstr$$" "${PORT[slb]}" "${PORT[b1]}" "${PORT[b2]}" >"$OUT_DIR/slb.ini"
# shellcheck disable=SC2046 # the valgrind command line is words
start haproxy $(under_callgrind haproxy) haproxy -f "$OUT_DIR/haproxy.cfg"
start slb env SLB_LIBEXECDIR="$OUT_DIR/libexec" "$SLB_BIN_DIR/slb-master" -f -c "$OUT_DIR/slb.ini"
for t in b1 b2 haproxy slb; do
	wait_http "${PORT[$t]}" || wait_http "${PORT[$t]}" || die "$t did not come up (see $OUT_DIR/logs)"
done

# count NAME PID: instructions per request of PID over N requests.
count() {
	local name=$1 pid=$2 out
	h2load --h1 -t1 -c"$C" -n 2000 "http://127.0.0.1:${PORT[$name]}/small" >/dev/null 2>&1
	callgrind_control -z "$pid" >/dev/null 2>&1 || die "callgrind_control -z $pid failed"
	h2load --h1 -t1 -c"$C" -n "$N" "http://127.0.0.1:${PORT[$name]}/small" >"$OUT_DIR/logs/$name.h2load" 2>&1
	grep -q "^requests: $N total.* $N succeeded" "$OUT_DIR/logs/$name.h2load" ||
		die "$name: not every request succeeded (see $OUT_DIR/logs/$name.h2load)"
	callgrind_control -d "$pid" >/dev/null 2>&1 || die "callgrind_control -d $pid failed"
	sleep 1
	out=$(ls -t "$OUT_DIR/$name.callgrind.$pid".* | head -1)
	callgrind_annotate --inclusive=no --auto=no --threshold=100 "$out" >"$OUT_DIR/$name.annotate" 2>/dev/null
	awk -v n="$N" '/PROGRAM TOTALS/ { gsub(",", "", $1); printf "%.0f\n", $1 / n }' "$OUT_DIR/$name.annotate"
}

slb_pid=$(pgrep -f "valgrind.*$OUT_DIR/slb.callgrind.*slb-worker") || die "no slb worker under callgrind"
hap_pid=$(pgrep -f "valgrind.*$OUT_DIR/haproxy.callgrind") || die "no haproxy under callgrind"
i_slb=$(count slb "$slb_pid") i_hap=$(count haproxy "$hap_pid")
{
	echo "user-space instructions per keep-alive request (/small, $N requests, h2load -c$C):"
	awk -v s="$i_slb" -v h="$i_hap" 'BEGIN { printf "slb %d  haproxy %d  slb/haproxy %.2f\n", s, h, s / h }'
	for name in slb haproxy; do
		echo "$name, costliest functions (instructions, share):"
		# the rows after the "file:function" header, less the callers of everything (100%)
		sed -n '/file:function/,$p' "$OUT_DIR/$name.annotate" | grep -v '(100.0%)' |
			sed -nE 's/^ *([0-9,]+) \( *([0-9.]+%)\) +[^ ]*:([^ :]+) .*$/  \1  \2  \3/p' | head -10
	done
} | tee "$OUT_DIR/result.txt"
