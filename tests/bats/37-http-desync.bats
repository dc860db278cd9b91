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
	REQUESTS=$(http_requests b1 8000)
	: >"$REQUESTS"
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

# The probes below passed before any change of this suite's: each one sends
# bytes whose framing a lenient parser could read otherwise, and checks
# what the server got.

@test "probe: a request inside a Content-Length body stays body" {
	run http_raw 80 'POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 35\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n'
	echo "$output"
	[ "$(grep -c $'^HTTP/1.1 200 OK\r' <<<"$output")" -eq 2 ]
	grep -q '^b1 conn=.* body=35$' <<<"$output"
	cat "$REQUESTS"
	[ "$(grep -c '^GET /smuggled' "$REQUESTS")" -eq 0 ]
	[ "$(grep -c '^\(POST /a\|GET /b\) ' "$REQUESTS")" -eq 2 ]
}

@test "probe: a chunked body with a request in its data and Content-Length in its trailer reaches the server re-framed" {
	run http_raw 80 'POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n23;x=y\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n\r\n0\r\nContent-Length: 99\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n'
	echo "$output"
	[ "$(grep -c $'^HTTP/1.1 200 OK\r' <<<"$output")" -eq 2 ]
	grep -q '^b1 conn=.* body=35$' <<<"$output"
	! grep -q 'Content-Length: 99\|x=y' <<<"$output" || false
	[ "$(grep -c '^GET /smuggled' "$REQUESTS")" -eq 0 ]
}

@test "probe: Expect: 100-continue with the body already sent: one 100, one answer, then the next request" {
	run http_raw 80 'POST /a HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nHost: a\r\n\r\n'
	echo "$output"
	# (the echoed body "hello" has no newline: the next status line follows it on its line)
	[ "$(grep -o 'HTTP/1.1 [0-9][0-9][0-9]' <<<"$output" | tr '\n' ' ')" = "HTTP/1.1 100 HTTP/1.1 200 HTTP/1.1 200 " ]
	grep -q '^b1 conn=.* body=5$' <<<"$output"
	grep -q '^GET /b ' <<<"$output"
	[ "$(grep -c '^\(POST /a\|GET /b\) ' "$REQUESTS")" -eq 2 ]
}

@test "probe: pipelined after Connection: close, the second request never reaches the server" {
	run http_raw 80 'GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n'
	echo "$output"
	[ "$(grep -c '^HTTP/1.1 ' <<<"$output")" -eq 1 ]
	grep -q $'^Connection: close\r' <<<"$output"
	[ "$(grep -c '^GET /smuggled' "$REQUESTS")" -eq 0 ]
}
