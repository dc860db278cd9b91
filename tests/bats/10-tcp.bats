#!/usr/bin/env bats
# TCP load balancing through slb with real clients (issue #2): schedulers and
# weights, half-close, bulk transfer, connect retry and connect_timeout, no
# server up, idle_timeout and acl_deny.  One slb runs for the whole file with
# one listener per behaviour, all on the VIP:
#
#   8080 web      wrr   group web   b1:9000 w100, b2:9000 w50 (slb_config_basic)
#   8081 w0       wrr   group w0    b1:9000 w100, b2:9000 w0
#   8082 rr       rr    group web
#   8083 wlc      wlc   group hold  b1:9100, b2:9100 (drain backends), w100 each
#   8084 drain    rr    group hold
#   8085 retry    wrr   group nocheck  b1:9000, b2:9009 (nothing listens), check none
#   8086 dead     wrr   group dead  two addresses nobody owns, tcp checks
#   8087 idle     wrr   group hold, idle_timeout = 1s
#   8088 deny     wrr   group web, acl_deny has the client's address
#   8089 deny_other     like deny, acl_deny without the client's address
#   8090 ctimeout wrr   group blackhole: an address nobody owns + b1:9000,
#                       check none, connect_timeout = 200ms
#   8091 down     wrr   group down: b2:9200 (socat writing 20 MB), check none
#   8092 max      wrr   group hold, max_connections = 2
#   8093 sh       sh    group hash  b1:9300, b2:9300 w100 each, tcp checks
#   8094 ch       ch    group hash
#
# sh and ch have a group of their own so that stopping one of its servers
# does not disturb the listeners of group web.

# shellcheck disable=SC2016  # eval and bash -c strings expand later, on purpose
load helpers/topology
load helpers/client

# Addresses in the topology's subnet that nobody owns: SYNs go nowhere.
BLACKHOLE1=198.18.0.99
BLACKHOLE2=198.18.0.98
BLACKHOLE3=198.18.0.97
BULK=20000000

_config() {
	local b1 b2 checks
	b1=$(topo_ip b1) b2=$(topo_ip b2)
	checks='check = tcp
check_interval = 200ms
check_timeout = 100ms
healthy_threshold = 2
unhealthy_threshold = 2'
	slb_config_basic
	cat <<EOF

[listener w0]
protocol = tcp
bind = $TOPO_VIP:8081
group = w0
scheduler = wrr

[group w0]
server.b1 = $b1:9000 weight=100
server.b2 = $b2:9000 weight=0
$checks

[listener rr]
protocol = tcp
bind = $TOPO_VIP:8082
group = web
scheduler = rr

[listener wlc]
protocol = tcp
bind = $TOPO_VIP:8083
group = hold
scheduler = wlc

[listener drain]
protocol = tcp
bind = $TOPO_VIP:8084
group = hold
scheduler = rr

[group hold]
server.b1 = $b1:9100 weight=100
server.b2 = $b2:9100 weight=100
$checks

[listener retry]
protocol = tcp
bind = $TOPO_VIP:8085
group = nocheck
scheduler = wrr

[group nocheck]
server.b1 = $b1:9000 weight=100
server.b2 = $b2:9009 weight=100
check = none

[listener dead]
protocol = tcp
bind = $TOPO_VIP:8086
group = dead

[group dead]
server.x1 = $BLACKHOLE2:9000
server.x2 = $BLACKHOLE3:9000
$checks

[listener idle]
protocol = tcp
bind = $TOPO_VIP:8087
group = hold
idle_timeout = 1s

[listener deny]
protocol = tcp
bind = $TOPO_VIP:8088
group = web
acl_deny = 10.0.0.0/8, $(topo_ip client)/32

[listener deny_other]
protocol = tcp
bind = $TOPO_VIP:8089
group = web
acl_deny = 10.0.0.0/8, $(topo_ip lb2)/32

[listener ctimeout]
protocol = tcp
bind = $TOPO_VIP:8090
group = blackhole
connect_timeout = 200ms

[group blackhole]
server.void = $BLACKHOLE1:9000 weight=100
server.b1 = $b1:9000 weight=100
check = none

[listener down]
protocol = tcp
bind = $TOPO_VIP:8091
group = down

[group down]
server.b2 = $b2:9200
check = none

[listener max]
protocol = tcp
bind = $TOPO_VIP:8092
group = hold
max_connections = 2

[listener sh]
protocol = tcp
bind = $TOPO_VIP:8093
group = hash
scheduler = sh

[listener ch]
protocol = tcp
bind = $TOPO_VIP:8094
group = hash
scheduler = ch

[group hash]
server.b1 = $b1:9300 weight=100
server.b2 = $b2:9300 weight=100
$checks
EOF
}

