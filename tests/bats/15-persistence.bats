#!/usr/bin/env bats
# persistence = source_ip on TCP listeners (issue #5): a client address keeps
# its server across connections and workers (the sessions are in shared
# memory); a server that goes down or to weight 0 loses its clients, who get a
# new session that stays when the server comes back.
#
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
	slb_config_basic
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
