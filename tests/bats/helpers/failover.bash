# failover.bash — helpers for the failover suite (issue #3): two slb nodes,
# lb1 (primary zone) and lb2 (backup zone), electing a VRRP master that holds
# the VIP.  Load after helpers/topology (and helpers/client).
#
#   failover_config ROLE ZONE PRIORITY [KEY=VALUE...]   a node's config
#   vip_on ROLE / vip_holder                            who holds the VIP now
#   vip_sampler_start / vip_sampler_stop                split-brain sampler
#   client_prober_start / client_prober_stop            the client's view
#   slb_kill9_all ROLE                                  node loss
#
# The background helpers are bounded in time (a maximum duration, default
# 60 s), record their pid under $TOPO_DIR/pids (topo_down stops whatever a
# failed test left running) and close fd 3 (bats waits for its holders).

# shellcheck disable=SC2016  # bash -c strings expand in the client namespace

FO_VRID=51
FO_ADVERT_MS=100

_fo_dir() {
	local d=$TOPO_DIR/fo
	[ -d "$d" ] || mkdir -p "$d"
	echo "$d"
}

# _fo_now_ms: wall clock in ms, without a fork (same clock as the slb log).
_fo_now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

# failover_config ROLE ZONE PRIORITY [KEY=VALUE...]: print ROLE's config:
# slb_config_basic ROLE with `zone = ZONE` under [node], then a [failover]
# section on ROLE's interface: vrid 51, PRIORITY, 100 ms adverts, preempt.
# Each KEY=VALUE sets (or replaces) a [failover] key, e.g. preempt=no,
# "peers=198.18.0.4", preempt_delay=1s, auth_key_file=/path, track_group=web.
failover_config() {
	local role=$1 zone=$2 prio=$3 kv k v
	shift 3
	local -A val=(
		[interface]=$(topo_if "$role") [vrid]=$FO_VRID [priority]=$prio
		[advert_interval]=${FO_ADVERT_MS}ms [preempt]=yes
	)
	local order=(interface vrid priority advert_interval preempt)
	for kv in "$@"; do
		k=${kv%%=*} v=${kv#*=}
		k=${k// /} v=${v# }
		[ -n "${val[$k]+set}" ] || order+=("$k")
		val[$k]=$v
	done
	slb_config_basic "$role" | sed "s/^\[node\]\$/[node]\nzone = $zone/"
	printf '\n[failover]\n'
	for k in "${order[@]}"; do
		printf '%s = %s\n' "$k" "${val[$k]}"
	done
}

# vip_on ROLE: succeed if the VIP is configured in ROLE's namespace.
vip_on() {
	[[ $(ip -n "$(topo_ns "$1")" -o -4 addr show dev "$(topo_if "$1")" 2>/dev/null) == *" inet $TOPO_VIP/"* ]]
}

# vip_holder: print lb1, lb2, none or both.
vip_holder() {
	local a=0 b=0
	vip_on lb1 && a=1
	vip_on lb2 && b=1
	case $a$b in
	10) echo lb1 ;;
	01) echo lb2 ;;
	11) echo both ;;
	*) echo none ;;
	esac
}

# vip_holder_is WHO: for wait_until.
vip_holder_is() { [ "$(vip_holder)" = "$1" ]; }

# fo_state_line ROLE PATTERN: ROLE's log has a failover transition matching
# PATTERN (grep -E, past ROLE's log mark), e.g. "BACKUP -> MASTER".
fo_log_has() { LOG_ROLE=$1 log_has "slb-failover\[[0-9]+\]: [a-z]+: $2"; }
fo_log_lacks() { LOG_ROLE=$1 log_lacks "slb-failover\[[0-9]+\]: [a-z]+: $2"; }
fo_log_wait() { LOG_ROLE=$1 log_wait "slb-failover\[[0-9]+\]: [a-z]+: $2" "${3:-5}"; }
fo_log_mark() { local r; for r in lb1 lb2; do LOG_ROLE=$r log_mark; done; }

