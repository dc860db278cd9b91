#!/usr/bin/env bash
# failover-vs-keepalived.sh - the failover gap a client sees, slb-failover vs
# keepalived (VRRPv3), in the namespaced test topology (198.18.0.0/24 inside
# network namespaces only; nothing leaves them). A benchmark, not a test: CI
# never runs it. Issue #3, section "Benchmark".
#
# Topology: tests/bats/helpers/topology.bash (client, lb1, lb2, b1, b2 on one
# bridge). VIP 198.18.0.100/24, VRID 51, multicast adverts, preempt on.
#   slb         lb1 zone primary, lb2 zone backup, priority 150 on both (the
#               zones map them to 202 and 75 on the wire); slb's own TCP
#               listener on VIP:8080 in front of the backends b1 and b2.
#   keepalived  vrrp_version 3, state BACKUP on both, the priorities slb puts
#               on the wire (KA_PRIO_LB1/KA_PRIO_LB2, default 202/75: same
#               RFC 5798 skew and Master_Down_Interval), same advert interval;
#               a TCP responder (slb-test-backend) on 0.0.0.0:8080 in each lb
#               namespace answers once the VIP is there.
# Per rep, both nodes are started fresh (lb1 first, then lb2) and left to
# settle. A prober in the client namespace (python3) connects to VIP:8080 every
# PROBE_MS (10) ms and counts a probe as answered when it reads the answer line
# (PROBE_TIMEOUT_MS 300 per probe). Then, just after lb1's next advert is seen
# on the wire (PHASE=advert: the backup then waits its whole Master_Down
# interval, the worst case and the same for both; PHASE=random: no sync), the
# event hits lb1, the master:
#   link   ip link set <lb1's interface> down, inside lb1's namespace
#   crash  kill -9 of every process of the node, all stopped (SIGSTOP) first:
#          slb-master and its children / keepalived, its VRRP child and the
#          responder (the service dies with the node in both cases; killing
#          keepalived alone would leave the responder answering on the VIP
#          that keepalived leaves behind: no gap at all)
#   stop   SIGTERM to slb-master / to keepalived (the responder keeps running:
#          the kindest case for keepalived)
# The gap is the longest time between two consecutive answers (by arrival)
# from the last answer before the event on, in ms; the prober stops once every
# probe has been answered for TAIL_MS. `ip monitor` in lb2's namespace gives
# when the VIP arrived there (the "vip" column). Per case, the table gives both
# medians over REPS, the ratio slb/keepalived and the issue's goals:
#   <=ka  slb at or below keepalived, every case (TIE: above by at most two
#         probe periods, the prober's resolution)
#   <250  slb under 250 ms at 50 ms adverts
#   <50   clean stop under 50 ms (every advert interval)
# Informational: exit 0 whatever the figures (1 if the build, keepalived or
# the topology is missing; a run whose nodes do not come up counts as 99999).
#
# Usage (as root, from anywhere; slb from SLB_BUILDDIR, default the repo root):
#   make -j2 && make tests/tools/slb-test-backend
#   apt-get install -y keepalived
#   bash tests/bench/failover-vs-keepalived.sh          # full run, 54 runs, ~6 min
#   QUICK=1 bash tests/bench/failover-vs-keepalived.sh  # 1 rep, ~2 min
# A sanitizer build (./configure --enable-sanitizers) is flagged in the
# results: LeakSanitizer slows every process's exit. For a release build
# without touching the tree: copy it (tar --exclude=.git), then in the copy
# make distclean; ./configure; make -j2; make tests/tools/slb-test-backend,
# and pass SLB_BUILDDIR=<the copy>.
# Knobs (env): REPS=3 ADVERTS="1000 100 50" (ms) EVENTS="link crash stop"
#   PRODUCTS="slb keepalived" PHASE=advert|random PROBE_MS=10
#   PROBE_TIMEOUT_MS=300 TAIL_MS=500 BASELINE_MS=500 KA_PRIO_LB1=202
#   KA_PRIO_LB2=75 SLB_PRIORITY=150 SLB_LOG_LEVEL=info MAX_TOTAL_S=720
#   OUT_DIR=/tmp/slb-failover-bench-<date> SLB_BUILDDIR=<repo root>
# Output: $OUT_DIR/raw.tsv (one row per run), results.txt (the table),
#   probes/ (every probe of every run), logs/ (slb and keepalived logs per run),
#   meta (the settings). `bash failover-vs-keepalived.sh --report $OUT_DIR`
#   prints the table of that run again.
# Every process it starts is tracked by pid (+ start time) and killed by pid;
# the namespaces are removed on exit (trap), also after Ctrl-C.
# ---- end of help
# shellcheck disable=SC2016  # eval strings for wait_until expand later, on purpose
set -u -o pipefail
[[ ${1:-} == -h || ${1:-} == --help ]] && { sed -n '2,/^# ---- end of help/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0; }
export LC_ALL=C

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
QUICK=${QUICK:-0}
REPS=${REPS:-3}
[[ $QUICK == 1 ]] && REPS=1
ADVERTS=${ADVERTS:-1000 100 50}
EVENTS=${EVENTS:-link crash stop}
PRODUCTS=${PRODUCTS:-slb keepalived}
PHASE=${PHASE:-advert}
PROBE_MS=${PROBE_MS:-10}
PROBE_TIMEOUT_MS=${PROBE_TIMEOUT_MS:-300}
TAIL_MS=${TAIL_MS:-500}
BASELINE_MS=${BASELINE_MS:-500}
SLB_PRIORITY=${SLB_PRIORITY:-150}
SLB_LOG_LEVEL=${SLB_LOG_LEVEL:-info}
MAX_TOTAL_S=${MAX_TOTAL_S:-720}
OUT_DIR=${OUT_DIR:-${TMPDIR:-/tmp}/slb-failover-bench-$(date +%Y%m%d-%H%M%S)}
VRID=51
T0=$SECONDS

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ------------------------------------------------------------------ report
# report: the table, from $RAW (one row per run).
report() {
	awk -F'\t' -v reps="$REPS" -v kp1="$KA_PRIO_LB1" -v kp2="$KA_PRIO_LB2" \
		-v sp1="$SLB_WIRE_LB1" -v sp2="$SLB_WIRE_LB2" -v pm="$PROBE_MS" -v phase="$PHASE" '
	function median(list,   a, n, i, j, t) {
		n = split(list, a, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		if (!n) return -1
		return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function add(arr, k, v) { arr[k] = arr[k] (arr[k] == "" ? "" : " ") v }
	NR == 1 { next }
	{
		k = $2 SUBSEP $3
		if (!(k in seen)) { seen[k] = 1; keys[++nk] = k }
		add(runs, $1 SUBSEP k, ($5 < 0) ? 99999 : sprintf("%.0f", $5))
		if ($12 >= 0) add(vips, $1 SUBSEP k, $12)
		if ($8 > 0) { bm = bm " " $8; if ($9 > bx) bx = $9 }
	}
	function gapcol(p, k) {
		if (runs[p, k] == "") return sprintf("%6s %-17s", "-", "")
		return sprintf("%6.0f %-17s", median(runs[p, k]), "(" runs[p, k] ")")
	}
	function vipcol(p, k) {
		return (vips[p, k] == "") ? sprintf("%5s", "-") : sprintf("%5.0f", median(vips[p, k]))
	}
	END {
		printf "Failover gap seen by the client: ms without an answer, median of %d (runs in brackets; 99999: no steady\n", reps
		printf "service within the wait). vip: ms from the event until the VIP is on lb2 (median, kernel timestamp).\n"
		printf "wire priorities lb1/lb2: slb %d/%d, keepalived %d/%d; event phase: %s; a probe every %d ms\n\n", sp1, sp2, kp1, kp2, phase, pm
		printf "%-6s %-5s | %-24s %5s | %-24s %5s | %5s | %s\n", "advert", "event", "slb gap", "vip", "keepalived gap", "vip", "ratio", "goals"
		for (i = 1; i <= nk; i++) {
			k = keys[i]; split(k, kk, SUBSEP); adv = kk[1]; ev = kk[2]
			s = (runs["slb", k] != "") ? median(runs["slb", k]) : -1
			q = (runs["keepalived", k] != "") ? median(runs["keepalived", k]) : -1
			ratio = (s >= 0 && q > 0) ? sprintf("%5.2f", s / q) : sprintf("%5s", "-")
			goals = ""
			if (s >= 0 && q >= 0) goals = goals sprintf(" <=ka %s", (s <= q) ? "PASS" : (s - q <= 2 * pm) ? "TIE" : "MISS")
			if (s >= 0 && adv + 0 == 50) goals = goals sprintf(" <250 %s", (s < 250) ? "PASS" : "MISS")
			if (s >= 0 && ev == "stop") goals = goals sprintf(" <50 %s", (s < 50) ? "PASS" : "MISS")
			printf "%-6s %-5s | %s %s | %s %s | %s |%s\n", adv "ms", ev, gapcol("slb", k), vipcol("slb", k),
				gapcol("keepalived", k), vipcol("keepalived", k), ratio, goals
		}
		printf "\ngoals: <=ka slb at or below keepalived (TIE: above by at most 2 probe periods, the prober'\''s\n"
		printf "       resolution); <250 under 250 ms at 50 ms adverts; <50 clean stop under 50 ms\n"
		printf "prober resolution: median time between answers before the events %.1f ms, worst %.1f ms\n", median(bm), bx
	}' "$RAW"
}
# --report DIR: print the table of an earlier run again.
if [[ ${1:-} == --report ]]; then
	[[ -f ${2:-}/raw.tsv && -f ${2:-}/meta ]] || die "--report DIR: no raw.tsv and meta in '${2:-}'"
	# shellcheck source=/dev/null
	. "$2/meta"
	RAW=$2/raw.tsv
	report
	echo "$BUILD_NOTE"
	exit 0
fi

for v in REPS PROBE_MS PROBE_TIMEOUT_MS TAIL_MS BASELINE_MS SLB_PRIORITY MAX_TOTAL_S; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer"
done
for a in $ADVERTS; do
	if ! [[ $a =~ ^[0-9]+$ ]] || ((a < 10 || a > 40950 || a % 10 != 0)); then
		die "ADVERTS: $a is not a VRRPv3 interval in ms (10..40950, a multiple of 10)"
	fi
done
((TAIL_MS >= PROBE_TIMEOUT_MS + 100)) || die "TAIL_MS must be at least PROBE_TIMEOUT_MS + 100"
for e in $EVENTS; do case $e in link | crash | stop) ;; *) die "EVENTS: unknown event $e" ;; esac; done
for p in $PRODUCTS; do case $p in slb | keepalived) ;; *) die "PRODUCTS: unknown product $p" ;; esac; done
case $PHASE in advert | random) ;; *) die "PHASE must be advert or random" ;; esac
[[ $(id -u) == 0 ]] || die "must run as root (network namespaces)"
for b in ip python3 pgrep timeout; do command -v "$b" >/dev/null || die "missing $b"; done
[[ " $PRODUCTS " == *" keepalived "* ]] && ! command -v keepalived >/dev/null &&
	die "keepalived not installed (apt-get install -y keepalived), or PRODUCTS=slb"

