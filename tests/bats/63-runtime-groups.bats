#!/usr/bin/env bats
# primary_secondary groups changed at run time: `slbctl server add GROUP NAME
# IP:PORT [weight=N] [role=primary|secondary]` fills one server by server;
# the primary takes every connection, the secondary only while the primary is
# down; roles are kept in the state file across reloads and restarts and
# shown by describe; the role rules of slb.ini hold at run time, in clear
# words, and a refused change changes nothing.
#
# The running file is $TOPO_DIR/slb.ini: slb_config_basic plus listener ps
# on the VIP :8095 (rr) using group pair, a primary_secondary group of main
# (b2:9400, role=primary) and spare (b1:9400, role=secondary) in slb.ini,
# which must give such a group both (a listener cannot name a group created
# at run time: slb.ini is validated alone first). At run time the group may
# be short of one while slbctl replaces it. Backends on :9400: b2 and b1,
# each answering its name; b2:9401 answers "b5" (a replacement primary).
# Checks every 200 ms, thresholds 2.

# shellcheck disable=SC2016  # eval strings expand when evaluated
load helpers/topology
load helpers/client

# _config [PAIR-SERVER-LINES]: the file; pair's servers main and spare by default.
_config() {
	slb_config_basic
	printf '\n[listener ps]\nprotocol = tcp\nbind = %s:8095\ngroup = pair\nscheduler = rr\n' "$TOPO_VIP"
	printf '\n[group pair]\ntype = primary_secondary\n'
	config_checks tcp
	printf '%s\n' "${1-"server.main = $(topo_ip b2):9400 role=primary
server.spare = $(topo_ip b1):9400 role=secondary"}"
}

setup_file() {
	topo_up
	backend_start b1 9000
	backend_start b2 9000
	backend_start b1 9400
	backend_start b2 9400
	backend_start b2 9401 tcp b5
	_config >"$TOPO_DIR/slb.ini"
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

# _roles GROUP: "name address role" of the group's servers, sorted, one line.
_roles() {
	_ctl --json describe | jq -r --arg g "$1" '[.groups[] | select(.name == $g) | .servers[] |
		"\(.name) \(.address) \(.role)"] | sort | join(",")'
}

# _everything: what a refused change must leave as it was.
_everything() {
	_ctl --json describe | jq -c '[.groups[] | {name, type, servers: [.servers[] | {name, address, weight, role}]}]'
	cat "$STATE" 2>/dev/null || true
}

_pair_states() { _ctl --json health | jq -r '[.servers[] | select(.group == "pair") | .state] | join(",")'; }

# _pair_filled: pair has main (b2:9400, primary) and spare (b1:9400,
# secondary), both UP (whatever a test did before).
_pair_filled() {
	local s
	if [ "$(_roles pair)" != "main $(topo_ip b2):9400 primary,spare $(topo_ip b1):9400 secondary" ]; then
		for s in $(_ctl --json describe | jq -r '.groups[] | select(.name == "pair") | .servers[].name'); do
			_ctl server remove pair "$s"
		done
		_ctl server add pair main "$(topo_ip b2)":9400 role=primary
		_ctl server add pair spare "$(topo_ip b1)":9400 role=secondary
	fi
	[ -n "$(backend_pid b2 9400)" ] || backend_start b2 9400
	wait_until 5 eval '[ "$(_pair_states)" = UP,UP ]'
}

