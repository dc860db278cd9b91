#!/usr/bin/env bats
# UDP listeners (issue #5): datagrams of one client address and port (a
# flow) go to one server, replies come back from VIP:port, many flows at
# once, a server that answers with ICMP port unreachable loses its flows to
# the other, idle_timeout ends a flow, acl, max_connections and source_ip
# persistence apply, and a reload keeps flows on their server.  One slb runs for the whole file:
#
#   5353 dns      wrr  group udp      b1:9053 w100, b2:9053 w50, check none
#   5354 idle     wrr  group udp      idle_timeout = 1s; a reload removes it
#                                       for a while
#   5355 refused  rr   group refused  b1:9053, b2:9054 (nothing listens)
#   5356 deny     wrr  group udp      acl_deny has the client's address
#   5357 any      wrr  group udp      bound to 0.0.0.0: replies from the address used
#   5358 max      wrr  group udp      max_connections = 2
#   5359 sticky   rr   group udp      persistence = source_ip
#   5360 single   wrr  group udp      } each used by one test only: a client port
#   5361 count    wrr  group udp      } reused from an earlier test's live flow
#                                       would be that flow, not a new one
#   5362 any6     wrr  group v6       bound to [::] (dual stack), server [::1]:9063
#                                       in lb1's own namespace
#   5363 checked  rr   group checked  b1:9053, b2:9055, check = udp
#   5364 lonely   wrr  group lonely   b2:9054 only (nothing listens), check none
#   5365 shrink   rr   group shrink   b1:9053, b2:9056; a reload removes b2
#   5366 linger   wrr  group udp      idle_timeout = 4s (outlives a reload)
#   5367 stream   wrr  group stream   b2:9057 (socat: ten answers 300 ms apart
#                                       to each datagram), idle_timeout = 1s
#   5368 again    wrr  group udp      idle_timeout = 10s; a reload removes it
#                                       and the next adds it back
#
# Clients are slb-test-udp-client: FLOWS sockets, each its own source port,
# one datagram per flow and round, one line "FLOW ROUND ANSWER SOURCE" each.

# shellcheck disable=SC2016  # eval strings expand when evaluated
load helpers/topology
load helpers/client

METRICS_PORT=9180

_config() {
	local b1 b2
	b1=$(topo_ip b1) b2=$(topo_ip b2)
	# The usual [global], [node] and [vip], without its tcp listener and group.
	# drain_timeout 12s: a generation is gone 12 s after the next one is ready.
	slb_config_basic | sed -e '/^\[listener web\]/,$d' -e "s/^metrics =.*/metrics = 127.0.0.1:$METRICS_PORT/" \
		-e '/^\[global\]/a drain_timeout = 12s'
	cat <<EOF

[listener dns]
protocol = udp
bind = $TOPO_VIP:5353
group = udp

[listener idle]
protocol = udp
bind = $TOPO_VIP:5354
group = udp
idle_timeout = 1s

[listener refused]
protocol = udp
bind = $TOPO_VIP:5355
group = refused
scheduler = rr

[listener deny]
protocol = udp
bind = $TOPO_VIP:5356
group = udp
acl_deny = 10.0.0.0/8, $(topo_ip client)/32

[listener any]
protocol = udp
bind = 0.0.0.0:5357
group = udp

[listener max]
protocol = udp
bind = $TOPO_VIP:5358
group = udp
max_connections = 2

[listener sticky]
protocol = udp
bind = $TOPO_VIP:5359
group = udp
scheduler = rr
persistence = source_ip

[listener single]
protocol = udp
bind = $TOPO_VIP:5360
group = udp

[listener count]
protocol = udp
bind = $TOPO_VIP:5361
group = udp

[listener any6]
protocol = udp
bind = [::]:5362
group = v6

[group v6]
server.b6 = [::1]:9063
check = none

[listener checked]
protocol = udp
bind = $TOPO_VIP:5363
group = checked
scheduler = rr

[group checked]
server.b1 = $b1:9053
server.b2 = $b2:9055
check = udp
check_interval = 200ms
check_timeout = 100ms
healthy_threshold = 2
unhealthy_threshold = 2

[listener lonely]
protocol = udp
bind = $TOPO_VIP:5364
group = lonely

[group lonely]
server.b2 = $b2:9054
check = none

[listener shrink]
protocol = udp
bind = $TOPO_VIP:5365
group = shrink
scheduler = rr

[group shrink]
server.b1 = $b1:9053
server.b2 = $b2:9056
check = none

[listener linger]
protocol = udp
bind = $TOPO_VIP:5366
group = udp
idle_timeout = 4s

[listener again]
protocol = udp
bind = $TOPO_VIP:5368
group = udp
idle_timeout = 10s

[listener stream]
protocol = udp
bind = $TOPO_VIP:5367
group = stream
idle_timeout = 1s

[group stream]
server.b2 = $b2:9057
check = none

[group udp]
server.b1 = $b1:9053 weight=100
server.b2 = $b2:9053 weight=50
check = none

[group refused]
server.b1 = $b1:9053
server.b2 = $b2:9054
check = none
EOF
}

