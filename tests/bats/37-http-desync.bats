#!/usr/bin/env bats
# HTTP desync (issue #4): what a server does with a request's bytes when it
# frames them otherwise than slb. slb cannot see that from outside, so a
# server connection whose answer came before the whole request had gone
# out is never given to another request. One worker, so that a request
# after another finds the first one's pooled server connection:
#
#   :80  http  rr  group hweb: b1:8000 (slb-test-http-backend), tcp checks

load helpers/topology
load helpers/client
load helpers/http

_config() {
	slb_config_basic | sed 's/^workers = .*/workers = 1/'
	cat <<EOF

[listener http]
protocol = http
bind = $TOPO_VIP:80
group = hweb
scheduler = rr

[group hweb]
server.b1 = $(topo_ip b1):8000
check = tcp
check_interval = 200ms
check_timeout = 100ms
healthy_threshold = 1
EOF
}

setup_file() {
	topo_up
	http_backend_start b1 8000
	_config >"$TOPO_DIR/slb.ini"
	slb_start "$TOPO_DIR/slb.ini"
	health_wait hweb/b1 UP 5 || true
	wait_until 5 eval '[ "$(http_curl -o /dev/null -w "%{http_code}" "http://$TOPO_VIP/")" = 200 ]'
}

teardown_file() {
	topo_down
}

setup() {
	slb_running_or_fail
}

# _head_then_body HEAD BODY: send printf HEAD to the VIP's :80, BODY 200 ms
# later, and print the answer (socat ends 2 s after slb closes; bounded by 10 s).
_head_then_body() {
	topo_exec client bash -c '
		{ printf "$3"; sleep 0.2; printf "$4"; sleep 1; } |
			timeout 10 socat -t 2 - "TCP:$1:$2,connect-timeout=3" 2>/dev/null' \
		_head_then_body "$TOPO_VIP" 80 "$1" "$2"
}

@test "a server that answers before the request body is through: its connection never serves another request (0.CL)" {
	local body='GET /smuggled HTTP/1.1\r\nX-Ignore: ' len
	len=$(printf "$body" | wc -c)
	# /early answers at once and takes the body for the start of its next
	# request; its answer ends 500 ms later, after the body went out.
	run _head_then_body "POST /early HTTP/1.1\r\nHost: a\r\nContent-Length: $len\r\n\r\n" "$body"
	echo "$output"
	[[ "${lines[0]}" == $'HTTP/1.1 200 OK\r' ]]
	grep -q '^early$' <<<"$output"
	grep -q $'^Connection: close\r' <<<"$output"
	# the next request must not complete the server's half-read one
	run http_curl "http://$TOPO_VIP/victim"
	echo "$output"
	grep -q '^GET /victim ' <<<"$output"
	! grep -q 'smuggled' <<<"$output" || false
}
