#!/usr/bin/env bats
# persistence = source_ip on TCP listeners (issue #5): a client address keeps
# its server across connections and workers (the sessions are in shared
# memory); a server that goes down or to weight 0 loses its clients, who get a
# new session that stays when the server comes back; a session expires
# persistence_timeout after its last use. slbctl sessions lists and flushes
# the table, /metrics counts it.
#
# Metrics on lb1's own address, port 9181.
#   8080 web     slb_config_basic (not used here)
#   8095 stick   rr, persistence = source_ip, persistence_timeout = 30s,
#                group pers: b1:9400, b2:9400, tcp checks every 200 ms
#   8096 plain   rr, group pers, no persistence: the control
#   8097 short   like stick with persistence_timeout = 2s
#
# rr alternates between the two servers in each worker, so without
# persistence one client's connections would be split.

# shellcheck disable=SC2016  # bash -c strings expand later, on purpose
load helpers/topology
load helpers/client

SOCK='' ADDR='' FIRST='' SECOND=''

setup_file() {
	topo_up
	backend_start b1 9400
	backend_start b2 9400
	_config >"$TOPO_DIR/slb.ini"
	slb_start "$TOPO_DIR/slb.ini"
}

teardown_file() {
	topo_down
}

setup() {
	slb_running_or_fail
	SOCK=$(slb_dir lb1)/slb.sock
}

_config() {
	slb_config_basic | sed "s/^metrics =.*/metrics = $(topo_ip lb1):9181/"
	cat <<EOF

[listener stick]
protocol = tcp
bind = $TOPO_VIP:8095
group = pers
scheduler = rr
persistence = source_ip
persistence_timeout = 30s

[listener short]
protocol = tcp
bind = $TOPO_VIP:8097
group = pers
scheduler = rr
persistence = source_ip
persistence_timeout = 2s

[listener plain]
protocol = tcp
bind = $TOPO_VIP:8096
group = pers
scheduler = rr

[group pers]
server.b1 = $(topo_ip b1):9400
server.b2 = $(topo_ip b2):9400
check = tcp
check_interval = 200ms
check_timeout = 100ms
healthy_threshold = 2
unhealthy_threshold = 2
EOF
}

_ctl() { "$(slb_bin slbctl)" -s "$SOCK" "$@"; }

# _from ADDR N [PORT]: N connections to PORT (default 8095) from ADDR, as a tally.
_from() {
	topo_exec client bash -c '
		for ((n = 0; n < $3; n++)); do
			r=$(timeout 3 socat -T2 -u "TCP:$1:$4,connect-timeout=2,bind=$2" STDOUT 2>/dev/null | head -n1)
			echo "${r:-fail}"
		done' _ "$TOPO_VIP" "$1" "$2" "${3:-8095}" | sort | uniq -c | awk '{ print $2, $1 }'
}

# _client_addr N: add 198.18.0.N to the client namespace (once) and print it.
_client_addr() {
	local addr=198.18.0.$1
	ip -n "$(topo_ns client)" addr show | grep -q " $addr/" ||
		ip -n "$(topo_ns client)" addr add "$addr/24" dev "$(topo_if client)"
	echo "$addr"
}

# _only TALLY: the single server of a tally with one line and no failure.
_only() {
	[ "$(wc -l <<<"$1")" -eq 1 ] && [ "$(tally_of fail "$1")" -eq 0 ] || return 1
	awk '{ print $1 }' <<<"$1"
}

_other() { if [ "$1" = b1 ]; then echo b2; else echo b1; fi; }

_both_up() {
	[ "$(_ctl --json health | jq '[.servers[] | select(.group == "pers" and .state == "UP")] | length')" = 2 ]
}