setup_file() {
	topo_up
	backend_start b1 9053 udp
	backend_start b2 9053 udp
	backend_start b2 9055 udp
	backend_start b2 9056 udp
	# A server that goes on talking: ten answers 300 ms apart to each datagram.
	# fd 3 closed: bats waits for every holder of fd 3 before it ends a test.
	ip netns exec "$(topo_ns b2)" socat -T 10 UDP-RECVFROM:9057,bind="$(topo_ip b2)",fork \
		SYSTEM:'for i in 1 2 3 4 5 6 7 8 9 10; do echo b2; sleep 0.3; done' \
		</dev/null >"$TOPO_DIR/stream.log" 2>&1 3>&- &
	_pid_record "$TOPO_DIR/pids/backend.b2.9057" $!
	wait_until 5 _backend_bound b2 9057 -Huln
	# b2 answers every datagram to a closed port with an ICMP error, not
	# only the first few per second (the kernel's default rate limit).
	topo_exec b2 sysctl -qw net.ipv4.icmp_ratelimit=0
	# An IPv6 server on lb1's loopback (the topology is IPv4 only).
	# fd 3 closed: bats waits for every holder of fd 3 before it ends a test.
	ip netns exec "$(topo_ns lb1)" "$(backend_bin)" -l "[::1]:9063" -n b6 -m udp \
		</dev/null >"$TOPO_DIR/backend.b6.log" 2>&1 3>&- &
	_pid_record "$TOPO_DIR/pids/backend.lb1.9063" $!
	wait_until 5 _backend_bound lb1 9063 -Huln
	_config >"$TOPO_DIR/slb.ini"
	slb_start "$TOPO_DIR/slb.ini"
}

teardown_file() {
	topo_down
}

setup() {
	slb_running_or_fail
}

# _ctl ARGS...: slbctl against this run's master.
_ctl() { "$(slb_bin slbctl)" -s "$TOPO_DIR/lb1/slb.sock" "$@"; }

# _listener NAME FIELD: a counter of listener NAME from describe --json.
_listener() {
	_ctl --json describe | jq -e --arg l "$1" --arg f "$2" '.listeners[] | select(.name == $l) | .[$f]'
}

# _server GROUP NAME FIELD: a counter of server GROUP/NAME from describe --json.
_server() {
	_ctl --json describe | jq -e --arg g "$1" --arg s "$2" --arg f "$3" \
		'.groups[] | select(.name == $g) | .servers[] | select(.name == $s) | .[$f]'
}

# _answers OUTPUT: tally of the ANSWER column ("b1 N\nb2 M", "fail N").
_answers() { awk '{ print $3 }' <<<"$1" | sort | uniq -c | awk '{ print $2, $1 }'; }

