#!/usr/bin/env bats
# Reload on SIGHUP (issue #2): a broken file changes nothing and says where it
# is broken; weights, listeners and servers change as the new file says; and
# no connection is lost, neither a new one nor one that is open.
#
# The running file is $TOPO_DIR/slb.ini: slb_config_basic (listener web on
# :8080, wrr, b1 weight 100, b2 weight 50) plus listener long on :8082 (group
# hold: b1:9100, a drain backend, so a connection stays open as long as the
# client wants).  Every test writes the whole file it wants.

# shellcheck disable=SC2016  # eval and bash -c strings expand later, on purpose
load helpers/topology
load helpers/client

setup_file() {
	topo_up
	backend_start b1 9000
	backend_start b2 9000
	backend_start b1 9100 drain
	backend_start b1 9001 tcp b3
	_config >"$TOPO_DIR/slb.ini"
	slb_start "$TOPO_DIR/slb.ini"
}

teardown_file() {
	topo_down
}

setup() {
	slb_running_or_fail
}

# _config [B2_WEIGHT]: the base file, with b2's weight (default 50).
_config() {
	slb_config_basic | sed "s/^\(server\.b2 = .*\) weight=50\$/\1 weight=${1:-50}/"
	cat <<EOF

[listener long]
protocol = tcp
bind = $TOPO_VIP:8082
group = hold

[group hold]
server.b1 = $(topo_ip b1):9100
check = tcp
check_interval = 200ms
check_timeout = 100ms
EOF
}

# _install: stdin becomes the running file, atomically (slb never reads half).
_install() {
	cat >"$TOPO_DIR/slb.ini.new" && mv "$TOPO_DIR/slb.ini.new" "$TOPO_DIR/slb.ini"
}

# _reload: SIGHUP and wait until the new generation alone accepts.
_reload() {
	log_mark
	slb_reload
	slb_wait_reloaded 10
}

_split_ok() { # TALLY N B1 B2 [B3]: N answers, none failed, each within 10%
	echo "$1"
	[ "$(tally_of fail "$1")" -eq 0 ] || return 1
	[ "$(($(tally_of b1 "$1") + $(tally_of b2 "$1") + $(tally_of b3 "$1")))" -eq "$2" ] || return 1
	within_pct "$(tally_of b1 "$1")" "$3" 10 || return 1
	within_pct "$(tally_of b2 "$1")" "$4" 10 || return 1
	[ -z "${5:-}" ] || within_pct "$(tally_of b3 "$1")" "$5" 10
}

@test "a broken file: file:line error, 'reload failed', old config and workers kept" {
	local workers
	_config | _install
	_reload
	workers=$(pgrep -P "$(slb_pid)" -x slb-worker | sort)
	# A typo in a key, on a line we know.
	_config 100 | sed 's/^check_interval = 200ms$/check_intervall = 200ms/' | _install
	local line
	line=$(grep -n '^check_intervall' "$TOPO_DIR/slb.ini" | head -n1 | cut -d: -f1)
	[ -n "$line" ]
	log_mark
	slb_reload
	log_wait 'slb-master\[[0-9]+\]: error: reload failed: keeping the running configuration' 5
	log_has "slb-master\[[0-9]+\]: error: $TOPO_DIR/slb\.ini:$line: \[group web\] check_intervall: unknown key \(did you mean 'check_interval'\?\)"
	log_lacks 'reloaded '
	log_lacks 'draining'
	[ "$(pgrep -P "$(slb_pid)" -x slb-worker | sort)" = "$workers" ]
	# The old weights (b2 50, not the 100 of the broken file) still hold.
	run client_count 300 "$TOPO_VIP" 8080
	_split_ok "$output" 300 200 100
}

@test "a new weight: b2 at 100 makes the split equal" {
	_config 100 | _install
	_reload
	log_has "slb-master\[[0-9]+\]: info: reloaded $TOPO_DIR/slb\.ini \(generation [0-9]+\)"
	run client_count 300 "$TOPO_VIP" 8080
	_split_ok "$output" 300 150 150
	# And back.
	_config 50 | _install
	_reload
	run client_count 300 "$TOPO_VIP" 8080
	_split_ok "$output" 300 200 100
}