@test "source_ip: one client's 50 connections reach one server (without persistence they split)" {
	local tally addr server seen=''
	tally=$(client_count 50 "$TOPO_VIP" 8095)
	echo "stick: $tally"
	server=$(_only "$tally")
	[ "$(tally_of "$server" "$tally")" -eq 50 ]
	tally=$(client_count 20 "$TOPO_VIP" 8096)
	echo "plain: $tally"
	[ "$(tally_of b1 "$tally")" -ge 5 ] && [ "$(tally_of b2 "$tally")" -ge 5 ]
	# Eight more clients: each keeps one server. Each worker alternates its rr
	# picks and at least one of the two workers makes two sessions: both
	# servers have clients.
	for i in $(seq 31 38); do
		addr=$(_client_addr "$i")
		tally=$(_from "$addr" 5)
		echo "$addr: $tally"
		server=$(_only "$tally")
		seen="$seen $server"
	done
	echo "servers:$seen"
	[[ $seen == *b1* ]] && [[ $seen == *b2* ]]
}

# _new_client N: a client address 198.18.0.N in ADDR, its server in FIRST
# (from 5 connections, all to one server), the other one in SECOND.
_new_client() {
	wait_until 5 _both_up
	ADDR=$(_client_addr "$1")
	FIRST=$(_only "$(_from "$ADDR" 5)")
	SECOND=$(_other "$FIRST")
}

# _all_to SERVER WHEN: ADDR's next 10 connections all reach SERVER.
_all_to() {
	local tally
	tally=$(_from "$ADDR" 10)
	echo "$2: $tally"
	[ "$(tally_of "$1" "$tally")" -eq 10 ]
}

@test "source_ip: a server marked down by its check loses the client, whose new session stays when it returns" {
	_new_client 41
	log_mark
	backend_stop "$FIRST" 9400
	health_wait "pers/$FIRST" DOWN
	_all_to "$SECOND" "while $FIRST is down"
	backend_start "$FIRST" 9400
	health_wait "pers/$FIRST" UP
	_all_to "$SECOND" "after $FIRST returned"
}

@test "source_ip: weight 0 by slbctl moves the client; its new session stays at weight 100 again" {
	_new_client 42
	_ctl server set pers "$FIRST" weight=0
	_all_to "$SECOND" "$FIRST at weight 0"
	_ctl server set pers "$FIRST" weight=100
	_all_to "$SECOND" "$FIRST at weight 100"
}