# fo_log_ms ROLE PATTERN: the time (ms since the epoch) of the first line of
# ROLE's log past its mark matching PATTERN (empty if none).
fo_log_ms() {
	local line
	line=$(fo_log_has "$1" "$2" | head -n1)
	[ -n "$line" ] || return 1
	# "2026-11-21T22:48:45.368 slb-failover[...]: ..."
	date -d "${line%% *}" +%s%3N
}

# fo_transitions ROLE: ROLE's failover state lines past its mark (for output).
fo_transitions() {
	LOG_ROLE=$1 _log_text | grep -E 'slb-failover\[[0-9]+\]: [a-z]+: (vrid |failover: dropped)' || true
}

# --- the split-brain sampler ------------------------------------------------
# Every 10 ms, looks at both namespaces (`ip -o addr`, lb1 then lb2, about
# 2 ms each) and appends "MS LB1 LB2" (0/1) to $TOPO_DIR/fo/samples.  lb1 is
# read first; when both reads saw the VIP, lb1 is read again, and only if it
# still has it is the sample "1 1": a loaded machine can put the two reads
# further apart than a handover from lb1 to lb2 takes (lb1 releases, lb2
# takes it ~15 ms later), and a lb1 that had let go by then was not holding
# the VIP with lb2 at the moment lb2 was read (it becomes "0 1").  So any
# "1 1" is both holding at once.  The other way round (lb1 preempting lb2:
# lb1 adds the VIP, then lb2 releases it) a sample can show "none" for that
# moment.  Alongside, `ip monitor address` in both
# namespaces records every add and delete of the VIP with microsecond
# timestamps: vip_events_overlap reports overlaps too short for the sampler.

_vip_sampler_loop() {
	local out=$1 stop=$2 max_ms=$3 fd now end next a b ns1 ns2 if1 if2 wait_ms w
	set +eE
	trap - ERR
	ns1=$(topo_ns lb1) ns2=$(topo_ns lb2) if1=$(topo_if lb1) if2=$(topo_if lb2)
	mkfifo "$out.tick" && exec {fd}<>"$out.tick"
	now=$(_fo_now_ms)
	end=$((now + max_ms))
	while [ ! -e "$stop" ] && [ "$now" -lt "$end" ]; do
		next=$((now + 10))
		a=0 b=0
		[[ $(ip -n "$ns1" -o -4 addr show dev "$if1" 2>/dev/null) == *" inet $TOPO_VIP/"* ]] && a=1
		[[ $(ip -n "$ns2" -o -4 addr show dev "$if2" 2>/dev/null) == *" inet $TOPO_VIP/"* ]] && b=1
		if [ "$a$b" = 11 ]; then
			[[ $(ip -n "$ns1" -o -4 addr show dev "$if1" 2>/dev/null) == *" inet $TOPO_VIP/"* ]] || a=0
		fi
		echo "$now $a $b"
		now=$(_fo_now_ms)
		wait_ms=$((next - now))
		if [ "$wait_ms" -gt 0 ]; then
			printf -v w '0.%03d' "$wait_ms"
			read -r -t "$w" -u "$fd"
			now=$(_fo_now_ms)
		fi
	done >>"$out"
	rm -f "$out.tick"
}

# vip_sampler_start [MAX_SECONDS]: start sampling (default at most 60 s).
vip_sampler_start() {
	local max=${1:-60} d role
	d=$(_fo_dir)
	rm -f "$d/samples" "$d/sampler.stop" "$d"/events.*
	: >"$d/samples"
	for role in lb1 lb2; do
		timeout "$((max + 2))" ip -n "$(topo_ns "$role")" -ts -o monitor address dev "$(topo_if "$role")" \
			</dev/null >"$d/events.$role" 2>&1 3>&- &
		_pid_record "$TOPO_DIR/pids/vipmon.$role" $!
	done
	# ip monitor subscribes at once; give it that moment before sampling.
	sleep 0.05
	_vip_sampler_loop "$d/samples" "$d/sampler.stop" "$((max * 1000))" </dev/null >/dev/null 2>&1 3>&- &
	_pid_record "$TOPO_DIR/pids/vipsampler" $!
	wait_until 2 test -s "$d/samples"
}

