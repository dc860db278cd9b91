#!/usr/bin/env bats
# http and https health checks (issue #4): slb-checker sends
# "GET check_path" with Host check_host and reads the status line with the
# HTTP parser; a status outside check_codes, an answer that is not HTTP, no
# answer, or a failed TLS handshake takes the server down; a good answer
# brings it back. One slb runs for the whole file (slb_config_basic plus the
# groups below, no listener needed: the checker probes every group):
#
#   ok      b1:9100 answers 200                           check = http
#   err     b2:9100 answers 500                           check = http
#   nohttp  b1:9000 answers "b1\n" (not HTTP),            check = http
#           b2:9101 never answers (drain backend)
#   codes   b1:9103 answers 404, check_codes = 2xx,4xx    check = http
#   codes2  b1:9103 answers 404, check_codes = 2xx        check = http
#   route   b2:9104 answers 200 only to GET /healthz with Host www.example.com,
#           404 otherwise: route1 asks that, route2 asks /other
#   tlsca   b1:9102 again, verified with server_tls_ca as b1.test (its name)
#   tlscaname  the same, verified as other.test (not its name)
#   tlscaport  the same, check_host = b1.test:9102 (a port: Host header only)
#   headchk b2:9105 answers 200 to HEAD, 405 to GET      check_method = HEAD
#   getchk  the same server with the default GET
#   tls     b1:9102 TLS (test CA's backend.pem) answering 200,
#           b2:9000 (answers "b2\n" in clear text) as "b"  check = https
#   hints   b1:9107 answers 103 Early Hints then 200,
#           b2:9107 103 Early Hints then 500              check = http
#   tlsip   lb1's own 127.0.0.1:9108 (TLS, backend.pem has IP:127.0.0.1),
#           verified with server_tls_ca as check_host = 127.0.0.1
#   tlsipother  the same, verified as 127.0.0.2 (not its address)
#   sniip   lb1's 127.0.0.1:9109, openssl s_server logging the ClientHello's
#           extensions (sni.9109.log), check_host = 127.0.0.1
#   sniport the same on 127.0.0.1:9110, check_host = b1.test:9110
#   flip    b1:9106, nothing there until a test starts one; healthy_threshold
#           10, unhealthy_threshold 2                    check = http
#
# Checks every 200ms, timeout 150ms, thresholds 2.

# shellcheck disable=SC2016  # eval strings expand when evaluated
load helpers/topology
load helpers/client

_group() { # _group NAME CHECK EXTRA SERVERS...
	local name=$1 check=$2 extra=$3
	shift 3
	printf '\n[group %s]\ncheck = %s\ncheck_interval = 200ms\ncheck_timeout = 150ms\n' "$name" "$check"
	printf 'healthy_threshold = 2\nunhealthy_threshold = 2\n'
	[ -n "$extra" ] && printf '%s\n' "$extra"
	printf '%s\n' "$@"
}

_config() {
	local b1 b2
	b1=$(topo_ip b1) b2=$(topo_ip b2)
	slb_config_basic
	_group ok http "" "server.a = $b1:9100"
	_group err http "" "server.a = $b2:9100"
	_group nohttp http "" "server.a = $b1:9000" "server.b = $b2:9101"
	_group codes http "check_codes = 2xx,4xx" "server.a = $b1:9103"
	_group codes2 http "check_codes = 2xx" "server.a = $b1:9103"
	_group route1 http "check_path = /healthz
check_host = www.example.com" "server.a = $b2:9104"
	_group route2 http "check_path = /other
check_host = www.example.com" "server.a = $b2:9104"
	_group tls https "check_host = b1.test" "server.a = $b1:9102" "server.b = $b2:9000"
	_group tlsca https "check_host = b1.test
server_tls_ca = $TOPO_DIR/tls/ca.pem" "server.a = $b1:9102"
	_group tlscaname https "check_host = other.test
server_tls_ca = $TOPO_DIR/tls/ca.pem" "server.a = $b1:9102"
	_group tlscaport https "check_host = b1.test:9102
server_tls_ca = $TOPO_DIR/tls/ca.pem" "server.a = $b1:9102"
	_group headchk http "check_method = HEAD" "server.a = $b2:9105"
	_group getchk http "" "server.a = $b2:9105"
	_group hints http "" "server.a = $b1:9107" "server.b = $b2:9107"
	_group tlsip https "check_host = 127.0.0.1
server_tls_ca = $TOPO_DIR/tls/ca.pem" "server.a = 127.0.0.1:9108"
	_group tlsipother https "check_host = 127.0.0.2
server_tls_ca = $TOPO_DIR/tls/ca.pem" "server.a = 127.0.0.1:9108"
	_group sniip https "check_host = 127.0.0.1" "server.a = 127.0.0.1:9109"
	_group sniport https "check_host = b1.test:9110" "server.a = 127.0.0.1:9110"
	printf '\n[group flip]\ncheck = http\ncheck_interval = 200ms\ncheck_timeout = 150ms\n'
	printf 'healthy_threshold = 10\nunhealthy_threshold = 2\nserver.a = %s:9106\n' "$b1"
}

