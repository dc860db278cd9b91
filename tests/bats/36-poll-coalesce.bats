#!/usr/bin/env bats
# [global] poll_coalesce: a busy worker (half a core or more) that runs out
# of events waits on its own timer (clock_nanosleep) for a batch instead of
# being woken by each event in epoll_wait; idle, or at a rate far below
# saturation, it sleeps in epoll_wait; poll_coalesce = 0 turns the timed
# waits off. The waits are counted with a perf tracepoint, which, unlike
# strace, does not slow the worker it counts.
#
#   :80  http  group hb: b1:8000 (slb-test-http-backend); wrk -c64 or
#              h2load at a fixed rate in client

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

# _timed_waits SECONDS wrk|rate|idle: clock_nanosleep calls of the workers
# during SECONDS, under wrk -c64 (as fast as it goes), under h2load at a
# fixed 1280 requests/s in bursts of 64, or idle.
_timed_waits() {
	local out="$TOPO_DIR/nanosleep.perf" load=(sleep "$1")
	local url="http://$TOPO_VIP/"

	case $2 in
	wrk) load=(ip netns exec "$(topo_ns client)" timeout 30
		   wrk -t1 -c64 -d"$1"s --timeout 5s "$url") ;;
	rate) load=(ip netns exec "$(topo_ns client)" timeout 30
		    h2load --h1 -t1 -c64 --rps 20 -D "$1" "$url") ;;
	esac
	perf stat -x, -o "$out" -e syscalls:sys_enter_clock_nanosleep \
		-p "$(_workers | tr -s ' ' ',' | sed 's/,$//')" -- "${load[@]}" \
		</dev/null >"$TOPO_DIR/load.out" 2>&1 3>&-
	[ "$2" = idle ] || grep -Eq '^Requests/sec|^requests: .* 0 failed' "$TOPO_DIR/load.out" ||
		cat "$TOPO_DIR/load.out" >&2
	# perf prints "<not counted>" for a worker that never ran
	awk -F, '/clock_nanosleep/ { n += ($1 ~ /^[0-9]+$/) ? $1 : 0 } END { print n + 0 }' "$out"
}

@test "under load the workers wait for a batch on their timer; idle, they sleep in epoll_wait" {
	local waits
	_start 200us
	waits=$(_timed_waits 2 wrk)
	echo "timed waits under load: $waits"
	[ "$waits" -ge 10 ]
	# the load is gone: no timer keeps waking them
	waits=$(_timed_waits 1 idle)
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

@test "far below saturation the workers sleep in epoll_wait, even in bursts" {
	local waits
	_start 200us
	# 64 connections fire together 20 times a second: batches of 64 events,
	# a few percent of a core
	waits=$(_timed_waits 3 rate)
	echo "timed waits at 1280 requests/s: $waits"
	[ "$waits" -eq 0 ]
}
