#!/usr/bin/env bats
# Run-time changes through slbctl (issue #6): servers added and removed,
# kept in the state file across reloads and restarts; health kept across a
# reload; every error is clear, exits 1 and changes nothing.
#
# The running file is $TOPO_DIR/slb.ini: slb_config_basic (listener web on
# the VIP :8080, wrr, group web = b1 weight 100 and b2 weight 50, tcp checks
# every 200 ms). Extra backends: b3 (a drain backend on b1's address :9001,
# it answers "b3 BYTES" once the client half-closes) and b4 (tcp, on b2's
# address :9002, answers "b4").

# shellcheck disable=SC2016  # eval strings expand when evaluated
load helpers/topology
load helpers/client

setup_file() {
	topo_up
	backend_start b1 9000
	backend_start b2 9000
	backend_start b1 9001 drain b3
	backend_start b2 9002 tcp b4
	slb_config_basic >"$TOPO_DIR/slb.ini"
	slb_start "$TOPO_DIR/slb.ini"
}

teardown_file() {
	topo_down
}

setup() {
	slb_running_or_fail
	SOCK=$TOPO_DIR/lb1/slb.sock
	STATE=$TOPO_DIR/lb1/slb.state
}

_ctl() { "$(slb_bin slbctl)" -s "$SOCK" "$@"; }

# _servers: "group/name address weight" of every server, one line, sorted.
_servers() {
	_ctl --json describe | jq -r '[.groups[] | .name as $g | .servers[] |
		"\($g)/\(.name) \(.address) \(.weight)"] | sort | join(",")'
}

# _srv GROUP NAME FIELD: a field of a server in describe --json.
_srv() {
	_ctl --json describe | jq -r --arg g "$1" --arg s "$2" --arg f "$3" \
		'.groups[] | select(.name == $g) | .servers[] | select(.name == $s) | .[$f]'
}

_state_of() { _ctl --json health | jq -r --arg s "$1" '.servers[] | select(.name == $s) | .state'; }

@test "server add: a server with no answer starts DOWN and is never tried; removed again" {
	local out
	wait_until 5 eval '[ "$(_state_of b2)" = UP ]'
	run _ctl --json server add web b9 "$(topo_ip b2)":9009 weight=100
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq -r '.changed' <<<"$output")" = "server web/b9" ]
	[ "$(_srv web b9 health)" = DOWN ]
	out=$(client_count 30 "$TOPO_VIP" 8080)
	echo "$out"
	[ "$(tally_of fail "$out")" -eq 0 ]
	# Down from the start: no client was ever sent there, not even once.
	[ "$(_srv web b9 failed)" = 0 ]
	[ "$(_state_of b9)" = DOWN ]
	run _ctl server remove web b9
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == "server web/b9: removed (generation "* ]]
	[ -z "$(_srv web b9 name)" ]
	# Added then removed at run time: nothing is left to remember.
	! grep -q 'b9' "$STATE" || false
}

@test "server add: traffic reaches the new server; it survives a reload and a restart" {
	local out
	backend_start b2 9003 tcp b5
	run _ctl server add web b5 "$(topo_ip b2)":9003 weight=100
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == "server web/b5: added, $(topo_ip b2):9003 weight 100 (generation "* ]]
	grep -x "add-server web b5 $(topo_ip b2):9003 weight=100" "$STATE"
	wait_until 5 eval '[ "$(_state_of b5)" = UP ]'
	out=$(client_count 50 "$TOPO_VIP" 8080)
	echo "$out"
	[ "$(tally_of fail "$out")" -eq 0 ]
	[ "$(tally_of b5 "$out")" -ge 10 ]

	# A weight set on it changes the addition itself.
	_ctl server set web b5 weight=20
	grep -x "add-server web b5 $(topo_ip b2):9003 weight=20" "$STATE"
	_ctl reload
	[ "$(_srv web b5 weight)" = 20 ]
	slb_stop
	slb_start "$TOPO_DIR/slb.ini"
	[ "$(_srv web b5 address)" = "$(topo_ip b2):9003" ]
	[ "$(_srv web b5 weight)" = 20 ]
	wait_until 5 eval '[ "$(_state_of b5)" = UP ]'
	out=$(client_count 40 "$TOPO_VIP" 8080)
	[ "$(tally_of b5 "$out")" -ge 1 ]

	# slb.ini gets a server of that name: the file is the newer word.
	log_mark
	slb_config_basic | sed "s/^server\.b2 = .*/&\nserver.b5 = $(topo_ip b2):9003 weight=70/" >"$TOPO_DIR/slb.ini"
	_ctl reload
	[ "$(_srv web b5 weight)" = 70 ]
	log_has "run-time change 'server add web b5' dropped \(slb.ini has a server of that name in that group now\)"
	! grep -q 'b5' "$STATE" || false
	slb_config_basic >"$TOPO_DIR/slb.ini"
	_ctl reload
	[ -z "$(_srv web b5 name)" ]
	backend_stop b2 9003
}

