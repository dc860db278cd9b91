#!/usr/bin/env bats
# slbctl and the control socket (issue #6, first part): describe, health,
# server set (weight at run time), failover status and reload, in text and
# in JSON (parsed with jq); errors are clear, exit non-zero and change
# nothing (the run-time changes: 62-runtime.bats).
#
# The running file is $TOPO_DIR/slb.ini: slb_config_basic (listener web on
# the VIP :8080, wrr, group web = b1 weight 100 and b2 weight 50, tcp checks).
# slbctl runs on the host: the control socket is a file, $TOPO_DIR/lb1/slb.sock.

# shellcheck disable=SC2016  # eval strings expand when evaluated
load helpers/topology
load helpers/client

setup_file() {
	topo_up
	backend_start b1 9000
	backend_start b2 9000
	_config 50 >"$TOPO_DIR/slb.ini"
	slb_start "$TOPO_DIR/slb.ini"
}

teardown_file() {
	topo_down
}

setup() {
	slb_running_or_fail
	SOCK=$TOPO_DIR/lb1/slb.sock
}

# _config B2_WEIGHT: the base file with b2's weight.
_config() {
	slb_config_basic | sed "s/^\(server\.b2 = .*\) weight=50\$/\1 weight=$1/"
}

# _ctl ARGS...: slbctl against this run's master.
_ctl() { "$(slb_bin slbctl)" -s "$SOCK" "$@"; }

# _weight SERVER: the weight describe --json reports for web/SERVER.
_weight() {
	_ctl --json describe | jq -e --arg s "$1" \
		'.groups[] | select(.name == "web") | .servers[] | select(.name == $s) | .weight'
}

# _both_up: the checker has seen both servers up.
_both_up() {
	[ "$(_ctl --json health | jq '[.servers[] | select(.state == "UP")] | length')" = 2 ]
}

@test "the control socket is mode 0660, group slb" {
	[ -S "$SOCK" ]
	[ "$(stat -c '%a %G' "$SOCK")" = "660 slb" ]
}

@test "describe: listeners, groups, servers, VIPs, node and failover, with traffic counted" {
	local before after tally
	wait_until 5 _both_up
	before=$(_ctl --json describe)
	tally=$(client_count 30 "$TOPO_VIP" 8080)
	echo "$tally"
	[ "$(tally_of fail "$tally")" -eq 0 ]
	run _ctl --json describe
	[ "$status" -eq 0 ]
	after=$output
	jq -e . <<<"$after" >/dev/null
	# What the config says.
	[ "$(jq -r '.node.name' <<<"$after")" = lb1 ]
	[ "$(jq -r '.node.zone' <<<"$after")" = primary ]
	[ "$(jq -r '.listeners | length' <<<"$after")" = 1 ]
	[ "$(jq -r '.listeners[0] | "\(.name) \(.protocol) \(.bind) \(.group) \(.scheduler)"' <<<"$after")" = "web tcp $TOPO_VIP:8080 web wrr" ]
	[ "$(jq -r '.groups[0].servers | map("\(.name) \(.address) \(.weight) \(.health)") | join(",")' <<<"$after")" = \
		"b1 $(topo_ip b1):9000 100 UP,b2 $(topo_ip b2):9000 50 UP" ]
	[ "$(jq -r '.vips[0] | "\(.name) \(.address) \(.interface)"' <<<"$after")" = "web $TOPO_VIP/24 $(topo_if lb1)" ]
	[ "$(jq -r '.failover.state' <<<"$after")" = MASTER ]
	# What the traffic did: 30 more on the listener, each server's share as the client saw it.
	[ "$(($(jq '.listeners[0].total' <<<"$after") - $(jq '.listeners[0].total' <<<"$before")))" -eq 30 ]
	local s
	for s in b1 b2; do
		local q=".groups[0].servers[] | select(.name == \"$s\") | .total"
		[ "$(($(jq "$q" <<<"$after") - $(jq "$q" <<<"$before")))" -eq "$(tally_of "$s" "$tally")" ]
	done
	# The text form: aligned tables with the same facts.
	run _ctl describe
	[ "$status" -eq 0 ]
	echo "$output"
	[[ $output == *"node lb1, zone primary"* ]]
	grep -E "^web +tcp +$TOPO_VIP:8080 +web +wrr " <<<"$output"
	grep -E "^web +b1 +$(topo_ip b1):9000 +100 +UP " <<<"$output"
	grep -E "^web +b2 +$(topo_ip b2):9000 +50 +UP " <<<"$output"
	grep -E "^web +$TOPO_VIP/24 +$(topo_if lb1)\$" <<<"$output"
	grep -E "^state +MASTER\$" <<<"$output"
}

