#!/usr/bin/env bats
# proxy_protocol = v1 | v2 on tcp listeners: every connection to a server
# starts with a PROXY protocol header carrying the client's address and port
# and the VIP:port it connected to, then the client's bytes, intact (1 MiB,
# so the spliced path follows the header). Without the key the server sees
# no header. The one connect retry on another server sends the header too.
#
# Backend: slb-test-backend -m proxy on b1:9500, which parses the header and
# answers "NAME VERSION SOURCE DESTINATION BYTES SHA256" after the client's FIN.
# Metrics on lb1's own address, port 9183.
#   8110 pp1     proxy_protocol = v1, group pp: b1:9500
#   8111 pp2     proxy_protocol = v2, group pp
#   8112 plain   no proxy_protocol,   group pp
#   8113 retry   proxy_protocol = v2, group ppretry: b2:9501 (refuses every
#                connect, check = none) and b1:9500, wrr equal weights

# shellcheck disable=SC2016  # bash -c strings expand in the client namespace
load helpers/topology
load helpers/client

PAYLOAD='' PAYLOAD_SHA=''

setup_file() {
	topo_up
	backend_start b1 9500 proxy
	head -c 1048576 /dev/urandom >"$TOPO_DIR/payload"
	_config >"$TOPO_DIR/slb.ini"
	slb_start "$TOPO_DIR/slb.ini"
}

teardown_file() {
	topo_down
}

setup() {
	slb_running_or_fail
	PAYLOAD=$TOPO_DIR/payload
	PAYLOAD_SHA=$(sha256sum <"$PAYLOAD" | cut -d' ' -f1)
}

_config() {
	slb_config_basic | sed "s/^metrics =.*/metrics = $(topo_ip lb1):9183/"
	cat <<EOF

[listener pp1]
protocol = tcp
bind = $TOPO_VIP:8110
group = pp
proxy_protocol = v1

[listener pp2]
protocol = tcp
bind = $TOPO_VIP:8111
group = pp
proxy_protocol = v2

[listener plain]
protocol = tcp
bind = $TOPO_VIP:8112
group = pp

[listener retry]
protocol = tcp
bind = $TOPO_VIP:8113
group = ppretry
scheduler = wrr
proxy_protocol = v2

[group pp]
server.b1 = $(topo_ip b1):9500
check = tcp
check_interval = 200ms
check_timeout = 100ms
healthy_threshold = 2
unhealthy_threshold = 2

[group ppretry]
server.refuses = $(topo_ip b2):9501 weight=100
server.b1 = $(topo_ip b1):9500 weight=100
check = none
EOF
}

# _send PORT SOURCE_PORT: sends the payload from the client's address and
# SOURCE_PORT to the VIP's PORT, half-closes, prints the answer's first line.
_send() {
	topo_exec client bash -c '
		timeout 60 socat -t 10 -T 30 - \
			"TCP:$1:$2,connect-timeout=3,sourceport=$3,reuseaddr" <"$4" 2>/dev/null |
			head -n1' _send "$TOPO_VIP" "$1" "$2" "$PAYLOAD"
}

@test "v1: the server reads the client's address and port, the VIP:port, then the client's bytes intact" {
	run _send 8110 41101
	[ "$status" -eq 0 ]
	[ "$output" = "b1 v1 $(topo_ip client):41101 $TOPO_VIP:8110 1048576 $PAYLOAD_SHA" ]
}

@test "v2: the server reads the client's address and port, the VIP:port, then the client's bytes intact" {
	run _send 8111 41102
	[ "$status" -eq 0 ]
	[ "$output" = "b1 v2 $(topo_ip client):41102 $TOPO_VIP:8111 1048576 $PAYLOAD_SHA" ]
}

@test "without proxy_protocol the server sees no header, only the client's bytes" {
	run _send 8112 41103
	[ "$status" -eq 0 ]
	[ "$output" = "b1 none - - 1048576 $PAYLOAD_SHA" ]
}

@test "a short exchange gets its header too (copy path, nothing spliced)" {
	run topo_exec client bash -c '
		printf hello | timeout 10 socat -t 5 -T 5 - \
			"TCP:$1:8110,connect-timeout=3,sourceport=41104,reuseaddr" 2>/dev/null' _ "$TOPO_VIP"
	[ "$status" -eq 0 ]
	[ "$output" = "b1 v1 $(topo_ip client):41104 $TOPO_VIP:8110 5 $(printf hello | sha256sum | cut -d' ' -f1)" ]
}

@test "the connect retry on another server sends the header on the new connection" {
	local i failed
	# wrr with equal weights sends every other first connect to the refusing server.
	for i in 1 2 3 4 5 6; do
		run _send 8113 $((41110 + i))
		[ "$status" -eq 0 ]
		[ "$output" = "b1 v2 $(topo_ip client):$((41110 + i)) $TOPO_VIP:8113 1048576 $PAYLOAD_SHA" ]
	done
	# ...and the refusing server was tried (and failed) along the way.
	failed=$(metric_value client "$(topo_ip lb1):9183" 'slb_server_failed_connects_total{group="ppretry",server="refuses"')
	echo "failed connects to refuses: $failed"
	[ "$failed" -ge 1 ]
}