@test "server remove: no new traffic; an established connection finishes" {
	local out
	_ctl server add web b3 "$(topo_ip b1)":9001 weight=100
	wait_until 5 eval '[ "$(_state_of b3)" = UP ]'
	# Only b3 takes new connections while the held one opens.
	_ctl server set web b1 weight=0
	_ctl server set web b2 weight=0
	client_hold 8080 3 "$TOPO_DIR/held.out"
	wait_until 5 eval '[ "$(established_count b1 9001)" -ge 1 ]'
	_ctl server set web b1 weight=100
	_ctl server set web b2 weight=50
	run _ctl --json server remove web b3
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq -r '"\(.changed) \(.result)"' <<<"$output")" = "server web/b3 removed" ]
	[ -z "$(_srv web b3 name)" ]
	out=$(client_count 30 "$TOPO_VIP" 8080)
	echo "$out"
	[ "$(tally_of fail "$out")" -eq 0 ]
	[ "$(($(tally_of b1 "$out") + $(tally_of b2 "$out")))" -eq 30 ]
	# The held connection went on to its end: b3 answered after the client's FIN.
	wait "$HOLD_PID"
	cat "$TOPO_DIR/held.out"
	[ "$(cat "$TOPO_DIR/held.out")" = "b3 0" ]
}

@test "server remove of a file's server survives reload and restart; a later edit of that line wins" {
	run _ctl server remove web b2
	[ "$status" -eq 0 ]
	grep -E '^remove-server web b2 before=[0-9a-f]+$' "$STATE"
	_ctl reload
	[ -z "$(_srv web b2 name)" ]
	slb_stop
	slb_start "$TOPO_DIR/slb.ini"
	[ -z "$(_srv web b2 name)" ]
	out=$(client_count 20 "$TOPO_VIP" 8080)
	assert_tally "$out" b1=20
	# The operator edits b2's line: the file is the newer word, b2 is back.
	log_mark
	slb_config_basic | sed 's/^\(server\.b2 = .*\) weight=50$/\1 weight=60/' >"$TOPO_DIR/slb.ini"
	_ctl reload
	[ "$(_srv web b2 weight)" = 60 ]
	log_has "run-time change 'server remove web b2' dropped"
	! grep -q 'remove-server' "$STATE" || false
	slb_config_basic >"$TOPO_DIR/slb.ini"
	_ctl reload
	[ "$(_srv web b2 weight)" = 50 ]
}

@test "server add/remove errors: clear, exit 1, nothing changed" {
	local before state_before
	before=$(_servers)
	state_before=$(cat "$STATE" 2>/dev/null || true)
	_err() {
		run _ctl "$@"
		echo "$*: $status $output"
		[ "$status" -eq 1 ]
	}
	_err server add nogroup b7 "$(topo_ip b1)":9000
	[[ $output == *"no group 'nogroup'"* ]]
	_err server add web b1 "$(topo_ip b1)":9005
	[[ $output == *"group 'web' already has a server 'b1' ($(topo_ip b1):9000)"* ]]
	_err server add web b7 300.1.1.1:80
	[[ $output == *"address: "* ]]
	_err server add web b7 "$(topo_ip b1)"
	[[ $output == *"address: "* ]]
	_err server add web B7 "$(topo_ip b1)":9000
	[[ $output == *"server name: 'B7' is not a valid name"* ]]
	_err server add web b7 "$(topo_ip b1)":9000 weight=101
	[[ $output == *"must be an integer from 0 to 100"* ]]
	_err server add web b7 "$(topo_ip b1)":9000 wait=1
	[[ $output == *"expected weight=N"* ]]
	# Same address as another server of the group: the loader's own check.
	_err server add web b7 "$(topo_ip b1)":9000
	[[ $output == *"same address as server.b1"* ]]
	_err server remove web b8
	[[ $output == *"group 'web' has no server 'b8'"* ]]
	_err server remove nogroup b1
	[[ $output == *"no group 'nogroup'"* ]]
	run _ctl --json server add web b1 "$(topo_ip b1)":9000
	[ "$status" -eq 1 ]
	jq -e '.error | test("already has a server")' <<<"$output"
	[ "$(_servers)" = "$before" ]
	[ "$(cat "$STATE" 2>/dev/null || true)" = "$state_before" ]
}