@test "health: every server with state, last check and latency" {
	local now
	wait_until 5 _both_up
	run _ctl --json health
	[ "$status" -eq 0 ]
	echo "$output"
	[ "$(jq -r '.servers | map("\(.group)/\(.name) \(.address) \(.check) \(.state)") | join(",")' <<<"$output")" = \
		"web/b1 $(topo_ip b1):9000 tcp UP,web/b2 $(topo_ip b2):9000 tcp UP" ]
	# Checks run every 200 ms: the last one is recent and has a latency.
	now=$(date +%s%3N)
	jq -e --argjson now "$now" 'all(.servers[]; .last_check_ms > $now - 5000 and (.latency_us | type) == "number")' <<<"$output"
	run _ctl health
	[ "$status" -eq 0 ]
	echo "$output"
	grep -E "^GROUP +SERVER +ADDRESS +CHECK +STATE +LAST_CHECK +LATENCY_MS" <<<"$output"
	grep -E "^web +b1 +$(topo_ip b1):9000 +tcp +UP +[0-9]{4}-[0-9]{2}-[0-9]{2}T" <<<"$output"
	grep -E "^web +b2 +$(topo_ip b2):9000 +tcp +UP +[0-9]{4}-" <<<"$output"
}

@test "health: a stopped backend shows DOWN" {
	_pid_kill "$TOPO_DIR/pids/backend.b2.9000"
	wait_until 5 eval '[ "$(_ctl --json health | jq -r ".servers[] | select(.name == \"b2\") | .state")" = DOWN ]'
	_ctl health | grep -E "^web +b2 .* DOWN "
	backend_start b2 9000
	wait_until 5 _both_up
}

@test "server set web b2 weight=0: b2 gets nothing; weight=100: the split is equal" {
	wait_until 5 _both_up
	log_mark
	run _ctl server set web b2 weight=0
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "server web/b2: weight 50 -> 0" ]
	log_has 'slb-master\[[0-9]+\]: info: server web/b2: weight 50 -> 0 \(slbctl\)'
	[ "$(_weight b2)" = 0 ]
	run client_count 40 "$TOPO_VIP" 8080
	echo "$output"
	assert_tally "$output" b1=40

	run _ctl --json server set web b2 weight=100
	[ "$status" -eq 0 ]
	[ "$(jq -r '"\(.group) \(.server) \(.weight) \(.previous_weight)"' <<<"$output")" = "web b2 100 0" ]
	run client_count 200 "$TOPO_VIP" 8080
	echo "$output"
	[ "$(tally_of fail "$output")" -eq 0 ]
	within_pct "$(tally_of b1 "$output")" 100 10
	within_pct "$(tally_of b2 "$output")" 100 10

	_ctl server set web b2 weight=50
	[ "$(_weight b2)" = 50 ]
}

