#!/usr/bin/env bats
# The Prometheus endpoint (issue #6, metrics): slb-master serves GET /metrics
# at [global] metrics. Scraped with curl from the client namespace: the text
# parses, its values follow the traffic sent and the servers' health, other
# paths and methods get 404/405, garbage gets 400 and a close, slow or
# numerous clients are bounded, and the master survives all of it. A reload
# moves the endpoint, or keeps the old one if the new address cannot be bound;
# a start whose address cannot be bound fails with a clear message.
#
# The running file is $TOPO_DIR/slb.ini: slb_config_basic (listener web on
# the VIP :8080, wrr, group web = b1 weight 100 and b2 weight 50, tcp checks)
# with metrics on lb1's own address, port 9180.

# shellcheck disable=SC2016  # eval strings expand when evaluated
load helpers/topology
load helpers/client

setup_file() {
	topo_up
	backend_start b1 9000
	backend_start b2 9000
	_config 9180 >"$TOPO_DIR/slb.ini"
	slb_start "$TOPO_DIR/slb.ini"
}

teardown_file() {
	topo_down
}

setup() {
	slb_running_or_fail
	MX=$(topo_ip lb1):9180
}

# _config PORT: the base file with metrics on lb1's address, PORT.
_config() {
	slb_config_basic | sed "s/^metrics =.*/metrics = $(topo_ip lb1):$1/"
}

# _scrape: the body of GET /metrics from the client.
_scrape() { metrics_scrape client "$MX"; }

# _code ARGS...: the HTTP status curl gets from the client (000 = none).
_code() {
	topo_exec client curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" || true
}

# _raw BYTES [ADDR]: send BYTES (printf format) from the client, print the answer.
_raw() {
	local addr=${2:-$MX}
	topo_exec client timeout 10 bash -c 'printf "$1" | socat -t 8 -T 8 - "TCP:$2,connect-timeout=3"' \
		_raw "$1" "$addr" 2>/dev/null || true
}

# _srv METRIC SERVER: the series name of METRIC for web/SERVER.
_srv() {
	echo "$1{group=\"web\",server=\"$2\",address=\"$(topo_ip "$2"):9000\"}"
}

_lst() { echo "$1{listener=\"web\"}"; }

_up() { [ "$(metric_value client "$MX" "$(_srv slb_server_up "$1")")" = "${2:-1}" ]; }
_both_up() { _up b1 && _up b2; }

