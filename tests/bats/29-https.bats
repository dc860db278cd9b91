#!/usr/bin/env bats
# HTTPS listeners (issue #4): TLS termination with certificates chosen by
# SNI and verified by curl against our test CA (tests/tools/make-test-ca.sh),
# TLS 1.2/1.3 only, session resumption across workers and reloads, private
# keys readable by root only, the redirect listener, TLS towards servers,
# and certificate errors caught by slb-master -t. One slb runs for the whole
# file (slb_config_basic, 2 workers, plus):
#
#   8443 web443   https; tls_cert = site.pem (www.example.com, *.example.com)
#                 with tls_key = site.key, tls_cert.api = api.pem
#                 (api.example.org, key inside); group site = b1:9500 (an
#                 slb-test-http-backend, which echoes the request head);
#                 cookie_insert on, to see its cookie over TLS
#   8090 redir    http, redirect_https = yes
#   8091 totls    http to group tlsback (server_tls = yes, verified against
#                 the test CA as b1.test): a TLS server (socat with the test
#                 CA's backend.pem, b1.test) on b1:9501
#   8093 wrongname the same server, verified as other.test
#   8092 toplain  http to group plainback (server_tls = yes) whose server
#                 b1:9500 speaks plain HTTP
#   8094 tlsport  http to group tlsport (server_tls = yes, verified against
#                 the test CA, check_host = b1.test:9502): socat terminating
#                 TLS on b1:9502 in front of the keep-alive b1:9500

load helpers/topology
load helpers/client
load helpers/http

_config() {
	local tls=$TOPO_DIR/tls
	slb_config_basic
	cat <<EOF2

[listener web443]
protocol = https
bind = $TOPO_VIP:8443
group = site
tls_cert = $tls/site.pem
tls_key = $tls/site.key
tls_cert.api = $tls/api.pem
persistence = cookie_insert

[listener redir]
protocol = http
bind = $TOPO_VIP:8090
group = site
redirect_https = yes

[group site]
server.b1 = $(topo_ip b1):9500

[listener totls]
protocol = http
bind = $TOPO_VIP:8091
group = tlsback

[group tlsback]
server_tls = yes
server_tls_ca = $tls/ca.pem
check_host = b1.test
server.b1 = $(topo_ip b1):9501

[listener wrongname]
protocol = http
bind = $TOPO_VIP:8093
group = tlswrongname

[group tlswrongname]
server_tls = yes
server_tls_ca = $tls/ca.pem
check_host = other.test
server.b1 = $(topo_ip b1):9501

[listener toplain]
protocol = http
bind = $TOPO_VIP:8092
group = plainback

[group plainback]
server_tls = yes
server.b1 = $(topo_ip b1):9500

[listener tlsport]
protocol = http
bind = $TOPO_VIP:8094
group = tlsport

[group tlsport]
server_tls = yes
server_tls_ca = $tls/ca.pem
check_host = b1.test:9502
server.b1 = $(topo_ip b1):9502
EOF2
}

# _tls_answer: per-connection program behind the TLS server: reads the head
# (keeping X-Forwarded-Proto), answers "tls-b1 proto=<it>", and closes.
_tls_answer() {
	local f=$TOPO_DIR/tls-answer.sh
	cat >"$f" <<'EOS'
#!/bin/bash
proto=''
for ((i = 0; i < 100; i++)); do
	IFS= read -r -t 2 line || break
	line=${line%$'\r'}
	[ -z "$line" ] && break
	case ${line,,} in x-forwarded-proto:*) proto=${line#*: } ;; esac
done
body="tls-b1 proto=$proto"$'\n'
printf 'HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' "${#body}" "$body"
EOS
	chmod 0755 "$f"
	echo "$f"
}