@test "errors: unknown group or server, bad weight, unknown command: non-zero, a message, nothing changed" {
	local before
	before=$(_ctl --json describe | jq -c '[.groups[].servers[] | {name, weight}]')

	run _ctl server set web b9 weight=10
	[ "$status" -eq 1 ]
	[[ $output == *"group 'web' has no server 'b9'"* ]]
	run _ctl server set nogroup b1 weight=10
	[ "$status" -eq 1 ]
	[[ $output == *"no group 'nogroup'"* ]]
	local w
	for w in 101 -1 abc 1.5 ''; do
		run _ctl server set web b2 "weight=$w"
		echo "$w: $output"
		[ "$status" -eq 1 ]
		[[ $output == *"must be an integer from 0 to 100"* ]]
	done
	run _ctl server set web b2 50
	[ "$status" -eq 1 ]
	[[ $output == *"expected weight=N"* ]]
	# JSON errors are JSON.
	run _ctl --json server set web b2 weight=101
	[ "$status" -eq 1 ]
	jq -e '.error | test("0 to 100")' <<<"$output"
	# Grammar errors are usage errors (2), found before anything is sent.
	run _ctl frobnicate
	[ "$status" -eq 2 ]
	[[ $output == *"unknown command 'frobnicate'"* ]]
	run _ctl server frob web
	[ "$status" -eq 2 ]
	[[ $output == *"'server' takes add, set, remove"* ]]
	run _ctl server set web
	[ "$status" -eq 2 ]
	[[ $output == *"usage: server set GROUP NAME weight=N"* ]]

	[ "$(_ctl --json describe | jq -c '[.groups[].servers[] | {name, weight}]')" = "$before" ]
}

@test "failover takeover/release on a standalone node: a clear error, nothing changes" {
	local cmd
	for cmd in takeover release; do
		run _ctl failover "$cmd"
		echo "$output"
		[ "$status" -eq 1 ]
		[[ $output == *"failover $cmd: this node is standalone (no [failover] section)"* ]]
	done
	_ctl failover status | grep -E '^state +MASTER$'
}

@test "failover status: a standalone node is MASTER, reason standalone" {
	run _ctl failover status
	[ "$status" -eq 0 ]
	echo "$output"
	grep -E '^state +MASTER$' <<<"$output"
	grep -E '^mode +standalone$' <<<"$output"
	grep -E '^reason +standalone$' <<<"$output"
	run _ctl --json failover status
	[ "$status" -eq 0 ]
	[ "$(jq -r '"\(.mode) \(.state) \(.reason)"' <<<"$output")" = "standalone MASTER standalone" ]
}

@test "--json on every command prints valid JSON; help comes from the grammar" {
	local cmd
	for cmd in describe health "failover status" "group list" help; do
		# shellcheck disable=SC2086
		run _ctl --json $cmd
		echo "$cmd: $output"
		[ "$status" -eq 0 ]
		jq -e . <<<"$output" >/dev/null
	done
	# --json may also come after the command.
	run _ctl health --json
	[ "$status" -eq 0 ]
	jq -e '.servers' <<<"$output" >/dev/null
	run "$(slb_bin slbctl)" help
	[ "$status" -eq 0 ]
	for cmd in describe "server add" "server set" "server remove" "group create" "group delete" \
		"group list" "listener start" "listener stop" health sessions "sessions flush" \
		"failover status" "failover takeover" "failover release" reload; do
		grep -E "^  $cmd( |$)" <<<"$output" >/dev/null || { echo "help lacks $cmd"; return 1; }
	done
}

@test "reload through slbctl takes a new weight from the file; a broken file is refused" {
	_config 100 >"$TOPO_DIR/slb.ini.new" && mv "$TOPO_DIR/slb.ini.new" "$TOPO_DIR/slb.ini"
	log_mark
	run _ctl reload
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == "reloaded $TOPO_DIR/slb.ini (generation "* ]]
	[ "$(_weight b2)" = 100 ]
	slb_wait_reloaded 10
	wait_until 5 _both_up
	run client_count 200 "$TOPO_VIP" 8080
	echo "$output"
	within_pct "$(tally_of b1 "$output")" 100 10
	within_pct "$(tally_of b2 "$output")" 100 10

	# A typo: the answer names file:line, and weight 100 stays.
	_config 30 | sed 's/^check_interval = 200ms$/check_intervall = 200ms/' >"$TOPO_DIR/slb.ini"
	run _ctl reload
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"reload failed"*"$TOPO_DIR/slb.ini:"*"check_intervall: unknown key"* ]]
	[ "$(_weight b2)" = 100 ]
	run _ctl --json reload
	[ "$status" -eq 1 ]
	jq -e '.error | test("reload failed")' <<<"$output"

	_config 50 >"$TOPO_DIR/slb.ini"
	run _ctl --json reload
	[ "$status" -eq 0 ]
	jq -e '.reloaded == true' <<<"$output"
	[ "$(_weight b2)" = 50 ]
}

