#!/usr/bin/env bash
# tcp-vs-haproxy.sh - slb's TCP (L4) listener vs HAProxy "mode tcp", loopback only.
# A benchmark, not a test: CI never runs it. Everything listens on 127.0.0.1.
#
# Question: is slb's CPU cost at most TARGET_RATIO (0.8) x HAProxy's, per new
# connection and per MiB? Both proxies run at the same time with WORKERS worker
# threads (HAProxy nbthread) / processes (slb workers), pinned to PROXY_CPU (1);
# wrk, curl and two backend nginx (1 worker each, 127.0.0.1:19081/19082) are
# pinned to CLIENT_CPU (0). Only one proxy gets traffic at a time. Per rep, in
# alternating order (A B, B A, A B, ...):
#   churn  wrk -t1 -c$CONNS -d${DURATION}s -H 'Connection: close' GET /small (612 B)
#          -> new connections/s, and proxy CPU microseconds per connection
#   bulk   BULK_RUNS x curl GET /big (BULK_MB MiB sparse file), one stream
#          -> MiB/s, and proxy CPU milliseconds per MiB
# Proxy CPU = utime+stime+cutime+cstime from /proc/<pid>/stat, summed over the
# proxy's process tree (slb-master and all descendants: slb-worker, slb-checker,
# slb-failover; HAProxy is one process). The table shows the median throughput
# and its spread (max-min)/median, the pooled CPU cost (total proxy CPU / total
# connections or MiB of all runs; steadier than a median, see README.md), the
# ratios slb/HAProxy, and PASS/MISS of the two CPU ratios against TARGET_RATIO.
# Informational: exit 0 whatever the ratios (1 if a proxy died during the runs).
# Noise: "foreign" = CPU used during a run by processes that are not ours (% of
# one core); runs above NOISY_PCT are flagged "noisy" (kept in the medians).
#
# Usage (from the repo root; as root, the generated slb config says user = root):
#   make && bash tests/bench/tcp-vs-haproxy.sh         # slb from SLB_BIN_DIR
#   CANDIDATE=haproxy bash tests/bench/tcp-vs-haproxy.sh   # A/A control run
#   CANDIDATE_CMD='cmd ...' bash tests/bench/tcp-vs-haproxy.sh
#     (any foreground command listening on 127.0.0.1:$BENCH_PORT; it gets
#      BENCH_PORT BENCH_WORKERS BENCH_RUN_DIR BENCH_BACKEND1 BENCH_BACKEND2)
# Knobs (env): REPS=3 DURATION=5 WORKERS=1 BULK_MB=1024 BULK_RUNS=5 CONNS=64
#   OUT_DIR=${TMPDIR:-/tmp}/slb-tcp-bench-<date> MAX_TOTAL_S=600 SETTLE=1
#   SLB_BIN_DIR=<repo root> PROXY_CPU=1 CLIENT_CPU=0 TARGET_RATIO=0.8 NOISY_PCT=20
#   TESTS="churn bulk" BULK_RATE= (curl --limit-rate, e.g. 400M: cost at equal load)
#   Ports: backends 19081 19082, HAProxy 19095, candidate 19096.
# Output: $OUT_DIR/raw.tsv (one row per run), results.txt (printed table),
#   conf/, logs/, out/ (raw wrk and curl output). Needs haproxy nginx wrk curl.
# Every process it starts is tracked by PID (+ start time) and killed by PID on
# exit; nothing is ever killed by name.
# ---- end of help
set -u -o pipefail
[[ ${1:-} == -h || ${1:-} == --help ]] && { sed -n '2,/^# ---- end of help/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0; }
export LC_ALL=C

HERE=$(cd "$(dirname "$0")" && pwd)
REPS=${REPS:-3}; DURATION=${DURATION:-5}; WORKERS=${WORKERS:-1}; CONNS=${CONNS:-64}
BULK_MB=${BULK_MB:-1024}; BULK_RUNS=${BULK_RUNS:-5}; BULK_TIMEOUT=${BULK_TIMEOUT:-60}
TESTS=${TESTS:-churn bulk}; BULK_RATE=${BULK_RATE:-}
MAX_TOTAL_S=${MAX_TOTAL_S:-600}; SETTLE=${SETTLE:-1}; NOISY_PCT=${NOISY_PCT:-20}; TARGET_RATIO=${TARGET_RATIO:-0.8}
PROXY_CPU=${PROXY_CPU:-1}; CLIENT_CPU=${CLIENT_CPU:-0}
SLB_BIN_DIR=${SLB_BIN_DIR:-$(cd "$HERE/../.." && pwd)}
CANDIDATE=${CANDIDATE:-slb}; CANDIDATE_CMD=${CANDIDATE_CMD:-}
OUT_DIR=${OUT_DIR:-${TMPDIR:-/tmp}/slb-tcp-bench-$(date +%Y%m%d-%H%M%S)}
H=127.0.0.1; P_B1=19081; P_B2=19082; P_HA=19095; P_CAND=19096
HZ=$(getconf CLK_TCK); T0=$SECONDS

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
for v in REPS DURATION WORKERS CONNS BULK_MB BULK_RUNS MAX_TOTAL_S; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer"
done
(( $(nproc) >= 2 )) || log "WARNING: fewer than 2 CPUs: proxy and client share a core"
for b in haproxy nginx wrk curl taskset setsid timeout ss ps; do
  command -v "$b" >/dev/null || die "missing $b (apt-get install -y haproxy nginx wrk curl)"
done
case $CANDIDATE in slb|haproxy) ;; *) die "CANDIDATE must be slb or haproxy" ;; esac
NAME_A=haproxy; NAME_B=$CANDIDATE; [[ $CANDIDATE == haproxy ]] && NAME_B=haproxy2
[[ -n $CANDIDATE_CMD ]] && NAME_B=candidate
mkdir -p "$OUT_DIR"/{conf,logs,out,www,run} || die "cannot create $OUT_DIR"
chmod 755 "$OUT_DIR" "$OUT_DIR/www"