setup_file() {
	topo_up
	backend_start b1 9000
	backend_start b2 9000
	backend_start b1 9100 drain
	backend_start b2 9100 drain
	backend_start b1 9300
	backend_start b2 9300
	# A server that writes 20 MB to each connection, then closes.
	ip netns exec "$(topo_ns b2)" socat TCP-LISTEN:9200,bind="$(topo_ip b2)",reuseaddr,fork \
		EXEC:"head -c $BULK /dev/zero" </dev/null >"$TOPO_DIR/bulk.log" 2>&1 3>&- &
	_pid_record "$TOPO_DIR/pids/backend.b2.9200" $!
	wait_until 5 _backend_bound b2 9200 -Hltn
	_config >"$TOPO_DIR/slb.ini"
	slb_start "$TOPO_DIR/slb.ini"
}

teardown_file() {
	topo_down
}

setup() {
	slb_running_or_fail
}

@test "wrr: 300 connections split 2:1 as the weights 100/50 say, none fails" {
	local t0=$SECONDS
	run client_count 300 "$TOPO_VIP" 8080
	[ "$status" -eq 0 ]
	# Each answer and close must pass through at once: a close stuck in
	# the proxy shows here as clients waiting for their own timeout.
	[ $((SECONDS - t0)) -lt 60 ]
	echo "$output"
	[ "$(tally_of fail "$output")" -eq 0 ]
	[ "$(($(tally_of b1 "$output") + $(tally_of b2 "$output")))" -eq 300 ]
	within_pct "$(tally_of b1 "$output")" 200 10
	within_pct "$(tally_of b2 "$output")" 100 10
}

@test "a server that answers and closes at once: every client sees both within 1 s" {
	local i
	# The client sends nothing and never half-closes: only the server's FIN,
	# which often arrives with the connect's completion, can end it.
	for ((i = 0; i < 20; i++)); do
		run client_probe 8080 3
		echo "$output"
		[[ $output =~ ^eof\ ([0-9]+)\ b[12]$ ]]
		[ "${BASH_REMATCH[1]}" -lt 1000 ]
	done
}

@test "wrr: a server of weight 0 gets nothing" {
	run client_count 100 "$TOPO_VIP" 8081
	[ "$status" -eq 0 ]
	assert_tally "$output" b1=100
}

@test "rr ignores the weights: an equal split" {
	run client_count 300 "$TOPO_VIP" 8082
	[ "$status" -eq 0 ]
	echo "$output"
	[ "$(tally_of fail "$output")" -eq 0 ]
	[ "$(($(tally_of b1 "$output") + $(tally_of b2 "$output")))" -eq 300 ]
	within_pct "$(tally_of b1 "$output")" 150 10
	within_pct "$(tally_of b2 "$output")" 150 10
}

@test "wlc: connections held open on b1 send new ones to b2" {
	local i pids=() f
	# b2 down while the long connections open, so all of them land on b1.
	log_mark
	backend_stop b2 9100
	health_wait hold/b2 DOWN 5
	for i in 1 2 3 4; do
		client_hold 8083 3 "$TOPO_DIR/hold.$i"
		pids+=("$HOLD_PID")
	done
	wait_until 3 eval '[ "$(established_count b1 9100)" -ge 4 ]'
	backend_start b2 9100 drain
	health_wait hold/b2 UP 5
	# Equal weights: round robin would split these 10/10.
	run client_drain_count 20 8083
	echo "$output"
	assert_tally "$output" b2=20
	# The held connections were all still on b1, and they get their answer.
	for i in "${pids[@]}"; do
		wait "$i" || true
	done
	for f in "$TOPO_DIR"/hold.?; do
		echo "$f: $(cat "$f")"
		[ "$(cat "$f")" = "b1 0" ]
	done
}

@test "half-close: the client's FIN goes through and the answer still comes back" {
	run client_send 8084 100000
	[ "$status" -eq 0 ]
	echo "answer: $output"
	[[ $output =~ ^b[12]\ 100000$ ]]
	# Nothing sent, FIN at once: an empty request is still answered.
	run client_send 8084 0
	[[ $output =~ ^b[12]\ 0$ ]]
}

@test "bulk: 20 MB arrive intact at the server" {
	run client_send 8084 "$BULK"
	[ "$status" -eq 0 ]
	echo "answer: $output"
	[[ $output =~ ^b[12]\ $BULK$ ]]
}

@test "bulk: 20 MB from the server arrive intact at the client" {
	run topo_exec client bash -c 'timeout 30 socat -T 10 -u "TCP:$1:8091,connect-timeout=2" STDOUT | wc -c' _ "$TOPO_VIP"
	[ "$status" -eq 0 ]
	echo "received: $output"
	[ "$output" -eq "$BULK" ]
}

