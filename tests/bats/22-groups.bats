#!/usr/bin/env bats
# Server groups beyond a plain pool (issue #5): a primary_secondary group
# sends every new connection to its primary, to its secondary only while the
# primary is down, and back to the primary when it recovers.  One slb runs
# for the whole file (slb_config_basic plus):
#
#   8095 ps   group ps (primary_secondary): b2:9400 primary, b1:9400 secondary
#
# Checks every 200ms, thresholds 2, as in slb_config_basic.  b1:9400 is a
# drain backend (it answers at the client's FIN), so a connection held open
# tells at its end which server it stayed on; client_drain_count reads both
# kinds of backend.

# shellcheck disable=SC2016  # eval and bash -c strings expand later, on purpose
load helpers/topology
load helpers/client

_config() {
	slb_config_basic
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
check = tcp
check_interval = 200ms
check_timeout = 100ms
healthy_threshold = 2
unhealthy_threshold = 2
EOF2
}

setup_file() {
	topo_up
	backend_start b1 9000
	backend_start b2 9000
	backend_start b1 9400 drain
	backend_start b2 9400
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
