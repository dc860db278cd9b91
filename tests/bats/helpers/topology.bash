# topology.bash — namespaced test topology for slb's bats suites and the demo.
#
# Pure bash (no bats functions), so demo/run-demo.sh can source it too.
# Use from a .bats file:
#     load helpers/topology
#     setup_file()    { topo_up; }
#     teardown_file() { topo_down; }
#
# Layout (one set per run; <pid> is the owning shell's pid, see topo_up):
#
#   netns slbt<pid>-sw:  bridge s<pid>-br, ports s<pid>-<role>
#   netns slbt<pid>-<role> for role in client lb1 lb2 b1 b2:
#       lo up, veth t<pid>-<role> with the role's address in 198.18.0.0/24
#
# Both ends of every veth are created directly inside our namespaces, so the
# root namespace never sees an interface, an address or a route of ours.
# 198.18.0.0/24 (RFC 2544 benchmarking range) exists only inside them and no
# namespace has a default route: traffic cannot leave the topology.
#
# Run state (pids, logs, configs) lives in TOPO_DIR=/tmp/slbt<pid>.XXXXXX so
# that separate bats test processes of one file share it through files.

# Safe under set -e and pipefail (pipelines use grep >/dev/null, not grep -q,
# whose early exit would SIGPIPE the writer).

# shellcheck disable=SC2034  # variables are used by the sourcing scripts
# shellcheck disable=SC2016  # eval and bash -c strings expand later, on purpose
TOPO_HELPERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOPO_REPO=$(cd "$TOPO_HELPERS_DIR/../../.." && pwd)
TOPO_ROLES="client lb1 lb2 b1 b2"
TOPO_SUBNET=198.18.0.0/24
TOPO_VIP=198.18.0.100

# shellcheck source-path=SCRIPTDIR source=backend.bash
. "$TOPO_HELPERS_DIR/backend.bash"

# --- small utilities --------------------------------------------------------

_topo_err() { echo "topology: $*" >&2; }

# topo_ip ROLE: the role's address.
topo_ip() {
	case $1 in
	client) echo 198.18.0.2 ;;
	lb1) echo 198.18.0.3 ;;
	lb2) echo 198.18.0.4 ;;
	b1) echo 198.18.0.11 ;;
	b2) echo 198.18.0.12 ;;
	*) _topo_err "unknown role '$1'"; return 1 ;;
	esac
}

# topo_ns ROLE: namespace name.  topo_if ROLE: the role's interface (inside its
# namespace; this is what [vip] interface and [failover] interface name).
topo_ns() { echo "$TOPO_ID-$1"; }
topo_if() { echo "t$TOPO_OWNER-$1"; }

# topo_exec ROLE CMD...: run CMD inside the role's namespace.
topo_exec() {
	local role=$1; shift
	ip netns exec "$(topo_ns "$role")" "$@"
}

# wait_until TIMEOUT CMD...: poll CMD every 0.1 s until it succeeds (return 0)
# or TIMEOUT seconds (may be fractional) have passed (return 1).  Bounded both
# by wall clock and by iteration count, so a CMD that hangs or a clock jump
# cannot make it spin forever; a hanging CMD is the caller's to wrap in timeout.
wait_until() {
	local _wu_timeout=$1; shift
	local _wu_ms _wu_end _wu_i=0 _wu_max
	_wu_ms=$(awk -v t="$_wu_timeout" 'BEGIN { printf "%d", t * 1000 }')
	_wu_end=$(($(date +%s%3N) + _wu_ms))
	_wu_max=$((_wu_ms / 100 + 1))
	while :; do
		"$@" && return 0
		_wu_i=$((_wu_i + 1))
		if [ "$_wu_i" -ge "$_wu_max" ] || [ "$(date +%s%3N)" -ge "$_wu_end" ]; then
			return 1
		fi
		sleep 0.1
	done
}

