# http.bash — an HTTP backend and raw HTTP clients for the HTTP listener
# suites (on top of topology.bash and backend.bash).
#
# The backend is our own slb-test-http-backend (tests/tools/http_backend.c):
# keep-alive, one child per connection, every request head it receives
# appended to a request log, answers chosen by path (see the tool's header).
# Its answer's first line is "NAME conn=C req=R body=N", then the request
# head it saw: tests read the forwarded headers from the response.

# shellcheck disable=SC2016  # bash -c strings expand in the client namespace

# http_backend_start NAME PORT: start it in namespace NAME on its address;
# the request log is $(http_requests NAME PORT).
http_backend_start() {
	local name=$1 port=$2 bin pidf log
	pidf=$TOPO_DIR/pids/backend.$name.$port
	log=$TOPO_DIR/backend.$name.$port.log
	bin=$(backend_bin) || return 1
	bin=${bin%/*}/slb-test-http-backend
	[ -x "$bin" ] || { _topo_err "slb-test-http-backend not built"; return 1; }
	: >"$(http_requests "$name" "$port")"
	ip netns exec "$(topo_ns "$name")" "$bin" -l "$(topo_ip "$name"):$port" -n "$name" \
		-r "$(http_requests "$name" "$port")" </dev/null >"$log" 2>&1 3>&- &
	_pid_record "$pidf" $!
	wait_until 5 _backend_bound "$name" "$port" -Hltn || {
		_topo_err "http backend $name did not bind port $port"
		return 1
	}
}

# http_requests NAME PORT: the backend's request log.
http_requests() { echo "$TOPO_DIR/backend.$1.$2.requests"; }

# http_raw PORT FORMAT [WAIT [LINGER]]: send printf FORMAT (escapes
# interpreted) to the VIP's PORT from the client, keep the connection open
# WAIT seconds (default 0) after it, then half-close; print everything
# answered. socat stops LINGER seconds (default 5) after either side ended,
# so a connection slb closes ends the call that much later. Bounded by 15 s.
http_raw() {
	topo_exec client bash -c '
		{ printf "$3"; sleep "$4"; } |
			timeout 15 socat -t "$5" - "TCP:$1:$2,connect-timeout=3" 2>/dev/null' \
		http_raw "$TOPO_VIP" "$1" "$2" "${3:-0}" "${4:-5}"
}

# http_raw_timed PORT FORMAT WAIT LINGER: http_raw, then a last line
# "elapsed=MS": how long the connection lasted (socat's time, not the
# WAIT of the input that may outlast it).
http_raw_timed() {
	topo_exec client bash -c '
		{ printf "$3"; sleep "$4"; } | {
			t0=$(date +%s%N)
			timeout 15 socat -t "$5" - "TCP:$1:$2,connect-timeout=3" 2>/dev/null
			echo "elapsed=$((($(date +%s%N) - t0) / 1000000))"
		}' http_raw_timed "$TOPO_VIP" "$1" "$2" "$3" "$4"
}

# http_curl ARGS...: curl in the client namespace (bounded by 10 s).
http_curl() {
	topo_exec client curl -sS --max-time 10 "$@"
}