# The slb priorities on the wire (daemons/failover/election.c): the primary
# zone maps 1..254 onto 128..254, the backup zone onto 1..127.
SLB_WIRE_LB1=$((128 + (SLB_PRIORITY - 1) * 126 / 253))
SLB_WIRE_LB2=$((1 + (SLB_PRIORITY - 1) * 126 / 253))
KA_PRIO_LB1=${KA_PRIO_LB1:-$SLB_WIRE_LB1}
KA_PRIO_LB2=${KA_PRIO_LB2:-$SLB_WIRE_LB2}

# shellcheck source=../bats/helpers/topology.bash
. "$REPO/tests/bats/helpers/topology.bash"
SLB_BUILDDIR=${SLB_BUILDDIR:-$REPO}
mkdir -p "$OUT_DIR"/{probes,logs,bin} || die "cannot create $OUT_DIR"
chmod 755 "$OUT_DIR" "$OUT_DIR/bin"
# Run a snapshot of the binaries: a rebuild during the run cannot mix builds.
for b in slb-master slb-worker slb-checker slb-failover; do
	cp "$SLB_BUILDDIR/$b" "$OUT_DIR/bin/" 2>/dev/null || die "slb not built in $SLB_BUILDDIR (make -j2)"
done
if ! SLB_TEST_BACKEND=$(backend_bin) || ! cp "$SLB_TEST_BACKEND" "$OUT_DIR/bin/"; then
	die "make tests/tools/slb-test-backend"