@test "a client that sends garbage, too much or nothing gets an error or is dropped; slb goes on" {
	run bash -c 'head -c 5000 /dev/zero | tr "\0" x | timeout 5 socat - "UNIX-CONNECT:$1"' _ "$SOCK"
	echo "$output"
	[[ $output == $'error\nrequest longer than 4096 bytes' ]]
	run bash -c 'printf "describe\001\n" | timeout 5 socat - "UNIX-CONNECT:$1"' _ "$SOCK"
	[[ $output == $'error\nrequest is not one line of printable ASCII' ]]
	# 20 clients that connect and say nothing hold no slot forever: 16 at most, oldest evicted.
	local pids=()
	for _ in $(seq 20); do
		timeout 3 socat -u EXEC:"sleep 2" "UNIX-CONNECT:$SOCK" 3>&- &
		pids+=($!)
	done
	sleep 0.3
	run _ctl --json failover status
	[ "$status" -eq 0 ]
	wait "${pids[@]}" || true
	[ -n "$(slb_pid)" ]
	run client_count 3 "$TOPO_VIP" 8080
	[ "$(tally_of fail "$output")" -eq 0 ]
}

@test "slbctl without a master: exit 2 and a clear message; the socket goes away at stop" {
	run "$(slb_bin slbctl)" -s "$TOPO_DIR/nonexistent.sock" describe
	[ "$status" -eq 2 ]
	[[ $output == *"cannot connect to $TOPO_DIR/nonexistent.sock"*"is slb-master running?"* ]]
	slb_stop
	[ ! -e "$SOCK" ]
	# A stale socket file from a crash is replaced at the next start.
	timeout -s KILL 0.5 socat -u UNIX-LISTEN:"$SOCK" /dev/null 3>&- || true
	[ -S "$SOCK" ]
	slb_start "$TOPO_DIR/slb.ini"
	run _ctl failover status
	[ "$status" -eq 0 ]
}

@test "a weight set at run time survives a reload and a restart; a later edit of the file wins" {
	local state=$TOPO_DIR/lb1/slb.state
	_config 50 >"$TOPO_DIR/slb.ini"
	_ctl reload
	run _ctl server set web b2 weight=10
	[ "$status" -eq 0 ]
	grep -x 'server web b2 weight=10 file_weight=50' "$state"
	_ctl reload
	[ "$(_weight b2)" = 10 ]
	slb_stop
	slb_start "$TOPO_DIR/slb.ini"
	[ "$(_weight b2)" = 10 ]
	# The operator edits b2 in the file afterwards: the file is the newer word.
	log_mark
	_config 80 >"$TOPO_DIR/slb.ini"
	_ctl reload
	[ "$(_weight b2)" = 80 ]
	log_has 'server web/b2: run-time weight 10 dropped \(slb.ini changed it since\)'
	! grep 'server web b2' "$state" || false
	# Setting the file's own value leaves nothing to override.
	_ctl server set web b2 weight=20
	_ctl server set web b2 weight=80
	! grep 'server web b2' "$state" || false
	_config 50 >"$TOPO_DIR/slb.ini"
	_ctl reload
	[ "$(_weight b2)" = 50 ]
}

@test "a weight set with slbctl moves the traffic, and still does after a reload and a restart" {
	local out
	wait_until 5 _both_up
	_ctl server set web b2 weight=0
	out=$(client_count 20 "$TOPO_VIP" 8080)
	assert_tally "$out" b1=20
	slb_reload
	sleep 1
	out=$(client_count 20 "$TOPO_VIP" 8080)
	assert_tally "$out" b1=20
	slb_stop
	slb_start "$TOPO_DIR/slb.ini"
	wait_until 5 _both_up
	[ "$(_weight b2)" = 0 ]
	out=$(client_count 20 "$TOPO_VIP" 8080)
	assert_tally "$out" b1=20
	_ctl server set web b2 weight=100
	out=$(client_count 40 "$TOPO_VIP" 8080)
	[ "$(tally_of b2 "$out")" -ge 10 ]
	_ctl server set web b2 weight=50
}
