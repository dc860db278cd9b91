#!/usr/bin/env bash
# udp-vs-direct.sh - datagrams/s through slb's UDP listener vs sent straight
# to the backend, in the same run, loopback only. A benchmark, not a test: CI
# never runs it. Everything listens on 127.0.0.1.
#
# Question: does slb carry at least GOAL (0.5) x the datagrams/s that the same
# client and backend exchange directly? The client is slb-test-udp-client -b
# (FLOWS sockets, each keeping WINDOW 64-byte datagrams in flight, one sent per
# reply), the backend slb-test-backend -m udp (answers each datagram with its
# name, recvmmsg/sendmmsg); both pinned to CLIENT_CPU (0). slb runs WORKERS (1)
# workers pinned to PROXY_CPU (1). Per rep, in alternating order (direct slb,
# slb direct, ...), DURATION seconds each; the table shows the median rate of
# each path, the ratio slb/direct against GOAL, and the CPU slb used per
# datagram forwarded (both directions of a round trip count as one).
# Informational: exit 0 whatever the ratio (1 if slb died during the runs).
#
# Usage (from the repo root, as root: the generated slb config says user = root):
#   make && make check TESTS= && bash tests/bench/udp-vs-direct.sh
# Knobs (env): REPS=3 DURATION=5 WORKERS=1 FLOWS=16 WINDOW=16 GOAL=0.5
#   PROXY_CPU=1 CLIENT_CPU=0 SLB_BIN_DIR=<repo root> OUT_DIR=${TMPDIR:-/tmp}/slb-udp-bench-<date>
#   Ports: backend 19153, slb 19154.
# Output: $OUT_DIR/raw.tsv (one row per run), results.txt (the printed table),
#   slb.conf, logs/. Every process it starts is tracked by PID (+ start time)
#   and killed by PID on exit; nothing is ever killed by name.
# ---- end of help
set -u -o pipefail
[[ ${1:-} == -h || ${1:-} == --help ]] && { sed -n '2,/^# ---- end of help/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0; }
export LC_ALL=C

HERE=$(cd "$(dirname "$0")" && pwd)
REPS=${REPS:-3}; DURATION=${DURATION:-5}; WORKERS=${WORKERS:-1}; FLOWS=${FLOWS:-16}; WINDOW=${WINDOW:-16}
GOAL=${GOAL:-0.5}; PROXY_CPU=${PROXY_CPU:-1}; CLIENT_CPU=${CLIENT_CPU:-0}
SLB_BIN_DIR=${SLB_BIN_DIR:-$(cd "$HERE/../.." && pwd)}
OUT_DIR=${OUT_DIR:-${TMPDIR:-/tmp}/slb-udp-bench-$(date +%Y%m%d-%H%M%S)}
H=127.0.0.1; P_BACKEND=19153; P_SLB=19154
CLIENT=$SLB_BIN_DIR/tests/tools/slb-test-udp-client
BACKEND=$SLB_BIN_DIR/tests/tools/slb-test-backend
HZ=$(getconf CLK_TCK)

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
for v in REPS DURATION WORKERS FLOWS WINDOW; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer"
done
(( $(nproc) >= 2 )) || log "WARNING: fewer than 2 CPUs: slb and the client share a core"
for b in "$SLB_BIN_DIR/slb-master" "$CLIENT" "$BACKEND"; do
  [[ -x $b ]] || die "missing $b (make && make check TESTS=)"
done
for p in $P_BACKEND $P_SLB; do [[ -z $(ss -Huln "sport = :$p") ]] || die "udp port $p already in use"; done
mkdir -p "$OUT_DIR/logs" || die "cannot create $OUT_DIR"

# ------------------------------------------------------------ process tracking
declare -A TRACKED=()   # pid -> starttime
starttime() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; s=${s##*) }; local a=($s); echo "${a[19]}"; }
alive() { [[ $(starttime "$1" 2>/dev/null) == "${TRACKED[$1]}" ]]; }
launch() { # label cpu cmd... -> LAST_PID (own session + process group, pgid = pid)
  local label=$1 cpu=$2; shift 2
  setsid taskset -c "$cpu" "$@" >"$OUT_DIR/logs/$label.log" 2>&1 </dev/null &
  LAST_PID=$!; TRACKED[$LAST_PID]=$(starttime "$LAST_PID")
}
cleanup() {
  trap - EXIT INT TERM
  local p i sig any
  for sig in TERM KILL; do
    for p in "${!TRACKED[@]}"; do alive "$p" && { kill -"$sig" -- "-$p" 2>/dev/null || kill -"$sig" "$p" 2>/dev/null; }; done
    for ((i = 0; i < 50; i++)); do   # wait at most 5 s
      any=0; for p in "${!TRACKED[@]}"; do alive "$p" && any=1; done
      (( any )) || break; sleep 0.1
    done
  done
  wait 2>/dev/null
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

# CPU ticks (utime+stime+cutime+cstime) of slb-master's process group: the
# master, its workers, checker and failover daemon.
slb_ticks() { ps -e -o pgid=,pid= | awk -v g="$SLB_PID" '$1 == g { print $2 }' |
  while read -r p; do awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$p/stat" 2>/dev/null; done |
  awk '{ t += $1 } END { print t + 0 }'; }

# ------------------------------------------------------------ start
cat >"$OUT_DIR/slb.conf" <<EOF
[global]
instance = udpbench$$
workers = $WORKERS
user = root
log = $OUT_DIR/logs/slb.log
log_level = warning
pid_file = $OUT_DIR/slb.pid
control_socket = $OUT_DIR/slb.sock
state_file = $OUT_DIR/slb.state
metrics =
[listener udp]
protocol = udp
bind = $H:$P_SLB
group = b
[group b]
server.b1 = $H:$P_BACKEND
check = none
EOF
launch backend "$CLIENT_CPU" "$BACKEND" -l "$H:$P_BACKEND" -n b1 -m udp
launch slb "$PROXY_CPU" env SLB_LIBEXECDIR="$SLB_BIN_DIR" "$SLB_BIN_DIR/slb-master" -f -c "$OUT_DIR/slb.conf"
SLB_PID=$LAST_PID
for ((i = 0; i < 100; i++)); do
  [[ $("$CLIENT" -t "$H:$P_SLB" -w 100 | awk '{ print $3 }') == b1 ]] && break
  sleep 0.1
done
(( i < 100 )) || die "no answer through slb on $H:$P_SLB (see $OUT_DIR/logs)"
log "slb ready: slb-master pid $SLB_PID, $WORKERS worker(s) on CPU $PROXY_CPU; client and backend on CPU $CLIENT_CPU"

# ------------------------------------------------------------ runs
RAW=$OUT_DIR/raw.tsv
printf 'rep\tpath\tdatagrams_per_s\tslb_cpu_s\n' >"$RAW"
run_one() { # rep path
  local port=$P_BACKEND t0 t1 rate
  [[ $2 == slb ]] && port=$P_SLB
  t0=$(slb_ticks)
  rate=$(timeout $((DURATION + 30)) taskset -c "$CLIENT_CPU" "$CLIENT" -t "$H:$port" -f "$FLOWS" -k "$WINDOW" -b "$DURATION" |
         awk '{ print $6 }')
  t1=$(slb_ticks)
  alive "$SLB_PID" || die "slb died during the run (see $OUT_DIR/logs)"
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "${rate:-0}" "$(awk -v d=$((t1 - t0)) -v hz="$HZ" 'BEGIN { printf "%.2f", d / hz }')" >>"$RAW"
  log "rep $1 $2: ${rate:-0} datagrams/s"
}
for ((rep = 1; rep <= REPS; rep++)); do
  if ((rep % 2)); then run_one "$rep" direct; run_one "$rep" slb; else run_one "$rep" slb; run_one "$rep" direct; fi
done

# ------------------------------------------------------------ results
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
direct=$(awk -F'\t' '$2 == "direct" { print $3 }' "$RAW" | median)
via=$(awk -F'\t' '$2 == "slb" { print $3 }' "$RAW" | median)
cpu=$(awk -F'\t' '$2 == "slb" { c += $4; n += $3 } END { printf "%.2f", n ? c * 1e6 / (n * '"$DURATION"') : 0 }' "$RAW")
{
  printf 'path     datagrams/s (median of %d x %ds, %d flows x %d in flight)\n' "$REPS" "$DURATION" "$FLOWS" "$WINDOW"
  printf 'direct   %s\n' "$direct"
  printf 'slb      %s   (slb CPU %s us per datagram round trip, %d worker(s))\n' "$via" "$cpu" "$WORKERS"
  awk -v a="$via" -v b="$direct" -v g="$GOAL" 'BEGIN { r = b ? a / b : 0
    printf "ratio slb/direct: %.2f %s (goal >= %s)\n", r, (r >= g) ? "PASS" : "MISS", g }'
} | tee "$OUT_DIR/results.txt"
log "raw data: $RAW"
