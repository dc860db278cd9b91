# client.bash — more clients and config pieces for the slb suites (on top of
# topology.bash: load helpers/topology first, then helpers/client).
#
# Every client runs in the client namespace and is bounded by timeout, so a
# test never hangs on a connection that slb keeps open by mistake.

# shellcheck disable=SC2016  # bash -c strings expand in the client namespace

# client_send PORT [BYTES] [HOST]: connect to HOST:PORT (default the VIP),
# send BYTES zero bytes (default 0), half-close (socat shuts its write side
# down on stdin's EOF) and print the first line of the answer (empty if none).
# A drain-mode backend answers "NAME BYTES".  Bounded by 60 s.
client_send() {
	local port=$1 bytes=${2:-0} host=${3:-$TOPO_VIP}
	topo_exec client bash -c '
		head -c "$1" /dev/zero |
			timeout 60 socat -t 5 -T 20 - "TCP:$2:$3,connect-timeout=3" 2>/dev/null |
			head -n1' client_send "$bytes" "$host" "$port"
}

# client_drain_count N PORT [HOST]: like client_count for drain-mode backends:
# N sequential connections that send nothing and half-close at once; prints
# the tally of answers' first words ("b1 3\nb2 2", "fail" for no answer).
client_drain_count() {
	local n=$1 port=$2 host=${3:-$TOPO_VIP}
	topo_exec client bash -c '
		for ((i = 0; i < $1; i++)); do
			r=$(timeout 3 socat -t 2 -T 2 - "TCP:$2:$3,connect-timeout=2" </dev/null 2>/dev/null | head -n1)
			r=${r%% *}
			echo "${r:-fail}"
		done' client_drain_count "$n" "$host" "$port" |
		sort | uniq -c | awk '{ print $2, $1 }'
}

# client_timed N PORT [HOST]: N sequential requests like client_count, one
# output line each: "ANSWER MS" (ANSWER the first line or "fail", MS the
# time the request took, connect included).
client_timed() {
	local n=$1 port=$2 host=${3:-$TOPO_VIP}
	topo_exec client bash -c '
		for ((i = 0; i < $1; i++)); do
			t0=$(date +%s%3N)
			r=$(timeout 5 socat -T4 -u "TCP:$2:$3,connect-timeout=4" STDOUT 2>/dev/null | head -n1)
			t1=$(date +%s%3N)
			echo "${r:-fail} $((t1 - t0))"
		done' client_timed "$n" "$host" "$port"
}

# client_probe PORT [WAIT] [HOST]: connect, send nothing, and read until the
# other side closes, WAIT seconds at most (default 5, may be fractional).
# Prints "STATUS MS DATA": STATUS is
#   eof      the connection was closed MS ms after it was established,
#   timeout  it was still open after WAIT s,
#   refused  the connection could not be established;
# DATA is the first line received (empty if nothing came).
client_probe() {
	local port=$1 wait=${2:-5} host=${3:-$TOPO_VIP}
	topo_exec client timeout 30 bash -c '
		exec 2>/dev/null
		exec 5<>"/dev/tcp/$1/$2" || { echo "refused 0"; exit 0; }
		t0=$(date +%s%3N)
		data=$(timeout "$3" cat <&5)
		rc=$?
		t1=$(date +%s%3N)
		st=eof
		[ "$rc" -eq 124 ] && st=timeout
		first=
		[ -n "$data" ] && IFS= read -r first <<<"$data"
		echo "$st $((t1 - t0)) $first"' client_probe "$host" "$port" "$wait"
}

# client_hold PORT SECONDS OUTFILE [HOST]: in the background, open a
# connection that sends nothing for SECONDS, then half-closes; the answer
# (a drain backend's "NAME BYTES") goes to OUTFILE.  Sets HOLD_PID (a child
# of the calling shell: `wait "$HOLD_PID"` works).  Bounded: SECONDS + 10 s.
client_hold() {
	local port=$1 secs=$2 out=$3 host=${4:-$TOPO_VIP}
	# fd 3 closed: bats waits for every holder of fd 3 before it ends a test.
	ip netns exec "$(topo_ns client)" timeout "$((secs + 10))" bash -c '
		sleep "$1" | socat -t 5 - "TCP:$2:$3,connect-timeout=3" 2>/dev/null' \
		client_hold "$secs" "$host" "$port" </dev/null >"$out" 2>&1 3>&- &
	# shellcheck disable=SC2034  # for the caller
	HOLD_PID=$!
}

# udp_client ARGS...: slb-test-udp-client (tests/tools/udp_client.c) in the
# client namespace, bounded by 60 s: e.g. `udp_client -t VIP:PORT -f 50 -c 3`
# prints "FLOW ROUND ANSWER SOURCE" per flow and round.
udp_client() {
	local bin
	bin=$(tool_bin slb-test-udp-client) || return 1
	topo_exec client timeout 60 "$bin" "$@"
}

# established_count ROLE PORT: TCP connections established to local PORT in
# ROLE's namespace (what a backend is holding).
established_count() {
	topo_exec "$1" ss -Htn state established "sport = :$2" | wc -l
}

