# backend.bash — toy backend servers for the namespaced topology.
# Sourced by topology.bash (which provides topo_exec, wait_until, _pid_*).
#
# A backend answers every connection (or datagram) with its NAME on one line,
# so the client can tell which server the load balancer picked.  TCP and UDP
# backends are our own slb-test-backend (tests/tools/test_backend.c): one
# process, one loop, so an answer never goes missing or comes late when
# health-check probes come and go at the same moment (socat with fork +
# SYSTEM occasionally closed a connection without writing anything then, and
# forked a shell per datagram).  http uses socat, which forks one child per
# connection.  The parent's pid is recorded so that only
# it and its children are ever signalled.

# shellcheck disable=SC2016  # the generated scripts expand at run time

# tool_bin NAME: path of our test tool NAME (tests/tools/NAME) in the build
# tree ($SLB_BUILDDIR, then the repo root).  Built by `make check TESTS=`.
tool_bin() {
	local d
	for d in ${SLB_BUILDDIR:+"$SLB_BUILDDIR"} "$TOPO_REPO"; do
		if [ -x "$d/tests/tools/$1" ]; then
			echo "$d/tests/tools/$1"
			return 0
		fi
	done
	_topo_err "$1 not built (make tests/tools/$1)"
	return 1
}

# backend_bin: path of slb-test-backend — $SLB_TEST_BACKEND, else tool_bin.
backend_bin() {
	if [ -n "${SLB_TEST_BACKEND:-}" ]; then
		echo "$SLB_TEST_BACKEND"
		return 0
	fi
	tool_bin slb-test-backend
}

# backend_start NAME PORT [tcp|drain|http|udp [ANSWER]]: start a backend in
# namespace NAME (b1, b2, or any role with an address), listening on PORT and
# answering with ANSWER (default NAME) where NAME is written below: a second
# server in one namespace can answer "b3".
#   tcp   (default) writes "NAME\n" at once, then FIN; reads until the client
#         closes.  Listens on the role's address (topo_ip NAME).
#   drain reads until the client's FIN, then writes "NAME BYTES\n" (BYTES =
#         what it received) and FIN: a half-closed request gets its answer,
#         and a connection stays open as long as the client keeps it open.
#   http  answers any request with 200 and body "NAME\n" (Connection: close),
#         so it serves http checks (any path) and http listeners alike.
#   proxy like drain, after taking a PROXY protocol header if one comes:
#         answers "NAME VERSION SOURCE DESTINATION BYTES SHA256" (VERSION v1,
#         v2 or none, then "- -"), see tests/tools/test_backend.c.
#   udp   replies "NAME\n" to each datagram (on the role's address).
# Waits (5 s at most) until the port is bound.  Sets BACKEND_PID and records it
# in $TOPO_DIR/pids/backend.NAME.PORT.
backend_start() {
	local name=$1 port=$2 mode=${3:-tcp} answer=${4:-$1} addr flags=-Hltn pidf bin ip log
	pidf=$TOPO_DIR/pids/backend.$name.$port
	log=$TOPO_DIR/backend.$name.$port.log
	_pid_alive "$pidf" && { _topo_err "backend $name:$port already runs"; return 1; }
	case $mode in
	tcp | drain | proxy | udp)
		bin=$(backend_bin) || return 1
		ip=$(topo_ip "$name") || return 1
		local m=name
		[ "$mode" = tcp ] || m=$mode
		[ "$mode" = udp ] && flags=-Huln
		# ip, not topo_exec: $! must be the backend itself (ip netns exec execs it).
		# fd 3 closed: bats waits for every holder of fd 3 before it ends a test.
		ip netns exec "$(topo_ns "$name")" "$bin" -l "$ip:$port" -n "$answer" -m "$m" \
			</dev/null >"$log" 2>&1 3>&- &
		;;
	http)
		addr="TCP-LISTEN:$port,fork,reuseaddr"
		# -T 5: a client that never reads or closes cannot keep a child forever.
		ip netns exec "$(topo_ns "$name")" socat -T 5 "$addr" \
			SYSTEM:"$(_backend_script "$mode") $answer" \
			</dev/null >"$log" 2>&1 3>&- &
		;;
	*) _topo_err "backend_start: unknown mode '$mode'"; return 1 ;;
	esac
	BACKEND_PID=$!
	_pid_record "$pidf" "$BACKEND_PID"
	if ! wait_until 5 _backend_bound "$name" "$port" "$flags"; then
		_topo_err "backend $name did not bind port $port"
		cat "$log" >&2
		return 1
	fi
}

# _backend_bound NAME PORT SSFLAGS: something listens on PORT in NAME's netns.
_backend_bound() { [ -n "$(topo_exec "$1" ss "$3" "sport = :$2")" ]; }

# backend_stop NAME [PORT]: stop NAME's backend on PORT, or all of NAME's.
backend_stop() {
	local f rc=0
	for f in "$TOPO_DIR"/pids/backend."$1".${2:-*}; do
		[ -e "$f" ] || continue
		_pid_kill "$f" || rc=1
	done
	return $rc
}

# backend_pid NAME PORT: the recorded pid, if that backend still runs.
backend_pid() {
	local f=$TOPO_DIR/pids/backend.$1.$2
	_pid_alive "$f" && _pid_of "$f"
}

# _backend_script MODE: path of the per-connection program (written once per
# run into $TOPO_DIR; a file avoids socat's address quoting rules).
_backend_script() {
	local f=$TOPO_DIR/backend-$1.sh
	if [ ! -f "$f" ]; then
		case $1 in
		http) cat >"$f" <<'EOF'
#!/bin/bash
# Read the request head (bounded: 100 lines, 2 s each), ignore any body.
for ((i = 0; i < 100; i++)); do
	IFS= read -r -t 2 line || break
	[ "${line%$'\r'}" = "" ] && break
done
body="$1"$'\n'
printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
	"${#body}" "$body"
EOF
		;;
		esac
		chmod 0755 "$f"
	fi
	echo "$f"
}
