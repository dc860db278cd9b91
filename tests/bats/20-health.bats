#!/usr/bin/env bats
# Health checks (issue #2): a stopped backend leaves the rotation within
# check_interval x unhealthy_threshold, with one log line and no failed
# client; started again, it comes back.  slb_config_basic: wrr, b1 weight
# 100, b2 weight 50, tcp checks every 200ms, thresholds 2.

# shellcheck disable=SC2016  # eval and bash -c strings expand later, on purpose
load helpers/topology
load helpers/client

setup_file() {
	slb_basic_up
}

teardown_file() {
	topo_down
}

setup() {
	slb_running_or_fail
}

# _b2_up: b2 runs and slb sends it traffic (whatever an earlier test did).
_b2_up() {
	if [ -z "$(backend_pid b2 9000)" ]; then
		log_mark
		backend_start b2 9000
		health_wait web/b2 UP 5
	fi
}

# _b2_down: b2 is stopped and marked down.
_b2_down() {
	if [ -n "$(backend_pid b2 9000)" ]; then
		log_mark
		backend_stop b2 9000
		health_wait web/b2 DOWN 5
	fi
}

# _both TALLY: 30 answers, none failed, about 2:1 (each worker keeps its own
# wrr state, so the split over 30 is not exact).
_both() {
	echo "$1"
	[ "$(tally_of fail "$1")" -eq 0 ]
	[ "$(($(tally_of b1 "$1") + $(tally_of b2 "$1")))" -eq 30 ]
	[ "$(tally_of b1 "$1")" -ge 15 ] && [ "$(tally_of b1 "$1")" -le 25 ]
}

@test "both servers up: traffic goes to both" {
	_b2_up
	run client_count 30 "$TOPO_VIP" 8080
	_both "$output"
}

@test "a stopped backend is out within interval x threshold; no client fails, one DOWN line" {
	local t0 t1 load
	_b2_up
	log_mark
	backend_stop b2 9000
	t0=$(date +%s%3N)
	# Clients from the moment b2 is gone: until the checker notices, a
	# refused connect to b2 is retried on b1, so none of them may fail.
	# (Not from before the stop: a backend killed with a connection still in
	# its accept queue resets it after the connect succeeded; nobody can
	# retry that.)
	load=$TOPO_DIR/load.health-down
	client_count 200 "$TOPO_VIP" 8080 >"$load" 3>&- &
	local loadpid=$!
	wait_until 3 log_has 'server web/b2 198\.18\.0\.12:9000 is DOWN' >/dev/null
	t1=$(date +%s%3N)
	echo "DOWN after $((t1 - t0)) ms"
	# 2 x 200ms, plus up to one interval until the first failing probe and
	# the 100ms polling of wait_until; 1 s leaves room for a slow machine.
	[ $((t1 - t0)) -le 1000 ]
	wait_until 30 eval '! kill -0 $loadpid 2>/dev/null'
	wait "$loadpid"
	echo "load: $(cat "$load")"
	assert_tally "$(cat "$load")" b1=200

	run client_count 30 "$TOPO_VIP" 8080
	assert_tally "$output" b1=30
	# More failed probes do not log it again.
	sleep 0.6
	[ "$(log_count 'server web/b2 .* is DOWN')" -eq 1 ]
	[ "$(log_count 'server web/b1 .* is DOWN')" -eq 0 ]
	log_has 'slb-checker\[[0-9]+\]: warning: server web/b2 198\.18\.0\.12:9000 is DOWN \(2 checks failed, last: Connection refused\)'
}

@test "a backend started again is back within interval x threshold; one UP line, traffic to both" {
	local t0 t1
	_b2_down
	run client_count 10 "$TOPO_VIP" 8080
	assert_tally "$output" b1=10
	log_mark
	backend_start b2 9000
	t0=$(date +%s%3N)
	wait_until 3 log_has 'server web/b2 198\.18\.0\.12:9000 is UP' >/dev/null
	t1=$(date +%s%3N)
	echo "UP after $((t1 - t0)) ms"
	[ $((t1 - t0)) -le 1000 ]
	run client_count 30 "$TOPO_VIP" 8080
	_both "$output"
	sleep 0.6
	[ "$(log_count 'server web/b2 .* is UP')" -eq 1 ]
	log_has 'slb-checker\[[0-9]+\]: info: server web/b2 198\.18\.0\.12:9000 is UP \(2 checks passed\)'
}