# A pid is "ours" when it is alive (not a zombie) and has the start time we
# recorded with it: a recycled pid is never signalled.
_pid_starttime() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	# Fields after "(comm) " start at field 3; starttime is field 22.
	stat=${stat##*) }
	# shellcheck disable=SC2086  # split into fields
	set -- $stat
	[ "$1" != Z ] || return 1
	echo "${20}"
}

# _pid_record FILE PID: remember PID (with its start time) in FILE.
_pid_record() {
	local st
	st=$(_pid_starttime "$2") || st=0
	echo "$2 $st" >"$1"
}

# _pid_alive FILE: succeed when the process recorded in FILE still runs.
_pid_alive() {
	local pid='' st='' now=''
	read -r pid st 2>/dev/null <"$1" || return 1
	now=$(_pid_starttime "$pid") || return 1
	[ "$now" = "$st" ]
}

# _pid_of FILE: print the recorded pid.
_pid_of() { local pid='' st=''; read -r pid st 2>/dev/null <"$1" && echo "$pid"; }

# _pid_kill FILE [TIMEOUT]: SIGTERM the recorded process (and its direct
# children, e.g. socat's per-connection forks), wait up to TIMEOUT seconds
# (default 5), then SIGKILL.  Returns 1 if SIGKILL was needed.
_pid_kill() {
	local file=$1 timeout=${2:-5} pid kids rc=0
	_pid_alive "$file" || { rm -f "$file"; return 0; }
	pid=$(_pid_of "$file")
	kids=$(ps -o pid= --ppid "$pid" 2>/dev/null) || true
	# shellcheck disable=SC2086  # a list of pids
	kill -TERM "$pid" $kids 2>/dev/null || true
	if ! wait_until "$timeout" eval '! _pid_alive "$file"'; then
		_topo_err "pid $pid ignored SIGTERM for ${timeout}s, sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		rc=1
	fi
	rm -f "$file"
	return $rc
}

# _ns_kill_all NS: SIGKILL every process inside namespace NS.  Only used on
# namespaces this harness created (ours or a dead run's), as a safety net.
_ns_kill_all() {
	local pids
	pids=$(ip netns pids "$1" 2>/dev/null) || return 0
	[ -n "$pids" ] || return 0
	_topo_err "killing leftover processes in $1: $(tr '\n' ' ' <<<"$pids")"
	# shellcheck disable=SC2086  # a list of pids
	kill -KILL $pids 2>/dev/null || true
	local ns=$1
	wait_until 3 eval '[ -z "$(ip netns pids "$ns" 2>/dev/null)" ]'
}

# --- debris from killed runs -----------------------------------------------