# _http_script: a per-connection program for socat: reads the request head,
# answers "$1" (a status code, or "route": 200 for GET /healthz with Host
# www.example.com, else 404; "hintsNNN": 103 Early Hints, then NNN).
_http_script() {
	local f=$TOPO_DIR/http-status.sh
	[ -f "$f" ] || cat >"$f" <<'EOS'
#!/bin/bash
status=$1 line='' host='' first=''
for ((i = 0; i < 100; i++)); do
	IFS= read -r -t 2 line || break
	line=${line%$'\r'}
	[ -z "$first" ] && first=$line
	[ -z "$line" ] && break
	case ${line,,} in host:*) host=${line#*:}; host=${host# } ;; esac
done
if [ "$status" = headonly ]; then
	status=405
	[ "${first%% *}" = HEAD ] && status=200
fi
if [ "${status#hints}" != "$status" ]; then
	status=${status#hints}
	printf 'HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n'
fi
if [ "$status" = route ]; then
	status=404
	[ "$first" = "GET /healthz HTTP/1.1" ] && [ "$host" = www.example.com ] && status=200
fi
printf 'HTTP/1.1 %s X\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n' "$status"
EOS
	chmod 0755 "$f"
	echo "$f"
}

# _http_backend NAME PORT STATUS [tls [ADDRESS]]: a socat backend in NAME's
# namespace, on ADDRESS (default NAME's own), recorded like backend_start's,
# so backend_stop stops it.
_http_backend() {
	local name=$1 port=$2 status=$3 listen pidf=$TOPO_DIR/pids/backend.$1.$2 bind
	bind=${5:-$(topo_ip "$name")}
	listen="TCP-LISTEN:$port,bind=$bind,fork,reuseaddr"
	[ "${4:-}" = tls ] &&
		listen="OPENSSL-LISTEN:$port,bind=$bind,fork,reuseaddr,cert=$TOPO_DIR/tls/backend.pem,verify=0"
	ip netns exec "$(topo_ns "$name")" socat -T 5 "$listen" SYSTEM:"$(_http_script) $status" \
		</dev/null >"$TOPO_DIR/backend.$name.$port.log" 2>&1 3>&- &
	_pid_record "$pidf" $!
	wait_until 5 _backend_bound "$name" "$port" -Hltn
}

# _sni_backend PORT: openssl s_server on lb1's 127.0.0.1:PORT answering 200
# (-www), writing each ClientHello's extensions to sni.PORT.log (-tlsextdebug:
# 'TLS client extension "server name" (id=0), len=N' when SNI was sent).
_sni_backend() {
	local port=$1
	ip netns exec "$(topo_ns lb1)" openssl s_server -accept "127.0.0.1:$port" \
		-cert "$TOPO_DIR/tls/backend.pem" -www -tlsextdebug \
		</dev/null >"$TOPO_DIR/sni.$port.log" 2>&1 3>&- &
	_pid_record "$TOPO_DIR/pids/backend.lb1.$port" $!
	wait_until 5 _backend_bound lb1 "$port" -Hltn
}

setup_file() {
	topo_up
	"$TOPO_REPO/tests/tools/make-test-ca.sh" "$TOPO_DIR/tls"
	backend_start b1 9000
	backend_start b2 9000
	backend_start b2 9101 drain
	_http_backend b1 9100 200
	_http_backend b2 9100 500
	_http_backend b1 9103 404
	_http_backend b2 9104 route
	_http_backend b1 9102 200 tls
	_http_backend b2 9105 headonly
	_http_backend b1 9107 hints200
	_http_backend b2 9107 hints500
	_http_backend lb1 9108 200 tls 127.0.0.1
	_sni_backend 9109
	_sni_backend 9110
	_config >"$TOPO_DIR/slb.ini"
	slb_start "$TOPO_DIR/slb.ini"
	# Every verdict below needs 2 probes: 1 s is 5 intervals.
	sleep 1
}

teardown_file() {
	topo_down
}

setup() {
	slb_running_or_fail
}

# _state GROUP/SERVER: UP or DOWN, from slbctl.
_state() {
	"$(slb_bin slbctl)" -s "$TOPO_DIR/lb1/slb.sock" --json health |
		jq -r --arg g "${1%/*}" --arg s "${1#*/}" '.servers[] | select(.group == $g and .name == $s) | .state'
}

_down_because() { # _down_because GROUP/SERVER REASON
	[ "$(_state "$1")" = DOWN ]
	log_has "slb-checker\[[0-9]+\]: warning: server $1 [0-9.:]+ is DOWN \(2 checks failed, last: $2\)"
}

_stays_up() {
	[ "$(_state "$1")" = UP ]
	log_lacks "server $1 .* is DOWN"
}

@test "a server answering 200 is up; one answering 500 goes down, saying why" {
	_stays_up ok/a
	_down_because err/a "HTTP status 500"
	slbctl_health=$("$(slb_bin slbctl)" -s "$TOPO_DIR/lb1/slb.sock" health)
	echo "$slbctl_health"
	grep -E "^ok +a +$(topo_ip b1):9100 +http +UP " <<<"$slbctl_health"
}

@test "a server that does not speak HTTP, or does not answer, goes down" {
	_down_because nohttp/a "not an HTTP response"
	_down_because nohttp/b "Connection timed out"
}

@test "check_codes decides which statuses are healthy" {
	_stays_up codes/a
	_down_because codes2/a "HTTP status 404"
}

@test "check_path and check_host are what the server is asked" {
	_stays_up route1/a
	_down_because route2/a "HTTP status 404"
}

@test "check_method = HEAD sends HEAD (the default is GET)" {
	_stays_up headchk/a
	_down_because getchk/a "HTTP status 405"
}

@test "https checks: a TLS server answering 200 is up, a clear-text one goes down" {
	_stays_up tls/a
	_down_because tls/b "TLS handshake failed.*"
	# server_tls_ca: verified against the test CA, for the name asked
	_stays_up tlsca/a
	_down_because tlscaname/a "TLS handshake failed: certificate verify failed"
}

@test "https checks: a check_host with a port is verified (and sent as SNI) without the port" {
	_stays_up tlscaport/a
}

@test "https checks send no SNI for an IP check_host, and a name's SNI without its port" {
	_stays_up sniip/a
	_stays_up sniport/a
	# the log shows ClientHellos (so a missing SNI is not a missing log)
	grep -q 'TLS client extension "supported versions"' "$TOPO_DIR/sni.9109.log"
	! grep -F '"server name"' "$TOPO_DIR/sni.9109.log" || false
	# b1.test: list length 2, type 1, name length 2, 7 bytes = 12
	grep -q 'TLS client extension "server name" (id=0), len=12$' "$TOPO_DIR/sni.9110.log"
	! grep -F '"server name"' "$TOPO_DIR/sni.9110.log" | grep -v 'len=12$' || false
}

@test "a server whose answer turns good comes back UP" {
	log_mark
	backend_stop b2 9100
	_http_backend b2 9100 204
	health_wait err/a UP 3
	[ "$(_state err/a)" = UP ]
	log_has "server err/a $(topo_ip b2):9100 is UP \(2 checks passed\)"
	# and back to 500 for a second run of this file's tests
	backend_stop b2 9100
	_http_backend b2 9100 500
	health_wait err/a DOWN 3
}

@test "an interim 1xx response (103 Early Hints) is skipped: the final status decides" {
	_stays_up hints/a
	_down_because hints/b "HTTP status 500"
}

@test "https checks verify a check_host that is an IP address against the certificate's IP names" {
	_stays_up tlsip/a
	_down_because tlsipother/a "TLS handshake failed: .*certificate verify failed"
}

_ctl() { "$(slb_bin slbctl)" -s "$TOPO_DIR/lb1/slb.sock" "$@"; }

@test "check = none, then http again: passes counted while down are not taken for failures" {
	# flip/a is down (nothing on b1:9106). A server answering there passes 3
	# or so of the 10 checks it needs, then check = none marks it up; with
	# check = http again and the server gone, it must fail 2 checks before
	# it is down, not 1 (the passes were counted as failures).
	wait_until 3 eval '[ "$(_state flip/a)" = DOWN ]'
	_http_backend b1 9106 200
	sleep 0.7
	[ "$(_state flip/a)" = DOWN ]
	_ctl group set flip check=none
	wait_until 3 eval '[ "$(_state flip/a)" = UP ]'
	backend_stop b1 9106
	_ctl group set flip check=http
	wait_until 3 eval '[ "$(_state flip/a)" = DOWN ]'
	log_has "server flip/a [0-9.:]+ is DOWN" | tail -n 1 | tee /dev/stderr | grep -F "(2 checks failed, last: "
}
