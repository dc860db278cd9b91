#!/usr/bin/env bash
# http-equal-cpu.sh - keep-alive requests/s of slb, HAProxy (mode http) and
# nginx (proxy, upstream keepalive) when each proxy may use the same share
# of one core: the proxy is then the bottleneck, and requests/s measure the
# proxy, not the client. A benchmark, not a test: CI never runs it.
#
# Why: in http-vs-haproxy-nginx.sh (shared/bench/peers.sh) wrk and both
# backends share CPU0 and are 99% busy for every proxy, so requests/s there
# are the client's ceiling. Here every proxy runs pinned to CPU1 in its own
# CPU cgroup limited to QUOTA_PCT of a core (CFS quota, 10 ms period), with
# the same backends (two nginx, 1 worker each, on CPU0), the same wrk
# (-t1 -c$CONNS, /small = 612 B) and interleaved reps (ABC CBA ABC). The
# proxy's CPU is read from /proc to show it ran at its cap.
#
# Usage (as root, from the repo root, after a release build: scripts/build.sh):
#   bash tests/bench/http-equal-cpu.sh          # ~2 min
# Knobs: SLB_BIN_DIR (default the repo root), QUOTA_PCT=50 REPS=3 DURATION=10
#   CONNS=64 BASE_PORT=18180 OUT_DIR.
# Output: one line per run, then the medians and the ratios slb/peer; all
#   in $OUT_DIR/result.txt.
# ---- end of help
set -u -o pipefail
[[ ${1:-} == -h || ${1:-} == --help ]] && { sed -n '2,/^# ---- end of help/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0; }
export LC_ALL=C

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SLB_BIN_DIR=${SLB_BIN_DIR:-$ROOT}
QUOTA_PCT=${QUOTA_PCT:-50} REPS=${REPS:-3} DURATION=${DURATION:-10}
CONNS=${CONNS:-64} BASE_PORT=${BASE_PORT:-18180}
OUT_DIR=${OUT_DIR:-${TMPDIR:-/tmp}/slb-equal-cpu-$(date +%Y%m%d-%H%M%S)}
TARGETS=(haproxy nginx slb)
declare -A PORT=([b1]=$((BASE_PORT + 1)) [b2]=$((BASE_PORT + 2))
		 [haproxy]=$((BASE_PORT + 10)) [nginx]=$((BASE_PORT + 12)) [slb]=$((BASE_PORT + 15)))
declare -A ROOT_PID CGROUP

die() { echo "http-equal-cpu: $*" >&2; exit 1; }
[[ $EUID == 0 ]] || die "run as root (CPU cgroups)"
((QUOTA_PCT >= 5 && QUOTA_PCT <= 100)) || die "QUOTA_PCT must be 5..100"
for b in haproxy nginx wrk curl taskset setsid; do command -v $b >/dev/null || die "missing $b"; done
[[ -x $SLB_BIN_DIR/slb-master ]] || die "no $SLB_BIN_DIR/slb-master: build first"
if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
	CG_ROOT=/sys/fs/cgroup
	grep -qw cpu "$CG_ROOT/cgroup.subtree_control" || echo +cpu >"$CG_ROOT/cgroup.subtree_control" ||
		die "cannot enable the cpu controller"
else
	CG_ROOT=/sys/fs/cgroup/cpu
	[[ -f $CG_ROOT/cpu.cfs_quota_us ]] || die "no CPU cgroup controller"
fi
mkdir -p "$OUT_DIR"/{logs,tmp} || die "cannot create $OUT_DIR"
# shellcheck source=tests/bench/http-common.sh
. "$HERE/http-common.sh"
www_small

cleanup() {
	local t
	for t in "${!ROOT_PID[@]}"; do kill -TERM -- "-${ROOT_PID[$t]}" 2>/dev/null; done
	wait 2>/dev/null
	for t in "${!CGROUP[@]}"; do rmdir "${CGROUP[$t]}" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# cgroup_cap NAME: a CPU cgroup limited to QUOTA_PCT of a core; its path.
cgroup_cap() {
	local g="$CG_ROOT/slb-equal-cpu-$$-$1" quota=$((QUOTA_PCT * 100))
	mkdir -p "$g" || return 1
	if [[ $CG_ROOT == /sys/fs/cgroup ]]; then
		echo "$quota 10000" >"$g/cpu.max"
	else
		echo 10000 >"$g/cpu.cfs_period_us" && echo "$quota" >"$g/cpu.cfs_quota_us"
	fi && echo "$g"
}

# start NAME CPU CMD...: NAME in its own session pinned to CPU; a proxy (CPU1)
# in its own capped cgroup, which its children inherit.
start() {
	local name=$1 cpu=$2
	shift 2
	if [[ $cpu == 1 ]]; then
		CGROUP[$name]=$(cgroup_cap "$name") || die "cannot make a cgroup for $name"
		bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ "${CGROUP[$name]}" \
			setsid taskset -c "$cpu" "$@" >"$OUT_DIR/logs/$name.out" 2>&1 </dev/null &
	else
		setsid taskset -c "$cpu" "$@" >"$OUT_DIR/logs/$name.out" 2>&1 </dev/null &
	fi
	ROOT_PID[$name]=$!
}

for b in b1 b2; do
	backend_conf "$b" "${PORT[$b]}" >"$OUT_DIR/$b.conf"
	start "$b" 0 nginx -p "$OUT_DIR/" -c "$OUT_DIR/$b.conf"
done
haproxy_conf "${PORT[haproxy]}" "${PORT[b1]}" "${PORT[b2]}" >"$OUT_DIR/haproxy.cfg"
nginx_proxy_conf "${PORT[nginx]}" "${PORT[b1]}" "${PORT[b2]}" >"$OUT_DIR/nginx.conf"
slb_conf "equalcpu$$" "${PORT[slb]}" "${PORT[b1]}" "${PORT[b2]}" >"$OUT_DIR/slb.ini"
start haproxy 1 haproxy -f "$OUT_DIR/haproxy.cfg"
start nginx 1 nginx -p "$OUT_DIR/" -c "$OUT_DIR/nginx.conf"
start slb 1 env SLB_LIBEXECDIR="$SLB_BIN_DIR" "$SLB_BIN_DIR/slb-master" -f -c "$OUT_DIR/slb.ini"
for t in b1 b2 "${TARGETS[@]}"; do wait_http "${PORT[$t]}" || die "$t did not come up (see $OUT_DIR/logs)"; done

# cpu_ticks NAME: utime+stime of every process in NAME's cgroup.
cpu_ticks() {
	local p sum=0
	while read -r p; do
		sum=$((sum + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done <"${CGROUP[$1]}/cgroup.procs"
	echo "$sum"
}

hz=$(getconf CLK_TCK)
echo "quota ${QUOTA_PCT}% of one core per proxy (CPU1), wrk -t1 -c$CONNS ${DURATION}s /small on CPU0, $REPS reps" |
	tee "$OUT_DIR/result.txt"
for ((rep = 1; rep <= REPS; rep++)); do
	order=("${TARGETS[@]}")
	((rep % 2 == 0)) && order=(slb nginx haproxy)
	for t in "${order[@]}"; do
		c0=$(cpu_ticks "$t")
		rps=$(taskset -c 0 wrk -t1 -c"$CONNS" -d"$DURATION"s "http://127.0.0.1:${PORT[$t]}/small" |
			awk '/^Requests\/sec/ { print $2 }')
		c1=$(cpu_ticks "$t")
		awk -v t="$t" -v r="$rep" -v rps="${rps:-0}" -v c=$((c1 - c0)) -v hz="$hz" -v d="$DURATION" \
			'BEGIN { printf "run %d %-8s %9.0f req/s  proxy %3.0f%% of a core\n", r, t, rps, c * 100 / hz / d }'
	done
done | tee -a "$OUT_DIR/result.txt"
# median NAME: the median req/s of NAME's runs.
median() {
	awk -v t="$1" '$1 == "run" && $3 == t { print $4 }' "$OUT_DIR/result.txt" | sort -n |
		awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] + 0 }'
}
m_slb=$(median slb) m_haproxy=$(median haproxy) m_nginx=$(median nginx)
awk -v s="$m_slb" -v h="$m_haproxy" -v n="$m_nginx" 'BEGIN {
	printf "median req/s: slb %.0f  haproxy %.0f  nginx %.0f\n", s, h, n
	printf "slb/haproxy %.2f (goal >= 1.10)  slb/nginx %.2f\n", (h ? s / h : 0), (n ? s / n : 0)
}' | tee -a "$OUT_DIR/result.txt"