# vip_sampler_stop: stop sampling (bounded: 3 s) and print a summary.
vip_sampler_stop() {
	local d role
	d=$(_fo_dir)
	touch "$d/sampler.stop"
	wait_until 3 eval '! _pid_alive "$TOPO_DIR/pids/vipsampler"' || _pid_kill "$TOPO_DIR/pids/vipsampler" 1
	rm -f "$TOPO_DIR/pids/vipsampler"
	for role in lb1 lb2; do
		_pid_kill "$TOPO_DIR/pids/vipmon.$role" 1 || true
	done
	vip_sampler_summary
}

# vip_sampler_summary: samples, period, who held the VIP, overlaps.
vip_sampler_summary() {
	awk '
	NR == 1 { first = $1 }
	{ if (NR > 1 && $1 - last > maxp) maxp = $1 - last; last = $1; n++
	  h = ($2 && $3) ? "both" : $2 ? "lb1" : $3 ? "lb2" : "none"; cnt[h]++
	  if (h == "both") { if (!ob) ob = $1; oe = $1 } }
	END {
		if (!n) { print "sampler: no samples"; exit }
		printf "sampler: %d samples over %d ms (longest interval %d ms): lb1 %d, lb2 %d, none %d, both %d",
			n, last - first, maxp, cnt["lb1"], cnt["lb2"], cnt["none"], cnt["both"]
		if (cnt["both"]) printf " (first at %.0f, last at %.0f)", ob, oe
		printf "\n"
	}' "$(_fo_dir)/samples"
	vip_events_overlap 0
}

# vip_overlap_count [FROM_MS]: samples (at or after FROM_MS) where both held it.
vip_overlap_count() {
	awk -v from="${1:-0}" '$1 >= from && $2 && $3 { n++ } END { print n + 0 }' "$(_fo_dir)/samples"
}

# vip_samples_of WHO [FROM_MS [TO_MS]]: how many samples (at or after
# FROM_MS, before TO_MS) had WHO (lb1, lb2, none, both) holding the VIP.
vip_samples_of() {
	awk -v who="$1" -v from="${2:-0}" -v to="${3:-99999999999999}" '$1 >= from && $1 < to {
		h = ($2 && $3) ? "both" : $2 ? "lb1" : $3 ? "lb2" : "none"; if (h == who) n++ }
		END { print n + 0 }' "$(_fo_dir)/samples"
}

# vip_first_sample WHO [FROM_MS]: time of the first sample (at or after
# FROM_MS) with WHO holding the VIP (empty and 1 if none).
vip_first_sample() {
	local t
	t=$(awk -v who="$1" -v from="${2:-0}" '$1 >= from {
		h = ($2 && $3) ? "both" : $2 ? "lb1" : $3 ? "lb2" : "none"; if (h == who) { print $1; exit } }' \
		"$(_fo_dir)/samples")
	[ -n "$t" ] && echo "$t"
}

# vip_sample_before MS: time of the last sample before MS (empty and 1 if none).
vip_sample_before() {
	local t
	t=$(awk -v to="$1" '$1 < to { t = $1 } END { if (t) print t }' "$(_fo_dir)/samples")
	[ -n "$t" ] && echo "$t"
}

# _vip_overlaps: from the `ip monitor` records (state at the start: the
# first sample), one line per period when both namespaces had the VIP:
# "START_MS DURATION_MS" (ms since the epoch, fractional), DURATION "end"
# if both still had it when recording stopped.
_vip_overlaps() {
	local d day days='' role
	d=$(_fo_dir)
	[ -s "$d/samples" ] || return 0
	# ip -ts prints local time: each day's midnight, for awk.
	for day in $(cat "$d"/events.lb[12] 2>/dev/null | grep -o '^\[[0-9]*-[0-9]*-[0-9]*' | tr -d '[' | sort -u); do
		days+="$day=$(date -d "$day 00:00" +%s) "
	done
	{
		awk 'NR == 1 { printf "%.3f init lb1 %d\n%.3f init lb2 %d\n", $1, $2, $1, $3 }' "$d/samples"
		for role in lb1 lb2; do
			[ -f "$d/events.$role" ] || continue
			grep -F " inet $TOPO_VIP/" "$d/events.$role" | awk -v r="$role" -v days="$days" '
			BEGIN { n = split(days, a, " "); for (i = 1; i <= n; i++) { split(a[i], kv, "="); mid[kv[1]] = kv[2] } }
			{
				ts = substr($1, 2, length($1) - 2)  # [2026-11-21T22:49:38.326455]
				split(ts, p, "T"); split(p[2], hms, ":")
				ms = (mid[p[1]] + hms[1] * 3600 + hms[2] * 60 + hms[3]) * 1000
				printf "%.3f ev %s %d\n", ms, r, ($2 == "Deleted") ? 0 : 1
			}'
		done
	} | sort -s -k1,1g | awk '
	{ was = st["lb1"] && st["lb2"]; st[$3] = $4; now = st["lb1"] && st["lb2"]
	  if (!was && now) start = $1
	  if (was && !now) printf "%.3f %.3f\n", start, $1 - start }
	END { if (st["lb1"] && st["lb2"]) printf "%.3f end\n", start }'
}