# within_pct VALUE EXPECTED PCT: VALUE is within PCT percent of EXPECTED.
within_pct() {
	awk -v v="$1" -v e="$2" -v p="$3" 'BEGIN { d = v - e; if (d < 0) d = -d; exit !(d <= e * p / 100) }'
}

# metrics_scrape ROLE ADDR: the body of GET http://ADDR/metrics from ROLE's
# namespace (the client for slb's own address, lb1 for 127.0.0.1); fails on
# no answer or a status other than 2xx.  Bounded by 5 s.
metrics_scrape() {
	topo_exec "$1" curl -sf --max-time 5 "http://$2/metrics"
}

# metric_in TEXT SERIES: the value of SERIES in the exposition TEXT.  SERIES
# is a name with all its labels as slb writes them (slb_workers_alive,
# slb_sessions_active{listener="web"}) or with only its leading labels and
# the brace left open: 'slb_server_up{group="web",server="b1"' matches that
# server whatever its address.  Fails and prints nothing unless exactly one
# series matches.
metric_in() {
	awk -v k="$2" 'index($0, k) == 1 && substr($0, length(k) + 1, 1) ~ /[ ,}]/ { v = $NF; n++ }
		END { if (n != 1) exit 1; print v }' <<<"$1"
}

# metric_value ROLE ADDR SERIES: metric_in on a fresh metrics_scrape.
metric_value() {
	local text
	text=$(metrics_scrape "$1" "$2") || return 1
	metric_in "$text" "$3"
}

# assert_tally TALLY NAME=COUNT...: TALLY (from client_count) is exactly these
# names with these counts, nothing else (no "fail").  Prints both on mismatch.
assert_tally() {
	local tally=$1 want='' kv
	shift
	for kv in "$@"; do
		want+="${kv%%=*} ${kv#*=}"$'\n'
	done
	want=$(sort <<<"${want%$'\n'}")
	if [ "$tally" != "$want" ]; then
		echo "tally: expected" >&2
		echo "$want" >&2
		echo "got" >&2
		echo "$tally" >&2
		return 1
	fi
}

# slb_wait_reloaded [TIMEOUT]: after slb_reload (with a log_mark before it),
# wait until the master logged "reloaded" and every worker of the previous
# generation stopped accepting ("draining"), so that new connections are
# served by the new generation only.  Needs the number of workers in
# SLB_WORKERS (default 2).
slb_wait_reloaded() {
	local t=${1:-10}
	log_wait 'slb-master\[[0-9]+\]: info: reloaded ' "$t" || return 1
	wait_until "$t" eval '[ "$(log_count "worker [0-9]+ \(generation [0-9]+\) draining")" -ge "${SLB_WORKERS:-2}" ]' || {
		_topo_err "old workers did not drain after the reload"
		_slb_diag lb1
		return 1
	}
}

# config_checks [TYPE]: a group's check keys as the suites write them: TYPE
# (default tcp) every 200ms, timeout 100ms, thresholds 2, so a server goes
# down or comes back within about half a second.
config_checks() {
	printf 'check = %s\ncheck_interval = 200ms\ncheck_timeout = 100ms\nhealthy_threshold = 2\nunhealthy_threshold = 2\n' "${1:-tcp}"
}

# health_wait GROUP/SERVER UP|DOWN [TIMEOUT]: wait (default 5 s) until the
# checker logged that transition (past the log mark).
health_wait() {
	log_wait "slb-checker\[[0-9]+\]: [a-z]+: server $1 [0-9.:]+ is $2 " "${3:-5}"
}

# slb_running_or_fail: in a test's setup, when the file started one slb for
# all its tests: fail at once if it is gone, and look at the whole log.
slb_running_or_fail() {
	[ -n "$(slb_pid)" ] || { echo "slb is not running" >&2; return 1; }
	log_clear_mark
}

# slb_basic_up: a file's usual start: the topology, backends b1 and b2 on
# :9000, and slb on lb1 with slb_config_basic in $TOPO_DIR/slb.ini.
slb_basic_up() {
	topo_up
	backend_start b1 9000
	backend_start b2 9000
	slb_config_basic >"$TOPO_DIR/slb.ini"
	slb_start "$TOPO_DIR/slb.ini"
}

# all_traced PID...: every one of them has a tracer (strace) attached.
all_traced() {
	local p
	for p in "$@"; do
		grep -q '^TracerPid:[[:space:]]*[1-9]' "/proc/$p/status" || return 1
	done
}

# strace_start OUT SYSCALLS PID...: strace those processes' SYSCALLS into OUT
# in the background (its pid in STRACE_PID); returns once all are attached.
strace_start() {
	local out=$1 calls=$2
	shift 2
	# shellcheck disable=SC2046
	strace -qq -e trace="$calls" -o "$out" $(printf -- '-p %s ' "$@") &
	STRACE_PID=$!
	wait_until 5 all_traced "$@"
}

# strace_stop: ends the strace strace_start began.
strace_stop() {
	kill "$STRACE_PID"
	wait "$STRACE_PID" || true
}