# topo_clean_debris: remove what a run killed mid-way left behind: namespaces,
# run directories and shm segments whose owner pid (encoded in the name) no
# longer exists.  Anything owned by a live process is left alone, so parallel
# runs do not clean each other.
topo_clean_debris() {
	local name pid f
	for name in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $name =~ ^slbt([0-9]+)- ]] || continue
		pid=${BASH_REMATCH[1]}
		[ -d "/proc/$pid" ] && continue
		_topo_err "removing debris namespace $name (owner $pid is gone)"
		_ns_kill_all "$name"
		ip netns del "$name" 2>/dev/null
	done
	# Only the exact shapes we create: /tmp/slbt<pid>.XXXXXX (mktemp) and
	# /dev/shm/slb.slbt<pid><role> (instance names from slb_config_basic).
	for f in /tmp/slbt[0-9]*.?????? /dev/shm/slb.slbt[0-9]*; do
		[ -e "$f" ] || continue
		[[ ${f##*/} =~ ^slbt([0-9]+)\.[A-Za-z0-9]{6}$ || ${f##*/} =~ ^slb\.slbt([0-9]+)[a-z]+[0-9]*$ ]] || continue
		pid=${BASH_REMATCH[1]}
		[ -d "/proc/$pid" ] && continue
		_topo_err "removing debris $f (owner $pid is gone)"
		rm -rf -- "$f"
	done
	return 0
}

# --- the topology -----------------------------------------------------------

# topo_up [OWNER_PID]: build the topology.  The owner pid defaults to $$, the
# process that lives for the whole test file (bats-exec-file) or script; a
# later run treats our namespaces as debris once that process is gone.
# Exports TOPO_ID, TOPO_OWNER, TOPO_DIR.
topo_up() {
	export TOPO_OWNER=${1:-$$}
	export TOPO_ID=slbt$TOPO_OWNER
	local sw br role ns ifname

	topo_clean_debris
	# A previous topo_up of this same owner that was not torn down.
	if ip netns list | grep "^$TOPO_ID-" >/dev/null; then
		topo_down
	fi

	TOPO_DIR=$(mktemp -d "/tmp/$TOPO_ID.XXXXXX") || return 1
	export TOPO_DIR
	# Workers run as user slb: they must be able to reach files in here.
	chmod 0755 "$TOPO_DIR"
	mkdir -p "$TOPO_DIR/pids"

	sw=$(topo_ns sw)
	br=s$TOPO_OWNER-br
	ip netns add "$sw" || return 1
	ip -n "$sw" link set lo up
	# No multicast snooping: VRRP adverts to 224.0.0.18 must flood to lb2.
	ip -n "$sw" link add "$br" type bridge mcast_snooping 0 || return 1
	ip -n "$sw" link set "$br" up

	for role in $TOPO_ROLES; do
		ns=$(topo_ns "$role")
		ifname=$(topo_if "$role")
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
		ip link add "$ifname" netns "$ns" type veth \
			peer name "s$TOPO_OWNER-$role" netns "$sw" || return 1
		ip -n "$sw" link set "s$TOPO_OWNER-$role" master "$br" up
		ip -n "$ns" addr add "$(topo_ip "$role")/24" dev "$ifname"
		ip -n "$ns" link set "$ifname" up
	done

	# veth carrier comes up asynchronously; wait until every role answers.
	wait_until 5 topo_check || { _topo_err "topology did not come up"; return 1; }
}

# topo_check: succeed when every veth has carrier and every bridge port
# forwards (no STP on the bridge, so a port forwards as soon as it is up).
# Link state rather than ping: iputils-ping is not a dependency.
topo_check() {
	local role
	for role in $TOPO_ROLES; do
		topo_exec "$role" ip -o link show dev "$(topo_if "$role")" | grep LOWER_UP >/dev/null || return 1
		bridge -n "$(topo_ns sw)" link show dev "s$TOPO_OWNER-$role" | grep 'state forwarding' >/dev/null || return 1
	done
}

# topo_down: stop every slb and backend this run started (by recorded pid),
# kill any straggler inside our namespaces, delete the namespaces, the run
# directory (kept when TOPO_KEEP=1) and our shm segments.  Idempotent.
topo_down() {
	local f role ns
	[ -n "${TOPO_ID:-}" ] || return 0
	if [ -d "${TOPO_DIR:-}/pids" ]; then
		# Failures are reported, not fatal: teardown must go on.  Tests that
		# care about a clean stop call slb_stop themselves and check it.
		for f in "$TOPO_DIR"/pids/slb-master.*; do
			[ -e "$f" ] || continue
			slb_stop "${f##*.}" || _topo_err "slb in ${f##*.} did not stop on SIGTERM"
		done
		for f in "$TOPO_DIR"/pids/*; do
			[ -e "$f" ] || continue
			_pid_kill "$f" || true
		done
	fi
	for role in $TOPO_ROLES sw; do
		ns=$(topo_ns "$role")
		ip netns list | grep "^$ns\b" >/dev/null || continue
		_ns_kill_all "$ns"
		ip netns del "$ns" || _topo_err "could not delete namespace $ns"
	done
	# A letter after the pid: slbt12 must not match slbt123's segments.
	for f in /dev/shm/slb."$TOPO_ID"[a-z]*; do
		[ -e "$f" ] || continue
		_topo_err "removing leftover shm segment $f (slb should have removed it)"
		rm -f "$f"
	done
	if [ -n "${TOPO_DIR:-}" ] && [ "${TOPO_KEEP:-0}" != 1 ]; then
		rm -rf -- "$TOPO_DIR"
	fi
	return 0
}

# --- client -------------------------------------------------------------------

# client_count N HOST PORT [tcp|http|udp]: make N sequential requests from the
# client namespace and print a tally, one "NAME COUNT" line per distinct
# answer, sorted by name (e.g. "b1 6\nb2 4").  The answer is the first line the
# server sent (the backends send their name); an empty answer, a refused or a
# timed-out connection counts as "fail".  Each request is bounded by timeout.
client_count() {
	local n=$1 host=$2 port=$3 proto=${4:-tcp}
	{ [ "$n" -ge 0 ] && [ "$n" -le 10000 ]; } || { _topo_err "client_count: N out of range"; return 1; }
	topo_exec client bash -c '
		n=$1 host=$2 port=$3 proto=$4
		for ((i = 0; i < n; i++)); do
			case $proto in
			tcp)  r=$(timeout 3 socat -T2 -u "TCP:$host:$port,connect-timeout=2" STDOUT 2>/dev/null | head -n1) ;;
			http) r=$(timeout 3 curl -sf --max-time 2 "http://$host:$port/" 2>/dev/null | head -n1) ;;
			udp)  r=$(echo ping | timeout 3 socat -T1 - "UDP:$host:$port" 2>/dev/null | head -n1) ;;
			esac
			echo "${r:-fail}"
		done' client_count "$n" "$host" "$port" "$proto" |
		sort | uniq -c | awk '{ print $2, $1 }'
}

# tally_of NAME TALLY: the count NAME has in a client_count tally (0 if absent).
tally_of() {
	awk -v n="$1" '$1 == n { c = $2 } END { print c + 0 }' <<<"$2"
}

# --- slb ----------------------------------------------------------------------

# slb_ensure_user: workers and checker drop to user slb; create it if missing.
slb_ensure_user() {
	id slb >/dev/null 2>&1 ||
		useradd --system --no-create-home --shell /usr/sbin/nologin slb
}

# slb_bin NAME: the binary to run — the build tree (repo root) first, then PATH.
# SLB_BUILDDIR overrides the build tree.
slb_bin() {
	local dir=${SLB_BUILDDIR:-$TOPO_REPO}
	if [ -x "$dir/$1" ]; then
		echo "$dir/$1"
	else
		command -v "$1"
	fi
}

# slb_config_basic [ROLE]: print the standard test config for node ROLE
# (default lb1): TCP listener on the VIP :8080, group web = b1:9000 weight 100
# and b2:9000 weight 50, wrr, tcp checks.  Every path is per run, under
# $TOPO_DIR/ROLE/, and the instance is per run and per node (they share
# /dev/shm).  Tests edit the output or write their own in the same shape.
slb_config_basic() {
	local role=${1:-lb1} dir
	dir=$(slb_dir "$role")
	cat <<EOF
[global]
instance = ${TOPO_ID}$role
workers = 2
user = slb
log = $dir/slb.log
log_level = debug
pid_file = $dir/slb.pid
control_socket = $dir/slb.sock
state_file = $dir/slb.state
metrics =

[node]
name = $role

[vip web]
address = $TOPO_VIP/24
interface = $(topo_if "$role")

[listener web]
protocol = tcp
bind = $TOPO_VIP:8080
group = web
scheduler = wrr

[group web]
server.b1 = $(topo_ip b1):9000 weight=100
server.b2 = $(topo_ip b2):9000 weight=50
check = tcp
check_interval = 200ms
check_timeout = 100ms
healthy_threshold = 2
unhealthy_threshold = 2
EOF
}

# slb_dir ROLE: per-node run directory (created on demand, readable by slb).
slb_dir() {
	local d=$TOPO_DIR/$1
	[ -d "$d" ] || { mkdir -p "$d" && chmod 0755 "$d"; }
	echo "$d"
}

# _slb_ini FILE: print what slb_start waits for, from the config:
#   global KEY VALUE | listener PROTO IP:PORT | vip ADDR/LEN
# Minimal ini reading: [type name] sections, key = value, ; and # comments.
_slb_ini() {
	awk '
	function flush() { if (type == "listener" && bind != "") print "listener", proto, bind }
	{ sub(/[;#].*/, ""); gsub(/^[ \t]+|[ \t]+$/, "") }
	/^\[/ { flush(); s = tolower($0); gsub(/[][]/, "", s); split(s, a, /[ \t]+/)
		type = a[1]; proto = "tcp"; bind = ""; next }
	/=/ { k = tolower($0); sub(/[ \t]*=.*/, "", k); v = $0; sub(/^[^=]*=[ \t]*/, "", v)
		if (type == "global") print "global", k, v
		else if (type == "listener" && k == "protocol") proto = v
		else if (type == "listener" && k == "bind") bind = v
		else if (type == "vip" && k == "address") print "vip", v }
	END { flush() }' "$1"
}

# _slb_ready ROLE CONFIG WAITVIP: the master's pid file names a live process,
# every listener is bound in ROLE's namespace (but the one on port
# SLB_START_SKIP_PORT, when set: stopped at run time), and (when WAITVIP=1)
# every VIP is configured there.
_slb_ready() {
	local role=$1 config=$2 waitvip=$3 kind a b pidfile pid=''
	pidfile=$(_slb_ini "$config" | awk '$1 == "global" && $2 == "pid_file" { print $3 }')
	pidfile=${pidfile:-/run/slb/slb.pid}
	# read fails at EOF without a newline but still fills pid.
	read -r pid 2>/dev/null <"$pidfile" || [ -n "$pid" ] || return 1
	[ -d "/proc/$pid" ] || return 1
	while read -r kind a b; do
		case $kind in
		listener)
			local flags=-Hltn
			[ "${b##*:}" = "${SLB_START_SKIP_PORT:-}" ] && continue
			[ "$a" = udp ] && flags=-Huln
			[ -n "$(topo_exec "$role" ss $flags "sport = :${b##*:}")" ] || return 1 ;;
		vip)
			[ "$waitvip" = 1 ] || continue
			topo_exec "$role" ip -o addr show | grep " ${a%/*}/" >/dev/null || return 1 ;;
		esac
	done < <(_slb_ini "$config")
}

# slb_start [-n ROLE] [--no-vip] CONFIG: start slb-master -f with CONFIG in
# ROLE's namespace (default lb1), in the background, and wait (SLB_START_TIMEOUT
# seconds, default 10) until its pid file exists, every listener is bound and
# every VIP is up (--no-vip: do not wait for VIPs, for a backup node).
# The master's stderr goes to $TOPO_DIR/ROLE/master.stderr.  On failure it
# prints the tails of that and of the log, and returns 1.
slb_start() {
	local role=lb1 waitvip=1 config master dir pidf log
	while [ $# -gt 1 ]; do
		case $1 in
		-n) role=$2; shift 2 ;;
		--no-vip) waitvip=0; shift ;;
		*) break ;;
		esac
	done
	config=$1
	master=$(slb_bin slb-master) || { _topo_err "slb-master not built and not in PATH"; return 1; }
	slb_ensure_user || return 1
	dir=$(slb_dir "$role")
	pidf=$TOPO_DIR/pids/slb-master.$role
	_pid_alive "$pidf" && { _topo_err "slb already running in $role"; return 1; }
	cp "$config" "$dir/config.ini.started"
	log=$(_slb_ini "$config" | awk '$1 == "global" && $2 == "log" { print $3 }')
	echo "$log" >"$dir/log.path"

	# Daemons sit next to the master in the build tree.
	[ -z "${SLB_LIBEXECDIR:-}" ] && [ "${master%/*}" = "${SLB_BUILDDIR:-$TOPO_REPO}" ] &&
		export SLB_LIBEXECDIR=${master%/*}
	# ip itself, not the topo_exec function: a backgrounded function is a
	# subshell, and $! must be the master (ip netns exec execs it).
	# fd 3 closed: bats waits for every holder of fd 3 before it ends a test.
	ip netns exec "$(topo_ns "$role")" "$master" -f -c "$config" </dev/null >"$dir/master.stderr" 2>&1 3>&- &
	_pid_record "$pidf" $!

	if ! wait_until "${SLB_START_TIMEOUT:-10}" eval \
		'_pid_alive "$pidf" && _slb_ready "$role" "$config" "$waitvip"'; then
		_topo_err "slb-master in $role did not become ready"
		_slb_diag "$role"
		return 1
	fi
}

# _slb_diag ROLE: show what the master said, for a failing test's output.
_slb_diag() {
	local dir=$TOPO_DIR/$1 log
	echo "--- master stderr ($1) ---" >&2
	tail -n 30 "$dir/master.stderr" >&2 2>/dev/null
	log=$(cat "$dir/log.path" 2>/dev/null)
	if [ -f "$log" ]; then
		echo "--- slb log ($1): $log ---" >&2
		tail -n 30 "$log" >&2
	fi
}

# slb_pid [ROLE]: the master's pid (empty and 1 if not running).
slb_pid() {
	local f=$TOPO_DIR/pids/slb-master.${1:-lb1}
	_pid_alive "$f" && _pid_of "$f"
}

# slb_stop [ROLE]: SIGTERM the master and wait for it to exit
# (SLB_STOP_TIMEOUT, default 10 s).  Returns 1 if it had to be SIGKILLed.
slb_stop() {
	_pid_kill "$TOPO_DIR/pids/slb-master.${1:-lb1}" "${SLB_STOP_TIMEOUT:-10}"
}

# slb_reload [ROLE]: SIGHUP the master (by its recorded pid).
slb_reload() {
	local pid
	pid=$(slb_pid "${1:-lb1}") || { _topo_err "slb is not running in ${1:-lb1}"; return 1; }
	kill -HUP "$pid"
}

# --- log assertions -----------------------------------------------------------
# They read the log of node LOG_ROLE (default lb1) as slb_start recorded it
# from the config, or the file SLB_LOG when set.  Patterns are grep -E.

slb_log() {
	if [ -n "${SLB_LOG:-}" ]; then
		echo "$SLB_LOG"
	else
		cat "$TOPO_DIR/${LOG_ROLE:-lb1}/log.path" 2>/dev/null
	fi
}

# log_mark: remember the log's current end; log_* then look only past it.
log_mark() {
	local size
	size=$(stat -c %s "$(slb_log)" 2>/dev/null) || size=0
	echo "$size" >"$TOPO_DIR/${LOG_ROLE:-lb1}.logmark"
}

# log_clear_mark: look at the whole log again.
log_clear_mark() { rm -f "$TOPO_DIR/${LOG_ROLE:-lb1}.logmark"; }

# _log_text: the log from the mark (if any) to its end.
_log_text() {
	local log mark=0
	log=$(slb_log)
	[ -f "$TOPO_DIR/${LOG_ROLE:-lb1}.logmark" ] && mark=$(cat "$TOPO_DIR/${LOG_ROLE:-lb1}.logmark")
	tail -c +"$((mark + 1))" "$log" 2>/dev/null
}

# log_has PATTERN: succeed if the log has a matching line (prints it).
log_has() { _log_text | grep -E -- "$1"; }

# log_lacks PATTERN: succeed if no line matches (prints offenders otherwise).
log_lacks() { ! _log_text | grep -E -- "$1" >&2; }

# log_count PATTERN: print the number of matching lines.
log_count() { _log_text | grep -cE -- "$1"; true; }

# log_wait PATTERN [TIMEOUT]: wait (default 5 s) until a line matches.
log_wait() {
	local pattern=$1
	wait_until "${2:-5}" eval 'log_has "$pattern" >/dev/null' && return 0
	_topo_err "log_wait: no line matching '$1' in $(slb_log) after ${2:-5}s"
	return 1
}
