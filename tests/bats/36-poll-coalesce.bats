#!/usr/bin/env bats
# [global] poll_coalesce: under load a worker that runs out of events waits
# on its own timer (clock_nanosleep) for a batch instead of being woken by
# each event in epoll_wait; idle, it sleeps in epoll_wait again;
# poll_coalesce = 0 turns the timed waits off.
#
#   :80  http  group hb: b1:8000 (slb-test-http-backend), wrk -c64 in client

load helpers/topology
load helpers/client
load helpers/http

_config() { # poll_coalesce value
	slb_config_basic | sed "s/^metrics =\$/metrics =\npoll_coalesce = $1/"
	cat <<EOF

[listener http]
protocol = http
bind = $TOPO_VIP:80
group = hb

[group hb]
server.b1 = $(topo_ip b1):8000
check = tcp
check_interval = 500ms
check_timeout = 200ms
EOF
}

setup_file() {
	topo_up
	backend_start b1 9000
	http_backend_start b1 8000
}

teardown_file() {
	topo_down
}

teardown() {
	slb_stop || true
}

# _start VALUE: slb with poll_coalesce = VALUE, serving.
_start() {
	_config "$1" >"$TOPO_DIR/slb.ini"
	slb_start "$TOPO_DIR/slb.ini"
	wait_until 5 eval '[ "$(http_curl -o /dev/null -w "%{http_code}" "http://$TOPO_VIP/")" = 200 ]'
}

_workers() { pgrep -P "$(slb_pid)" -x slb-worker | tr '\n' ' '; }

# _timed_waits SECONDS [wrk]: clock_nanosleep calls of the workers during
# SECONDS, under wrk -c64 or idle.
_timed_waits() {
	local trace="$TOPO_DIR/nanosleep.trace"
	# shellcheck disable=SC2046
	strace_start "$trace" clock_nanosleep $(_workers)
	if [ "${2:-}" = wrk ]; then
		ip netns exec "$(topo_ns client)" timeout 30 \
			wrk -t1 -c64 -d"$1"s --timeout 5s "http://$TOPO_VIP/" </dev/null >"$TOPO_DIR/wrk.out" 2>&1 3>&-
		grep -q '^Requests/sec' "$TOPO_DIR/wrk.out" || cat "$TOPO_DIR/wrk.out" >&2
	else
		sleep "$1"
	fi
	strace_stop
	grep -c 'clock_nanosleep(' "$trace" || true
}

@test "under load the workers wait for a batch on their timer; idle, they sleep in epoll_wait" {
	local waits
	_start 200us
	waits=$(_timed_waits 2 wrk)
	echo "timed waits under load: $waits"
	[ "$waits" -ge 10 ]
	# the load is gone: no timer keeps waking them
	waits=$(_timed_waits 1)
	echo "timed waits idle: $waits"
	[ "$waits" -eq 0 ]
}

@test "poll_coalesce = 0: no timed waits under the same load" {
	local waits
	_start 0
	waits=$(_timed_waits 2 wrk)
	echo "timed waits under load: $waits"
	[ "$waits" -eq 0 ]
}