@test "wrr: 300 flows at once split 2:1 as the weights say, all answered from VIP:port" {
	run udp_client -t "$TOPO_VIP:5353" -f 300 -w 3000
	[ "$status" -eq 0 ]
	local tally
	tally=$(_answers "$output")
	echo "$tally"
	[ "$(wc -l <<<"$output")" -eq 300 ]
	[ "$(tally_of fail "$tally")" -eq 0 ]
	within_pct "$(tally_of b1 "$tally")" 200 10
	within_pct "$(tally_of b2 "$tally")" 100 10
	# Every reply's source is the VIP and the listener's port.
	[ "$(awk '{ print $4 }' <<<"$output" | sort -u)" = "$TOPO_VIP:5353" ]
}

@test "one flow keeps its server over 100 datagrams, through both workers" {
	local before after
	run udp_client -t "$TOPO_VIP:5360" -f 1 -c 100
	[ "$status" -eq 0 ]
	_answers "$output"
	[ "$(awk '{ print $3 }' <<<"$output" | sort -u | wc -l)" -eq 1 ]
	[ "$(tally_of fail "$(_answers "$output")")" -eq 0 ]
	[ "$(_listener single total)" -eq 1 ]
}

@test "50 flows at once, 5 datagrams each: every one answered, each flow on one server" {
	run udp_client -t "$TOPO_VIP:5353" -f 50 -c 5
	[ "$status" -eq 0 ]
	[ "$(wc -l <<<"$output")" -eq 250 ]
	[ "$(tally_of fail "$(_answers "$output")")" -eq 0 ]
	# One distinct answer per flow.
	[ "$(awk '{ print $1, $3 }' <<<"$output" | sort -u | wc -l)" -eq 50 ]
	# Both servers took part.
	[ "$(tally_of b1 "$(_answers "$output")")" -gt 0 ]
	[ "$(tally_of b2 "$(_answers "$output")")" -gt 0 ]
}

@test "flows and bytes are counted on the listener and the servers" {
	local b1 b2
	b1=$(_server udp b1 total)
	b2=$(_server udp b2 total)
	run udp_client -t "$TOPO_VIP:5361" -f 10 -c 2
	[ "$status" -eq 0 ]
	[ "$(tally_of fail "$(_answers "$output")")" -eq 0 ]
	[ "$(_listener count total)" -eq 10 ]
	[ "$(($(_server udp b1 total) + $(_server udp b2 total) - b1 - b2))" -eq 10 ]
	# 20 datagrams "ping\n" in, 20 answers "bN\n" out.
	[ "$(_listener count bytes_in)" -eq 100 ]
	[ "$(_listener count bytes_out)" -eq 60 ]
	[ "$(_listener count active)" -ge 10 ]
}

@test "slbctl sessions lists a listener's flows: client address and port, server, time left" {
	local j
	j=$(_ctl --json sessions single)
	echo "$j"
	[ "$(jq '.count' <<<"$j")" -eq 1 ]
	jq -e --arg c "$(topo_ip client)" '.sessions[0] | .protocol == "udp" and
		(.client | test("^" + $c + ":[0-9]+$")) and .group == "udp" and
		(.server == "b1" or .server == "b2") and .expires_in_ms > 0' <<<"$j"
}

@test "a server with no listener: its flows move to the other server, counted as failed" {
	local failed
	failed=$(_server refused b2 failed)
	run udp_client -t "$TOPO_VIP:5355" -f 20 -c 3 -w 1500
	[ "$status" -eq 0 ]
	echo "$output"
	# Round 0: rr sends about half the flows to b2, where nothing listens.
	[ "$(awk '$2 == 0 && $3 == "fail"' <<<"$output" | wc -l)" -gt 0 ]
	# The ICMP error moved them: rounds 1 and 2 are all answered by b1.
	[ "$(awk '$2 > 0 { print $3 }' <<<"$output" | sort -u)" = b1 ]
	[ "$(_server refused b2 failed)" -gt "$failed" ]
}