setup_file() {
	topo_up
	"$TOPO_REPO/tests/tools/make-test-ca.sh" "$TOPO_DIR/tls"
	# private keys for root only: the workers read them before they become user slb
	chmod 0600 "$TOPO_DIR/tls/site.key" "$TOPO_DIR/tls/api.pem"
	backend_start b1 9000
	backend_start b2 9000
	http_backend_start b1 9500
	# a TLS server (the test CA's backend.pem): socat in front of a one-line answer
	ip netns exec "$(topo_ns b1)" socat -T 5 \
		"OPENSSL-LISTEN:9501,bind=$(topo_ip b1),fork,reuseaddr,cert=$TOPO_DIR/tls/backend.pem,verify=0" \
		SYSTEM:"$(_tls_answer)" </dev/null >"$TOPO_DIR/backend.b1.9501.log" 2>&1 3>&- &
	_pid_record "$TOPO_DIR/pids/backend.b1.9501" $!
	wait_until 5 _backend_bound b1 9501 -Hltn
	# TLS in front of the keep-alive http backend: one TCP connection to it per TLS one
	ip netns exec "$(topo_ns b1)" socat -T 5 \
		"OPENSSL-LISTEN:9502,bind=$(topo_ip b1),fork,reuseaddr,cert=$TOPO_DIR/tls/backend.pem,verify=0" \
		"TCP:$(topo_ip b1):9500" </dev/null >"$TOPO_DIR/backend.b1.9502.log" 2>&1 3>&- &
	_pid_record "$TOPO_DIR/pids/backend.b1.9502" $!
	wait_until 5 _backend_bound b1 9502 -Hltn
	_config >"$TOPO_DIR/slb.ini"
	slb_start "$TOPO_DIR/slb.ini"
}

teardown_file() {
	topo_down
}

setup() {
	slb_running_or_fail
}

# _curl NAME ARGS...: https://NAME:8443/ from the client, NAME resolving to
# the VIP, verified against the test CA only.
_curl() {
	local name=$1
	shift
	http_curl --cacert "$TOPO_DIR/tls/ca.pem" --resolve "$name:8443:$TOPO_VIP" "$@" \
		"https://$name:8443/"
}

# _subject SNI [s_client args]: the subject of the certificate slb presents.
_subject() {
	local sni=$1
	shift
	topo_exec client timeout 5 openssl s_client -connect "$TOPO_VIP:8443" ${sni:+-servername "$sni"} \
		"$@" </dev/null 2>/dev/null | openssl x509 -noout -subject 2>/dev/null
}

@test "two SNI names, each verified by curl against the test CA" {
	local out
	out=$(_curl www.example.com)
	echo "$out"
	[[ "$(head -n1 <<<"$out")" == "b1 conn="* ]]
	grep -i '^X-Forwarded-Proto: https' <<<"$out"
	grep -i '^X-Forwarded-Port: 8443' <<<"$out"
	out=$(_curl api.example.org)
	[[ "$(head -n1 <<<"$out")" == "b1 conn="* ]]
	_curl shop.example.com >/dev/null # the wildcard
	[[ "$(_subject api.example.org)" == *"CN = api"* ]]
	[[ "$(_subject www.example.com)" == *"CN = site"* ]]
	# a name no certificate has: the default (tls_cert), which curl refuses
	[[ "$(_subject unknown.org)" == *"CN = site"* ]]
	[[ "$(_subject "")" == *"CN = site"* ]]
	run _curl unknown.org
	[ "$status" -ne 0 ]
}

@test "TLS 1.2 and 1.3 are served, older versions are refused" {
	_curl www.example.com --tlsv1.2 --tls-max 1.2 >/dev/null
	_curl www.example.com --tlsv1.3 >/dev/null
	run topo_exec client timeout 5 openssl s_client -connect "$TOPO_VIP:8443" -tls1_1 \
		-cipher 'DEFAULT@SECLEVEL=0' </dev/null
	echo "$output"
	[ "$status" -ne 0 ]
	! grep -q "^New, TLSv1.1" <<<"$output" || false
}

_request() { printf 'GET / HTTP/1.1\r\nHost: www.example.com\r\nConnection: close\r\n\r\n'; }

