#!/usr/bin/env bats
# Server groups beyond a plain pool (issue #5): a primary_secondary group
# sends every new connection to its primary, to its secondary only while the
# primary is down, and back to the primary when it recovers; a listener's
# backup_group takes its new traffic while failover_threshold servers of its
# group are down, and slb_listener_backup_active says so.  One slb runs for
# the whole file (slb_config_basic with metrics on lb1's 127.0.0.1:9180, plus):
#
#   8095 ps   group ps (primary_secondary): b2:9400 primary, b1:9400 secondary
#   8096 bk   group main: b1:9500, b2:9500, b1:9501 (answers b3), wrr;
#             backup_group dr: b1:9600 (answers d1), b2:9600 (answers d2);
#             failover_threshold = 2
#
# Checks every 200ms, thresholds 2, as in slb_config_basic.  b1:9400 is a
# drain backend (it answers at the client's FIN), so a connection held open
# tells at its end which server it stayed on; client_drain_count reads both
# kinds of backend.

# shellcheck disable=SC2016  # eval and bash -c strings expand later, on purpose
load helpers/topology
load helpers/client

_config() {
	local checks
	checks=$(config_checks tcp)
	slb_config_basic | sed 's/^metrics =.*/metrics = 127.0.0.1:9180/'
	cat <<EOF2

[listener ps]
protocol = tcp
bind = $TOPO_VIP:8095
group = ps
scheduler = rr

[group ps]
type = primary_secondary
server.spare = $(topo_ip b1):9400 role=secondary
server.main = $(topo_ip b2):9400 role=primary
$checks

[listener bk]
protocol = tcp
bind = $TOPO_VIP:8096
group = main
backup_group = dr
failover_threshold = 2

[group main]
server.b1 = $(topo_ip b1):9500
server.b2 = $(topo_ip b2):9500
server.b3 = $(topo_ip b1):9501
$checks

[group dr]
server.d1 = $(topo_ip b1):9600
server.d2 = $(topo_ip b2):9600
$checks
EOF2
}

setup_file() {
	topo_up
	backend_start b1 9000
	backend_start b2 9000
	backend_start b1 9400 drain
	backend_start b2 9400
	backend_start b1 9500
	backend_start b2 9500
	backend_start b1 9501 tcp b3
	backend_start b1 9600 tcp d1
	backend_start b2 9600 tcp d2
	_config >"$TOPO_DIR/slb.ini"
	slb_start "$TOPO_DIR/slb.ini"
}

teardown_file() {
	topo_down
}

setup() {
	slb_running_or_fail
}

# _ps_primary_up: b2:9400 runs and is marked up (whatever an earlier test did).
_ps_primary_up() {
	if [ -z "$(backend_pid b2 9400)" ]; then
		log_mark
		backend_start b2 9400
		health_wait ps/main UP 5
	fi
}

@test "primary_secondary: every connection goes to the primary while it is up" {
	_ps_primary_up
	run client_drain_count 20 8095
	assert_tally "$output" b2=20
}

@test "primary_secondary: the secondary takes new connections while the primary is down, the primary takes them back" {
	_ps_primary_up
	log_mark
	backend_stop b2 9400
	health_wait ps/main DOWN 5
	run client_drain_count 20 8095
	assert_tally "$output" b1=20

	log_mark
	backend_start b2 9400
	health_wait ps/main UP 5
	run client_drain_count 20 8095
	assert_tally "$output" b2=20
}

@test "primary_secondary: a connection open on the secondary stays there when the primary returns" {
	local out=$TOPO_DIR/hold.out
	_ps_primary_up
	log_mark
	backend_stop b2 9400
	health_wait ps/main DOWN 5
	client_hold 8095 3 "$out"
	wait_until 2 eval '[ "$(established_count b1 9400)" -eq 1 ]'
	log_mark
	backend_start b2 9400
	health_wait ps/main UP 5
	run client_drain_count 10 8095
	assert_tally "$output" b2=10
	wait "$HOLD_PID"
	echo "held: $(cat "$out")"
	[ "$(cat "$out")" = "b1 0" ]
}

# _main_up NAME PORT: that server of group main runs and is marked up.
_main_up() {
	if [ -z "$(backend_pid "$1" "$2")" ]; then
		log_mark
		backend_start "$1" "$2"
		health_wait "main/$1" UP 5
	fi
}

_ctl() { "$(slb_bin slbctl)" -s "$TOPO_DIR/lb1/slb.sock" "$@"; }

# _backup_active [LISTENER]: slb_listener_backup_active of LISTENER (default bk).
_backup_active() {
	metric_value lb1 127.0.0.1:9180 "slb_listener_backup_active{listener=\"${1:-bk}\"}"
}

# _only TALLY NAME...: every one of 30 answers came from one of NAMEs, and
# each of NAMEs answered at least once.
_only() {
	local tally=$1 n sum=0
	shift
	echo "$tally"
	for n in "$@"; do
		[ "$(tally_of "$n" "$tally")" -ge 1 ]
		sum=$((sum + $(tally_of "$n" "$tally")))
	done
	[ "$sum" -eq 30 ]
}