@test "a refused flow with no other server to go to ends, and its session with it" {
	run udp_client -t "$TOPO_VIP:5364" -f 3 -w 500
	[ "$status" -eq 0 ]
	assert_tally "$(_answers "$output")" fail=3
	wait_until 2 eval '[ "$(_listener lonely active)" -eq 0 ]'
	[ "$(_ctl --json sessions lonely | jq '.count')" -eq 0 ]
	[ "$(_server lonely b2 failed)" -ge 3 ]
}

@test "a server the checker marks down loses its flows before they send to it again" {
	local out=$TOPO_DIR/down.out pid
	# fd 3 closed: bats waits for every holder of fd 3 before it ends a test.
	udp_client -t "$TOPO_VIP:5363" -f 10 -c 2 -i 6000 -w 1000 >"$out" 3>&- &
	pid=$!
	sleep 1
	log_mark
	backend_stop b2 9055
	# Round 1 comes 6 s after round 0: the verdict is due well before.
	health_wait checked/b2 DOWN 4
	wait "$pid"
	cat "$out"
	# Round 0: rr gave both servers flows, every one answered.
	[ "$(awk '$2 == 0 && $3 == "b2"' "$out" | wc -l)" -gt 0 ]
	[ "$(awk '$2 == 0 && $3 == "fail"' "$out" | wc -l)" -eq 0 ]
	# Round 1: the same flows, all on b1, none lost on the way (a flow still
	# sent to b2 would lose that datagram to the port unreachable).
	[ "$(awk '$2 == 1 { print $3 }' "$out" | sort -u)" = b1 ]
}

@test "idle_timeout: a flow lives while it has traffic and ends 1 s after it stops" {
	local before out=$TOPO_DIR/idle.out pid
	before=$(_listener idle total)
	# Seven datagrams 400 ms apart: one flow, alive while they come.
	# fd 3 closed: bats waits for every holder of fd 3 before it ends a test.
	udp_client -t "$TOPO_VIP:5354" -f 1 -c 7 -i 400 >"$out" 3>&- &
	pid=$!
	sleep 1
	[ "$(_listener idle active)" -ge 1 ]
	wait "$pid"
	[ "$(tally_of fail "$(_answers "$(cat "$out")")")" -eq 0 ]
	[ "$(($(_listener idle total) - before))" -eq 1 ]
	wait_until 3 eval '[ "$(_listener idle active)" -eq 0 ]'
	# Two datagrams from one socket 2.5 s apart: the second starts a new flow.
	before=$(_listener idle total)
	run udp_client -t "$TOPO_VIP:5354" -f 1 -c 2 -i 2500
	[ "$status" -eq 0 ]
	[ "$(tally_of fail "$(_answers "$output")")" -eq 0 ]
	[ "$(($(_listener idle total) - before))" -eq 2 ]
}

@test "idle_timeout: a flow whose server goes on talking stays, in the session table too" {
	run udp_client -t "$TOPO_VIP:5367" -f 1
	[ "$status" -eq 0 ]
	assert_tally "$(_answers "$output")" b2=1
	# The client sent once; the server answers for 3 s; idle_timeout is 1 s.
	sleep 2.2
	[ "$(_listener stream active)" -eq 1 ]
	[ "$(_ctl --json sessions stream | jq '.count')" -eq 1 ]
	wait_until 4 eval '[ "$(_listener stream active)" -eq 0 ]'
	[ "$(_ctl --json sessions stream | jq '.count')" -eq 0 ]
}

@test "acl_deny: the client gets no answer, its datagrams are counted as denied" {
	local denied
	denied=$(_listener deny denied)
	run udp_client -t "$TOPO_VIP:5356" -f 3 -w 300
	[ "$status" -eq 0 ]
	assert_tally "$(_answers "$output")" fail=3
	[ "$(($(_listener deny denied) - denied))" -eq 3 ]
	[ "$(_listener deny total)" -eq 0 ]
}