@test "sessions resume, on any worker (TLS 1.3 tickets and TLS 1.2)" {
	local sess=$TOPO_DIR/tls.sess v i out reused
	for v in -tls1_3 -tls1_2; do
		# a whole exchange, so that a TLS 1.3 ticket (sent after the handshake) is in
		_request | topo_exec client timeout 5 openssl s_client -connect "$TOPO_VIP:8443" \
			-servername www.example.com "$v" -sess_out "$sess" -ign_eof >/dev/null 2>&1
		[ -s "$sess" ]
		reused=0
		# 2 workers: over 6 connections both are almost surely met
		for ((i = 0; i < 6; i++)); do
			out=$(_request | topo_exec client timeout 5 openssl s_client -connect "$TOPO_VIP:8443" \
					-servername www.example.com "$v" -sess_in "$sess" -ign_eof 2>/dev/null)
			grep -q '^Reused, ' <<<"$out" && reused=$((reused + 1))
			grep -q '^b1 conn=' <<<"$out"
		done
		echo "$v: $reused of 6 reused"
		[ "$reused" -eq 6 ]
		rm -f "$sess"
	done
}

@test "a ticket from before a reload still resumes (its keys come from the private key)" {
	local sess=$TOPO_DIR/tls.sess out
	_request | topo_exec client timeout 5 openssl s_client -connect "$TOPO_VIP:8443" \
		-servername www.example.com -tls1_3 -sess_out "$sess" -ign_eof >/dev/null 2>&1
	[ -s "$sess" ]
	log_mark
	slb_reload
	slb_wait_reloaded 10
	out=$(_request | topo_exec client timeout 5 openssl s_client -connect "$TOPO_VIP:8443" \
		-servername www.example.com -tls1_3 -sess_in "$sess" -ign_eof 2>/dev/null)
	grep '^Reused, ' <<<"$out"
	grep -q '^b1 conn=' <<<"$out"
	rm -f "$sess"
}

@test "cookies over https are Secure; a 2 MB response comes through TLS whole" {
	local head
	head=$(_curl www.example.com -D - -o /dev/null)
	echo "$head"
	grep -E '^Set-Cookie: SLBID=[A-Za-z0-9_-]{12}; Path=/; Max-Age=1000; HttpOnly; Secure' <<<"$head"
	http_curl --cacert "$TOPO_DIR/tls/ca.pem" --resolve "www.example.com:8443:$TOPO_VIP" \
		-o "$TOPO_DIR/big" "https://www.example.com:8443/big/2000000"
	[ "$(stat -c %s "$TOPO_DIR/big")" -eq 2000000 ]
	[ "$(tr -d x <"$TOPO_DIR/big" | wc -c)" -eq 0 ]
}

@test "redirect_https: 301 to the same host and target over https" {
	local head
	head=$(http_curl -D - -o /dev/null -H "Host: www.example.com:8090" "http://$TOPO_VIP:8090/a/b?c=1" |
		tr -d '\r')
	echo "$head"
	grep -E '^HTTP/1.1 301 ' <<<"$head"
	grep -E '^Location: https://www.example.com/a/b\?c=1$' <<<"$head"
	# an absolute-form target names the host and the target itself
	head=$(http_curl -D - -o /dev/null -H "Host: www.example.com" \
		--request-target "http://www.example.com/a/c?d=2" "http://$TOPO_VIP:8090/" | tr -d '\r')
	echo "$head"
	grep -E '^HTTP/1.1 301 ' <<<"$head"
	grep -E '^Location: https://www.example.com/a/c\?d=2$' <<<"$head"
	# slb answered it: nothing reached the server
	! grep -q "^GET /a/b" "$(http_requests b1 9500)" || false
}