# vip_events_overlap [FROM_MS]: "events: N overlaps, longest X ms: D1 D2..."
# for the overlaps that began at or after FROM_MS.
vip_events_overlap() {
	_vip_overlaps | awk -v from="${1:-0}" '$1 >= from {
		n++; list = list " " $2; if ($2 == "end") open = 1; else if ($2 + 0 > max) max = $2 + 0 }
		END { printf "events: %d overlaps, longest %.3f ms%s%s\n", n, max, n ? ":" list : "",
			open ? " (both still had it at the end)" : "" }'
}

# vip_events_count [FROM_MS]: how many overlaps began at or after FROM_MS.
vip_events_count() { _vip_overlaps | awk -v from="${1:-0}" '$1 >= from { n++ } END { print n + 0 }'; }

# vip_events_longest [FROM_MS]: the longest of those, in whole ms rounded up
# (99999 if one never ended).
vip_events_longest() {
	_vip_overlaps | awk -v from="${1:-0}" '$1 >= from { d = ($2 == "end") ? 99999 : $2 + 0; if (d > max) max = d }
		END { printf "%d\n", (max == int(max)) ? max : int(max) + 1 }'
}

# --- the client prober ----------------------------------------------------
# From the client namespace, a connection to VIP:8080 every 10 ms, each in
# the background (0.5 s connect timeout, SYN retries come after 1 s, so a
# probe sent into the void simply fails), one line per probe: "START END
# ANSWER" (ANSWER a backend's name or fail).  The gap is the longest time
# between two consecutive answers (by the time they came), and from the last
# answer to the last probe sent.

# client_prober_start [MAX_SECONDS] [PORT]: start probing (default 60 s, 8080).
client_prober_start() {
	local max=${1:-60} port=${2:-8080} d
	d=$(_fo_dir)
	rm -f "$d/probes" "$d/prober.stop" "$d/probes.tick"
	: >"$d/probes"
	mkfifo "$d/probes.tick"
	ip netns exec "$(topo_ns client)" timeout "$((max + 5))" bash -c '
		out=$1 stop=$2 max_ms=$3 host=$4 port=$5
		now() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
		exec {fd}<>"$out.tick"
		t=$(now); end=$((t + max_ms)); last=$t
		while [ ! -e "$stop" ] && [ "$t" -lt "$end" ]; do
			next=$((t + 10))
			{
				r=$(socat -T 0.5 -u "TCP:$host:$port,connect-timeout=0.5" STDOUT 2>/dev/null)
				echo "$t $(now) ${r:-fail}"
			} >>"$out" &
			last=$t
			t=$(now)
			w=$((next - t))
			if [ "$w" -gt 0 ]; then
				printf -v w "0.%03d" "$w"
				read -r -t "$w" -u "$fd"
				t=$(now)
			fi
		done
		echo "end $last" >>"$out"
		wait
	' client_prober "$d/probes" "$d/prober.stop" "$((max * 1000))" "$TOPO_VIP" "$port" \
		</dev/null >/dev/null 2>&1 3>&- &
	_pid_record "$TOPO_DIR/pids/prober" $!
	# Serving before the test disturbs anything: a first answer.
	wait_until 3 eval 'grep -E " b[12]\$" "$TOPO_DIR/fo/probes" >/dev/null'
}