@test "max_connections: 2 flows at most, the others are denied" {
	run udp_client -t "$TOPO_VIP:5358" -f 5 -w 1000
	[ "$status" -eq 0 ]
	echo "$output"
	[ "$(tally_of fail "$(_answers "$output")")" -eq 3 ]
	[ "$(_listener max total)" -eq 2 ]
	[ "$(_listener max denied)" -eq 3 ]
}

@test "persistence = source_ip: every flow of one client address goes to one server" {
	# rr alone would split these 30 flows 15/15.
	run udp_client -t "$TOPO_VIP:5359" -f 30 -c 2
	[ "$status" -eq 0 ]
	_answers "$output"
	[ "$(tally_of fail "$(_answers "$output")")" -eq 0 ]
	[ "$(awk '{ print $3 }' <<<"$output" | sort -u | wc -l)" -eq 1 ]
	[ "$(_listener sticky total)" -eq 30 ]
}

@test "a listener on 0.0.0.0 answers from the address the client used" {
	run udp_client -t "$TOPO_VIP:5357" -f 5
	[ "$status" -eq 0 ]
	[ "$(tally_of fail "$(_answers "$output")")" -eq 0 ]
	[ "$(awk '{ print $4 }' <<<"$output" | sort -u)" = "$TOPO_VIP:5357" ]
	run udp_client -t "$(topo_ip lb1):5357" -f 5
	[ "$status" -eq 0 ]
	[ "$(tally_of fail "$(_answers "$output")")" -eq 0 ]
	[ "$(awk '{ print $4 }' <<<"$output" | sort -u)" = "$(topo_ip lb1):5357" ]
}

@test "a listener on [::]: IPv6 clients, and IPv4 ones as mapped addresses, answered from the address used" {
	local bin
	run udp_client -t "$TOPO_VIP:5362" -f 3
	[ "$status" -eq 0 ]
	echo "$output"
	assert_tally "$(_answers "$output")" b6=3
	[ "$(awk '{ print $4 }' <<<"$output" | sort -u)" = "$TOPO_VIP:5362" ]
	bin=$(tool_bin slb-test-udp-client)
	run topo_exec lb1 timeout 30 "$bin" -t "[::1]:5362" -f 3
	[ "$status" -eq 0 ]
	echo "$output"
	assert_tally "$(_answers "$output")" b6=3
	[ "$(awk '{ print $4 }' <<<"$output" | sort -u)" = "[::1]:5362" ]
}

@test "reload: a flow keeps its server through the new generation" {
	local out=$TOPO_DIR/reload.out pid
	# fd 3 closed: bats waits for every holder of fd 3 before it ends a test.
	udp_client -t "$TOPO_VIP:5353" -f 1 -c 8 -i 250 >"$out" 3>&- &
	pid=$!
	sleep 0.6
	log_mark
	slb_reload
	slb_wait_reloaded
	wait "$pid"
	cat "$out"
	[ "$(wc -l <"$out")" -eq 8 ]
	[ "$(tally_of fail "$(_answers "$(cat "$out")")")" -eq 0 ]
	[ "$(awk '{ print $3 }' "$out" | sort -u | wc -l)" -eq 1 ]
}

@test "reload: a server removed from the group loses its flows, none lost on the way" {
	local out=$TOPO_DIR/shrink.out pid
	# fd 3 closed: bats waits for every holder of fd 3 before it ends a test.
	udp_client -t "$TOPO_VIP:5365" -f 10 -c 2 -i 6000 -w 1000 >"$out" 3>&- &
	pid=$!
	sleep 1
	sed -i "/:9056\$/d" "$TOPO_DIR/slb.ini"
	log_mark
	slb_reload
	slb_wait_reloaded
	wait "$pid"
	cat "$out"
	[ "$(awk '$2 == 0 && $3 == "b2"' "$out" | wc -l)" -gt 0 ]
	[ "$(awk '$2 == 0 && $3 == "fail"' "$out" | wc -l)" -eq 0 ]
	# b2 still answers on 9056: only slb can have moved these flows.
	[ "$(awk '$2 == 1 { print $3 }' "$out" | sort -u)" = b1 ]
}