@test "server add role=: a primary_secondary group emptied and filled again at run time; the primary takes all, the secondary only while the primary is down" {
	local out
	_ctl server remove pair spare
	_ctl server remove pair main
	[ "$(_roles pair)" = "" ]
	log_mark
	run _ctl server add pair main "$(topo_ip b2)":9400 role=primary
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == "server pair/main: added, $(topo_ip b2):9400 weight 100 role primary (generation "* ]]
	# Options in any order.
	run _ctl --json server add pair spare "$(topo_ip b1)":9400 role=secondary weight=100
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq -r .result <<<"$output")" = "added, $(topo_ip b1):9400 weight 100 role secondary" ]
	health_wait pair/main UP 5
	health_wait pair/spare UP 5
	[ "$(_roles pair)" = "main $(topo_ip b2):9400 primary,spare $(topo_ip b1):9400 secondary" ]
	grep -x "add-server pair main $(topo_ip b2):9400 weight=100 role=primary" "$STATE"
	grep -x "add-server pair spare $(topo_ip b1):9400 weight=100 role=secondary" "$STATE"

	out=$(client_count 20 "$TOPO_VIP" 8095)
	assert_tally "$out" b2=20

	log_mark
	backend_stop b2 9400
	health_wait pair/main DOWN 5
	out=$(client_count 20 "$TOPO_VIP" 8095)
	assert_tally "$out" b1=20

	log_mark
	backend_start b2 9400
	health_wait pair/main UP 5
	out=$(client_count 20 "$TOPO_VIP" 8095)
	assert_tally "$out" b2=20

	# describe's text form has the role in its own column.
	run _ctl describe
	echo "$output"
	grep -E "^GROUP +SERVER +ADDRESS +WEIGHT +HEALTH +ACTIVE +TOTAL +FAILED +CHECK +ROLE\$" <<<"$output"
	grep -E "^pair +main +$(topo_ip b2):9400 +100 +UP +.* +tcp +primary\$" <<<"$output"
	grep -E "^pair +spare +$(topo_ip b1):9400 +100 +UP +.* +tcp +secondary\$" <<<"$output"
	grep -E "^web +b1 +$(topo_ip b1):9000 +100 +UP +.* +tcp +-\$" <<<"$output"
	[ "$(_ctl --json describe | jq -r '.groups[] | select(.name == "web") | .servers[0].role')" = null ]
}

@test "the roles survive slbctl reload and a restart; the primary still takes all" {
	local out
	_pair_filled
	_ctl reload
	[ "$(_roles pair)" = "main $(topo_ip b2):9400 primary,spare $(topo_ip b1):9400 secondary" ]
	wait_until 5 eval '[ "$(client_count 1 "$TOPO_VIP" 8095)" = "b2 1" ]'
	out=$(client_count 20 "$TOPO_VIP" 8095)
	assert_tally "$out" b2=20

	slb_stop
	slb_start "$TOPO_DIR/slb.ini"
	[ "$(_roles pair)" = "main $(topo_ip b2):9400 primary,spare $(topo_ip b1):9400 secondary" ]
	wait_until 5 eval '[ "$(client_count 1 "$TOPO_VIP" 8095)" = "b2 1" ]'
	out=$(client_count 20 "$TOPO_VIP" 8095)
	assert_tally "$out" b2=20
}

@test "role errors: clear, exit 1, nothing changed" {
	local before
	_pair_filled
	before=$(_everything)
	_err() {
		run _ctl "$@"
		echo "$*: $status $output"
		[ "$status" -eq 1 ]
	}
	_err server add pair third "$(topo_ip b1)":9401
	[[ $output == *"group 'pair' is primary_secondary: give the server role=primary or role=secondary"* ]]
	_err server add pair third "$(topo_ip b1)":9401 role=primary
	[[ $output == *"group 'pair' has its primary already (main): one server is primary, the other secondary"* ]]
	_err server add pair third "$(topo_ip b1)":9401 role=secondary weight=10
	[[ $output == *"group 'pair' has its secondary already (spare)"* ]]
	_err server add pair third "$(topo_ip b1)":9401 role=backup
	[[ $output == *"'role=backup': the role must be primary or secondary"* ]]
	_err server add pair third "$(topo_ip b1)":9401 role=primary role=secondary
	[[ $output == *"'role=secondary': expected weight=N (0..100) or role=primary|secondary, each once"* ]]
	_err server add web b7 "$(topo_ip b1)":9001 role=primary
	[[ $output == *"group 'web' is normal: role= only applies to a primary_secondary group"* ]]
	_err server add web b7 "$(topo_ip b1)":9001 weight=10 role=secondary
	[[ $output == *"role= only applies to a primary_secondary group"* ]]
	[ "$(_everything)" = "$before" ]
}