# _client_syn_retransmits: SYNs the client namespace's kernel sent again
# (TcpExt TCPSynRetrans), i.e. connection attempts that went unanswered once.
_client_syn_retransmits() {
	topo_exec client awk '/^TcpExt:/ { if (!h) { split($0, k); h = 1 } else { split($0, v)
		for (i in k) if (k[i] == "TCPSynRetrans") print v[i] } }' /proc/net/netstat
}

@test "20 clients at once, 25 connections each: none fails, 2:1 split" {
	local tally syn_before syn_after
	syn_before=$(_client_syn_retransmits)
	# 10 s for each connection, more than a loaded machine needs (under
	# sanitizers at load 11, 3 s was not enough for a few): a connection lost
	# still fails, one refused or reset fails at once, and a SYN lost is seen
	# below, where the kernel's retry would otherwise hide it.
	tally=$(topo_exec client timeout 150 bash -c '
		for ((j = 0; j < 20; j++)); do
			for ((i = 0; i < 25; i++)); do
				r=$(timeout 12 socat -T10 -u "TCP:$1:8080,connect-timeout=10" STDOUT 2>/dev/null | head -n1)
				echo "${r:-fail}"
			done &
		done
		wait' _ "$TOPO_VIP" | sort | uniq -c | awk '{ print $2, $1 }')
	syn_after=$(_client_syn_retransmits)
	echo "$tally"
	echo "SYN retransmits: $((syn_after - syn_before))"
	[ "$(tally_of fail "$tally")" -eq 0 ]
	[ "$syn_after" -eq "$syn_before" ]
	[ "$(($(tally_of b1 "$tally") + $(tally_of b2 "$tally")))" -eq 500 ]
	within_pct "$(tally_of b1 "$tally")" 333 10
	within_pct "$(tally_of b2 "$tally")" 167 10
}

@test "max_connections = 2: a third connection is closed at once, the slots come back" {
	local round p1 p2
	for round in 1 2; do
		client_hold 8092 2 "$TOPO_DIR/max.$round.1"
		p1=$HOLD_PID
		client_hold 8092 2 "$TOPO_DIR/max.$round.2"
		p2=$HOLD_PID
		wait_until 3 eval '[ $(($(established_count b1 9100) + $(established_count b2 9100))) -ge 2 ]'
		run client_probe 8092 3
		echo "third: $output"
		[[ $output =~ ^eof\ ([0-9]+)\ $ ]]
		[ "${BASH_REMATCH[1]}" -lt 1000 ]
		wait "$p1" || true
		wait "$p2" || true
		# The two held ones were served in full.
		[[ $(cat "$TOPO_DIR/max.$round.1") =~ ^b[12]\ 0$ ]]
		[[ $(cat "$TOPO_DIR/max.$round.2") =~ ^b[12]\ 0$ ]]
		# Closed, they free their slots: sequential clients all get through.
		run client_drain_count 6 8092
		[ "$(tally_of fail "$output")" -eq 0 ]
		[ "$(($(tally_of b1 "$output") + $(tally_of b2 "$output")))" -eq 6 ]
	done
}

@test "connect retry: a refused connect is retried on the other server, no client fails" {
	# group nocheck: b2:9009 is 'up' (check = none) but refuses every connect,
	# and wrr with equal weights picks it for every other connection.
	run client_count 40 "$TOPO_VIP" 8085
	[ "$status" -eq 0 ]
	assert_tally "$output" b1=40
}

@test "connect_timeout: a server that drops SYNs costs 200ms, then the retry succeeds" {
	local answer ms slow=0 max=0
	run client_timed 10 8090
	[ "$status" -eq 0 ]
	echo "$output"
	[ "${#lines[@]}" -eq 10 ]
	while read -r answer ms; do
		[ "$answer" = b1 ]
		[ "$ms" -ge 180 ] && slow=$((slow + 1))
		[ "$ms" -gt "$max" ] && max=$ms
	done <<<"$output"
	# The void server was picked (and timed out) on some of them...
	[ "$slow" -ge 1 ]
	# ...after about connect_timeout, not the kernel's SYN retries (seconds).
	[ "$max" -lt 1500 ]
}

@test "no server up: the client's connection is closed at once" {
	health_wait dead/x1 DOWN 5
	health_wait dead/x2 DOWN 5
	# Both servers drop SYNs: had slb tried one anyway, the client would wait
	# for connect_timeout (5 s by default) before its connection closed.
	run client_probe 8086 3
	echo "$output"
	[[ $output =~ ^eof\ ([0-9]+)\ $ ]]
	[ "${BASH_REMATCH[1]}" -lt 500 ]
}

@test "idle_timeout = 1s closes an idle connection after about 1 s" {
	run client_probe 8087 5
	echo "$output"
	[[ $output =~ ^eof\ ([0-9]+)\ $ ]]
	[ "${BASH_REMATCH[1]}" -ge 800 ]
	[ "${BASH_REMATCH[1]}" -le 3000 ]
}

@test "idle_timeout = 1s leaves alone a connection that moves a byte every 0.4 s" {
	# 2 s in all, twice the idle timeout; then half-close and get the answer.
	run topo_exec client timeout 15 bash -c '
		for i in 1 2 3 4 5; do sleep 0.4; printf x; done |
			socat -t 3 - "TCP:$1:8087,connect-timeout=2" 2>/dev/null' _ "$TOPO_VIP"
	echo "answer: $output"
	[[ $output =~ ^b[12]\ 5$ ]]
}

@test "acl_deny with the client's address: closed with no answer" {
	run client_probe 8088 3
	echo "$output"
	[[ $output =~ ^eof\ ([0-9]+)\ $ ]]
	[ "${BASH_REMATCH[1]}" -lt 1000 ]
	# The same listener with another address denied serves the client.
	run client_probe 8089 3
	echo "$output"
	[[ $output =~ ^eof\ [0-9]+\ b[12]$ ]]
	run client_count 5 "$TOPO_VIP" 8088
	assert_tally "$output" fail=5
}

# _only_server TALLY: the one server of a client_count tally with no failure.
_only_server() {
	local tally=$1
	echo "$tally" >&2
	[ "$(tally_of fail "$tally")" -eq 0 ] || return 1
	[ "$(wc -l <<<"$tally")" -eq 1 ] || return 1
	[[ $tally =~ ^(b[12])\ ([0-9]+)$ ]] || return 1
	echo "${BASH_REMATCH[1]}"
}

# _hash_sticks PORT: 50 connections from the client reach one server; with
# that server stopped they all reach the other one, none failing; restarted,
# the server gets them all back.
_hash_sticks() {
	local port=$1 first other tally
	tally=$(client_count 50 "$TOPO_VIP" "$port")
	first=$(_only_server "$tally") || return 1
	[ "$(tally_of "$first" "$tally")" -eq 50 ] || return 1
	other=b1
	[ "$first" = b1 ] && other=b2
	log_mark
	backend_stop "$first" 9300
	# Before the checker notices, a refused connect is retried elsewhere.
	tally=$(client_count 10 "$TOPO_VIP" "$port")
	[ "$(_only_server "$tally")" = "$other" ] || return 1
	health_wait "hash/$first" DOWN 5 || return 1
	tally=$(client_count 50 "$TOPO_VIP" "$port")
	[ "$(_only_server "$tally")" = "$other" ] || return 1
	[ "$(tally_of "$other" "$tally")" -eq 50 ] || return 1
	backend_start "$first" 9300 || return 1
	health_wait "hash/$first" UP 5 || return 1
	tally=$(client_count 50 "$TOPO_VIP" "$port")
	[ "$(_only_server "$tally")" = "$first" ] || return 1
	[ "$(tally_of "$first" "$tally")" -eq 50 ]
}

@test "sh: one client's 50 connections reach one server; it stops, they move, none fails; it returns, so do they" {
	_hash_sticks 8093
}

@test "ch: one client's 50 connections reach one server; it stops, they move, none fails; it returns, so do they" {
	_hash_sticks 8094
}

@test "sh and ch: each source address keeps its server, different addresses reach both servers" {
	local ifname port i addr tally seen server
	ifname=$(topo_if client)
	for i in $(seq 21 28); do
		ip -n "$(topo_ns client)" addr add "198.18.0.$i/24" dev "$ifname"
	done
	for port in 8093 8094; do
		seen=''
		for i in $(seq 21 28); do
			addr=198.18.0.$i
			tally=$(topo_exec client bash -c '
				for ((n = 0; n < 5; n++)); do
					r=$(timeout 3 socat -T2 -u "TCP:$1:$2,connect-timeout=2,bind=$3" STDOUT 2>/dev/null | head -n1)
					echo "${r:-fail}"
				done' _ "$TOPO_VIP" "$port" "$addr" | sort | uniq -c | awk '{ print $2, $1 }')
			echo "$port $addr: $tally"
			server=$(_only_server "$tally")
			[ "$(tally_of "$server" "$tally")" -eq 5 ]
			seen="$seen $server"
		done
		echo "$port:$seen"
		[[ $seen == *b1* ]]
		[[ $seen == *b2* ]]
	done
}