@test "health survives a reload: a down server stays down, an up one stays up" {
	local failed out
	wait_until 5 eval '[ "$(_state_of b2)" = UP ]'
	backend_stop b2 9000
	wait_until 5 eval '[ "$(_state_of b2)" = DOWN ]'
	failed=$(_srv web b2 failed)
	# The new checker probes only seconds later: what clients meet right after
	# the reload is the health the previous generation left.
	slb_config_basic | sed 's/^check_interval = 200ms$/check_interval = 10s/' >"$TOPO_DIR/slb.ini"
	log_mark
	_ctl reload
	slb_wait_reloaded 10
	[ "$(_state_of b2)" = DOWN ]
	[ "$(_state_of b1)" = UP ]
	out=$(client_count 20 "$TOPO_VIP" 8080)
	echo "$out"
	assert_tally "$out" b1=20
	# Never tried: it was not briefly up.
	[ "$(_srv web b2 failed)" = "$failed" ]
	backend_start b2 9000
	slb_config_basic >"$TOPO_DIR/slb.ini"
	_ctl reload
	wait_until 5 eval '[ "$(_state_of b2)" = UP ]'
}

# _groups: "name type check nservers" of every group, sorted, one line.
_groups() {
	_ctl --json describe | jq -r '[.groups[] | "\(.name) \(.type) \(.check) \(.servers | length)"] | sort | join(",")'
}

_gwhat() { _ctl --json describe | jq -r --arg g "$1" --arg f "$2" '.groups[] | select(.name == $g) | .[$f]'; }

@test "group create, a server added to it, group set; kept across reload and restart; group delete forgets it all" {
	run _ctl --json group create api
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq -r '"\(.changed) \(.result)"' <<<"$output")" = "group api created, type normal" ]
	_ctl server add api a1 "$(topo_ip b1)":9000 weight=10
	run _ctl group set api check=tcp
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == "group api check: tcp (generation "* ]]
	[[ $(_groups) == *"api normal tcp 1"* ]]
	grep -x 'add-group api type=normal' "$STATE"
	grep -E '^set group api check tcp before=[0-9a-f]+$' "$STATE"
	_ctl reload
	slb_stop
	slb_start "$TOPO_DIR/slb.ini"
	[[ $(_groups) == *"api normal tcp 1"* ]]
	[ "$(_srv api a1 weight)" = 10 ]
	run _ctl --json group delete api
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq -r '"\(.changed) \(.result)"' <<<"$output")" = "group api deleted" ]
	[[ $(_groups) != *api* ]]
	! grep -q api "$STATE" || false
}

@test "group set on a file's group: at once, kept, the file's later edit wins, the file's value forgets it" {
	run _ctl group set web check=none
	[ "$status" -eq 0 ]
	[ "$(_ctl --json describe | jq -r '.groups[] | select(.name == "web") | .check')" = none ]
	_ctl reload
	[ "$(_ctl --json health | jq -r '[.servers[] | select(.group == "web") | .check] | unique | join(",")')" = none ]
	# Back to the file's own value: nothing left to keep.
	_ctl group set web check=tcp
	! grep -q 'set group web check' "$STATE" || false
	_ctl group set web check=tcp
	run _ctl --json group set web check_interval=1s
	[ "$status" -eq 0 ]
	[ "$(jq -r '"\(.changed) \(.result)"' <<<"$output")" = "group web check_interval 1s" ]
	[ "$(_gwhat web check_interval_ms)" = 1000 ]
	_ctl reload
	[ "$(_gwhat web check_interval_ms)" = 1000 ]
	log_mark
	slb_config_basic | sed 's/^check_interval = 200ms$/check_interval = 300ms/' >"$TOPO_DIR/slb.ini"
	_ctl reload
	[ "$(_gwhat web check_interval_ms)" = 300 ]
	log_has "run-time change 'group set web check_interval=1s' dropped"
	! grep -q 'set group web check_interval' "$STATE" || false
	slb_config_basic >"$TOPO_DIR/slb.ini"
	_ctl reload
}

