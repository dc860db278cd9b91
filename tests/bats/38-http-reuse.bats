#!/usr/bin/env bats
# Idle server connections reused for requests with a body. A request whose
# body is all in slb's buffer, with an idempotent method (PUT, DELETE, GET,
# HEAD, OPTIONS), may take a pooled connection and goes again once on a
# fresh one when the pooled one closes unanswered; any other request (POST,
# or a body still streaming) takes one only after the first request of its
# client connection, and is never sent twice: the client's connection is
# closed without a response (RFC 9110 9.2.2), counted in
# slb_server_http_reuse_aborts_total. One worker, so every client meets the
# same pool. The backend's answers say "conn=C req=R": C counts its
# connections since it started.
#
#   :80  http  rr  group hweb: b1:8000 (http backend), no checks
# /metrics on lb1:9180.

load helpers/topology
load helpers/client
load helpers/http

_config() {
	slb_config_basic | sed -e "s/^metrics =.*/metrics = $(topo_ip lb1):9180/" \
		-e 's/^workers = .*/workers = 1/'
	cat <<EOF

[listener http]
protocol = http
bind = $TOPO_VIP:80
group = hweb
scheduler = rr
server_timeout = 3s
keepalive_timeout = 3s

[group hweb]
server.b1 = $(topo_ip b1):8000
EOF
}

setup_file() {
	topo_up
	backend_start b1 9000
	backend_start b2 9000
	http_backend_start b1 8000
	_config >"$TOPO_DIR/slb.ini"
	slb_start "$TOPO_DIR/slb.ini"
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

_metric() { metric_value client "$(topo_ip lb1):9180" "$1"; }
_retries() { _metric 'slb_server_http_retries_total{group="hweb",server="b1"'; }
_aborts() { _metric 'slb_server_http_reuse_aborts_total{group="hweb",server="b1"'; }

# _conns TEXT: the distinct backend connections ("conn=C") that answered in TEXT.
_conns() { grep -o '^b1 conn=[0-9]*' <<<"$1" | sort -u | wc -l; }

# _pooled_then REQUEST: a GET that leaves its server connection in the pool,
# then REQUEST (printf format) on the same client connection, which finds
# that connection there; prints both answers.
_pooled_then() {
	http_raw 80 "GET /first HTTP/1.1\r\nHost: a\r\n\r\n$1"
}

@test "20 POSTs on one client connection reach the server over one connection, not 20" {
	run http_curl -d 'hello' -w '\n' "http://$TOPO_VIP/post/[1-20]"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^b1 conn=[0-9]* req=[0-9]* body=5$' <<<"$output")" -eq 20 ]
	echo "server connections: $(_conns "$output")"
	[ "$(_conns "$output")" -le 2 ]
	[ "$(grep -c '^POST /post/' "$REQUESTS")" -eq 20 ]
}

@test "a spliced 1 MB POST as the second request of a client takes the pooled connection" {
	local body=$TOPO_DIR/post.body out=$TOPO_DIR/post.out first
	head -c 1000000 /dev/zero | tr '\0' y >"$body"
	run http_curl -o "$TOPO_DIR/first.out" -w '%{http_code}\n' "http://$TOPO_VIP/first" --next \
		-sS -H 'Expect:' --data-binary "@$body" -o "$out" -w '%{http_code}\n' \
		"http://$TOPO_VIP/upload"
	echo "$output"
	[ "$output" = $'200\n200' ]
	first=$(grep -o '^b1 conn=[0-9]* ' "$TOPO_DIR/first.out")
	echo "first: $first, upload: $(head -n1 "$out")"
	grep -q "^${first}req=[0-9]* body=1000000\$" "$out"
	[ "$(sed '1,/^--body--$/d' "$out" | tr -cd y | wc -c)" -eq 1000000 ]
}

@test "a PUT with its body buffered, on a pooled connection closed unanswered, goes again on a fresh one" {
	local before second
	before=$(_retries)
	run _pooled_then 'PUT /idle-close HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world'
	echo "$output"
	[ "$(grep -c $'^HTTP/1.1 200 OK\r' <<<"$output")" -eq 2 ]
	second=$(grep '^b1 conn=' <<<"$output" | sed -n 2p)
	[[ "$second" == *" req=1 body=11" ]]
	[ "$(_conns "$output")" -eq 2 ]
	[ "$(tail -n2 <<<"$output")" = $'--body--\nhello world' ]
	[ "$(grep -c '^PUT /idle-close ' "$REQUESTS")" -eq 2 ]
	[ "$(_retries)" -eq $((before + 1)) ]
}

@test "a chunked PUT on a pooled connection reset unanswered goes again, its body intact" {
	run _pooled_then 'PUT /idle-reset HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'
	echo "$output"
	[ "$(grep -c $'^HTTP/1.1 200 OK\r' <<<"$output")" -eq 2 ]
	grep '^b1 conn=' <<<"$output" | sed -n 2p | grep -q ' req=1 body=11$'
	[ "$(tail -n2 <<<"$output")" = $'--body--\nhello world' ]
	[ "$(grep -c '^PUT /idle-reset ' "$REQUESTS")" -eq 2 ]
}

@test "a POST on a pooled connection closed unanswered is not sent again: its client is closed without a response" {
	local retries aborts path
	for path in idle-close idle-reset; do
		retries=$(_retries) aborts=$(_aborts)
		run _pooled_then "POST /$path HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
		echo "$output"
		# the first answer whole, then the end of the connection and nothing more
		[ "$(grep -c '^HTTP/' <<<"$output")" -eq 1 ]
		grep -q $'^HTTP/1.1 200 OK\r' <<<"$output"
		[ "$(tail -n1 <<<"$output")" = '--body--' ]
		[ "$(grep -c "^POST /$path " "$REQUESTS")" -eq 1 ]
		[ "$(_aborts)" -eq $((aborts + 1)) ]
		[ "$(_retries)" -eq "$retries" ]
	done
}

@test "a POST whose body is still coming when its pooled connection closes unanswered: slb reads the rest, no reset" {
	# The client said Connection: close, but slb closes it unanswered while
	# half the body is still to come: the rest must be read and dropped
	# (linger), not drawn into a reset by a close() that treats the client
	# as finished.
	local aborts out
	aborts=$(_aborts)
	out=$(topo_exec client timeout 10 python3 -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], 80), timeout=5)