@test "server remove of a role: the group serves with the one left; a replacement takes the role" {
	local out before
	_pair_filled
	run _ctl server remove pair main
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(_roles pair)" = "spare $(topo_ip b1):9400 secondary" ]
	! grep -q '^add-server pair main ' "$STATE" || false
	# A secondary alone takes every connection, as with its primary down.
	wait_until 5 eval '[ "$(client_count 1 "$TOPO_VIP" 8095)" = "b1 1" ]'
	out=$(client_count 20 "$TOPO_VIP" 8095)
	assert_tally "$out" b1=20
	# The rules hold for the one left: no role, or its role again, is refused.
	before=$(_everything)
	run _ctl server add pair b5 "$(topo_ip b2)":9401
	[ "$status" -eq 1 ]
	run _ctl server add pair b5 "$(topo_ip b2)":9401 role=secondary
	[ "$status" -eq 1 ]
	[[ $output == *"has its secondary already (spare)"* ]]
	[ "$(_everything)" = "$before" ]

	log_mark
	_ctl server add pair b5 "$(topo_ip b2)":9401 role=primary
	health_wait pair/b5 UP 5
	out=$(client_count 20 "$TOPO_VIP" 8095)
	assert_tally "$out" b5=20
	_ctl reload
	[ "$(_roles pair)" = "b5 $(topo_ip b2):9401 primary,spare $(topo_ip b1):9400 secondary" ]
	wait_until 5 eval '[ "$(client_count 1 "$TOPO_VIP" 8095)" = "b5 1" ]'
	_ctl server remove pair b5
}

@test "group create type=primary_secondary at run time: filled, kept across reload, a third server refused" {
	local before
	run _ctl group create duo type=primary_secondary
	echo "$output"
	[ "$status" -eq 0 ]
	_ctl server add duo one "$(topo_ip b1)":9400 role=secondary
	_ctl server add duo two "$(topo_ip b2)":9400 weight=30 role=primary
	_ctl reload
	[ "$(_roles duo)" = "one $(topo_ip b1):9400 secondary,two $(topo_ip b2):9400 primary" ]
	[ "$(_ctl --json describe | jq -r '.groups[] | select(.name == "duo") | "\(.type) \(.servers[1].weight)"')" = "primary_secondary 30" ]
	before=$(_everything)
	run _ctl server add duo three "$(topo_ip b2)":9401 role=primary
	[ "$status" -eq 1 ]
	[[ $output == *"group 'duo' has its primary already (two)"* ]]
	[ "$(_everything)" = "$before" ]
	_ctl group delete duo
	! grep -q 'duo' "$STATE" || false
}

@test "slb.ini gives a primary_secondary group both servers: a third, one, none or one without a role is refused" {
	local ini=$TOPO_DIR/check.ini
	_config "$(printf 'server.a = %s:9400 role=primary\nserver.b = %s:9400 role=secondary\nserver.c = %s:9401 role=secondary' \
		"$(topo_ip b2)" "$(topo_ip b1)" "$(topo_ip b2)")" >"$ini"
	run "$(slb_bin slb-master)" -t -c "$ini"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"[group pair] type: primary_secondary needs two servers (one primary, one secondary), not 3"* ]]
	_config "$(printf 'server.a = %s:9400\nserver.b = %s:9400 role=secondary' "$(topo_ip b2)" "$(topo_ip b1)")" >"$ini"
	run "$(slb_bin slb-master)" -t -c "$ini"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"[group pair] server.a: needs role=primary or role=secondary"* ]]
	_config "$(printf 'server.a = %s:9400 role=secondary' "$(topo_ip b1)")" >"$ini"
	run "$(slb_bin slb-master)" -t -c "$ini"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"[group pair] type: primary_secondary needs two servers (one primary, one secondary), not 1"* ]]
	_config "" >"$ini"
	run "$(slb_bin slb-master)" -t -c "$ini"
	[ "$status" -eq 1 ]
	[[ $output == *"primary_secondary needs two servers (one primary, one secondary), not 0"* ]]
	_config >"$ini"
	"$(slb_bin slb-master)" -t -c "$ini"
}