# ------------------------------------------------------------ process tracking
declare -A TRACKED=()   # pid -> starttime
starttime() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; s=${s##*) }; local a=($s); echo "${a[19]}"; }
track() { local p st; for p in "$@"; do [[ -n ${TRACKED[$p]:-} ]] && continue; st=$(starttime "$p") && TRACKED[$p]=$st; done; }
alive() { [[ $(starttime "$1" 2>/dev/null) == "${TRACKED[$1]}" ]]; }
launch() { # label cpu cmd... -> LAST_PID (own session + process group, pgid = pid)
  local label=$1 cpu=$2; shift 2
  setsid taskset -c "$cpu" "$@" >"$OUT_DIR/logs/$label.log" 2>&1 </dev/null &
  LAST_PID=$!; track "$LAST_PID"
}
cleanup() {
  trap - EXIT INT TERM
  local p i sig
  for sig in TERM KILL; do
    for p in "${!TRACKED[@]}"; do alive "$p" && { kill -"$sig" -- "-$p" 2>/dev/null || kill -"$sig" "$p" 2>/dev/null; }; done
    for ((i = 0; i < 50; i++)); do   # wait at most 5 s
      local any=0; for p in "${!TRACKED[@]}"; do alive "$p" && any=1; done
      (( any )) || break; sleep 0.1
    done
  done
  wait 2>/dev/null
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

descendants() { # roots... -> roots and all their descendants
  ps -e -o pid=,ppid= | awk -v roots="$*" '
    BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
    { par[$1] = $2; ids[NR] = $1 }
    END { do { ch = 0; for (i = 1; i <= NR; i++) { p = ids[i]
            if (!(p in keep) && (par[p] in keep)) { keep[p] = 1; ch = 1 } } } while (ch)
          for (p in keep) print p }'
}
# "pid starttime ticks" per process; ticks = utime+stime+cutime+cstime, so a
# child reaped during a run still counts (its time moves to its parent)
tree_snap() { local p; for p in $(descendants "$@"); do
  awk -v p="$p" '{ sub(/^.*\) /, ""); print p, $20, $12 + $13 + $14 + $15 }' "/proc/$p/stat" 2>/dev/null; done; }
tree_delta() { # snapA snapB -> ticks (processes that appeared count in full)
  awk 'NR == FNR { a[$1 " " $2] = $3; next }
       { k = $1 " " $2; d = (k in a) ? $3 - a[k] : $3; if (d > 0) t += d } END { print t + 0 }' <(echo "$1") <(echo "$2"); }
# /proc/stat -> "busy_proxycpu total_proxycpu busy_clientcpu total_clientcpu steal_all total_all"
cpustat() { awk -v pc="cpu$PROXY_CPU" -v cc="cpu$CLIENT_CPU" '
  { b = $2+$3+$4+$7+$8; t = b+$5+$6+$9 } $1 == "cpu" { sa = $9; ta = t } $1 == pc { bp = b; tp = t } $1 == cc { bc = b; tc = t }
  END { print bp+0, tp+0, bc+0, tc+0, sa+0, ta+0 }' /proc/stat; }
# CPU of every other userland process (not ours, no kernel threads) as "pid starttime ticks"
foreign_snap() { cat /proc/[0-9]*/stat 2>/dev/null | awk -v ours=" $* " '{ p = $1; sub(/^.*\) /, "")
  if (p != 2 && $2 != 2 && !index(ours, " " p " ")) print p, $20, $12 + $13 }'; }
wait_port() { local i; for ((i = 0; i < $2 * 10; i++)); do timeout 1 bash -c ": </dev/tcp/$H/$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# ------------------------------------------------------------ configs
write_backend() { # name port
  { [[ $EUID == 0 ]] && echo "user root;"
    cat <<EOF
daemon off; master_process on; worker_processes 1;
pid $OUT_DIR/run/$1.pid; error_log $OUT_DIR/logs/$1.error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 16384; }
http {
  client_body_temp_path $OUT_DIR/run/$1-body; proxy_temp_path $OUT_DIR/run/$1-proxy;
  fastcgi_temp_path $OUT_DIR/run/$1-fcgi; uwsgi_temp_path $OUT_DIR/run/$1-uwsgi; scgi_temp_path $OUT_DIR/run/$1-scgi;
  access_log off; default_type application/octet-stream;
  sendfile on; tcp_nopush on; tcp_nodelay on; keepalive_timeout 65s;
  server { listen $H:$2 backlog=4096; root $OUT_DIR/www; add_header X-Backend $1 always; location / { } }
}
EOF
  } >"$OUT_DIR/conf/$1.conf"
}
write_haproxy() { # name port
  cat >"$OUT_DIR/conf/$1.cfg" <<EOF
global
  nbthread $WORKERS
  maxconn 8192
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend fe
  bind $H:$2
  default_backend be
backend be
  balance roundrobin
  server b1 $H:$P_B1
  server b2 $H:$P_B2
EOF
}
write_slb() { # rundir
  cat >"$1/slb.conf" <<EOF
[global]
instance = bench$$
workers = $WORKERS
user = root
log = $1/slb.log
log_level = warning
pid_file = $1/slb.pid
control_socket = $1/slb.sock
metrics =
[listener tcp]
protocol = tcp
bind = $H:$P_CAND
group = b
scheduler = rr
[group b]
server.b1 = $H:$P_B1
server.b2 = $H:$P_B2
check = tcp
EOF
}

# ------------------------------------------------------------ start everything
declare -A PORT=([$NAME_A]=$P_HA [$NAME_B]=$P_CAND) ROOT=() DESC=()
for p in $P_B1 $P_B2 $P_HA $P_CAND; do [[ -z $(ss -Hltn "sport = :$p") ]] || die "port $p already in use"; done
awk 'BEGIN { s = "<html><body>"; while (length(s) < 598) s = s "x"; printf "%s</body></html>", s }' >"$OUT_DIR/www/small"
truncate -s "${BULK_MB}M" "$OUT_DIR/www/big"
for b in b1 b2; do
  port=$P_B1; [[ $b == b2 ]] && port=$P_B2
  write_backend $b $port
  launch $b "$CLIENT_CPU" nginx -p "$OUT_DIR/" -e "$OUT_DIR/logs/$b.error.log" -c "$OUT_DIR/conf/$b.conf"
  wait_port $port 10 || die "backend $b did not start (see $OUT_DIR/logs)"
done
write_haproxy $NAME_A $P_HA
launch $NAME_A "$PROXY_CPU" haproxy -db -f "$OUT_DIR/conf/$NAME_A.cfg"
ROOT[$NAME_A]=$LAST_PID; DESC[$NAME_A]="haproxy $(haproxy -v | awk 'NR==1{print $3}') mode tcp nbthread $WORKERS"
cand_env=(env "BENCH_PORT=$P_CAND" "BENCH_WORKERS=$WORKERS" "BENCH_RUN_DIR=$OUT_DIR/run" "BENCH_BACKEND1=$H:$P_B1" "BENCH_BACKEND2=$H:$P_B2")
if [[ -n $CANDIDATE_CMD ]]; then
  launch $NAME_B "$PROXY_CPU" "${cand_env[@]}" bash -c "$CANDIDATE_CMD"; DESC[$NAME_B]="CANDIDATE_CMD: $CANDIDATE_CMD"
elif [[ $CANDIDATE == haproxy ]]; then
  write_haproxy $NAME_B $P_CAND
  launch $NAME_B "$PROXY_CPU" haproxy -db -f "$OUT_DIR/conf/$NAME_B.cfg"; DESC[$NAME_B]="A/A control: a second ${DESC[$NAME_A]}"
else
  [[ -x $SLB_BIN_DIR/slb-master ]] || die "no $SLB_BIN_DIR/slb-master (run make, set SLB_BIN_DIR, or CANDIDATE=haproxy for an A/A run)"
  write_slb "$OUT_DIR/run"; cp "$OUT_DIR/run/slb.conf" "$OUT_DIR/conf/"
  launch $NAME_B "$PROXY_CPU" env SLB_LIBEXECDIR="$SLB_BIN_DIR" "$SLB_BIN_DIR/slb-master" -f -c "$OUT_DIR/run/slb.conf"
  DESC[$NAME_B]="slb-master -f, workers = $WORKERS ($SLB_BIN_DIR)"
fi
ROOT[$NAME_B]=$LAST_PID
for n in $NAME_A $NAME_B; do
  wait_port "${PORT[$n]}" 15 || die "$n does not listen on $H:${PORT[$n]} (see $OUT_DIR/logs/$n.log)"
done
# slb writes a pid file: if that process is not in our tree, measure it too
pf=$OUT_DIR/run/slb.pid
if [[ $NAME_B == slb && -s $pf ]]; then
  dp=$(head -c 16 "$pf" | tr -dc 0-9)
  [[ -n $dp && " $(descendants "${ROOT[$NAME_B]}" | tr '\n' ' ') " != *" $dp "* ]] && { ROOT[$NAME_B]+=" $dp"; track "$dp"; }
fi

# both answer, spread over both backends (bounded wait: slb's health checks
# may need a moment), and every process of each tree is pinned to PROXY_CPU
for n in $NAME_A $NAME_B; do
  seen="" ok=0
  for ((i = 0; i < 40; i++)); do
    r=$(curl -s -D - -o /dev/null --max-time 2 -H 'Connection: close' "http://$H:${PORT[$n]}/small" | tr -d '\r' |
        awk -F': ' 'NR == 1 { c = $0 } tolower($1) == "x-backend" { b = $2 } END { print (c ~ / 200 /) ? b : "fail" }')
    [[ $r != fail ]] && ok=1
    seen+="$r "; [[ $seen == *b1* && $seen == *b2* ]] && break
    sleep 0.25
  done
  (( ok )) || die "$n: GET /small through $H:${PORT[$n]} failed"
  [[ $seen == *b1* && $seen == *b2* ]] || log "WARNING: $n did not use both backends: $seen"
  pids=$(descendants ${ROOT[$n]}); track $pids
  for p in $pids; do for t in /proc/$p/task/*; do
    cpus=$(awk '/^Cpus_allowed_list/{print $2}' "$t/status" 2>/dev/null) || continue
    [[ -z $cpus || $cpus == "$PROXY_CPU" ]] || log "WARNING: $n thread ${t##*/} may run on CPUs $cpus, not $PROXY_CPU"
  done; done
  log "$n ready (${DESC[$n]}); processes: $(echo $pids)"
done
timeout 60 curl -s -o /dev/null --max-time 50 "http://$H:$P_B1/big"   # page cache warm-up
for n in $NAME_A $NAME_B; do   # 1 s of churn each as warm-up, not measured
  timeout 20 taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d1s -H 'Connection: close' "http://$H:${PORT[$n]}/small" >/dev/null 2>&1
done

# ------------------------------------------------------------ runs
RAW=$OUT_DIR/raw.tsv
printf 'rep\tproxy\ttest\tvalue\tunit\tproxy_cpu_s\tcount\tcount_unit\tcost\tcost_unit\tproxy_core_pct\tclient_core_pct\tsteal_pct\tforeign_pct\tstatus\n' >"$RAW"
run_one() { # rep name test
  local rep=$1 n=$2 test=$3 url="http://$H:${PORT[$2]}" out="$OUT_DIR/out/r$1-$2-$3-$RANDOM.txt"
  local sa sb ca cb fa fb t0 rc=0 value cost status="" ours
  sleep "$SETTLE"
  ours=$(descendants $$ | tr '\n' ' ')
  fa=$(foreign_snap $ours); sa=$(tree_snap ${ROOT[$n]}); ca=$(cpustat); t0=$EPOCHREALTIME
  if [[ $test == churn ]]; then
    timeout -k 2 $((DURATION + 20)) taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --timeout 5s \
      -H 'Connection: close' "$url/small" >"$out" 2>&1 || rc=$?
  else
    timeout -k 2 $((BULK_TIMEOUT + 5)) taskset -c "$CLIENT_CPU" curl -s -o /dev/null --max-time "$BULK_TIMEOUT" ${BULK_RATE:+--limit-rate "$BULK_RATE"} \
      -w '%{http_code} %{size_download} %{speed_download}\n' "$url/big" >"$out" 2>&1 || rc=$?
  fi
  local el; el=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')
  cb=$(cpustat); sb=$(tree_snap ${ROOT[$n]}); fb=$(foreign_snap $ours)
  local fg; fg=$(awk -v t="$(tree_delta "$fa" "$fb")" -v e="$el" -v hz="$HZ" 'BEGIN { printf "%.0f", t / (e * hz) * 100 }')
  track $(awk '{print $1}' <<<"$sb")  # so cleanup also finds children that leave the tree
  local ticks; ticks=$(tree_delta "$sa" "$sb")
  local use; use=$(awk -v a="$ca" -v b="$cb" -v ncpu="$(nproc)" 'BEGIN { split(a, x, " "); split(b, y, " ")
    printf "%.0f %.0f %.1f", (y[1]-x[1]) / (y[2]-x[2] + 1e-9) * 100,
      (y[3]-x[3]) / (y[4]-x[4] + 1e-9) * 100, (y[5]-x[5]) / (y[6]-x[6] + 1e-9) * 100 * ncpu }')
  local cpu; cpu=$(awk -v t="$ticks" -v hz="$HZ" 'BEGIN { printf "%.2f", t / hz }')
  local unit=MiB/s count=NA cunit=MiB cost_unit=ms/MiB scale=1e3
  if [[ $test == churn ]]; then
    unit=conn/s cunit=conns cost_unit=us/conn scale=1e6
    read -r value count err non < <(awk '/^Requests\/sec:/ { r = $2 } $2 == "requests" && $3 == "in" { q = $1 }
      /Socket errors:/ { gsub(/,/, ""); e = $4 + $6 + $8 + $10 } /Non-2xx/ { x = $NF }
      END { print (r == "" ? "NA" : r), (q > 0 ? q : "NA"), e + 0, x + 0 }' "$out")
    (( err > 0 )) && status+=",errors=$err"; (( non > 0 )) && status+=",non2xx=$non"
  else
    local code size speed; read -r code size speed <"$out"
    if [[ ${code:-0} == 200 && ${size:-0} == $((BULK_MB * 1048576)) ]]; then
      value=$(awk -v s="$speed" 'BEGIN { printf "%.1f", s / 1048576 }'); count=$BULK_MB
    else value=NA; status+=",http=${code:-none},size=${size:-0}"; fi
  fi
  cost=$(awk -v c="$cpu" -v q="$count" -v k="$scale" 'BEGIN { print (q != "NA" && q + 0 > 0) ? sprintf("%.3f", c * k / q) : "NA" }')
  (( rc != 0 )) && status+=",rc=$rc"
  alive "${ROOT[$n]%% *}" || { status+=",proxy_died"; DIED=$n; }
  read -r pcore ccore steal <<<"$use"
  (( fg > NOISY_PCT )) && status+=",noisy"
  status=${status#,}; status=${status:-ok}
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$n" "$test" "$value" "$unit" \
    "$cpu" "$count" "$cunit" "$cost" "$cost_unit" "$pcore" "$ccore" "$steal" "$fg" "$status" >>"$RAW"
  log "$(printf 'rep %d %-9s %-5s %9s %-6s cost %7s %-7s proxy core %3s%% client core %3s%% steal %s%% foreign %s%% %s' \
    "$rep" "$n" "$test" "$value" "$unit" "$cost" "$cost_unit" "$pcore" "$ccore" "$steal" "$fg" "$status")"
}

truncated=0 DIED=""
for ((rep = 1; rep <= REPS; rep++)); do
  order="$NAME_A $NAME_B"; (( rep % 2 == 0 )) && order="$NAME_B $NAME_A"
  for test in $([[ $TESTS == *churn* ]] && echo churn) $([[ $TESTS == *bulk* ]] && printf 'bulk %.0s' $(seq "$BULK_RUNS")); do
    for n in $order; do
      (( SECONDS - T0 > MAX_TOTAL_S )) && { truncated=1; break 3; }
      run_one "$rep" "$n" "$test"
      [[ -n $DIED ]] && { log "ERROR: $DIED exited during the runs (see $OUT_DIR/logs/$DIED.log): stopping"; break 3; }
    done
  done
done
(( truncated )) && log "WARNING: MAX_TOTAL_S=$MAX_TOTAL_S reached: results truncated"

# ------------------------------------------------------------ summary
{
  echo "slb TCP listener vs HAProxy mode tcp  $(date -Is)  ($((SECONDS - T0)) s; $(uname -r); $(nproc) CPUs)"
  echo "proxies on CPU$PROXY_CPU, wrk/curl + 2 nginx backends on CPU$CLIENT_CPU; WORKERS=$WORKERS REPS=$REPS"
  echo "churn: wrk -t1 -c$CONNS -d${DURATION}s 'Connection: close' 612 B; bulk: $BULK_RUNS x curl ${BULK_MB} MiB per rep"
  for n in $NAME_A $NAME_B; do echo "  $n: ${DESC[$n]} @ $H:${PORT[$n]}"; done
  echo
  awk -F'\t' -v A="$NAME_A" -v B="$NAME_B" -v goal="$TARGET_RATIO" -v noisy="$NOISY_PCT" '
    function med(k,   n, i, j, v, a) { n = cnt[k]; if (!n) { SPR = "-"; return "NA" }
      for (i = 1; i <= n; i++) a[i] = val[k, i]
      for (i = 2; i <= n; i++) { v = a[i]; for (j = i - 1; j >= 1 && a[j] > v; j--) a[j+1] = a[j]; a[j+1] = v }
      m = (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2; LO = a[1]; HI = a[n]
      SPR = (m > 0) ? sprintf("%.0f%%", (a[n] - a[1]) / m * 100) : "-"; return m }
    function add(k, v) { if (v != "NA" && v != "") val[k, ++cnt[k]] = v }
    function pooled(k, scale) { return (units[k] > 0) ? cpu[k] / units[k] * scale : "NA" }
    function r(x, y) { return (x == "NA" || y == "NA" || y == 0) ? "NA" : x / y }
    function f(x, fmt) { return x == "NA" ? "-" : sprintf(fmt, x) }
    function range(k, fmt) { med(k); return cnt[k] ? sprintf(fmt "-" fmt, LO, HI) : "-" }
    function pm(x) { return x == "NA" ? "n/a" : (x <= goal ? "PASS" : "MISS") }
    NR > 1 { k = $2 SUBSEP $3; add(k SUBSEP "v", $4); add(k SUBSEP "c", $9); add(k SUBSEP "p", $11)
             if ($7 != "NA") { cpu[k] += $6; units[k] += $7 }
             nrun++; fsum += $14; if ($14 > fmax) fmax = $14; if ($15 ~ /noisy/) nnoisy++
             st = $15; sub(/,?noisy/, "", st); if (st != "ok" && st != "") bad = bad sprintf("  rep %s %s %s: %s\n", $1, $2, $3, st) }
    END {
      print "throughput and prx% (proxy core busy %): median over runs, sprd = (max-min)/median;"
      print "CPU cost: total proxy CPU / total connections or MiB over all runs, and the per-run range"
      printf "%-9s | %7s %4s | %7s %12s | %4s || %6s %4s | %6s %12s | %4s\n", "proxy", "conn/s", "sprd", "us/conn", "per run", "prx%",
        "MiB/s", "sprd", "ms/MiB", "per run", "prx%"
      split(A " " B, N, " ")
      for (i = 1; i <= 2; i++) { n = N[i]; c = n SUBSEP "churn"; b = n SUBSEP "bulk"
        cv[n] = med(c SUBSEP "v"); s1 = SPR; cc[n] = pooled(c, 1e6)
        bv[n] = med(b SUBSEP "v"); s2 = SPR; bc[n] = pooled(b, 1e3)
        printf "%-9s | %7s %4s | %7s %12s | %4s || %6s %4s | %6s %12s | %4s\n", n, f(cv[n], "%.0f"), s1, f(cc[n], "%.1f"),
          range(c SUBSEP "c", "%.1f"), f(med(c SUBSEP "p"), "%.0f"), f(bv[n], "%.0f"), s2, f(bc[n], "%.3f"),
          range(b SUBSEP "c", "%.2f"), f(med(b SUBSEP "p"), "%.0f") }
      printf "\nratio %s/%s: conn/s %s  MiB/s %s  (higher is better)\n", B, A, f(r(cv[B], cv[A]), "%.2f"), f(r(bv[B], bv[A]), "%.2f")
      printf "ratio %s/%s: us/conn %s %s  ms/MiB %s %s  (CPU cost; goal <= %s)\n", B, A,
        f(r(cc[B], cc[A]), "%.2f"), pm(r(cc[B], cc[A])), f(r(bc[B], bc[A]), "%.2f"), pm(r(bc[B], bc[A])), goal
      printf "NOISE: other processes used mean %.0f%% / max %.0f%% of a core during the runs; %d of %d runs over %s%% (noisy)\n",
        nrun ? fsum / nrun : 0, fmax, nnoisy, nrun, noisy
      if (bad != "") printf "\nANOMALIES (runs with errors; runs without a result are left out):\n%s", bad }' "$RAW"
  echo; echo "raw: $RAW"
} | tee "$OUT_DIR/results.txt"
[[ -z $DIED ]]   # exit 0 whatever the ratios; 1 only if a proxy exited during the runs