@test "slb-master -t: an unreadable certificate or CA, or a key that does not match, is file:line: [section] key" {
	local bad=$TOPO_DIR/bad.ini
	sed "s|^tls_key = .*|tls_key = $TOPO_DIR/tls/other.key|" "$TOPO_DIR/slb.ini" >"$bad"
	run "$(slb_bin slb-master)" -t -c "$bad"
	echo "$output"
	[ "$status" -eq 1 ]
	grep -E "^$bad:[0-9]+: \[listener web443\] tls_key: .*other\.key" <<<"$output"
	sed "s|^tls_cert.api = .*|tls_cert.api = $TOPO_DIR/tls/missing.pem|" "$TOPO_DIR/slb.ini" >"$bad"
	run "$(slb_bin slb-master)" -t -c "$bad"
	echo "$output"
	[ "$status" -eq 1 ]
	grep -E "^$bad:[0-9]+: \[listener web443\] tls_cert.api: cannot load the certificate chain .*missing\.pem" <<<"$output"
	sed "0,/^server_tls_ca = .*/s||server_tls_ca = $TOPO_DIR/tls/none.pem|" "$TOPO_DIR/slb.ini" >"$bad"
	run "$(slb_bin slb-master)" -t -c "$bad"
	echo "$output"
	[ "$status" -eq 1 ]
	grep -E "^$bad:[0-9]+: \[group tlsback\] server_tls_ca: cannot load .*none\.pem" <<<"$output"
	# the running file itself is fine
	run "$(slb_bin slb-master)" -t -c "$TOPO_DIR/slb.ini"
	[ "$status" -eq 0 ]
}

@test "server_tls: a port in check_host is not part of the name verified; the TLS connection is kept and replayed when stale" {
	local answers
	# /idle-close: answered on a connection's first request, closed unanswered on a later one
	run http_raw 8094 'GET /first HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\nGET /idle-close HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
	echo "$output"
	[ "$(grep -c $'^HTTP/1.1 200 OK\r' <<<"$output")" -eq 3 ]
	answers=$(grep -o '^b1 conn=[0-9]* req=[0-9]*' <<<"$output")
	echo "$answers"
	# the same TLS connection serves /first and /second
	local c1 r1 c2 r2 c3 r3
	read -r c1 r1 c2 r2 c3 r3 <<<"$(sed 's/^b1 //' <<<"$answers" | tr '\n' ' ')"
	[ "$c2" = "$c1" ] && [ "${r2#req=}" -eq $((${r1#req=} + 1)) ]
	# /idle-close found it closed and went again on a fresh TLS connection
	[ "$c3" != "$c1" ] && [ "$r3" = req=1 ]
}

@test "server_tls: a PUT with its body goes again on a fresh TLS connection; a POST after it does not" {
	local requests
	requests=$(http_requests b1 9500)
	: >"$requests"
	run http_raw 8094 'GET /first HTTP/1.1\r\nHost: a\r\n\r\nPUT /idle-close HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloPOST /idle-close HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello'
	echo "$output"
	# /first, then the PUT replayed on a fresh connection; the POST that
	# took that one from the pool is closed unanswered, sent once
	[ "$(grep -o 'HTTP/1.1 [0-9]*' <<<"$output" | tr '\n' ' ')" = 'HTTP/1.1 200 HTTP/1.1 200 ' ]
	grep '^b1 conn=' <<<"$output" | sed -n 2p | grep -q ' req=1 body=5$'
	[ "$(tail -n2 <<<"$output")" = $'--body--\nhello' ]
	[ "$(grep -c '^PUT /idle-close ' "$requests")" -eq 2 ]
	[ "$(grep -c '^POST /idle-close ' "$requests")" -eq 1 ]
}

@test "server_tls: an http listener reaches a TLS server (verified); another name or no TLS is a 502" {
	local out i
	for ((i = 0; i < 5; i++)); do
		out=$(http_curl "http://$TOPO_VIP:8091/")
		echo "$out"
		[ "$out" = "tls-b1 proto=http" ]
	done
	run http_curl -o /dev/null -w '%{http_code}' "http://$TOPO_VIP:8092/"
	echo "$output"
	[ "$output" = 502 ]
	# server_tls_ca: a certificate for another name is refused
	run http_curl -o /dev/null -w '%{http_code}' "http://$TOPO_VIP:8093/"
	echo "$output"
	[ "$output" = 502 ]
	# and a tcp listener cannot use such a group
	sed 's/^protocol = http$/protocol = tcp/' "$TOPO_DIR/slb.ini" | sed '/^redirect_https/d' >"$TOPO_DIR/tcp.ini"
	run "$(slb_bin slb-master)" -t -c "$TOPO_DIR/tcp.ini"
	echo "$output"
	grep -E "\[listener totls\] group: a group with server_tls = yes serves http and https listeners only, not tcp" <<<"$output"
}
