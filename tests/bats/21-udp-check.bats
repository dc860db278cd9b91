#!/usr/bin/env bats
# check = udp (issue #5): a datagram to the server's check port must be
# answered within check_timeout.  One slb runs for the whole file
# (slb_config_basic plus):
#
#   8097 uc   group uc: b1:9700, b2:9700 (tcp backends), wrr, check = udp on
#             check_port 9701, where udp backends answer with their name
#   group silent (no listener): b1:9703, check = udp, where a socat reads
#             every datagram and never answers
#
# Checks every 200ms, timeout 100ms, thresholds 2.

# shellcheck disable=SC2016  # eval and bash -c strings expand later, on purpose
load helpers/topology
load helpers/client

_config() {
	local checks
	checks=$(config_checks udp)
	slb_config_basic
	cat <<EOF2

[listener uc]
protocol = tcp
bind = $TOPO_VIP:8097
group = uc

[group uc]
server.b1 = $(topo_ip b1):9700
server.b2 = $(topo_ip b2):9700
$checks
check_port = 9701

[group silent]
server.s1 = $(topo_ip b1):9703
$checks
EOF2
}

setup_file() {
	topo_up
	backend_start b1 9000
	backend_start b2 9000
	backend_start b1 9700
	backend_start b2 9700
	backend_start b1 9701 udp
	backend_start b2 9701 udp
	# Reads every datagram, answers none (and so sends no ICMP error either).
	ip netns exec "$(topo_ns b1)" socat -u UDP-RECV:9703 OPEN:/dev/null \
		</dev/null >"$TOPO_DIR/silent.log" 2>&1 3>&- &
	_pid_record "$TOPO_DIR/pids/backend.b1.9703" $!
	wait_until 5 _backend_bound b1 9703 -Huln
	_config >"$TOPO_DIR/slb.ini"
	slb_start "$TOPO_DIR/slb.ini"
}

teardown_file() {
	topo_down
}

setup() {
	slb_running_or_fail
}

# _b2_udp_up: b2's udp backend runs and b2 is marked up.
_b2_udp_up() {
	if [ -z "$(backend_pid b2 9701)" ]; then
		log_mark
		backend_start b2 9701 udp
		health_wait uc/b2 UP 5
	fi
}

@test "udp check: servers whose check port answers are up and get traffic" {
	_b2_udp_up
	sleep 0.6
	run client_count 20 "$TOPO_VIP" 8097
	echo "$output"
	[ "$(tally_of b1 "$output")" -ge 5 ]
	[ "$(tally_of b2 "$output")" -ge 5 ]
	[ "$(tally_of fail "$output")" -eq 0 ]
	log_lacks 'server uc/.* is DOWN'
}

@test "udp check: a stopped udp backend (ICMP port unreachable) is down within interval x threshold; back when started" {
	local t0 t1
	_b2_udp_up
	log_mark
	backend_stop b2 9701
	t0=$(date +%s%3N)
	wait_until 3 log_has 'server uc/b2 198\.18\.0\.12:9701 is DOWN' >/dev/null
	t1=$(date +%s%3N)
	echo "DOWN after $((t1 - t0)) ms"
	# 2 x 200ms, up to one interval to the first failing probe, polling.
	[ $((t1 - t0)) -le 1000 ]
	log_has 'slb-checker\[[0-9]+\]: warning: server uc/b2 198\.18\.0\.12:9701 is DOWN \(2 checks failed, last: Connection refused\)'
	# b2's TCP service still runs: the udp check alone took it out.
	run client_count 20 "$TOPO_VIP" 8097
	assert_tally "$output" b1=20

	log_mark
	backend_start b2 9701 udp
	health_wait uc/b2 UP 3
	run client_count 20 "$TOPO_VIP" 8097
	[ "$(tally_of b2 "$output")" -ge 5 ]
	[ "$(log_count 'server uc/b2 .* is (UP|DOWN)')" -eq 1 ]
}

@test "udp check: a server that receives but never answers is down (timeout)" {
	log_has 'slb-checker\[[0-9]+\]: warning: server silent/s1 198\.18\.0\.11:9703 is DOWN \(2 checks failed, last: Connection timed out\)'
	log_lacks 'server silent/s1 .* is UP'
}