s.sendall(b"GET /first HTTP/1.1\r\nHost: a\r\n\r\n"
          b"POST /idle-close HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nConnection: close\r\n\r\nhello")
data = b""
while b"--body--" not in data:
    data += s.recv(65536)
time.sleep(0.5)  # slb has seen the pooled connection close by now
error = "none"
try:
    s.sendall(b"world")
    s.shutdown(socket.SHUT_WR)
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except OSError as e:
    error = "%s(%s)" % (e.__class__.__name__, e.errno)
print("answers=%d end=%s" % (data.count(b"HTTP/1.1 "), error))
' "$TOPO_VIP")
	echo "$out"
	[ "$out" = "answers=1 end=none" ]
	[ "$(_aborts)" -eq $((aborts + 1)) ]
}

@test "a spliced PUT on a pooled connection closed unanswered is not sent again by slb; curl sends it again itself" {
	local body=$TOPO_DIR/put.body out=$TOPO_DIR/put.out retries aborts
	retries=$(_retries) aborts=$(_aborts)
	head -c 200000 /dev/zero | tr '\0' y >"$body"
	run http_curl -v -o /dev/null -w '%{http_code}\n' "http://$TOPO_VIP/first" --next -sS -v \
		-H 'Expect:' -o "$out" -w '%{http_code}\n' -T "$body" "http://$TOPO_VIP/idle-close"
	echo "$output"
	# its keep-alive connection closed unanswered: curl's own rule sends it again on a new one
	grep -q '^\* Connection died, retrying a fresh connect' <<<"$output"
	[ "$(grep -c '^[0-9][0-9][0-9]$' <<<"$output")" -eq 2 ]
	[ "$(grep -c '^200$' <<<"$output")" -eq 2 ]
	# which, the first request of its connection, takes no pooled connection
	grep -q '^b1 conn=[0-9]* req=1 body=200000$' "$out"
	# once to the pooled connection that closed, once from curl
	[ "$(grep -c '^PUT /idle-close ' "$REQUESTS")" -eq 2 ]
	[ "$(_aborts)" -eq $((aborts + 1)) ]
	[ "$(_retries)" -eq "$retries" ]
}

@test "a PUT whose body comes after its head is not kept to go again, nor sent twice" {
	local retries aborts
	retries=$(_retries) aborts=$(_aborts)
	run topo_exec client bash -c '
		{ printf "GET /first HTTP/1.1\r\nHost: a\r\n\r\nPUT /idle-close HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"
		  sleep 0.3; printf hello; } | timeout 10 socat -t 3 - "TCP:$1:80,connect-timeout=3"' x "$TOPO_VIP"
	echo "$output"
	[ "$(grep -c '^HTTP/' <<<"$output")" -eq 1 ]
	[ "$(tail -n1 <<<"$output")" = '--body--' ]
	[ "$(grep -c '^PUT /idle-close ' "$REQUESTS")" -eq 1 ]
	[ "$(_aborts)" -eq $((aborts + 1)) ]
	[ "$(_retries)" -eq "$retries" ]
}

@test "the first POST of a client connection never takes a pooled connection" {
	local first second post
	first=$(http_curl "http://$TOPO_VIP/first" | grep -o '^b1 conn=[0-9]*')
	# a new client finds that connection in the pool
	second=$(http_curl "http://$TOPO_VIP/second" | grep -o '^b1 conn=[0-9]*')
	echo "first: $first, second: $second"
	[ "$first" = "$second" ]
	# /idle-close closes a connection unanswered from its second request on
	run http_curl -d hello -w '\n%{http_code}\n' "http://$TOPO_VIP/idle-close"
	echo "$output"
	[ "$(tail -n1 <<<"$output")" = 200 ]
	post=$(grep '^b1 conn=' <<<"$output")
	[[ "$post" == *" req=1 body=5" ]]
	[ "${post%% *}" != "$first" ]
	[ "$(grep -c '^POST /idle-close ' "$REQUESTS")" -eq 1 ]
}

@test "a GET, a POST and a DELETE pipelined on one client share one server connection" {
	run http_raw 80 'GET /a HTTP/1.1\r\nHost: a\r\n\r\nPOST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhiDELETE /c HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nConnection: close\r\n\r\nho'
	echo "$output"
	[ "$(grep -o 'HTTP/1.1 200 OK' <<<"$output" | wc -l)" -eq 3 ]
	[ "$(_conns "$output")" -eq 1 ]
}