@test "group delete of a file's group survives reload and restart; editing that group in the file brings it back" {
	_spare() {
		slb_config_basic
		printf '\n[group spare]\nserver.s1 = %s:9000 weight=%s\n' "$(topo_ip b2)" "$1"
	}
	_spare 10 >"$TOPO_DIR/slb.ini"
	_ctl reload
	[[ $(_groups) == *"spare normal tcp 1"* ]]
	run _ctl group delete spare
	[ "$status" -eq 0 ]
	[[ $(_groups) != *spare* ]]
	grep -E '^delete-group spare before=[0-9a-f]+$' "$STATE"
	slb_stop
	slb_start "$TOPO_DIR/slb.ini"
	[[ $(_groups) != *spare* ]]
	log_mark
	_spare 20 >"$TOPO_DIR/slb.ini"
	_ctl reload
	[[ $(_groups) == *"spare normal tcp 1"* ]]
	log_has "run-time change 'group delete spare' dropped"
	slb_config_basic >"$TOPO_DIR/slb.ini"
	_ctl reload
}

@test "group errors: clear, exit 1, nothing changed" {
	local before state_before
	before="$(_groups) $(_servers)"
	state_before=$(cat "$STATE" 2>/dev/null || true)
	_err() {
		run _ctl "$@"
		echo "$*: $status $output"
		[ "$status" -eq 1 ]
	}
	_err group delete web
	[[ $output == *"group 'web' is used by listener 'web' (group); change that first"* ]]
	_err group delete nogroup
	[[ $output == *"no group 'nogroup'"* ]]
	_err group create web
	[[ $output == *"group 'web' exists already"* ]]
	_err group create Api
	[[ $output == *"group name: 'Api' is not a valid name"* ]]
	_err group create api type=fancy
	[[ $output == *"expected type=normal or type=primary_secondary"* ]]
	_err group set web weight=5
	[[ $output == *"'weight': group set changes check, check_port"* ]]
	_err group set web check_interval
	[[ $output == *"expected KEY=VALUE"* ]]
	_err group set web check_interval=soon
	[[ $output == *"[group web] check_interval: "* ]]
	_err group set web check_timeout=1s
	[[ $output == *"check_timeout: longer than check_interval"* ]]
	# slb.ini would cut the value at ';' or '#': refused, not shortened.
	_err group set web 'check_path=/up;x'
	[[ $output == *"'/up;x': ';' and '#' start a comment in slb.ini"* ]]
	_err group set web 'check_host=a#b'
	[[ $output == *"start a comment"* ]]
	_err group set nogroup check=tcp
	[[ $output == *"no group 'nogroup'"* ]]
	run _ctl --json group delete web
	[ "$status" -eq 1 ]
	jq -e '.error | test("used by listener")' <<<"$output"
	[ "$(_groups) $(_servers)" = "$before" ]
	[ "$(cat "$STATE" 2>/dev/null || true)" = "$state_before" ]
}

# _long: the base file plus listener long on :8082 for group hold (b3, the
# drain backend): a connection through it stays open while the client wants.
_long() {
	slb_config_basic
	printf '\n[listener long]\nprotocol = tcp\nbind = %s:8082\ngroup = hold\n' "$TOPO_VIP"
	printf '\n[group hold]\nserver.b3 = %s:9001 weight=100\n' "$(topo_ip b1)"
}

_lstate() { _ctl --json describe | jq -r --arg l "$1" '.listeners[] | select(.name == $l) | .state'; }

@test "listener stop: new connections refused, an open one goes on; kept across reload and restart; start serves again" {
	_long >"$TOPO_DIR/slb.ini"
	_ctl reload
	[ "$(_lstate long)" = started ]
	client_hold 8082 3 "$TOPO_DIR/held.out"
	wait_until 5 eval '[ "$(established_count b1 9001)" -ge 1 ]'
	run _ctl --json listener stop long
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq -r '"\(.changed) \(.result)"' <<<"$output")" = "listener long stopped" ]
	[ "$(_lstate long)" = stopped ]
	_ctl describe | grep -E "^long +tcp +$TOPO_VIP:8082 .* stopped\$"
	wait_until 5 eval '[[ "$(client_probe 8082 1)" == refused* ]]'
	# The other listener is not disturbed.
	out=$(client_count 10 "$TOPO_VIP" 8080)
	[ "$(tally_of fail "$out")" -eq 0 ]
	# The connection open before the stop went on to its end.
	wait "$HOLD_PID"
	[ "$(cat "$TOPO_DIR/held.out")" = "b3 0" ]
	grep -E '^set listener long enabled no before=[0-9a-f]+$' "$STATE"
	run _ctl listener stop long
	[ "$status" -eq 0 ]
	[ "$output" = "listener long: already stopped" ]

	_ctl reload
	[ "$(_lstate long)" = stopped ]
	[[ "$(client_probe 8082 1)" == refused* ]]
	slb_stop
	SLB_START_SKIP_PORT=8082 slb_start "$TOPO_DIR/slb.ini"
	[ "$(_lstate long)" = stopped ]
	[[ "$(client_probe 8082 1)" == refused* ]]

	run _ctl listener start long
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == "listener long: started (generation "* ]]
	[ "$(_lstate long)" = started ]
	# Back to what slb.ini says: nothing left to keep.
	! grep -q 'listener long' "$STATE" || false
	wait_until 5 eval '[ "$(client_drain_count 1 8082)" = "b3 1" ]'
	slb_config_basic >"$TOPO_DIR/slb.ini"
	_ctl reload
}