@test "source_ip: the session outlives connections closer than persistence_timeout" {
	local addr first tally
	addr=$(_client_addr 43)
	first=$(_only "$(_from "$addr" 1 8097)")
	# 4 connections 0.8 s apart: 3.2 s in all, more than the 2 s timeout.
	tally=$(topo_exec client bash -c '
		for ((n = 0; n < 4; n++)); do
			sleep 0.8
			r=$(timeout 3 socat -T2 -u "TCP:$1:8097,connect-timeout=2,bind=$2" STDOUT 2>/dev/null | head -n1)
			echo "${r:-fail}"
		done' _ "$TOPO_VIP" "$addr" | sort | uniq -c | awk '{ print $2, $1 }')
	echo "$tally"
	[ "$(tally_of "$first" "$tally")" -eq 4 ]
}

# _session CLIENT [LISTENER]: CLIENT's session as JSON (empty when it has none).
_session() {
	_ctl --json sessions ${2:+"$2"} | jq -c --arg c "$1" '.sessions[] | select(.client == $c)'
}

_count() { _ctl --json sessions ${1:+"$1"} | jq .count; }

@test "slbctl sessions: listener, client, server and expiry in a table and in JSON; a listener filters; an unknown one is an error" {
	local addr server json
	addr=$(_client_addr 51)
	server=$(_only "$(_from "$addr" 1)")
	run _ctl sessions stick
	echo "$output"
	[ "$status" -eq 0 ]
	grep -E "^LISTENER +CLIENT +SERVER +EXPIRES_IN$" <<<"$output"
	grep -E "^stick +$addr +pers/$server +(2[6-9]|30)\.[0-9]s$" <<<"$output"
	json=$(_session "$addr")
	echo "$json"
	jq -e --arg s "$server" '.listener == "stick" and .protocol == "tcp" and .group == "pers" and
		.server == $s and .expires_in_ms > 26000 and .expires_in_ms <= 30000' <<<"$json"
	# The listener without persistence has none; the filter keeps only stick's.
	[ "$(_count plain)" -eq 0 ]
	_ctl --json sessions stick | jq -e '.count >= 1 and .count == .listed and all(.sessions[]; .listener == "stick")'
	run _ctl sessions nosuch
	[ "$status" -eq 1 ]
	[[ $output == *"no listener 'nosuch'"* ]]
	run _ctl --json sessions flush nosuch
	[ "$status" -eq 1 ]
	jq -e '.error == "no listener '"'nosuch'"'"' <<<"$output"
	[ -n "$(_session "$addr")" ] # nothing was flushed
}

# _short_session_made ADDR: one connection from ADDR to short (one server, no
# failure), and its session made by it: expiring 2 s after that connection as
# the node counts, i.e. in at most 2000 ms and at least 2000 ms less the time
# from before the connection to after the look (however long a loaded
# machine makes that). Prints the server.
_short_session_made() {
	local t0 server left took
	t0=$(date +%s%3N)
	server=$(_only "$(_from "$1" 1 8097)") || return 1
	left=$(_session "$1" short | jq .expires_in_ms)
	took=$(($(date +%s%3N) - t0))
	echo "$server: session expires in ${left:-(none)} ms, ${took} ms after the connection began" >&2
	# ms rounding of the node's clock and of ours: 2 ms.
	[ -n "$left" ] && [ "$left" -le 2000 ] && [ "$left" -ge $((2000 - took - 2)) ] || return 1
	echo "$server"
}

@test "persistence_timeout: an unused session expires and the next connection makes a new one" {
	local addr
	addr=$(_client_addr 52)
	_short_session_made "$addr"
	# Unused for longer than persistence_timeout since the look: gone.
	sleep 2.3
	[ -z "$(_session "$addr" short)" ]
	_short_session_made "$addr"
}

@test "slbctl sessions flush [LISTENER]: removes that listener's sessions (or all), says how many" {
	local i
	_ctl sessions flush
	[ "$(_count)" -eq 0 ]
	for i in 61 62 63; do _from "$(_client_addr $i)" 1 >/dev/null; done
	[ "$(_count stick)" -eq 3 ]
	_client_addr 64 >/dev/null
	log_mark
	_from 198.18.0.64 1 8097 >/dev/null
	run _ctl sessions flush stick
	# The other listener's session is left (it lasts 2 s: look at once).
	[ -n "$(_session 198.18.0.64 short)" ]
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "flushed 3 sessions" ]
	log_has 'slb-master\[[0-9]+\]: info: sessions flushed on listener stick: 3 \(slbctl\)'
	[ "$(_count stick)" -eq 0 ]
	for i in 61 62; do _from "198.18.0.$i" 1 >/dev/null; done
	run _ctl --json sessions flush
	echo "$output"
	# stick's 2 new ones, and short's unless it expired meanwhile
	jq -e '.flushed == 2 or .flushed == 3' <<<"$output"
	[ "$(_count)" -eq 0 ]
}

@test "metrics: slb_sessions_active by listener follows the table; slb_sessions_capacity is the table size" {
	local text i
	_ctl sessions flush
	for i in 71 72 73 74; do _from "$(_client_addr $i)" 2 >/dev/null; done
	text=$(metrics_scrape client "$(topo_ip lb1):9181")
	grep -E '^slb_sessions_(active|capacity)' <<<"$text"
	[ "$(metric_in "$text" 'slb_sessions_active{listener="stick"}')" = 4 ]
	[ "$(metric_in "$text" 'slb_sessions_active{listener="plain"}')" = 0 ]
	[ "$(metric_in "$text" slb_sessions_capacity)" = 1048576 ]
	_ctl sessions flush stick
	[ "$(metric_value client "$(topo_ip lb1):9181" 'slb_sessions_active{listener="stick"}')" = 0 ]
}