@test "session_table_size changed by a reload: said once, the table keeps its size" {
	_config | sed 's/^\[global\]$/[global]\nsession_table_size = 2048/' | _install
	_reload
	log_has "slb-master\[[0-9]+\]: warning: $TOPO_DIR/slb\.ini: \[global\] session_table_size: the table keeps 1048576 entries until the next restart"
	# A reload that keeps the new value says nothing more; one back to the
	# size the table has says it again (the file changed).
	_config | sed 's/^\[global\]$/[global]\nsession_table_size = 2048/' | sed 's/weight=50$/weight=60/' | _install
	_reload
	log_lacks 'session_table_size'
	_config | _install
	_reload
	[ "$(log_count 'session_table_size: the table keeps 1048576 entries')" -eq 1 ]
	run client_count 30 "$TOPO_VIP" 8080
	[ "$(tally_of fail "$output")" -eq 0 ]
}

@test "a listener added on :8081 serves; removed again, its port is closed" {
	run client_probe 8081 2
	[[ $output == refused* ]]
	{
		_config
		cat <<EOF

[listener extra]
protocol = tcp
bind = $TOPO_VIP:8081
group = web
EOF
	} | _install
	_reload
	log_has 'slb-master\[[0-9]+\]: info: listener extra: bound 198\.18\.0\.100:8081'
	run client_count 30 "$TOPO_VIP" 8081
	_split_ok "$output" 30 20 10
	# The old listener still serves.
	run client_count 30 "$TOPO_VIP" 8080
	_split_ok "$output" 30 20 10

	_config | _install
	_reload
	# Closed once every process let go of it: refused, not accepted.
	wait_until 5 eval '[[ "$(client_probe 8081 2)" == refused* ]]'
	[ -z "$(topo_exec lb1 ss -Hltn 'sport = :8081')" ]
	run client_count 30 "$TOPO_VIP" 8080
	_split_ok "$output" 30 20 10
}

# _with_turn PROTOCOL: the base file plus listener turn on :8084 speaking PROTOCOL.
_with_turn() {
	_config
	printf '\n[listener turn]\nprotocol = %s\nbind = %s:8084\ngroup = web\n' "$1" "$TOPO_VIP"
}

@test "a listener turned from http into tcp on its socket: a server that speaks first is heard at once" {
	_with_turn http | _install
	_reload
	_with_turn tcp | _install
	_reload
	# The socket is kept; the http listener's deferred accept must not be:
	# the client sends nothing and still gets the backend's greeting.
	run client_probe 8084 2
	echo "$output"
	[[ $output == "eof "*" b"[12] ]]
	_config | _install
	_reload
}

@test "a server added to the group (b3 at b1:9001) receives traffic" {
	_config | sed "s/^server\.b2 = .*/&\nserver.b3 = $(topo_ip b1):9001 weight=100/" | _install
	grep -q '^server.b3 = ' "$TOPO_DIR/slb.ini"
	_reload
	# Weights 100/50/100: 120/60/120 of 300.
	run client_count 300 "$TOPO_VIP" 8080
	_split_ok "$output" 300 120 60 120
	# Removed again: it gets nothing.
	_config | _install
	_reload
	run client_count 60 "$TOPO_VIP" 8080
	_split_ok "$output" 60 40 20
	[ "$(tally_of b3 "$output")" -eq 0 ]
}

@test "a reload keeps the health of the servers it keeps" {
	log_mark
	backend_stop b2 9000
	health_wait web/b2 DOWN 5
	# b1's weight changes, b2 stays as it is: still down for the new checker,
	# which would otherwise log DOWN again after its own two failed checks.
	_config | sed 's/^\(server\.b1 = .*\) weight=100$/\1 weight=90/' | _install
	_reload
	run client_count 30 "$TOPO_VIP" 8080
	assert_tally "$output" b1=30
	sleep 1
	log_lacks 'server web/b2 .* is (DOWN|UP)'
	log_mark
	backend_start b2 9000
	health_wait web/b2 UP 5
	_config | _install
	_reload
	run client_count 30 "$TOPO_VIP" 8080
	_split_ok "$output" 30 20 10
}

