#!/usr/bin/env bats
# The HTTP listener (issue #4) with curl and raw requests against our HTTP
# backend: forwarded headers, keep-alive both ways, pipelining, bodies and
# framing, smuggling attempts (answered 400 with nothing reaching the
# server), errors and timeouts, the access log. One slb for the whole file:
#
#   :80  http    rr  group hweb: b1:8000 (http backend), tcp checks;
#                    header/body timeouts 1s, server 2s, keep-alive 2s
#   :81  dead    rr  group hdead: an address nobody serves, tcp checks
#   :82  retry   rr  group hretry: b1:8000 and b2:8000 (nothing listens), no checks
#   :83  ws      rr  group hweb, websocket = yes, idle_timeout 2s
#   :84  long    rr  group hweb, keepalive_timeout 30s
#   :85  brief   rr  group hweb, keepalive_timeout 400ms
#   :86  void    rr  group hvoid: two addresses nobody owns, no checks,
#                    connect_timeout 300ms, keepalive_timeout 2s
# /metrics on lb1:9180.

load helpers/topology
load helpers/client
load helpers/http

_config() {
	slb_config_basic | sed "s/^metrics =.*/metrics = $(topo_ip lb1):9180/"
	cat <<EOF

[listener http]
protocol = http
bind = $TOPO_VIP:80
group = hweb
scheduler = rr
header_timeout = 1s
body_timeout = 1s
server_timeout = 2s
keepalive_timeout = 2s

[group hweb]
server.b1 = $(topo_ip b1):8000
check = tcp
check_interval = 200ms
check_timeout = 100ms
healthy_threshold = 1

[listener dead]
protocol = http
bind = $TOPO_VIP:81
group = hdead

[group hdead]
server.x = 198.18.0.99:8000
check = tcp
check_interval = 200ms
check_timeout = 100ms

[listener retry]
protocol = http
bind = $TOPO_VIP:82
group = hretry
scheduler = rr

[listener ws]
protocol = http
bind = $TOPO_VIP:83
group = hweb
websocket = yes
idle_timeout = 2s

[listener long]
protocol = http
bind = $TOPO_VIP:84
group = hweb
keepalive_timeout = 30s

[listener brief]
protocol = http
bind = $TOPO_VIP:85
group = hweb
keepalive_timeout = 400ms

[listener void]
protocol = http
bind = $TOPO_VIP:86
group = hvoid
scheduler = rr
connect_timeout = 300ms
keepalive_timeout = 2s

[group hvoid]
server.x1 = 198.18.0.98:8000
server.x2 = 198.18.0.97:8000
check = none

[group hretry]
server.b1 = $(topo_ip b1):8000
server.b2 = $(topo_ip b2):8000
check = none
EOF
}