fi
SLB_TEST_BACKEND=$OUT_DIR/bin/slb-test-backend
# A sanitizer build is slow to stop (LeakSanitizer scans the memory of every
# process at exit, slb-failover's at real-time priority): say so in the results.
BUILD_NOTE="slb build: $SLB_BUILDDIR"
if grep -qa __asan_init "$OUT_DIR/bin/slb-master"; then
	BUILD_NOTE="$BUILD_NOTE (WARNING: built with sanitizers, --enable-sanitizers; measure a release build)"
	log "WARNING: slb in $SLB_BUILDDIR is built with sanitizers: figures are not representative"
fi
SLB_BUILDDIR=$OUT_DIR/bin
export SLB_BUILDDIR SLB_TEST_BACKEND

# ------------------------------------------------------------------ helpers
# The prober (client namespace) and the advert watcher (lb2's namespace).
PY=$OUT_DIR/failover-probe.py
cat >"$PY" <<'EOF'
# failover-probe.py probe OUT HOST PORT PERIOD_MS TIMEOUT_MS MAX_S CTL_DIR
#   Connects to HOST:PORT every PERIOD_MS ms (non-blocking, many in flight);
#   a probe is answered when a line is read. Writes "start_us end_us ok NAME"
#   or "start_us end_us fail WHY" per probe to OUT. CTL_DIR/ready appears at the
#   first answer. Once CTL_DIR/event holds "T_US MAXWAIT_MS TAIL_MS", it stops
#   when every probe has been answered for TAIL_MS since T_US (stable), or at
#   T_US + MAXWAIT_MS (no stable service: gap -1), and
#   prints: gap_ms restored_ms fails_after base_median_ms base_max_ms probes
#   (gap: the longest time between two answers from the last answer before
#   the event on; restored: from the event to the answer that ended that gap;
#   -1: no answer after the event). Also stops at MAX_S or CTL_DIR/stop.
# failover-probe.py advert IFNAME SRC_IP TIMEOUT_MS
#   Prints "armed" once listening, then "seen" as soon as a VRRP packet from
#   SRC_IP is seen on IFNAME (exit 0), or "timeout" (exit 1).
import errno, os, selectors, socket, sys, time