@test "an open connection survives a reload: the old worker drains it" {
	local out=$TOPO_DIR/long.out
	_config | _install
	client_hold 8082 2 "$out"
	local hold=$HOLD_PID
	wait_until 3 eval '[ "$(established_count b1 9100)" -ge 1 ]'
	_reload
	log_has 'worker [0-9]+ \(generation [0-9]+\) draining 1 connections'
	# New connections meanwhile go to the new workers.
	run client_count 20 "$TOPO_VIP" 8080
	[ "$(tally_of fail "$output")" -eq 0 ]
	wait "$hold" || true
	echo "answer: $(cat "$out")"
	[ "$(cat "$out")" = "b1 0" ]
}

@test "drain_timeout: a connection the old worker still holds is closed after it" {
	local out=$TOPO_DIR/drain.out
	_config | sed 's/^\[global\]$/&\ndrain_timeout = 1s/' | _install
	grep -q '^drain_timeout = 1s$' "$TOPO_DIR/slb.ini"
	_reload
	# Idle and open for 8 s unless slb closes it.
	client_probe 8082 8 >"$out" 3>&- &
	local probe=$!
	wait_until 3 eval '[ "$(established_count b1 9100)" -ge 1 ]'
	_reload
	log_has 'worker [0-9]+ \(generation [0-9]+\) draining 1 connections'
	wait "$probe" || true
	echo "probe: $(cat "$out")"
	[[ $(cat "$out") =~ ^eof\ ([0-9]+)\ $ ]]
	# Opened about 100 ms before the reload: closed about 1 s after it.
	[ "${BASH_REMATCH[1]}" -ge 800 ]
	[ "${BASH_REMATCH[1]}" -le 4000 ]
	_config | _install
	_reload
}

# _answered_since T: connections of the load started at or after T (us) that a backend answered.
_answered_since() { awk -v t="$1" '$1 >= t && $2 ~ /^b[12]$/' "$TOPO_DIR/load.out" | wc -l; }

@test "reloads under continuous load lose no connection" {
	local stop=$TOPO_DIR/load.stop out=$TOPO_DIR/load.out i t
	rm -f "$stop"
	_config | _install
	# Sequential clients until told to stop (bounded: 3000 at most), one line
	# each: when it started (us) and the backend that answered, or fail.
	ip netns exec "$(topo_ns client)" bash -c '
		for ((i = 0; i < 3000; i++)); do
			[ -e "$1" ] && break
			t=${EPOCHREALTIME/[.,]/}
			r=$(timeout 3 socat -T2 -u "TCP:$2:8080,connect-timeout=2" STDOUT 2>/dev/null | head -n1)
			echo "$t ${r:-fail}"
		done' load "$stop" "$TOPO_VIP" </dev/null >"$out" 2>&1 3>&- &
	local load=$!
	wait_until 10 eval '[ "$(_answered_since 0)" -ge 5 ]'
	for i in 1 2 3; do
		if [ $((i % 2)) -eq 1 ]; then _config 100; else _config 50; fi | _install
		t=${EPOCHREALTIME/[.,]/}
		_reload
		# However loaded the machine, connections go on being answered
		# through and after each reload: 5 started since its SIGHUP.
		wait_until 10 eval '[ "$(_answered_since "$t")" -ge 5 ]'
	done
	touch "$stop"
	wait_until 10 eval '! kill -0 $load 2>/dev/null'
	wait "$load" || true
	local tally
	tally=$(awk '{ print $2 }' "$out" | sort | uniq -c | awk '{ print $2, $1 }')
	echo "$tally"
	[ "$(tally_of fail "$tally")" -eq 0 ]
	[ "$(($(tally_of b1 "$tally") + $(tally_of b2 "$tally")))" -eq "$(wc -l <"$out")" ]
}