setup_file() {
	topo_up
	TCP_WMEM=$(topo_exec lb1 sysctl -n net.ipv4.tcp_wmem)
	TCP_RMEM=$(topo_exec client sysctl -n net.ipv4.tcp_rmem)
	export TCP_WMEM TCP_RMEM
	backend_start b1 9000
	backend_start b2 9000
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

teardown() {
	topo_exec lb1 sysctl -qw net.ipv4.tcp_wmem="$TCP_WMEM"
	topo_exec client sysctl -qw net.ipv4.tcp_rmem="$TCP_RMEM"
}

# _slow_read PORT FORMAT FILE [WAIT]: send printf FORMAT to the VIP's PORT
# and half-close WAIT seconds later (default 0), while reading the answer
# into FILE 2 KiB every 60 ms (34 KB/s at most) until slb closes. Bounded by
# 15 s.
_slow_read() {
	topo_exec client timeout 15 bash -c '
		{ printf "$3"; sleep "$5"; } | socat -b 4096 -t 15 - "TCP:$1:$2,rcvbuf=4096,connect-timeout=3" 2>/dev/null | {
			: >"$4"
			while [ "$(dd bs=2048 count=1 2>/dev/null | tee -a "$4" | wc -c)" -gt 0 ]; do
				sleep 0.06
			done
		}' _slow_read "$TOPO_VIP" "$1" "$2" "$3" "${4:-0}"
}

# _small_sndbuf: lb1's TCP send buffers stay at their minimum (until
# teardown), so what a slow reader has not taken waits in slb's buffer
# instead of the kernel's, and slb writes to it in small steps.
_small_sndbuf() { topo_exec lb1 sysctl -qw net.ipv4.tcp_wmem="4096 4096 4096"; }

# _small_buffers: _small_sndbuf, and the client's TCP receive buffers too,
# so that a client that stops reading holds no more than a few KiB.
_small_buffers() {
	_small_sndbuf
	topo_exec client sysctl -qw net.ipv4.tcp_rmem="4096 4096 4096"
}

# _body_x FILE: how many bytes of 'x' the body in FILE (after its head) holds.
_body_x() { sed '1,/^\r$/d' "$1" | tr -cd x | wc -c; }

@test "the server sees slb's X-Forwarded-* and trace, never hop-by-hop fields or what Connection names" {
	run http_curl -H 'X-Forwarded-For: 203.0.113.7' -H 'X-Real-IP: 6.6.6.6' \
		-H 'X-Forwarded-Proto: https' -H 'Connection: X-Secret, X-Forwarded-For, X-Real-IP' \
		-H 'X-Secret: 1' -H 'Keep-Alive: timeout=5' -H 'Proxy-Connection: keep-alive' \
		-H 'TE: trailers' -H 'Upgrade: websocket' -H 'X-Kept: yes' \
		-H 'X_Forwarded_For: 6.6.6.6' -H 'X_Real_IP: 6.6.6.6' "http://$TOPO_VIP/headers"
	[ "$status" -eq 0 ]
	echo "$output"
	[[ "${lines[0]}" == "b1 conn="* ]]
	grep -qx $'X-Forwarded-For: 203.0.113.7, 198.18.0.2\r' <<<"$output"
	grep -qx $'X-Real-IP: 198.18.0.2\r' <<<"$output"
	grep -qx $'X-Forwarded-Proto: http\r' <<<"$output"
	grep -qx $'X-Forwarded-Port: 80\r' <<<"$output"
	grep -qx $'X-SLB-Trace: lb1\r' <<<"$output"
	grep -qx $'X-Kept: yes\r' <<<"$output"
	grep -qx $'GET /headers HTTP/1.1\r' <<<"$output"
	! grep -qiE '^(X-Secret|Keep-Alive|Proxy-Connection|TE|Upgrade|Connection):' <<<"$output" || false
	[ "$(grep -ci '^X-Forwarded-For:' <<<"$output")" -eq 1 ]
	[ "$(grep -ci '^X-Real-IP:' <<<"$output")" -eq 1 ]
	# lookalikes of slb's fields that a CGI-style server would read as them
	! grep -q '6.6.6.6' <<<"$output" || false
}

@test "keep-alive: three requests on one client connection go over one server connection" {
	run http_curl -w '%{num_connects}\n' "http://$TOPO_VIP/1" "http://$TOPO_VIP/2" "http://$TOPO_VIP/3"
	[ "$status" -eq 0 ]
	echo "$output"
	# curl connected once, reused twice
	[ "$(grep -cx '0' <<<"$output")" -eq 2 ]
	[ "$(grep -cx '1' <<<"$output")" -eq 1 ]
	# the backend saw one connection with requests 1.., not three connections
	local conns
	conns=$(grep -o '^b1 conn=[0-9]*' <<<"$output" | sort -u | wc -l)
	[ "$conns" -eq 1 ]
	[ "$(grep -c '^b1 conn=' <<<"$output")" -eq 3 ]
}

@test "keep-alive: the idle server connection is reused by the next client too" {
	local a b
	a=$(http_curl "http://$TOPO_VIP/a" | head -n1)
	b=$(http_curl "http://$TOPO_VIP/b" | head -n1)
	echo "$a / $b"
	[ "${a%% req=*}" = "${b%% req=*}" ]
}

@test "pipelined requests are answered in order, even after the client half-closed" {
	run http_raw 80 'GET /p1 HTTP/1.1\r\nHost: a\r\n\r\nGET /p2 HTTP/1.1\r\nHost: a\r\n\r\nGET /p3 HTTP/1.1\r\nHost: a\r\n\r\n'
	[ "$status" -eq 0 ]
	echo "$output"
	[ "$(grep -c '^HTTP/1.1 200 OK' <<<"$output")" -eq 3 ]
	[ "$(grep -o '^GET /p[0-9]' <<<"$output" | tr '\n' ' ')" = "GET /p1 GET /p2 GET /p3 " ]
}

@test "a chunked request body reaches the server whole, re-framed without extensions" {
	run http_raw 80 'POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=x\r\nhello\r\n7\r\n, world\r\n0\r\nX-T: 1\r\n\r\n'
	[ "$status" -eq 0 ]
	echo "$output"
	grep -q '^b1 conn=[0-9]* req=[0-9]* body=12' <<<"$output"
	grep -q 'hello, world' <<<"$output"
	grep -q $'^Transfer-Encoding: chunked\r' "$REQUESTS"
	! grep -q 'ext=x' "$REQUESTS" || false
}

@test "a Content-Length body of 1 MB is streamed through" {
	run topo_exec client bash -c 'head -c 1000000 /dev/zero | tr "\0" z |
		curl -sS --max-time 10 --data-binary @- "http://$1/bulk" | sed -n 1p' x "$TOPO_VIP"
	echo "$output"
	[[ "$output" == "b1 conn="*" body=1000000" ]]
}

# _seq_check FILE: "lines bad" for a /seq body (each line its own offset).
_seq_check() { awk '{ if ($0 + 0 != (NR - 1) * 11) bad++ } END { print NR, bad + 0 }' "$1"; }

@test "a long response body is spliced (not copied), whole and in order, to a slow reader" {
	local out="$TOPO_DIR/seq.body" trace="$TOPO_DIR/splice.trace" moved
	# shellcheck disable=SC2046
	strace_start "$trace" splice $(pgrep -P "$(slb_pid)" -x slb-worker)
	topo_exec client curl -sS --max-time 20 --limit-rate 1M -o "$out" "http://$TOPO_VIP/seq/1999998"
	strace_stop
	[ "$(stat -c %s "$out")" -eq 1999998 ]
	[ "$(_seq_check "$out")" = "181818 0" ]
	# server -> pipe and pipe -> client: all but the first buffer's worth, twice
	moved=$(awk -F' = ' '/splice\(/ && $NF + 0 > 0 { n += $NF } END { print n + 0 }' "$trace")
	echo "spliced: $moved"
	[ "$moved" -ge $((2 * 1900000)) ]
}

@test "a long request body is spliced (not copied), whole and in order, and so is its echo" {
	local body="$TOPO_DIR/up.body" out="$TOPO_DIR/up.out" trace="$TOPO_DIR/up.trace" moved
	awk 'BEGIN { for (o = 0; o < 999999; o += 11) printf "%010d\n", o }' >"$body"
	# shellcheck disable=SC2046
	strace_start "$trace" splice $(pgrep -P "$(slb_pid)" -x slb-worker)
	topo_exec client curl -sS --max-time 20 --data-binary @"$body" -o "$out" "http://$TOPO_VIP/up"
	strace_stop
	head -n1 "$out"
	[[ "$(head -n1 "$out")" == "b1 conn="*" body=999999" ]]
	# the backend echoes what it received after a "--body--" line
	sed '1,/^--body--$/d' "$out" | cmp - "$body"
	# up (client -> pipe -> server) and down: all but the first buffer's worth, twice each
	moved=$(awk -F' = ' '/splice\(/ && $NF + 0 > 0 { n += $NF } END { print n + 0 }' "$trace")
	echo "spliced: $moved"
	[ "$moved" -ge $((4 * 900000)) ]
	# :82 tries b2:8000 (nobody listens) for every other request: the body waits
	# for the connect that works, then goes whole to b1
	local i
	for i in 1 2; do
		topo_exec client curl -sS --max-time 20 --data-binary @"$body" -o "$out" "http://$TOPO_VIP:82/up$i"
		[[ "$(head -n1 "$out")" == "b1 conn="*" body=999999" ]]
		sed '1,/^--body--$/d' "$out" | cmp - "$body"
	done
}

@test "a server that answers early and resets during a long upload: its answer reaches the client, slb goes on" {
	local body="$TOPO_DIR/up.body" code
	awk 'BEGIN { for (o = 0; o < 999999; o += 11) printf "%010d\n", o }' >"$body"
	code=$(topo_exec client curl -sS --max-time 10 --data-binary @"$body" -o /dev/null \
		-w '%{http_code}' "http://$TOPO_VIP/reset" 2>/dev/null) || true
	echo "answer: $code"
	# the write that fails stops the writing, not the reading: the 413 waits before the reset
	[ "$code" = 413 ]
	slb_running_or_fail
	[ "$(http_curl -o /dev/null -w '%{http_code}' "http://$TOPO_VIP/after-reset")" = 200 ]
}

@test "a spliced upload that stops gets 408, and the client's FIN then ends the connection at once" {
	local key='slb_listener_active_connections{listener="http"}'
	wait_until 5 eval '[ "$(_metric "$key")" = 0 ]'
	# 200 kB of a 1 MB body, spliced, then nothing: 408 after body_timeout
	# (1 s). slb lingers, reading until the client's FIN (sent at 1.8 s),
	# not until keepalive_timeout (2 s) after the 408.
	run topo_exec client bash -c '
		{ printf "POST /stall HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n"
		  head -c 200000 /dev/zero | tr "\0" x; sleep 1.8; } |
			timeout 15 socat -t 5 - "TCP:$1:80,connect-timeout=3" 2>/dev/null' x "$TOPO_VIP"
	sleep 0.3
	echo "$output"
	[[ "${lines[0]}" == $'HTTP/1.1 408 '* ]]
	[ "$(_metric "$key")" = 0 ]
}

@test "a server that sends past its Content-Length: its extra bytes never answer the next request" {
	local next="$TOPO_DIR/lie.next"
	# /lie/100000: a spliced body, then a whole response nobody asked for,
	# in the same segment as the body's last byte. The server connection
	# must not go to the pool with it: the next request would get it.
	run http_curl -o /dev/null -o "$next" -w '%{http_code} %{size_download}\n' \
		"http://$TOPO_VIP/lie/100000" "http://$TOPO_VIP/next"
	echo "$output"
	cat "$next"
	[ "${lines[0]}" = "200 100000" ]
	[[ "$(head -n1 "$next")" == "b1 conn="* ]]
	grep -q '^GET /next ' "$next"
}

@test "after a spliced body the connection serves the next request; a body cut short is not passed off as whole" {
	run http_curl -o /dev/null -o /dev/null -w '%{http_code} %{size_download} %{num_connects}\n' \
		"http://$TOPO_VIP/seq/500000" "http://$TOPO_VIP/seq/300003"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "200 500000 1" ]
	[ "${lines[1]}" = "200 300003 0" ]
	# the server closes after half of its Content-Length: the client must see it
	run http_curl -o /dev/null -w '%{size_download}\n' "http://$TOPO_VIP/short/400000"
	echo "$output"
	[ "$status" -eq 18 ] # curl: partial file
	[ "${lines[-1]}" -lt 400000 ]
}

@test "responses: chunked re-chunked for 1.1, plain and closed for 1.0; close-delimited chunked for 1.1" {
	run http_raw 80 'GET /chunked HTTP/1.1\r\nHost: a\r\n\r\n'
	echo "$output"
	grep -q $'^Transfer-Encoding: chunked\r' <<<"$output"
	! grep -q 'ext=1' <<<"$output" || false
	! grep -q 'X-Trailer' <<<"$output" || false
	run http_raw 80 'GET /chunked HTTP/1.0\r\n\r\n'
	echo "$output"
	! grep -q 'Transfer-Encoding' <<<"$output" || false
	grep -q $'^Connection: close\r' <<<"$output"
	grep -q '^GET /chunked HTTP/1.1' <<<"$output"
	# close-delimited from the server: the 1.1 client keeps its connection
	run http_curl -w '%{num_connects}\n' "http://$TOPO_VIP/close" "http://$TOPO_VIP/after"
	echo "$output"
	grep -q '^GET /close' <<<"$output"
	grep -q '^GET /after' <<<"$output"
	[ "$(grep -cx '0' <<<"$output")" -eq 1 ]
}

@test "smuggling attempts get 400 and nothing reaches the server" {
	local r
	for r in \
		'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n' \
		'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n' \
		'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!' \
		'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n' \
		'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n' \
		'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n' \
		'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n folded\r\n\r\n' \
		'GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n' \
		'GET / HTTP/1.1\nHost: a\n\n' \
		'GET / HTTP/1.1\r\nHost: a\rX-A: b\r\n\r\n' \
		'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n' \
		'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' \
		'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n' \
		'GET / HTTP/1.1\r\nHost: a:b\r\n\r\n' \
		'GET /public#/../admin HTTP/1.1\r\nHost: a\r\n\r\n' \
		'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ,\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n'; do
		run http_raw 80 "$r"
		echo "$r -> ${lines[0]}"
		[[ "${lines[0]}" == $'HTTP/1.1 400 Bad Request\r' ]]
		grep -q '^400 Bad Request$' <<<"$output"
	done
	# nothing, not even a head, reached the backend
	[ ! -s "$REQUESTS" ]
}

@test "a request head over the limits gets 414 or 431" {
	local long
	long=$(head -c 9000 /dev/zero | tr '\0' a)
	run http_curl -o /dev/null -w '%{http_code}' "http://$TOPO_VIP/$long"
	[ "$output" = 414 ]
	run http_curl -o /dev/null -w '%{http_code}' -H "X-Big: ${long}${long}" "http://$TOPO_VIP/"
	[ "$output" = 431 ]
	[ ! -s "$REQUESTS" ]
}

@test "a head that trickles past header_timeout gets 408" {
	run http_raw_timed 80 'GET / HTTP/1.1\r\nHost: a\r\n' 6 0.2
	echo "$output"
	[[ "${lines[0]}" == $'HTTP/1.1 408 Request Timeout\r' ]]
	# answered and closed after 1 s (the timer ticks every 100 ms), not after 6
	local ms=${lines[-1]#elapsed=}
	[ "$ms" -ge 900 ] && [ "$ms" -lt 2500 ]
	[ ! -s "$REQUESTS" ]
}

@test "a body that stops for body_timeout gets 408" {
	run http_raw 80 'POST /slowbody HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc' 4
	echo "$output"
	[[ "${lines[0]}" == $'HTTP/1.1 408 Request Timeout\r' ]]
}

@test "an idle keep-alive client is closed after keepalive_timeout" {
	run http_raw_timed 80 'GET /idle HTTP/1.1\r\nHost: a\r\n\r\n' 8 0.2
	echo "$output"
	grep -q '^HTTP/1.1 200 OK' <<<"$output"
	# slb closed it after 2 s idle, long before the client's 8 s
	local ms=${lines[-1]#elapsed=}
	[ "$ms" -ge 1900 ] && [ "$ms" -lt 4000 ]
}

@test "loop: a request that already passed this node gets 463 and is not forwarded" {
	run http_curl -i -H 'X-SLB-Trace: edge, LB1' "http://$TOPO_VIP/loop"
	echo "$output"
	[[ "${lines[0]}" == $'HTTP/1.1 463 Loop Detected\r' ]]
	[ ! -s "$REQUESTS" ]
	run http_curl -o /dev/null -w '%{http_code}' -H 'X-SLB-Trace: edge, lb1x' "http://$TOPO_VIP/"
	[ "$output" = 200 ]
}

@test "errors: 503 without a healthy server, 504 on a slow server, 502 on a broken response" {
	run http_curl -i "http://$TOPO_VIP:81/"
	echo "$output"
	[[ "${lines[0]}" == $'HTTP/1.1 503 Service Unavailable\r' ]]
	grep -q '^503 Service Unavailable$' <<<"$output"
	run http_curl -o /dev/null -w '%{http_code} %{time_total}' "http://$TOPO_VIP/slow"
	echo "$output"
	[ "${output%% *}" = 504 ]
	run http_curl -o /dev/null -w '%{http_code}' "http://$TOPO_VIP/broken"
	[ "$output" = 502 ]
	run http_curl -o /dev/null -w '%{http_code}' "http://$TOPO_VIP/garbage"
	[ "$output" = 502 ]
}

@test "a connect that fails is retried on the other server" {
	local i
	for i in 1 2 3 4; do
		run http_curl -o /dev/null -w '%{http_code}' "http://$TOPO_VIP:82/r$i"
		[ "$output" = 200 ]
	done
}

@test "a connect that times out is retried on the other server for connect_timeout, then 503" {
	# Both servers drop SYNs (nobody answers their ARP): two connect
	# timeouts, then slb's 503. The retry's connect runs on its own
	# connect_timeout, not on keepalive_timeout (2 s).
	run http_curl -o /dev/null -w '%{http_code} %{time_total}' "http://$TOPO_VIP:86/"
	echo "$output"
	[ "${output%% *}" = 503 ]
	[ "$(awk '{ print int($2 * 1000) }' <<<"$output")" -lt 1500 ]
}

@test "HEAD, 204 and 304 carry no body and the connection goes on" {
	run http_raw 80 'HEAD /h HTTP/1.1\r\nHost: a\r\n\r\nGET /204 HTTP/1.1\r\nHost: a\r\n\r\nGET /304 HTTP/1.1\r\nHost: a\r\n\r\nGET /last HTTP/1.1\r\nHost: a\r\n\r\n'
	echo "$output"
	[ "$(grep -c '^HTTP/1.1 ' <<<"$output")" -eq 4 ]
	[ "$(grep -o '^HTTP/1.1 [0-9]*' <<<"$output" | tr '\n' ' ')" = "HTTP/1.1 200 HTTP/1.1 204 HTTP/1.1 304 HTTP/1.1 200 " ]
	# only the last response has a body: the one request head echoed is /last's
	[ "$(grep -c '^GET \|^HEAD ' <<<"$output")" -eq 1 ]
	grep -q '^GET /last' <<<"$output"
	# the server's Content-Length on its 204 does not reach the client (RFC 9110 8.6); the 304 keeps its own
	[ "$(grep -c '^Content-Length: ' <<<"$output")" -eq 3 ]
	grep -q $'^Content-Length: 10\r' <<<"$output"
	! grep -q $'^Content-Length: 5\r' <<<"$output" || false
}

@test "1xx: 103 is relayed before the response, Expect: 100-continue gets its 100" {
	run http_curl -i "http://$TOPO_VIP/hints"
	echo "$output"
	[[ "${lines[0]}" == $'HTTP/1.1 103 Early Hints\r' ]]
	grep -q $'^HTTP/1.1 200 OK\r' <<<"$output"
	run topo_exec client bash -c 'head -c 2000 /dev/zero |
		curl -sS -v --max-time 10 --expect100-timeout 5 -H "Expect: 100-continue" \
			--data-binary @- "http://$1/expect" 2>&1' x "$TOPO_VIP"
	echo "$output"
	grep -q '< HTTP/1.1 100 Continue' <<<"$output"
	grep -q '^b1 conn=[0-9]* req=[0-9]* body=2000' <<<"$output"
}

@test "1xx: a server that times out after its 100 Continue still gets the client a 504" {
	# A 1xx is interim: the final response has not started, so slb's own
	# error can still follow it (the backend's /slow answers 3 s after the
	# body, server_timeout is 2 s).
	run http_raw 80 'POST /slow HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx' 4 1
	echo "$output"
	[[ "${lines[0]}" == $'HTTP/1.1 100 Continue\r' ]]
	grep -q $'^HTTP/1.1 504 ' <<<"$output"
}

@test "an HTTP/1.0 client gets its answer and the connection closes" {
	run http_curl --http1.0 -i "http://$TOPO_VIP/ten"
	echo "$output"
	[[ "${lines[0]}" == $'HTTP/1.1 200 OK\r' ]]
	grep -q $'^Connection: close\r' <<<"$output"
	# without a Host, the request goes on with an empty one (RFC 9112 3.2)
	run http_raw 80 'GET /nohost HTTP/1.0\r\n\r\n'
	echo "$output"
	grep -q $'^GET /nohost HTTP/1.1\r' <<<"$output"
	grep -q $'^Host: \r' <<<"$output"
}

@test "one access-log line per request: client, host, request line, status, server, times" {
	log_mark
	http_curl -o /dev/null -H 'Host: www.example.com' "http://$TOPO_VIP/logged?x=1"
	log_wait 'info: http http 198\.18\.0\.2 "www\.example\.com" "GET /logged\?x=1 HTTP/1\.1" 200 [0-9]+ b1 upstream=[0-9]+ms total=[0-9]+ms'
	[ "$(log_count '"GET /logged')" -eq 1 ]
}

@test "a client reading slowly gets all of a 2 MB response while others are served" {
	topo_exec client bash -c 'curl -sS --max-time 20 --limit-rate 500k -o /tmp/slow.$$ "http://$1/big/2000000";
		stat -c %s /tmp/slow.$$ >"$2"; rm -f /tmp/slow.$$' x "$TOPO_VIP" "$TOPO_DIR/slow.size" &
	local pid=$! i
	sleep 1
	for i in 1 2 3; do
		run http_curl -o /dev/null -w '%{http_code} %{time_total}' "http://$TOPO_VIP/meanwhile$i"
		echo "$output"
		[ "${output%% *}" = 200 ]
		[ "$(awk -v t="${output#* }" 'BEGIN { print (t < 1) }')" = 1 ]
	done
	wait "$pid"
	[ "$(cat "$TOPO_DIR/slow.size")" = 2000000 ]
}

@test "a slow reader gets all of a copied response, however long its tail waits in slb" {
	# Chunked from the server, so copied through slb's buffer (not spliced),
	# plain to this 1.0 client, then a close. Its tail waits in slb's buffer,
	# behind the full socket, longer than the 400 ms keepalive_timeout of
	# :85, which counts idle time only.
	local out=$TOPO_DIR/slow-tail.out got
	_small_sndbuf
	_slow_read 85 'GET /chunked/150000 HTTP/1.0\r\n\r\n' "$out"
	got=$(_body_x "$out")
	echo "body: $got bytes"
	[ "$got" = 150000 ]
}

@test "a keep-alive client that half-closes while its response comes gets all of it" {
	# The FIN comes after the response head said keep-alive, while the copied
	# body still comes (on :84, keepalive_timeout 30s): slb closes once the
	# tail has left its buffer, not at once.
	local out=$TOPO_DIR/half-close.out got
	_small_sndbuf
	_slow_read 84 'GET /chunked/150000 HTTP/1.1\r\nHost: a\r\n\r\n' "$out" 1
	got=$(_body_x "$out")
	echo "body: $got bytes, ending: $(tail -c 5 "$out" | od -An -c)"
	[ "$got" = 150000 ]
	[ "$(tail -c 5 "$out" | od -An -c | tr -d ' ')" = '0\r\n\r\n' ]
}

@test "an idle pooled server connection that the server closed is not used again" {
	local a b kids
	a=$(http_curl "http://$TOPO_VIP/first" | head -n1)
	# the backend's per-connection children: kill them, as a server's idle timeout would
	kids=$(ps -o pid= --ppid "$(backend_pid b1 8000)")
	[ -n "$kids" ]
	# shellcheck disable=SC2086  # a list of pids
	kill $kids
	sleep 0.3
	run http_curl -o /dev/null -w '%{http_code}' "http://$TOPO_VIP/second"
	[ "$output" = 200 ]
	b=$(http_curl "http://$TOPO_VIP/third" | head -n1)
	echo "$a / $b"
	[ "${a%% req=*}" != "${b%% req=*}" ]
}

# _pooled_then PORT REQUEST: a GET that leaves its server connection in the
# pool, then REQUEST (printf format) on the same client connection, which
# finds that connection there; prints both answers.
_pooled_then() {
	http_raw "$1" "GET /first HTTP/1.1\r\nHost: a\r\n\r\n$2"
}

# _conn ANSWER_LINE: "conn=C req=R" of a backend answer's first body line.
_conn() { grep -o 'conn=[0-9]* req=[0-9]*' <<<"$1"; }

# _retries: slb_server_http_retries_total of hweb/b1.
_retries() { _metric 'slb_server_http_retries_total{group="hweb",server="b1"'; }

@test "a pooled server connection closed (FIN) as the request comes: the request goes again on a fresh one" {
	local first second before
	before=$(_retries)
	run _pooled_then 80 'GET /idle-close HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
	echo "$output"
	[ "$(grep -c $'^HTTP/1.1 200 OK\r' <<<"$output")" -eq 2 ]
	first=$(grep '^b1 conn=' <<<"$output" | sed -n 1p)
	second=$(grep '^b1 conn=' <<<"$output" | sed -n 2p)
	echo "first: $first, second: $second"
	# the second answer came on another connection, as its first request
	[[ "$second" == *" req=1 "* ]]
	[ "$(_conn "$first" | cut -d' ' -f1)" != "$(_conn "$second" | cut -d' ' -f1)" ]
	# the pooled connection did get it: it went twice, answered once
	[ "$(grep -c '^GET /idle-close ' "$REQUESTS")" -eq 2 ]
	[ "$(_retries)" -eq $((before + 1)) ]
}

@test "a pooled server connection reset as the request comes: the request goes again on a fresh one" {
	run _pooled_then 80 'GET /idle-reset HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
	echo "$output"
	[ "$(grep -c $'^HTTP/1.1 200 OK\r' <<<"$output")" -eq 2 ]
	grep '^b1 conn=' <<<"$output" | sed -n 2p | grep -q ' req=1 '
	[ "$(grep -c '^GET /idle-reset ' "$REQUESTS")" -eq 2 ]
}

@test "a request goes again once: a fresh connection that closes too is a 502" {
	local before
	before=$(_retries)
	run _pooled_then 80 'GET /vanish HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
	echo "$output"
	[ "$(grep -c $'^HTTP/1.1 200 OK\r' <<<"$output")" -eq 1 ]
	grep -q $'^HTTP/1.1 502 ' <<<"$output"
	[ "$(grep -c '^GET /vanish ' "$REQUESTS")" -eq 2 ]
	[ "$(_retries)" -eq $((before + 1)) ]
}

@test "a request whose body cannot be sent again never goes twice from slb" {
	local body=$TOPO_DIR/put.body before
	before=$(_retries)
	head -c 200000 /dev/zero | tr '\0' y >"$body"
	# PUT is idempotent, but 200 kB are spliced: not kept to go again. The
	# pooled connection it takes closes unanswered: slb closes the client,
	# curl sends it again on a new one, on a fresh server connection
	# (38-http-reuse.bats)
	run http_curl -o /dev/null -w '%{http_code}\n' "http://$TOPO_VIP/first" --next -sS \
		-o "$TOPO_DIR/put.out" -w '%{http_code}\n' -T "$body" "http://$TOPO_VIP/idle-close"
	echo "$output"; head -n1 "$TOPO_DIR/put.out"
	[ "$output" = $'200\n200' ]
	grep -q '^b1 conn=[0-9]* req=1 body=200000$' "$TOPO_DIR/put.out"
	# on a fresh server connection whose close is a 502, never a second try
	run http_curl -o /dev/null -w '%{http_code}' -T "$body" "http://$TOPO_VIP/vanish"
	[ "$output" = 502 ]
	[ "$(grep -c '^PUT /vanish ' "$REQUESTS")" -eq 1 ]
	[ "$(_retries)" -eq "$before" ]
}

# _metric SERIES: metric_value of SERIES from lb1:9180.
_metric() { metric_value client "$(topo_ip lb1):9180" "$1"; }

@test "/metrics counts HTTP requests per listener and per server" {
	local before after
	before=$(_metric 'slb_listener_http_requests_total{listener="http"}')
	for i in 1 2 3 4 5; do http_curl -o /dev/null "http://$TOPO_VIP/m$i"; done
	after=$(_metric 'slb_listener_http_requests_total{listener="http"}')
	echo "listener: $before -> $after"
	[ $((after - before)) -eq 5 ]
	[ "$(_metric 'slb_server_http_requests_total{group="hweb",server="b1"')" -ge 5 ]
}

@test "a client that connects and sends nothing is handed to a worker only with its request (deferred accept)" {
	local key='slb_listener_connections_total{listener="long"}' before during after
	before=$(_metric "$key")
	topo_exec client bash -c '{ sleep 1.5; printf "GET /late HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"; } |
		socat -t 5 - "TCP:$1:84"' x "$TOPO_VIP" >"$TOPO_DIR/late.out" &
	local client_pid=$!
	# the handshake is done (the client sees its connection established)...
	wait_until 2 eval '[ "$(topo_exec client ss -Htn state established "( dport = :84 )" | wc -l)" -eq 1 ]'
	sleep 0.5
	# ...but no worker has accepted it yet
	during=$(_metric "$key")
	wait "$client_pid"
	after=$(_metric "$key")
	echo "accepted: $before, $during while silent, $after after the request"
	[ "$during" -eq "$before" ]
	[ "$after" -eq $((before + 1)) ]
	grep -q '^HTTP/1.1 200 OK' "$TOPO_DIR/late.out"
}

WS_REQ='GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'

@test "websocket = yes: the upgrade reaches the server, its 101 the client, then bytes go both ways" {
	run http_raw 83 "${WS_REQ}ping-1" 1
	echo "$output"
	[[ "${lines[0]}" == $'HTTP/1.1 101 Switching Protocols\r' ]]
	grep -qi $'^Upgrade: websocket\r' <<<"$output"
	grep -qi $'^Connection: upgrade\r' <<<"$output"
	# the echo of what the client sent after its head, through the tunnel
	[[ "$output" == *ping-1 ]]
	grep -qx $'Upgrade: websocket\r' "$REQUESTS"
	grep -qx $'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r' "$REQUESTS"
}

@test "websocket: an idle tunnel is closed after idle_timeout" {
	run http_raw_timed 83 "$WS_REQ" 8 0.2
	echo "$output"
	[[ "${lines[0]}" == $'HTTP/1.1 101 Switching Protocols\r' ]]
	local ms=${lines[-1]#elapsed=}
	[ "$ms" -ge 1900 ] && [ "$ms" -lt 4500 ]
}

@test "upgrades are not forwarded without websocket = yes, and h2c never" {
	run http_raw 80 "$WS_REQ"
	echo "$output"
	[[ "${lines[0]}" == $'HTTP/1.1 200 OK\r' ]]
	run http_raw 83 'GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n'
	echo "$output"
	[[ "${lines[0]}" == $'HTTP/1.1 200 OK\r' ]]
	! grep -qi '^Upgrade:' "$REQUESTS" || false
	! grep -qi '^HTTP2-Settings:' "$REQUESTS" || false
}

@test "an HTTP/1.0 server's close-delimited answer reaches a 1.1 client chunked, on a kept connection" {
	run http_raw 80 'GET /v10 HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n'
	echo "$output"
	[[ "${lines[0]}" == $'HTTP/1.1 200 OK\r' ]]
	grep -q $'^Transfer-Encoding: chunked\r' <<<"$output"
	grep -q '^GET /v10' <<<"$output"
	grep -q '^GET /after' <<<"$output"
	[ "$(grep -c '^HTTP/1.1 200 OK' <<<"$output")" -eq 2 ]
}

@test "reload: an idle keep-alive client of the old workers is closed at once, not after keepalive_timeout" {
	local out=$TOPO_DIR/reload-ka.out
	http_raw_timed 84 'GET /before HTTP/1.1\r\nHost: a\r\n\r\n' 12 0.2 >"$out" &
	local pid=$!
	wait_until 5 grep -q '^GET /before' "$out"
	sleep 1 # the connection stays open while nothing happens
	log_mark
	slb_reload
	slb_wait_reloaded 10
	wait "$pid"
	cat "$out"
	local ms
	ms=$(sed -n 's/^elapsed=//p' "$out")
	# closed by the draining worker within a tick or two, long before 12 s or 30 s
	[ "$ms" -ge 1000 ] && [ "$ms" -lt 8000 ]
	# and the listener serves on with the new generation
	run http_curl -o /dev/null -w '%{http_code}' "http://$TOPO_VIP:84/after"
	[ "$output" = 200 ]
}

@test "reload: a response still leaving for a slow reader is finished by the draining worker, not cut off" {
	# As above, on :84 (keepalive_timeout 30s): the drain starts while the
	# body comes, and the tail waits in slb's buffer.
	local out=$TOPO_DIR/reload-slow.out pid got
	_small_sndbuf
	_slow_read 84 'GET /chunked/150000 HTTP/1.0\r\n\r\n' "$out" &
	pid=$!
	wait_until 5 test -s "$out"
	log_mark
	slb_reload
	slb_wait_reloaded 10
	wait "$pid"
	got=$(_body_x "$out")
	echo "body: $got bytes"
	[ "$got" = 150000 ]
}

# _stalled_read PORT FORMAT FILE PAUSE: send printf FORMAT to the VIP's
# PORT, read up to 2 KiB of the answer into FILE, then nothing for PAUSE
# seconds (the client's receive buffer is full: with _small_buffers the rest
# waits in slb), then the rest until slb closes. Bounded by 15 s.
_stalled_read() {
	topo_exec client timeout 15 bash -c '
		exec 3<>"/dev/tcp/$1/$2" || exit 1
		printf "$3" >&3
		dd bs=2048 count=1 <&3 2>/dev/null >"$4"
		sleep "$5"
		cat <&3 >>"$4"' _stalled_read "$TOPO_VIP" "$1" "$2" "$3" "$4"
}

# _idle_ka PORT FILE: one keep-alive request to the VIP's PORT, then the
# connection stays idle (8 s at most); FILE gets the answer, then
# "closed=MS": when slb closed it (ms since the epoch, 0.1 s late at most).
_idle_ka() {
	topo_exec client bash -c '
		{ printf "GET /idle HTTP/1.1\r\nHost: a\r\n\r\n"; sleep 8; } | {
			timeout 15 socat -t 0.1 - "TCP:$1:$2,connect-timeout=3" 2>/dev/null
			echo "closed=$(date +%s%3N)"
		}' _idle_ka "$TOPO_VIP" "$1" >"$2"
}

@test "reload: idle keep-alive clients go at once even behind a client that stopped reading its response" {
	# On :84 (keepalive_timeout 30s) a 1.0 client stops reading a copied
	# response for 5 s, its tail in slb's buffer: it is first in the
	# idle-or-closing list, then come idle clients. The draining worker
	# closes the idle ones at its next tick, not when the stalled one moves.
	local out=$TOPO_DIR/reload-stalled.out pid pids=() i line drain_ms closed late=0 got
	_small_buffers
	_stalled_read 84 'GET /chunked/30000 HTTP/1.0\r\n\r\n' "$out" 5 &
	pid=$!
	wait_until 5 test -s "$out"
	sleep 0.3 # its buffers fill, its last write is done
	for i in 1 2 3 4 5 6; do
		_idle_ka 84 "$TOPO_DIR/reload-idle.$i" &
		pids+=($!)
	done
	for i in 1 2 3 4 5 6; do
		wait_until 5 grep -q '^GET /idle' "$TOPO_DIR/reload-idle.$i"
	done
	log_mark
	slb_reload
	slb_wait_reloaded 10
	line=$(log_has 'worker [0-9]+ \(generation [0-9]+\) draining' | head -n1)
	drain_ms=$(date -d "${line%% *}" +%s%3N)
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}"
		closed=$(sed -n 's/^closed=//p' "$TOPO_DIR/reload-idle.$((i + 1))")
		echo "idle client $((i + 1)) closed $((closed - drain_ms)) ms after the drain"
		[ "$((closed - drain_ms))" -lt 1000 ] || late=$((late + 1))
	done
	wait "$pid"
	got=$(_body_x "$out")
	echo "stalled client: $got bytes of its body"
	[ "$late" = 0 ]
	[ "$got" = 30000 ]
}

@test "an HTTP/1.0 client that asks for keep-alive keeps its connection until it stops asking" {
	run http_raw 80 'GET /k1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /k2 HTTP/1.0\r\n\r\nGET /k3 HTTP/1.0\r\n\r\n'
	echo "$output"
	[ "$(grep -c '^HTTP/1.1 200 OK' <<<"$output")" -eq 2 ]
	[ "$(grep -c $'^Connection: keep-alive\r' <<<"$output")" -eq 1 ]
	[ "$(grep -c $'^Connection: close\r' <<<"$output")" -eq 1 ]
	grep -q '^GET /k2' <<<"$output"
	! grep -q '^GET /k3' <<<"$output" || false
}

# _linger_client MODE ARGS...: tests/bats/helpers/linger_client.py in the
# client namespace (see its header).
_linger_client() {
	topo_exec client timeout 30 python3 "$BATS_TEST_DIRNAME/helpers/linger_client.py" "$@"
}

# _sndbuf_256k: lb1's TCP send buffers hold 256 KiB (until teardown), so a
# response much longer reaches slb's kernel only once the client has read
# most of it, and some of it is still there when slb shuts down.
_sndbuf_256k() { topo_exec lb1 sysctl -qw net.ipv4.tcp_wmem="4096 262144 262144"; }

# _gets_all_after_fin PORT /big/N [FIELDS [PAUSE]]: GET /big/N (FIELDS: more
# header lines, \r\n-terminated) on the VIP's PORT with _linger_client
# after-fin (PAUSE: its pause before the next request): part of the response
# must still wait in slb's send queue when the client sends its next
# request, and the client must get all N bytes, then a clean end.
_gets_all_after_fin() {
	run _linger_client after-fin "$TOPO_VIP" "$1" "$(topo_ns lb1)" \
		"GET $2 HTTP/1.1\r\nHost: a\r\n${3:-}\r\n" "${4:-0.3}"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]#sendq=}" -gt 0 ]
	[ "${lines[1]}" = "body=${2##*/} error=none" ]
}

# A Connection: close request with another pipelined behind it, in one write.
PIPELINED_AFTER_CLOSE='Connection: close\r\n\r\nGET /pipelined HTTP/1.1\r\nHost: a\r\n'

@test "a request pipelined behind a Connection: close one: slb lingers, the client gets all of the response (no reset)" {
	# The pipelined request is in when slb closes, and the client sends
	# more after slb's FIN while part of the response still waits in slb's
	# send queue for a slow reader. Closed instead of shut down, slb's
	# socket would answer with a reset and drop that part.
	_sndbuf_256k
	_gets_all_after_fin 80 /big/600000 "$PIPELINED_AFTER_CLOSE"
	! grep -q '^GET /pipelined' "$REQUESTS" || false
	! grep -q '^GET /next' "$REQUESTS" || false
}

@test "a slow reader still receiving its response past keepalive_timeout after slb's FIN keeps it lingering (no reset)" {
	# :85 has keepalive_timeout 400ms; the client sends more 0.7 s after
	# slb's FIN, the end of the response still in slb's send queue. A
	# linger cut at 400 ms would have closed the socket, and those bytes
	# would draw the reset that drops the end.
	_sndbuf_256k
	_gets_all_after_fin 85 /big/600000 "$PIPELINED_AFTER_CLOSE" 0.7
}

@test "a client that asked to close and sent nothing more is closed at once, not kept until its FIN" {
	# As HAProxy and nginx do: waiting for the FIN of a client that is
	# done would cost every Connection: close request one more event. The
	# client keeps its socket open after the response: slb's side must be
	# closed (held by no process), not lingering in the worker.
	local out=$BATS_TEST_TMPDIR/finished.out pid lport conn
	topo_exec client timeout 10 python3 -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], 80), timeout=5)
s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
while s.recv(65536):
    pass
print(s.getsockname()[1], flush=True)
time.sleep(3)
' "$TOPO_VIP" >"$out" &
	pid=$!
	wait_until 5 eval '[ -s "$out" ]'
	lport=$(cat "$out")
	conn=$(topo_exec lb1 ss -Htanp "( sport = :80 and dport = :$lport )")
	echo "lport=$lport: $conn"
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	[ -n "$conn" ]
	[[ $conn != *users:* ]]
}

@test "reload: a keep-alive client whose response still waits in the kernel is shut down and lingered on, not closed" {
	# On :84 (keepalive_timeout 30s) a keep-alive client reads 1 MB slowly
	# and the drain starts meanwhile. Once slb's buffers are empty the client
	# is idle to slb, but the end of its response is still in the kernel:
	# the draining worker sends its FIN and reads on (as long as that end is
	# not delivered) instead of closing, so the request the client sends
	# next is dropped, not answered with a reset that would lose that end.
	local out=$TOPO_DIR/linger-drain.out pid
	_sndbuf_256k
	_linger_client after-fin "$TOPO_VIP" 84 "$(topo_ns lb1)" \
		'GET /big/1000000 HTTP/1.1\r\nHost: a\r\n\r\n' >"$out" &
	pid=$!
	sleep 0.5
	log_mark
	slb_reload
	slb_wait_reloaded 10
	wait "$pid"
	cat "$out"
	[ "$(sed -n 's/^sendq=//p' "$out")" -gt 0 ]
	grep -qx 'body=1000000 error=none' "$out"
}

@test "keepalive_timeout on a client still reading its response from the kernel: FIN and linger, not close" {
	# On :85 (keepalive_timeout 400ms) a keep-alive client reads 1 MB slowly:
	# the end (256 kB of send buffer) takes it about two seconds after slb's
	# last write, so the idle timer runs out while the kernel holds it.
	_sndbuf_256k
	_gets_all_after_fin 85 /big/1000000
}

@test "an error answered while the body still comes is read whole after the upload (slb lingers)" {
	# 503 on :81 at once, then the client sends 1 MB of body for about a
	# second without reading: slb reads and drops it, and the answer waits.
	run _linger_client upload "$TOPO_VIP" 81 \
		'POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n' 1000000
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "sent=1000000" ]
	[[ "${lines[1]}" =~ ^status=503\ body=([0-9]+)\ length=([0-9]+)\ error=none$ ]]
	[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]
}