def now_us():
    return time.time_ns() // 1000

def probe(out, host, port, period_ms, timeout_ms, max_s, ctl):
    period, tmo = period_ms * 1000, timeout_ms * 1000
    t0 = now_us()
    end = t0 + max_s * 1000000
    sel = selectors.DefaultSelector()
    inflight = {}            # fd -> [sock, start_us, connected]
    answers, fails = [], []  # end_us of answered / failed probes
    rec = open(out, "w", buffering=1)
    nxt, ready, event, stop_at, nprobes = t0, False, None, None, 0
    streak, stable = None, False   # first answer since the last failure

    def done(fd, ok, what):
        nonlocal ready, streak
        s, st, _ = inflight.pop(fd)
        try:
            sel.unregister(s)
        except (KeyError, ValueError):
            pass
        s.close()
        t = now_us()
        rec.write("%d %d %s %s\n" % (st, t, "ok" if ok else "fail", what))
        (answers if ok else fails).append(t)
        if not ok:
            streak = None
        elif streak is None:
            streak = t
        if ok and not ready:
            ready = True
            open(os.path.join(ctl, "ready"), "w").close()

    while nprobes < max_s * 1000 // period_ms + 10:
        t = now_us()
        if t >= end or (stop_at is not None and t >= stop_at):
            break
        if t >= nxt:
            nxt += period
            if nxt <= t:
                nxt = t + period
            if os.path.exists(os.path.join(ctl, "stop")):
                break
            if event is None:
                try:
                    with open(os.path.join(ctl, "event")) as f:
                        ev, maxwait, tail = (int(x) for x in f.read().split())
                    event = (ev, maxwait * 1000, tail * 1000)
                    stop_at = ev + event[1]
                except (OSError, ValueError):
                    pass
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
            st = now_us()
            rc = s.connect_ex((host, port))
            inflight[s.fileno()] = [s, st, False]
            nprobes += 1
            if rc not in (0, errno.EINPROGRESS):
                done(s.fileno(), False, errno.errorcode.get(rc, str(rc)))
            else:
                sel.register(s, selectors.EVENT_WRITE | selectors.EVENT_READ)
        # Stop once every probe has been answered for TAIL since the event
        # or the last failure, whichever came later (TAIL > TIMEOUT: a probe
        # sent into the void after the event fails within TAIL).
        if event is not None and streak is not None and answers[-1] > event[0] \
                and now_us() >= max(streak, event[0]) + event[2]:
            stable = True
            break
        wake = nxt
        for s, st, _ in inflight.values():
            wake = min(wake, st + tmo)
        timeout = max(0, wake - now_us()) / 1e6
        for key, mask in sel.select(timeout):
            fd = key.fd
            if fd not in inflight:
                continue
            s, st, conn = inflight[fd]
            if not conn:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    done(fd, False, errno.errorcode.get(err, str(err)))
                    continue
                inflight[fd][2] = True
                sel.modify(s, selectors.EVENT_READ)
                if not mask & selectors.EVENT_READ:
                    continue
            try:
                data = s.recv(256)
            except OSError as e:
                done(fd, False, errno.errorcode.get(e.errno, "err"))
                continue
            if data.strip():
                done(fd, True, data.split()[0].decode(errors="replace"))
            else:
                done(fd, False, "empty")
        t = now_us()
        for fd in [fd for fd, v in inflight.items() if t >= v[1] + tmo]:
            done(fd, False, "timeout")
    for fd in list(inflight):
        done(fd, False, "unfinished")
    if event is None:
        print("-1 -1 0 0 0 %d" % nprobes)
        return
    ev = event[0]
    before = [a for a in answers if a <= ev]
    after = [a for a in answers if a > ev]
    base = [b - a for a, b in zip(before, before[1:])]
    base.sort()
    med = base[len(base) // 2] / 1000 if base else 0
    bmax = base[-1] / 1000 if base else 0
    if not after or not stable:
        gap, rcv = -1, -1
    else:
        seq = ([before[-1]] if before else [ev]) + after
        a, b = max(zip(seq, seq[1:]), key=lambda p: p[1] - p[0])
        gap, rcv = (b - a) / 1000, (b - ev) / 1000
    nf = sum(1 for f in fails if f > ev)
    print("%.1f %.1f %d %.1f %.1f %d" % (gap, rcv, nf, med, bmax, nprobes))

def advert(ifname, src, timeout_ms):
    # SOCK_DGRAM: the IPv4 packet without the Ethernet header.
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
    s.bind((ifname, 0))
    want = socket.inet_aton(src)
    end = time.monotonic() + timeout_ms / 1000
    print("armed", flush=True)
    while True:
        left = end - time.monotonic()
        if left <= 0:
            print("timeout", flush=True)
            return 1
        s.settimeout(left)
        try:
            pkt = s.recv(128)
        except socket.timeout:
            continue
        # IPv4 header: protocol at 9, source at 12..15.
        if len(pkt) >= 20 and pkt[9] == 112 and pkt[12:16] == want:
            print("seen", flush=True)
            return 0

if __name__ == "__main__":
    a = sys.argv
    if a[1] == "probe":
        probe(a[2], a[3], int(a[4]), int(a[5]), int(a[6]), int(a[7]), a[8])
    elif a[1] == "advert":
        sys.exit(advert(a[2], a[3], int(a[4])))
EOF

now_us() { echo "${EPOCHREALTIME/./}"; }

# ------------------------------------------------------------------ cleanup
cleanup() {
	trap - EXIT INT TERM
	[[ -n ${TOPO_DIR:-} && -d $TOPO_DIR/pids ]] && stop_all
	topo_down
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

log "output in $OUT_DIR"
topo_up $$ >/dev/null || die "topology did not come up"
slb_ensure_user || die "cannot create user slb"
backend_start b1 9000 >/dev/null || die "backend b1"
backend_start b2 9000 >/dev/null || die "backend b2"
IF1=$(topo_if lb1)
NS1=$(topo_ns lb1)

vip_on() { [[ $(ip -n "$(topo_ns "$1")" -o -4 addr show dev "$(topo_if "$1")" 2>/dev/null) == *" inet $TOPO_VIP/"* ]]; }

# ------------------------------------------------------------------ slb
slb_conf() { # ROLE ZONE ADVERT_MS
	slb_config_basic "$1" | sed -e "s/^\[node\]\$/[node]\nzone = $2/" \
		-e "s/^log_level = .*/log_level = $SLB_LOG_LEVEL/"
	printf '\n[failover]\ninterface = %s\nvrid = %s\npriority = %s\nadvert_interval = %sms\npreempt = yes\n' \
		"$(topo_if "$1")" "$VRID" "$SLB_PRIORITY" "$3"
}

# quiet ROLE: no "Killed" job notice from bash when the node is killed.
quiet() { disown "$(slb_pid "$1")" 2>/dev/null; }

slb_log_of() { echo "$TOPO_DIR/$1/slb.log"; }

slb_up() { # ADVERT_MS
	local adv=$1
	slb_conf lb1 primary "$adv" >"$TOPO_DIR/lb1.ini"
	slb_conf lb2 backup "$adv" >"$TOPO_DIR/lb2.ini"
	SLB_START_TIMEOUT=$((adv * 5 / 1000 + 10)) slb_start -n lb1 "$TOPO_DIR/lb1.ini" 2>>"$RUN_LOG" || return 1
	quiet lb1
	SLB_START_TIMEOUT=10 slb_start -n lb2 --no-vip "$TOPO_DIR/lb2.ini" 2>>"$RUN_LOG" || return 1
	quiet lb2
	wait_until 3 grep -E "vrid $VRID: [A-Z]+ -> BACKUP" "$(slb_log_of lb2)" >/dev/null || return 1
}

# slb_node_pids ROLE: the master and its children (the whole node).
slb_node_pids() {
	local master
	master=$(slb_pid "$1") || return 1
	echo "$master" "$(pgrep -P "$master" | tr '\n' ' ')"
}

slb_down() {
	local role
	for role in lb1 lb2; do
		if [[ -e $TOPO_DIR/pids/slb-master.$role ]]; then
			slb_stop "$role" 2>>"$RUN_LOG" || log "WARNING: slb in $role needed SIGKILL"
		fi
	done
}

# ------------------------------------------------------------------ keepalived
ka_conf() { # ROLE PRIORITY ADVERT_MS
	local d=$TOPO_DIR/ka.$1
	mkdir -p "$d"
	cat <<EOC
global_defs {
	router_id $1
	vrrp_version 3
}
vrrp_instance VI_$VRID {
	state BACKUP
	interface $(topo_if "$1")
	virtual_router_id $VRID
	priority $2
	advert_int $(awk -v m="$3" 'BEGIN { printf "%g", m / 1000 }')
	virtual_ipaddress {
		$TOPO_VIP/24 dev $(topo_if "$1")
	}
}
EOC
}

ka_start() { # ROLE PRIORITY ADVERT_MS
	local role=$1 d=$TOPO_DIR/ka.$1 bin
	mkdir -p "$d"
	rm -f "$d"/*.pid
	ka_conf "$@" >"$d/keepalived.conf"
	bin=$(backend_bin)
	ip netns exec "$(topo_ns "$role")" "$bin" -l 0.0.0.0:8080 -n "$role" </dev/null >"$d/responder.log" 2>&1 &
	_pid_record "$TOPO_DIR/pids/resp.$role" $!
	disown $!
	ip netns exec "$(topo_ns "$role")" keepalived -n -l -G -D -P -f "$d/keepalived.conf" \
		-p "$d/keepalived.pid" -r "$d/vrrp.pid" -c "$d/checkers.pid" </dev/null >"$d/keepalived.log" 2>&1 &
	_pid_record "$TOPO_DIR/pids/ka.$role" $!
	disown $!
	wait_until 5 test -s "$d/vrrp.pid" || return 1
	_pid_record "$TOPO_DIR/pids/ka-vrrp.$role" "$(cat "$d/vrrp.pid")"
}

ka_up() { # ADVERT_MS
	local adv=$1
	ka_start lb1 "$KA_PRIO_LB1" "$adv" || return 1
	wait_until $((adv * 5 / 1000 + 5)) vip_on lb1 || return 1
	ka_start lb2 "$KA_PRIO_LB2" "$adv" || return 1
	wait_until 3 grep "Entering BACKUP STATE" "$TOPO_DIR/ka.lb2/keepalived.log" >/dev/null || return 1
}

# ka_node_pids ROLE: keepalived, its VRRP child and the responder.
ka_node_pids() {
	local p pids=''
	for p in ka ka-vrrp resp; do
		_pid_alive "$TOPO_DIR/pids/$p.$1" && pids+=" $(_pid_of "$TOPO_DIR/pids/$p.$1")"
	done
	echo "${pids# }"
}

ka_down() {
	local role f
	for role in lb1 lb2; do
		f=$TOPO_DIR/pids/ka.$role
		if _pid_alive "$f"; then
			kill -TERM "$(_pid_of "$f")"
			wait_until 5 eval '! _pid_alive "$f"' || { log "WARNING: keepalived in $role needed SIGKILL"; _pid_kill "$f" 1; }
		fi
		for f in ka ka-vrrp resp; do _pid_kill "$TOPO_DIR/pids/$f.$role" 2 || true; done
		rm -f "$TOPO_DIR/pids/ka.$role"
	done
}

# ------------------------------------------------------------------ one run
stop_all() {
	local role
	[[ -n ${PROBER_PIDF:-} ]] && _pid_kill "$PROBER_PIDF" 1
	slb_down
	ka_down
	# What a kill -9 of a node leaves (slb reuses it at the next start; the
	# harness would remove it at the end, with a warning): our instances only.
	rm -f "/dev/shm/slb.${TOPO_ID}lb1" "/dev/shm/slb.${TOPO_ID}lb2"
	ip -n "$(topo_ns lb1)" link set dev "$IF1" up 2>/dev/null
	for role in lb1 lb2; do
		vip_on "$role" && ip -n "$(topo_ns "$role")" addr del "$TOPO_VIP/24" dev "$(topo_if "$role")"
	done
	ip -n "$(topo_ns client)" neigh flush to "$TOPO_VIP" 2>/dev/null
	wait_until 5 topo_check
}

# run_one PRODUCT ADVERT_MS EVENT REP: sets RUN_RES to
# "gap restored fails base_med base_max probes synced vip_ms" (not a subshell: the
# pid files it records must stay visible to the EXIT trap).
run_one() {
	local prod=$1 adv=$2 ev=$3 rep=$4 tag ctl maxwait t_ev res pids='' line vip_ms=-1 synced=-
	tag=$prod-$adv-$ev-$rep
	ctl=$TOPO_DIR/ctl.$tag
	mkdir -p "$ctl"
	RUN_LOG=$OUT_DIR/logs/$tag.harness.log
	: >"$RUN_LOG"
	if ! "${prod/keepalived/ka}_up" "$adv"; then
		log "WARNING: $tag: the nodes did not come up (see $OUT_DIR/logs/$tag.*)"
		collect_logs "$tag"
		stop_all
		RUN_RES="-1 -1 0 0 0 0 setup-failed -1"
		return
	fi
	# Let the backup hear a few adverts and learn the master's interval.
	sleep "$(awk -v a="$adv" 'BEGIN { printf "%.3f", (2 * a + 200) / 1000 }')"

	maxwait=$((6 * adv + 1500))
	ip netns exec "$(topo_ns client)" timeout $((maxwait / 1000 + 30)) \
		python3 "$PY" probe "$OUT_DIR/probes/$tag" "$TOPO_VIP" 8080 "$PROBE_MS" "$PROBE_TIMEOUT_MS" \
		$((maxwait / 1000 + 25)) "$ctl" </dev/null >"$ctl/result" 2>"$ctl/prober.err" &
	PROBER_PIDF=$TOPO_DIR/pids/prober
	_pid_record "$PROBER_PIDF" $!
	wait_until 5 test -e "$ctl/ready" || log "WARNING: $tag: no answer before the event"
	# When the VIP appears on lb2 (kernel timestamps, us): the election's
	# share of the gap, apart from the client's.
	ip -n "$(topo_ns lb2)" -ts -o monitor address dev "$(topo_if lb2)" </dev/null >"$ctl/vipmon" 2>&1 &
	_pid_record "$TOPO_DIR/pids/vipmon" $!
	disown $!
	sleep "$(awk -v m="$BASELINE_MS" 'BEGIN { printf "%.3f", m / 1000 }')"

	# Everything the event needs is looked up now: the event itself is one
	# builtin (kill) or one command (ip link), the same for both products.
	case $prod-$ev in
	slb-crash) pids=$(slb_node_pids lb1) ;;
	keepalived-crash) pids=$(ka_node_pids lb1) ;;
	slb-stop) pids=$(slb_pid lb1) ;;
	keepalived-stop) pids=$(_pid_of "$TOPO_DIR/pids/ka.lb1") ;;
	esac
	if [[ $PHASE == advert ]]; then
		# The watcher says "seen" the moment lb1's advert arrives; reading
		# its line (rather than waiting for python to exit) costs < 1 ms.
		mkfifo "$ctl/advert"
		ip netns exec "$(topo_ns lb2)" timeout $((3 * adv / 1000 + 5)) python3 "$PY" advert \
			"$(topo_if lb2)" "$(topo_ip lb1)" $((3 * adv + 1000)) </dev/null >"$ctl/advert" 2>>"$RUN_LOG" &
		_pid_record "$TOPO_DIR/pids/watcher" $!
		synced=n
		{
			read -r -t 5 line && [[ $line == armed ]] &&
				read -r -t $((3 * adv / 1000 + 2)) line && [[ $line == seen ]] && synced=y
		} <"$ctl/advert"
	fi
	t_ev=$(now_us)
	# shellcheck disable=SC2086  # lists of pids
	case $ev in
	link) ip -n "$NS1" link set dev "$IF1" down ;;
	# Stopped first, all of them, so that none reacts to another's death
	# (slb's master would clean up when a child dies; keepalived's VRRP
	# child would send priority 0 when its parent goes).
	crash) kill -STOP $pids && kill -KILL $pids ;;
	stop) kill -TERM $pids ;;
	esac
	echo "$t_ev $maxwait $TAIL_MS" >"$ctl/event.tmp" && mv "$ctl/event.tmp" "$ctl/event"
	wait_until $((maxwait / 1000 + 5)) eval '! _pid_alive "$PROBER_PIDF"' || log "WARNING: $tag: prober overran"
	_pid_kill "$PROBER_PIDF" 1
	[[ $PHASE == advert ]] && _pid_kill "$TOPO_DIR/pids/watcher" 1
	_pid_kill "$TOPO_DIR/pids/vipmon" 1
	# "[2026-11-21T22:49:38.326455] 3: t123-lb2    inet 198.18.0.100/24 ..."
	line=$(grep -F " inet $TOPO_VIP/" "$ctl/vipmon" | grep -v Deleted | head -n1)
	if [[ $line =~ ^\[([0-9T:.-]+)\] ]]; then
		vip_ms=$(($(date -d "${BASH_REMATCH[1]}" +%s%6N) - t_ev))
		vip_ms=$(awk -v u="$vip_ms" 'BEGIN { printf "%.1f", u / 1000 }')
	fi
	res=$(cat "$ctl/result")
	[[ -n $res ]] || res="-1 -1 0 0 0 0"
	echo "t_event_us=$t_ev synced=$synced event=$ev pids=$pids" >>"$RUN_LOG"
	stop_all
	collect_logs "$tag"
	RUN_RES="$res $synced $vip_ms"
}

collect_logs() { # TAG
	local role
	for role in lb1 lb2; do
		[[ -f $TOPO_DIR/$role/slb.log ]] && mv "$TOPO_DIR/$role/slb.log" "$OUT_DIR/logs/$1.slb.$role.log"
		[[ -f $TOPO_DIR/ka.$role/keepalived.log ]] && mv "$TOPO_DIR/ka.$role/keepalived.log" "$OUT_DIR/logs/$1.keepalived.$role.log"
	done
}

# ------------------------------------------------------------------ main loop
n_runs=$(($(wc -w <<<"$ADVERTS") * $(wc -w <<<"$EVENTS") * $(wc -w <<<"$PRODUCTS") * REPS))
log "slb wire priorities lb1 $SLB_WIRE_LB1 lb2 $SLB_WIRE_LB2; keepalived lb1 $KA_PRIO_LB1 lb2 $KA_PRIO_LB2; $n_runs runs, PHASE=$PHASE"
RAW=$OUT_DIR/raw.tsv
declare -p REPS KA_PRIO_LB1 KA_PRIO_LB2 SLB_WIRE_LB1 SLB_WIRE_LB2 PROBE_MS PHASE BUILD_NOTE >"$OUT_DIR/meta"
printf 'product\tadvert_ms\tevent\trep\tgap_ms\trestored_ms\tfails\tbase_median_ms\tbase_max_ms\tprobes\tsynced\tvip_lb2_ms\n' >"$RAW"
i=0 stopped=0
for adv in $ADVERTS; do
	for ev in $EVENTS; do
		for ((rep = 1; rep <= REPS; rep++)); do
			# Alternate the order of the products from one rep to the next.
			order=$PRODUCTS
			((rep % 2 == 0)) && order=$(tr ' ' '\n' <<<"$PRODUCTS" | tac | tr '\n' ' ')
			for prod in $order; do
				if ((SECONDS - T0 > MAX_TOTAL_S)); then
					((stopped)) || log "WARNING: MAX_TOTAL_S=$MAX_TOTAL_S reached, skipping the remaining runs"
					stopped=1
					continue
				fi
				i=$((i + 1))
				run_one "$prod" "$adv" "$ev" "$rep"
				read -r gap rcv fails bmed bmax nprobes synced vip_ms <<<"$RUN_RES"
				printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$prod" "$adv" "$ev" "$rep" \
					"$gap" "$rcv" "$fails" "$bmed" "$bmax" "$nprobes" "$synced" "$vip_ms" >>"$RAW"
				log "run $i/$n_runs: $prod advert ${adv}ms $ev rep $rep: gap ${gap} ms (service back ${rcv} ms after the event, VIP on lb2 at ${vip_ms} ms, $fails failed probes, synced $synced)"
			done
		done
	done
done

{ report; echo "$BUILD_NOTE"; } | tee "$OUT_DIR/results.txt"
log "done in $((SECONDS - T0)) s; raw data $RAW, logs $OUT_DIR/logs"