@test "backup_group: below failover_threshold the group serves, at it the backup group, back below it the group again" {
	_main_up b1 9500
	_main_up b2 9500
	run client_count 30 "$TOPO_VIP" 8096
	_only "$output" b1 b2 b3
	[ "$(_backup_active)" = 0 ]
	[ "$(_backup_active web)" = 0 ]

	# One server down, threshold 2: the group's other servers go on serving.
	log_mark
	backend_stop b1 9500
	health_wait main/b1 DOWN 5
	run client_count 30 "$TOPO_VIP" 8096
	_only "$output" b2 b3
	[ "$(_backup_active)" = 0 ]

	# Two down: new traffic to the backup group, although b3 is still up.
	log_mark
	backend_stop b2 9500
	health_wait main/b2 DOWN 5
	log_wait 'slb-checker\[[0-9]+\]: warning: listener bk: 2 of 3 servers of group main down, new traffic to backup group dr$' 2
	run client_count 30 "$TOPO_VIP" 8096
	_only "$output" d1 d2
	[ "$(_backup_active)" = 1 ]
	[ "$(_backup_active web)" = 0 ]

	# One back: below the threshold again, the group takes new traffic back.
	log_mark
	backend_start b2 9500
	health_wait main/b2 UP 5
	log_wait 'slb-checker\[[0-9]+\]: info: listener bk: 1 of 3 servers of group main down \(threshold 2\), new traffic back to group main$' 2
	run client_count 30 "$TOPO_VIP" 8096
	_only "$output" b2 b3
	[ "$(_backup_active)" = 0 ]
	# Each switch logged once, by the checker alone, for two workers.
	sleep 0.6
	[ "$(log_count 'listener bk: ')" -eq 1 ]
}

# _b3_alone HOW: past the threshold with no server of dr up, the checker
# said once (and only) that new traffic HOW ("stays on", "back to") group
# main, where b3 alone takes it, and the gauge says 0.
_b3_alone() {
	log_wait "slb-checker\[[0-9]+\]: warning: listener bk: 2 of 3 servers of group main down, but no server of backup group dr is up with a weight above 0: new traffic $1 group main\$" 2
	run client_count 20 "$TOPO_VIP" 8096
	assert_tally "$output" b3=20
	[ "$(_backup_active)" = 0 ]
	[ "$(log_count 'listener bk: ')" -eq 1 ]
}

@test "backup_group: with the backup group down too, the group's last servers still serve, and the log says where new traffic goes" {
	_main_up b1 9500
	_main_up b2 9500
	log_mark
	backend_stop b1 9500
	backend_stop b1 9600
	backend_stop b2 9600
	health_wait main/b1 DOWN 5
	health_wait dr/d1 DOWN 5
	health_wait dr/d2 DOWN 5
	backend_stop b2 9500
	health_wait main/b2 DOWN 5
	# At the threshold, but the group's b3 serves: not on the backup group,
	# and the log says so rather than a switch that did not happen.
	_b3_alone "stays on"

	# A backup server comes up: new traffic really moves, logged then.
	log_mark
	backend_start b1 9600 tcp d1
	health_wait dr/d1 UP 5
	log_wait 'slb-checker\[[0-9]+\]: warning: listener bk: 2 of 3 servers of group main down, new traffic to backup group dr$' 2
	wait_until 2 eval '[ "$(_backup_active)" = 1 ]'
	backend_start b2 9600 tcp d2
	health_wait dr/d2 UP 5
	run client_count 30 "$TOPO_VIP" 8096
	_only "$output" d1 d2
	[ "$(_backup_active)" = 1 ]
	[ "$(log_count 'listener bk: ')" -eq 1 ]

	# The backup group fails while it serves: new traffic back to b3.
	log_mark
	backend_stop b1 9600
	backend_stop b2 9600
	health_wait dr/d1 DOWN 5
	health_wait dr/d2 DOWN 5
	_b3_alone "back to"

	# Below the threshold again: said once, at info.
	log_mark
	backend_start b2 9500
	health_wait main/b2 UP 5
	log_wait 'slb-checker\[[0-9]+\]: info: listener bk: 1 of 3 servers of group main down \(threshold 2\), below the threshold again$' 2
	sleep 0.6
	[ "$(log_count 'listener bk: ')" -eq 1 ]
}

# _dr_up: both servers of group dr run, are marked up and weigh 100.
_dr_up() {
	local n
	for n in 1 2; do
		_ctl server set dr "d$n" weight=100 >/dev/null
		if [ -z "$(backend_pid "b$n" 9600)" ]; then
			log_mark
			backend_start "b$n" 9600 tcp "d$n"
			health_wait "dr/d$n" UP 5
		fi
	done
}

@test "backup_group: a backup group whose servers up all weigh 0 takes no new traffic, and the log and the gauge follow slbctl's weights" {
	_main_up b1 9500
	_main_up b2 9500
	_dr_up
	log_mark
	backend_stop b1 9500
	backend_stop b2 9500
	health_wait main/b1 DOWN 5
	health_wait main/b2 DOWN 5
	log_wait 'slb-checker\[[0-9]+\]: warning: listener bk: 2 of 3 servers of group main down, new traffic to backup group dr$' 2
	wait_until 2 eval '[ "$(_backup_active)" = 1 ]'

	# Both up, both weight 0: the workers pick from group main, where b3 is
	# left; the checker says so at the second weight, not at the first.
	log_mark
	_ctl server set dr d1 weight=0
	run client_count 20 "$TOPO_VIP" 8096
	assert_tally "$output" d2=20
	[ "$(_backup_active)" = 1 ]
	_ctl server set dr d2 weight=0
	_b3_alone "back to"

	# A weight back: new traffic to that backup server, logged then.
	log_mark
	_ctl server set dr d2 weight=100
	log_wait 'slb-checker\[[0-9]+\]: warning: listener bk: 2 of 3 servers of group main down, new traffic to backup group dr$' 2
	run client_count 20 "$TOPO_VIP" 8096
	assert_tally "$output" d2=20
	[ "$(_backup_active)" = 1 ]
	[ "$(log_count 'listener bk: ')" -eq 1 ]

	_dr_up
	_main_up b1 9500
	_main_up b2 9500
	wait_until 2 eval '[ "$(_backup_active)" = 0 ]'
}
