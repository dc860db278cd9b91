#!/usr/bin/env bash
# http-vs-haproxy-nginx.sh - slb's HTTP listener vs HAProxy (mode http) and
# nginx (proxy with upstream keepalive), loopback only. A benchmark, not a
# test: CI never runs it.
#
# The measuring is done by the shared peer harness (shared/bench/peers.sh,
# the one session 1 measured HAProxy and nginx with): same backends (two
# nginx, 1 worker each), same pinning (every proxy on CPU1 with one worker,
# wrk/h2load and the backends on CPU0), interleaved reps, proxy CPU from
# /proc over each proxy's process tree. This script starts slb as its
# candidate (an HTTP listener, rr over both backends, tcp checks,
# log_level = warning so no access log is written) and prints the ratios
# against the goals of issue #4:
#   ka_small  keep-alive 612 B: req/s >= 1.1x HAProxy, p99 no worse,
#             proxy CPU per request <= 0.75x HAProxy (at the fixed rate of
#             ka_rate, where every proxy gets the same load)
#   ka_64k    keep-alive 64 KiB: MiB/s and CPU per request
#   churn     Connection: close: new connections/s and CPU per connection
# Target slb-tcp is a tcp listener of the same slb over the same backends:
# a proxy that makes the same system calls and parses nothing. Its CPU per
# request against HAProxy's is the floor for the 0.75 goal on this machine,
# and slb/slb-tcp is what the HTTP layer adds.
#
# Usage (as root, from the repo root, after a release build: scripts/build.sh):
#   bash tests/bench/http-vs-haproxy-nginx.sh            # ~6 min
#   QUICK=1 bash tests/bench/http-vs-haproxy-nginx.sh    # ~1 min smoke run
# Knobs: PEERS_SH (path of peers.sh; default shared/bench/peers.sh next to
#   the repo, else /work/shared/bench/peers.sh), SLB_BIN_DIR (default the
#   repo root), SLB_XFF (x_forwarded_for of slb's listener, default no:
#   the peers add no such fields), SLB_POLL_COALESCE ([global] poll_coalesce
#   of slb, default: slb's own default), and every peers.sh knob (REPS,
#   DURATION, CONNS, RATE, ...).
# Output: peers.sh's $OUT_DIR (raw.tsv, summary.tsv, table.txt), then the
#   ratio table, also written to $OUT_DIR/ratios.txt.
# ---- end of help
set -u -o pipefail
[[ ${1:-} == -h || ${1:-} == --help ]] && { sed -n '2,/^# ---- end of help/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0; }
export LC_ALL=C

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PEERS_SH=${PEERS_SH:-}
for p in "$PEERS_SH" "$ROOT/../shared/bench/peers.sh" /work/shared/bench/peers.sh; do
  [[ -n $p && -f $p ]] && { PEERS_SH=$p; break; }
done
[[ -f $PEERS_SH ]] || { echo "peers.sh not found: set PEERS_SH" >&2; exit 1; }
export SLB_BIN_DIR=${SLB_BIN_DIR:-$ROOT}
[[ -x $SLB_BIN_DIR/slb-master ]] || { echo "no $SLB_BIN_DIR/slb-master: build first" >&2; exit 1; }
export OUT_DIR=${OUT_DIR:-${TMPDIR:-/tmp}/slb-http-bench-$(date +%Y%m%d-%H%M%S)}
export TARGETS=${TARGETS:-"haproxy-http nginx-proxy slb slb-tcp"}
export TESTS=${TESTS:-"ka_small ka_64k churn ka_rate"}
export SLB_NAME=slb SLB_PORT=${SLB_PORT:-18095}
[[ " $TARGETS " == *" slb-tcp "* ]] && export SLB_TCP_PORT=${SLB_TCP_PORT:-18096}
# The peers add no X-Forwarded-* fields, so by default neither does slb: the
# same request reaches the backends from every proxy. SLB_XFF=yes measures slb
# with them.
export SLB_XFF=${SLB_XFF:-no}
export SLB_POLL_COALESCE=${SLB_POLL_COALESCE:-}
# Runs in the foreground under peers.sh, which pins it and kills it by pid.
export SLB_START='cat >"$BENCH_RUN_DIR/slb.ini" <<EOC
[global]
instance = httpbench$$
workers = $BENCH_WORKERS
user = root
log = $BENCH_RUN_DIR/slb.log
log_level = warning
pid_file = $BENCH_RUN_DIR/slb.pid
control_socket = $BENCH_RUN_DIR/slb.sock
state_file = $BENCH_RUN_DIR/slb.state
metrics =
${SLB_POLL_COALESCE:+poll_coalesce = $SLB_POLL_COALESCE}
[listener web]
protocol = http
bind = 127.0.0.1:$BENCH_HTTP_PORT
group = b
scheduler = rr
x_forwarded_for = $SLB_XFF
${BENCH_TCP_PORT:+[listener webtcp]
protocol = tcp
bind = 127.0.0.1:$BENCH_TCP_PORT
group = b
scheduler = rr}
[group b]
server.b1 = $BENCH_BACKEND1
server.b2 = $BENCH_BACKEND2
check = tcp
EOC
exec env SLB_LIBEXECDIR="$SLB_BIN_DIR" "$SLB_BIN_DIR/slb-master" -f -c "$BENCH_RUN_DIR/slb.ini"'
args=()
[[ ${QUICK:-0} == 1 ]] && args=(--quick)
bash "$PEERS_SH" "${args[@]}" || exit $?

# ratios from summary.tsv: target test metric n median min max spread
awk -F'\t' '
  NR > 1 { v[$1, $2, $3] = $5; seen[$3] = 1 }
  function r(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "n/a" : sprintf("%.2f", a / b) }
  function line(test, metric, what, goal) {
    printf "%-9s %-22s slb/haproxy %5s  slb/nginx %5s   %s\n", test, what,
      r(v["slb", test, metric], v["haproxy-http", test, metric]),
      r(v["slb", test, metric], v["nginx-proxy", test, metric]), goal }
  function floor(test, metric, what) {
    if (v["slb-tcp", test, metric] == "") return
    printf "%-9s %-22s slb-tcp/haproxy %5s  slb/slb-tcp %5s   floor: the same syscalls, no HTTP\n", test, what,
      r(v["slb-tcp", test, metric], v["haproxy-http", test, metric]),
      r(v["slb", test, metric], v["slb-tcp", test, metric]) }
  END {
    for (m in seen) metrics = metrics " " m
    print "ratios of medians (slb / peer); available metrics:" metrics
    line("ka_small", "rps", "req/s", "goal >= 1.10 vs haproxy: CPU0-bound here, see http-equal-cpu.sh")
    line("ka_small", "p99_ms", "p99 latency", "goal <= 1.00 vs haproxy")
    line("ka_small", "proxy_us_per_req", "proxy CPU us/request", "goal <= 0.75 vs haproxy")
    line("ka_rate", "proxy_us_per_req", "CPU us/req @fixed rate", "goal <= 0.75 vs haproxy")
    line("ka_64k", "mibps", "MiB/s", "")
    line("ka_64k", "proxy_us_per_req", "proxy CPU us/request", "")
    line("churn", "rps", "conn/s", "")
    line("churn", "proxy_us_per_req", "proxy CPU us/conn", "")
    floor("ka_small", "proxy_us_per_req", "proxy CPU us/request")
    floor("ka_rate", "proxy_us_per_req", "CPU us/req @fixed rate")
  }' "$OUT_DIR/summary.tsv" | tee "$OUT_DIR/ratios.txt"