@test "listener errors: clear, exit 1, nothing changed" {
	local before
	before=$(_ctl --json describe | jq -c '[.listeners[] | {name, state}]')
	run _ctl listener stop nolistener
	[ "$status" -eq 1 ]
	[[ $output == *"no listener 'nolistener'"* ]]
	run _ctl --json listener start nolistener
	[ "$status" -eq 1 ]
	jq -e '.error | test("no listener")' <<<"$output"
	[ "$(_ctl --json describe | jq -c '[.listeners[] | {name, state}]')" = "$before" ]
}

@test "drain: weight=0 drain=4s closes the connections left after 4 s, across a reload; their count is visible" {
	local t0 t1 out
	_ctl server add web b3 "$(topo_ip b1)":9001 weight=100
	wait_until 5 eval '[ "$(_state_of b3)" = UP ]'
	_ctl server set web b1 weight=0
	_ctl server set web b2 weight=0
	client_hold 8080 10 "$TOPO_DIR/held.out"
	wait_until 5 eval '[ "$(established_count b1 9001)" -ge 1 ]'
	_ctl server set web b1 weight=100
	_ctl server set web b2 weight=50
	t0=$(date +%s%3N)
	run _ctl --json server set web b3 weight=0 drain=4s
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq -r '"\(.weight) \(.active)"' <<<"$output")" = "0 1" ]
	jq -e '.drain_deadline | test("^[0-9-]+T[0-9:]+Z$")' <<<"$output"
	# The connections left, in describe and health, JSON and text.
	[ "$(_srv web b3 active)" = 1 ]
	_srv web b3 drain_deadline | grep -E '^[0-9-]+T[0-9:]+Z$'
	[ "$(_ctl --json health | jq -r '.servers[] | select(.name == "b3") | "\(.active) \(.drain_deadline != null)"')" = "1 true" ]
	_ctl health | grep -E "^web +b3 .* 1 +[0-9-]+T[0-9:]+Z\$"
	# A reload keeps the drain: the old worker that holds the connection closes it.
	_ctl reload
	_srv web b3 drain_deadline | grep -E '^[0-9-]+T[0-9:]+Z$'
	# Watched every 0.1 s: closed at the deadline, not before, and soon after.
	wait_until 8 eval '[ "$(established_count b1 9001)" -eq 0 ]'
	t1=$(date +%s%3N)
	echo "closed after $((t1 - t0)) ms"
	[ "$((t1 - t0))" -ge 3900 ] && [ "$((t1 - t0))" -lt 8000 ]
	[ "$(_srv web b3 active)" = 0 ]
	log_has 'worker [0-9]+: closed 1 connections to drained servers'
	# Closed by slb, long before the client's own end: no answer came.
	wait "$HOLD_PID" || true
	[ "$(cat "$TOPO_DIR/held.out")" != "b3 0" ]
	out=$(client_count 10 "$TOPO_VIP" 8080)
	[ "$(tally_of fail "$out")" -eq 0 ]
	# Any new weight ends the drain.
	_ctl server set web b3 weight=0 drain=1h
	_ctl server set web b3 weight=10
	[ "$(_srv web b3 drain_deadline)" = null ]
	_ctl server remove web b3
}

@test "drain errors: clear, exit 1, nothing changed" {
	local before
	before=$(_ctl --json describe | jq -c '[.groups[].servers[] | {name, weight, drain_deadline}]')
	run _ctl server set web b2 weight=10 drain=5s
	[ "$status" -eq 1 ]
	[[ $output == *"drain= needs weight=0"* ]]
	run _ctl server set web b2 weight=0 drain=soon
	[ "$status" -eq 1 ]
	[[ $output == *"drain: "* ]]
	run _ctl server set web b2 weight=0 until=5s
	[ "$status" -eq 1 ]
	[[ $output == *"expected drain=DURATION"* ]]
	[ "$(_ctl --json describe | jq -c '[.groups[].servers[] | {name, weight, drain_deadline}]')" = "$before" ]
}