# _check_format TEXT: the Prometheus text format 0.0.4, strictly: HELP then
# TYPE once per family, before its samples, which are contiguous; every sample
# `name{label="value",...} value` with escaped label values and a numeric
# value; counters end in _total; every name starts with slb_.
_check_format() {
	awk '
	function fail(msg) { printf "line %d: %s: %s\n", NR, msg, $0; bad = 1 }
	/^# HELP / {
		if ($3 !~ /^slb_[a-z0-9_]+$/) fail("bad HELP name")
		if ($3 in help) fail("HELP twice"); help[$3] = 1; fam = $3; next }
	/^# TYPE / {
		if ($3 != fam) fail("TYPE not after its HELP")
		if ($4 !~ /^(counter|gauge)$/ || NF != 4) fail("bad TYPE")
		if ($4 == "counter" && $3 !~ /_total$/) fail("counter without _total")
		if ($3 in type) fail("TYPE twice"); type[$3] = $4; next }
	/^#/ { fail("unknown comment"); next }
	{
		if ($0 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")*\})? -?[0-9]+(\.[0-9]+)?$/)
			fail("not name{labels} value")
		name = $0; sub(/[{ ].*/, "", name)
		if (name != fam) fail("sample outside its family (" fam ")")
		if (!(name in type)) fail("sample without TYPE")
		samples++
	}
	END { if (samples == 0) { print "no samples"; bad = 1 } exit bad }' <<<"$1"
}

@test "GET /metrics: 200, text/plain version 0.0.4, Connection: close, a well-formed exposition" {
	local head body
	head=$(topo_exec client curl -s -D - -o /dev/null --max-time 5 "http://$MX/metrics")
	echo "$head"
	grep -E '^HTTP/1\.1 200 OK' <<<"$head"
	grep -iE '^Content-Type: text/plain; version=0\.0\.4' <<<"$head"
	grep -iE '^Connection: close' <<<"$head"
	body=$(_scrape)
	echo "$body" | head -n 40
	_check_format "$body"
	# Content-Length is the body's length.
	[ "$(grep -i '^Content-Length:' <<<"$head" | tr -dc 0-9)" -eq "$(_scrape | wc -c)" ]
	# Every family the design names is there.
	local f
	for f in slb_listener_connections_total slb_listener_active_connections \
		slb_listener_bytes_in_total slb_listener_bytes_out_total slb_listener_no_server_total \
		slb_listener_denied_total slb_listener_backup_active slb_server_connections_total slb_server_active_connections \
		slb_server_failed_connects_total slb_server_bytes_in_total slb_server_bytes_out_total \
		slb_server_up slb_server_weight slb_server_check_latency_seconds \
		slb_server_health_transitions_total slb_failover_state slb_failover_priority \
		slb_failover_transitions_total slb_failover_adverts_sent_total \
		slb_failover_adverts_received_total slb_failover_dropped_packets_total \
		slb_failover_sync_dropped_sessions_total \
		slb_failover_timer_late_max_seconds slb_failover_turn_cpu_max_seconds \
		slb_workers_alive slb_config_generation; do
		grep -E "^# TYPE $f (counter|gauge)\$" <<<"$body" >/dev/null || { echo "missing $f"; return 1; }
	done
	# HEAD: the same head, no body; a query string is the same path.
	[ -z "$(topo_exec client curl -sf -I --max-time 5 "http://$MX/metrics" | sed -n '/^\r$/,$p' | tail -n +2)" ]
	[ "$(_code "http://$MX/metrics?x=1")" = 200 ]
	# HTTP/1.0 works too.
	_raw 'GET /metrics HTTP/1.0\r\n\r\n' | grep -E '^slb_workers_alive 2'
}

@test "node: standalone holds its VIPs as master, workers alive, generation 0, drops by reason" {
	local body r
	body=$(_scrape)
	[ "$(metric_in "$body" 'slb_failover_state{state="master"}')" = 1 ]
	[ "$(metric_in "$body" 'slb_failover_state{state="backup"}')" = 0 ]
	[ "$(metric_in "$body" 'slb_failover_state{state="init"}')" = 0 ]
	[ "$(metric_in "$body" 'slb_failover_state{state="fault"}')" = 0 ]
	[ "$(metric_in "$body" slb_failover_enabled)" = 0 ]
	[ "$(metric_in "$body" slb_workers_alive)" = 2 ]
	[ "$(metric_in "$body" slb_config_generation)" = 0 ]
	metric_in "$body" slb_failover_timer_late_max_seconds | grep -E '^[0-9]+\.[0-9]{6}$'
	metric_in "$body" slb_failover_turn_cpu_max_seconds | grep -E '^[0-9]+\.[0-9]{6}$'
	# One series per drop reason of lib/vrrp.c, all zero here.
	for r in truncated bad_ip bad_ttl bad_version bad_type bad_checksum other_vrid bad_interval \
		bad_count auth_missing auth_unexpected auth_bad; do
		[ "$(metric_in "$body" "slb_failover_dropped_packets_total{reason=\"$r\"}")" = 0 ] ||
			{ echo "reason $r"; grep dropped <<<"$body"; return 1; }
	done
}

@test "values follow the traffic: 30 connections on the listener, the servers' 2:1 split, bytes" {
	local before after tally d1 d2
	wait_until 5 _both_up
	before=$(_scrape)
	tally=$(client_count 30 "$TOPO_VIP" 8080)
	echo "$tally"
	[ "$(tally_of fail "$tally")" -eq 0 ]
	wait_until 5 eval '[ "$(metric_value client "$MX" "$(_lst slb_listener_active_connections)")" = 0 ]'
	after=$(_scrape)
	_delta() { echo $(($(metric_in "$after" "$1") - $(metric_in "$before" "$1"))); }
	[ "$(_delta "$(_lst slb_listener_connections_total)")" -eq 30 ]
	d1=$(_delta "$(_srv slb_server_connections_total b1)")
	d2=$(_delta "$(_srv slb_server_connections_total b2)")
	echo "b1 +$d1 b2 +$d2"
	[ "$((d1 + d2))" -eq 30 ]
	[ "$d1" -eq "$(tally_of b1 "$tally")" ]
	[ "$d2" -eq "$(tally_of b2 "$tally")" ]
	within_pct "$d1" 20 10
	# What the backends sent ("b1\n") went out to the clients, byte for byte.
	[ "$(_delta "$(_lst slb_listener_bytes_out_total)")" -eq \
		"$(($(_delta "$(_srv slb_server_bytes_in_total b1)") + $(_delta "$(_srv slb_server_bytes_in_total b2)")))" ]
	[ "$(_delta "$(_lst slb_listener_bytes_out_total)")" -eq 90 ]
	[ "$(_delta "$(_lst slb_listener_no_server_total)")" -eq 0 ]
	[ "$(metric_in "$after" "$(_srv slb_server_active_connections b1)")" = 0 ]
	[ "$(metric_in "$after" "$(_srv slb_server_weight b1)")" = 100 ]
	[ "$(metric_in "$after" "$(_srv slb_server_weight b2)")" = 50 ]
	# tcp checks every 200 ms: a latency measured, in seconds.
	metric_in "$after" "$(_srv slb_server_check_latency_seconds b1)" | grep -E '^0\.[0-9]{6}$'
}

@test "a stopped backend shows slb_server_up 0 and one more transition; back, 1" {
	local before t0
	wait_until 5 _both_up
	before=$(_scrape)
	t0=$(metric_in "$before" "$(_srv slb_server_health_transitions_total b2)")
	backend_stop b2 9000
	wait_until 5 _up b2 0
	_up b1 1
	[ "$(metric_value client "$MX" "$(_srv slb_server_health_transitions_total b2)")" -eq $((t0 + 1)) ]
	backend_start b2 9000
	wait_until 5 _up b2 1
	[ "$(metric_value client "$MX" "$(_srv slb_server_health_transitions_total b2)")" -eq $((t0 + 2)) ]
}

@test "another path is 404, another method 405, a bad request 400, each closed at once" {
	[ "$(_code "http://$MX/")" = 404 ]
	[ "$(_code "http://$MX/metricsx")" = 404 ]
	[ "$(_code "http://$MX/metrics/")" = 404 ]
	[ "$(_code -X POST -d x=1 "http://$MX/metrics")" = 405 ]
	_raw 'DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n' | grep -iE '^Allow: GET, HEAD'
	local req out t0 t1
	for req in 'garbage\r\n\r\n' 'GET /metrics\r\n\r\n' 'GET /metrics HTTP/2.0\r\n\r\n' \
		'GET metrics HTTP/1.1\r\n\r\n' 'GET  /metrics HTTP/1.1\r\n\r\n' \
		'GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n' 'GET /metrics HTTP/1.1\r\nX: \001\r\n\r\n' \
		'GET /metrics HTTP/1.1\rX\r\n\r\n' 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' 'GET /metr'; do
		t0=$(date +%s%3N)
		out=$(_raw "$req")
		t1=$(date +%s%3N)
		echo "$req -> $(head -n1 <<<"$out") in $((t1 - t0)) ms"
		[[ $out == "HTTP/1.1 400 Bad Request"* ]]
		grep -iE '^Connection: close' <<<"$out" >/dev/null
		# socat ends when the master closes: well before its own 8 s.
		[ $((t1 - t0)) -lt 3000 ]
	done
	# A head longer than 8 KiB: 400, without waiting for its end.
	out=$(_raw "GET /metrics HTTP/1.1\\r\\nX-Long: $(head -c 9000 /dev/zero | tr '\0' a)\\r\\n\\r\\n")
	[[ $out == "HTTP/1.1 400 Bad Request"* ]]
	# Bare LF line ends are accepted.
	_raw 'GET /metrics HTTP/1.1\nHost: x\n\n' | grep -E '^HTTP/1\.1 200 OK'
}

@test "a client that sends nothing is closed after about 5 s" {
	run client_probe 9180 10 "$(topo_ip lb1)"
	echo "$output"
	[[ $output == eof* ]]
	local ms
	ms=$(awk '{ print $2 }' <<<"$output")
	[ "$ms" -ge 4500 ] && [ "$ms" -le 7000 ]
}

@test "80 idle clients: the oldest are dropped, a scrape still answers at once" {
	local pid
	# fd 3 closed: bats waits for every holder of fd 3 before it ends a test.
	ip netns exec "$(topo_ns client)" timeout 20 bash -c '
		for i in $(seq 80); do exec {fd}<>"/dev/tcp/$1/9180" || exit 1; done
		sleep 15' idle "$(topo_ip lb1)" </dev/null >/dev/null 2>&1 3>&- &
	pid=$!
	wait_until 5 eval '[ "$(topo_exec lb1 ss -Htn state established "sport = :9180" | wc -l)" -ge 64 ]'
	sleep 0.5
	[ "$(topo_exec lb1 ss -Htn state established "sport = :9180" | wc -l)" -le 64 ]
	_scrape | grep -E '^slb_workers_alive 2$'
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

@test "the master survives 200 garbage connections and still answers" {
	local pid workers
	pid=$(slb_pid)
	workers=$(pgrep -c -P "$pid")
	topo_exec client timeout 60 bash -c '
		one() {
			case $(($2 % 5)) in
			0) head -c $((RANDOM % 2000 + 1)) /dev/urandom ;;
			1) head -c 20000 /dev/urandom ;;
			2) printf "GET /%s HTTP/1.1\r\n\r\n" "$(head -c 3000 /dev/zero | tr "\0" x)" ;;
			3) printf "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" ;;
			4) : ;;
			esac | timeout 8 socat -t 2 -T 5 - "TCP:$1:9180,connect-timeout=3" >/dev/null 2>&1
		}
		for i in $(seq 200); do one "$1" "$i" & [ $((i % 40)) -eq 0 ] && wait; done
		wait' garbage "$(topo_ip lb1)"
	[ "$(slb_pid)" = "$pid" ]
	[ "$(pgrep -c -P "$pid")" -eq "$workers" ]
	_check_format "$(_scrape)"
	# The data path did not notice.
	[ "$(tally_of fail "$(client_count 5 "$TOPO_VIP" 8080)")" -eq 0 ]
}

@test "reload: a new address moves the endpoint; one that cannot be bound keeps the old one" {
	local holder
	log_mark
	_config 9181 >"$TOPO_DIR/slb.ini"
	slb_reload
	slb_wait_reloaded
	log_has 'slb-master\[[0-9]+\]: info: metrics: moved from [0-9.]+:9180 to http://[0-9.]+:9181/metrics'
	[ "$(_code "http://$MX/metrics")" = 000 ]
	metric_value client "$(topo_ip lb1):9181" slb_config_generation | grep -x 1

	# Something else holds 9182 in lb1's namespace.
	# fd 3 closed: bats waits for every holder of fd 3 before it ends a test.
	ip netns exec "$(topo_ns lb1)" timeout 60 socat "TCP-LISTEN:9182,bind=$(topo_ip lb1),reuseaddr,fork" \
		SYSTEM:true </dev/null >/dev/null 2>&1 3>&- &
	holder=$!
	wait_until 5 eval '[ -n "$(topo_exec lb1 ss -Hltn "sport = :9182")" ]'
	log_mark
	_config 9182 >"$TOPO_DIR/slb.ini"
	slb_reload
	slb_wait_reloaded
	log_has 'slb-master\[[0-9]+\]: error: metrics: cannot listen on [0-9.]+:9182: Address already in use; keeping [0-9.]+:9181'
	metric_value client "$(topo_ip lb1):9181" slb_config_generation | grep -x 2
	kill "$holder"
	wait "$holder" 2>/dev/null || true

	# Off, then back where it started.
	log_mark
	slb_config_basic >"$TOPO_DIR/slb.ini"
	slb_reload
	slb_wait_reloaded
	log_has 'metrics: turned off'
	[ "$(_code "http://$(topo_ip lb1):9181/metrics")" = 000 ]
	log_mark
	_config 9180 >"$TOPO_DIR/slb.ini"
	slb_reload
	slb_wait_reloaded
	metric_value client "$MX" slb_config_generation | grep -x 4
}

@test "start: an address that cannot be bound is a start error with a clear message" {
	local dir=$TOPO_DIR/m2
	mkdir -p "$dir" && chmod 0755 "$dir"
	cat >"$dir/slb.ini" <<EOF
[global]
instance = ${TOPO_ID}m2
workers = 1
user = slb
pid_file = $dir/slb.pid
control_socket = $dir/slb.sock
metrics = $MX

[listener other]
protocol = tcp
bind = $(topo_ip lb1):8181
group = web

[group web]
server.b1 = $(topo_ip b1):9000
check = none
EOF
	run topo_exec lb1 timeout 10 "$(slb_bin slb-master)" -f -c "$dir/slb.ini"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"metrics: cannot listen on $MX: Address already in use"* ]]
	# Nothing left behind, and the running master still serves.
	[ ! -e "$dir/slb.pid" ] && [ ! -e "$dir/slb.sock" ] && [ ! -e "/dev/shm/slb.${TOPO_ID}m2" ]
	[ -z "$(topo_exec lb1 ss -Hltn "sport = :8181")" ]
	_scrape >/dev/null
}

@test "stop closes the endpoint" {
	slb_stop
	[ -z "$(topo_exec lb1 ss -Hltn "sport = :9180")" ]
}