# _reload_gen: reloads, prints the new generation's number.
_reload_gen() {
	log_mark
	slb_reload
	slb_wait_reloaded >&2 || return 1
	_log_text | sed -n 's/.*reloaded .* (generation \([0-9]*\)).*/\1/p' | tail -n1
}

# _flow_answered PORT: one new flow to VIP:PORT gets its answer.
_flow_answered() {
	run udp_client -t "$TOPO_VIP:$1" -f 1
	[ "$status" -eq 0 ]
	[ "$(tally_of fail "$(_answers "$output")")" -eq 0 ]
}

# _listener_remove NAME: reloads without [listener NAME]; _listener_restore
# NAME reloads with it again.
_listener_remove() {
	cp "$TOPO_DIR/slb.ini" "$TOPO_DIR/$1.ini"
	sed -i "/^\[listener $1\]/,/^\$/d" "$TOPO_DIR/slb.ini"
	log_mark
	slb_reload
	slb_wait_reloaded
}

_listener_restore() {
	cp "$TOPO_DIR/$1.ini" "$TOPO_DIR/slb.ini"
	log_mark
	slb_reload
	slb_wait_reloaded
}

@test "reload: an old worker keeps its udp flows until they are idle, then exits" {
	local gen
	# A generation whose workers carry nothing but the flow below.
	gen=$(_reload_gen)
	_flow_answered 5366
	log_mark
	slb_reload
	slb_wait_reloaded
	log_has "worker [0-9]+ \(generation $gen\) draining 0 connections, 1 udp flows"
	# idle_timeout is 4 s there; drain_timeout (12 s) is not what ends them.
	wait_until 8 eval '[ "$(log_count "slb-worker [0-9]+ \(generation $gen, pid [0-9]+\) exited with status 0")" -eq 2 ]'
	log_lacks 'did not drain in time'
}

@test "reload: a udp listener removed is closed once the workers that drained its flows are gone" {
	_flow_answered 5354
	_listener_remove idle
	# Unbound once every older generation, which held it too, is gone.
	wait_until 16 eval '[ -z "$(topo_exec lb1 ss -Huln "sport = :5354")" ]'
	run udp_client -t "$TOPO_VIP:5354" -f 1 -w 300
	[ "$(tally_of fail "$(_answers "$output")")" -eq 1 ]
	_listener_restore idle
}

@test "reload: a udp listener removed, then added back while old workers drain its flows, serves at once" {
	local gen
	# A flow on 5368 keeps one worker of this generation, and the listener's
	# socket with it, for its idle_timeout (10 s) after the reload below.
	gen=$(_reload_gen)
	_flow_answered 5368
	_listener_remove again
	log_has "worker [0-9]+ \(generation $gen\) draining 0 connections, 1 udp flows"

	_listener_restore again
	run udp_client -t "$TOPO_VIP:5368" -f 5
	[ "$status" -eq 0 ]
	echo "$output"
	[ "$(tally_of fail "$(_answers "$output")")" -eq 0 ]
	[ "$(awk '{ print $4 }' <<<"$output" | sort -u)" = "$TOPO_VIP:5368" ]
	log_lacks 'reload failed'
	# All of that while the worker holding the old flow still drains.
	ps -eo args= | awk -v g="$gen" -v f="$TOPO_DIR/slb.ini" \
		'$1 == "slb-worker" && $3 == g && $7 == f { n++ } END { exit !n }'
}

@test "/metrics: the udp listener's flows, bytes and denials" {
	local m
	m=$(metrics_scrape lb1 "127.0.0.1:$METRICS_PORT")
	grep -E '^slb_listener_(connections|bytes_in|denied)_total' <<<"$m"
	[ "$(metric_in "$m" 'slb_listener_connections_total{listener="dns"}')" -ge 1 ]
	[ "$(metric_in "$m" 'slb_listener_bytes_in_total{listener="dns"}')" -ge 1 ]
	[ "$(metric_in "$m" 'slb_listener_denied_total{listener="deny"}')" -ge 1 ]
}
