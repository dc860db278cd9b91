#!/usr/bin/env bats
# Zero-drop reload (issue #6): wrk keeps an HTTP and a TCP listener busy
# while slb reloads twenty times, ten on SIGHUP and ten through `slbctl
# reload`: not one request fails, not one connection is reset, and the old
# workers exit as soon as their connections are gone, within drain_timeout.
# Also the drain deadline (slbctl server set ... drain=D) on the HTTP listener.
#
#   :80    http  group hb: b1:8000, b2:8000 (slb-test-http-backend, keep-alive)
#   :8083  tcp   the same group, HTTP carried as bytes: wrk's keep-alive
#                connections stay with the worker that accepted them, so the
#                old workers hold them until wrk closes them at its end

load helpers/topology
load helpers/client
load helpers/http

_config() {
	slb_config_basic | sed 's/^metrics =$/metrics =\ndrain_timeout = 120s/'
	cat <<EOF

[listener http]
protocol = http
bind = $TOPO_VIP:80
group = hb

[listener tcpweb]
protocol = tcp
bind = $TOPO_VIP:8083
group = hb

[group hb]
server.b1 = $(topo_ip b1):8000
server.b2 = $(topo_ip b2):8000
check = tcp
check_interval = 500ms
check_timeout = 200ms
EOF
}

setup_file() {
	topo_up
	backend_start b1 9000
	backend_start b2 9000
	http_backend_start b1 8000
	http_backend_start b2 8000
	_config >"$TOPO_DIR/slb.ini"
	slb_start "$TOPO_DIR/slb.ini"
	wait_until 5 eval '[ "$(http_curl -o /dev/null -w "%{http_code}" "http://$TOPO_VIP/")" = 200 ]'
}

teardown_file() {
	topo_down
}

setup() {
	slb_running_or_fail
}

# _wrk PORT SECONDS OUT: wrk in the client namespace, in the background
# (pid appended to WRK_PIDS), 4 connections, its report in OUT.
_wrk() {
	# fd 3 closed: bats waits for every holder of fd 3 before it ends a test.
	ip netns exec "$(topo_ns client)" timeout "$(($2 + 30))" \
		wrk -t1 -c4 -d"$2"s --timeout 5s "http://$TOPO_VIP:$1/" </dev/null >"$3" 2>&1 3>&- &
	WRK_PIDS+=($!)
}

# _workers: the master's slb-worker children now.
_workers() { ps --ppid "$(slb_pid)" -o comm= | grep -c '^slb-worker$'; }

@test "twenty reloads under wrk (HTTP and TCP): zero failed requests, zero resets, old workers exit" {
	local i sock=$TOPO_DIR/lb1/slb.sock t0 t1 f
	WRK_PIDS=()
	_wrk 80 20 "$TOPO_DIR/wrk.http"
	_wrk 8083 20 "$TOPO_DIR/wrk.tcp"
	t0=$(date +%s)
	sleep 2
	for i in $(seq 10); do
		log_mark
		slb_reload
		slb_wait_reloaded 10
		log_mark
		"$(slb_bin slbctl)" -s "$sock" reload
		slb_wait_reloaded 10
		sleep 0.3
	done
	t1=$(date +%s)
	echo "20 reloads in $((t1 - t0 - 2)) s"
	# Every reload happened while wrk was running.
	[ "$((t1 - t0))" -lt 19 ]
	wait "${WRK_PIDS[@]}"
	for f in wrk.http wrk.tcp; do
		echo "--- $f"
		cat "$TOPO_DIR/$f"
		grep -E '^ +[0-9]+ requests in ' "$TOPO_DIR/$f"
		[ "$(awk '/ requests in / { print $1 }' "$TOPO_DIR/$f")" -ge 100 ]
		# wrk prints these lines only when something went wrong.
		! grep -E 'Socket errors|Non-2xx' "$TOPO_DIR/$f" || false
	done
	# wrk has closed its connections: the old workers have none left and go.
	wait_until 10 eval '[ "$(_workers)" -eq 2 ]'
	log_clear_mark
	log_lacks 'did not drain in time'
}

@test "drain on the HTTP listener: a request still waiting on a drained server is closed at the deadline" {
	local sock=$TOPO_DIR/lb1/slb.sock out t0 t1
	_c() { "$(slb_bin slbctl)" -s "$sock" "$@"; }
	_active() { _c --json health | jq -r '.servers[] | select(.group == "hb" and .name == "b1") | .active'; }
	_c server set hb b2 weight=0
	log_mark
	t0=$(date +%s%3N)
	# /slow answers after 3 s; the drain ends it after 1 s.
	http_curl -o /dev/null -w '%{http_code}\n' "http://$TOPO_VIP/slow" >"$TOPO_DIR/slow.out" 2>&1 &
	wait_until 2 eval '[ "$(_active)" = 1 ]'
	run _c server set hb b1 weight=0 drain=1s
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"1 connections open, closed at "* ]]
	wait $! || true
	t1=$(date +%s%3N)
	cat "$TOPO_DIR/slow.out"
	echo "ended after $((t1 - t0)) ms"
	[ "$((t1 - t0))" -lt 2800 ]
	! grep -qx 200 "$TOPO_DIR/slow.out" || false
	log_wait 'worker [0-9]+: closed 1 connections to drained servers' 3
	[ "$(_active)" = 0 ]
	_c server set hb b1 weight=100
	_c server set hb b2 weight=100
	[ "$(http_curl -o /dev/null -w '%{http_code}' "http://$TOPO_VIP/")" = 200 ]
}