# client_prober_stop: stop probing (bounded: 3 s), wait for the probes in
# flight, print the summary and set PROBE_GAP_MS (the longest gap).
client_prober_stop() {
	local d
	d=$(_fo_dir)
	touch "$d/prober.stop"
	wait_until 3 eval '! _pid_alive "$TOPO_DIR/pids/prober"' || _pid_kill "$TOPO_DIR/pids/prober" 1
	rm -f "$TOPO_DIR/pids/prober" "$d/probes.tick"
	# shellcheck disable=SC2034  # for the caller
	PROBE_GAP_MS=$(client_prober_gap)
	client_prober_summary
}

# client_prober_gap: the longest gap (ms) without an answer.
client_prober_gap() {
	client_prober_summary | awk '{ for (i = 1; i < NF; i++) if ($i == "gap") { print $(i + 1) + 0; exit } }'
}

# client_prober_summary: "prober: N probes, F failed, longest gap G ms (from A to B)".
client_prober_summary() {
	local f
	f=$(_fo_dir)/probes
	# mawk prints numbers past 2^31 as 1.7953e+12: times stay strings here.
	awk 'BEGIN { endt = 0 }
		$1 == "end" { endt = $2; next }
		{ n++; if ($3 == "b1" || $3 == "b2") print $2; else fails++ }
		END { print "n", n + 0, fails + 0, endt }' "$f" | sort -k1,1 -s | awk '
	$1 == "n" { n = $2; fails = $3; endt = $4; next }
	{ t = $1 + 0; if (k++ && t - prev > gap) { gap = t - prev; ga = prev; gb = t }; prev = t }
	END {
		if (!k) { printf "prober: %d probes, %d failed, never answered: gap 99999 ms\n", n, fails; exit }
		if (endt - prev > gap) { gap = endt - prev; ga = prev; gb = endt }
		printf "prober: %d probes, %d failed, longest gap %d ms (from %.0f to %.0f)\n", n, fails, gap, ga, gb
	}'
}

# --- node loss --------------------------------------------------------------

# slb_kill9_all ROLE: SIGKILL ROLE's master and every child, by pid, all at
# once: they are stopped (SIGSTOP) first so that none can react to another's
# death (the failover process would release the VIP when the master's channel
# closes; the master when a child dies) — a node that loses power.
slb_kill9_all() {
	local master kids
	master=$(slb_pid "$1") || { _topo_err "slb is not running in $1"; return 1; }
	kids=$(pgrep -P "$master" | tr '\n' ' ')
	echo "kill -9: master $master, children $kids"
	# shellcheck disable=SC2086  # a list of pids
	kill -STOP "$master" $kids
	# shellcheck disable=SC2086
	kill -KILL "$master" $kids
	# shellcheck disable=SC2086
	wait_until 3 _fo_all_dead "$master" $kids
}

# _fo_all_dead PID...: none of these runs (a zombie counts as dead).
_fo_all_dead() {
	local p
	for p in "$@"; do
		! _pid_starttime "$p" >/dev/null || return 1
	done
}

# fo_cleanup: stop what a test left running (sampler, prober, both nodes).
fo_cleanup() {
	local f
	[ -d "${TOPO_DIR:-}/fo" ] || return 0
	touch "$TOPO_DIR/fo/sampler.stop" "$TOPO_DIR/fo/prober.stop"
	for f in vipsampler prober vipmon.lb1 vipmon.lb2; do
		[ -e "$TOPO_DIR/pids/$f" ] && { _pid_kill "$TOPO_DIR/pids/$f" 2 || true; }
	done
	slb_stop lb1 || true
	slb_stop lb2 || true
	# A VIP a killed node left in the kernel must not leak into the next test.
	vip_on lb1 && topo_exec lb1 ip addr del "$TOPO_VIP/24" dev "$(topo_if lb1)"
	vip_on lb2 && topo_exec lb2 ip addr del "$TOPO_VIP/24" dev "$(topo_if lb2)"
	topo_exec lb1 ip link set "$(topo_if lb1)" up
	return 0
}
