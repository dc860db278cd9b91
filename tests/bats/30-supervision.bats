#!/usr/bin/env bats
# Supervision (issue #2): the master's children run as the right users, a
# killed worker, checker or failover process is restarted while the service
# goes on, a killed master leaves no child serving, and SIGTERM stops
# everything cleanly (VIP, shared memory and pid file gone, exit status 0).

# shellcheck disable=SC2016  # wait_until eval strings expand when evaluated
load helpers/topology
load helpers/client

setup_file() {
	slb_basic_up
}

teardown_file() {
	topo_down
}

# Every test starts with a running slb (a test may have stopped or killed it).
setup() {
	[ -n "$(slb_pid)" ] || slb_start "$TOPO_DIR/slb.ini"
	log_clear_mark
}

# _children NAME: pids of the master's children called NAME, one a line.
_children() { pgrep -P "$(slb_pid)" -x "$1" || true; }

# _nchildren NAME: how many.
_nchildren() { _children "$1" | grep -c . || true; }

# _all_gone PID...: none of these processes runs (a zombie counts as gone).
_all_gone() {
	local p
	for p in "$@"; do
		[ ! -d "/proc/$p" ] || grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null || return 1
	done
}

_user_of() { ps -o user= -p "$1" | tr -d ' '; }

_vip_present() { topo_exec lb1 ip -o addr show dev "$(topo_if lb1)" | grep " $TOPO_VIP/24 " >/dev/null; }

# _service_ok N: N connections through the VIP, every one answered.
_service_ok() {
	local out
	out=$(client_count "$1" "$TOPO_VIP" 8080)
	echo "service: $out"
	[ "$(tally_of fail "$out")" -eq 0 ] &&
		[ "$(($(tally_of b1 "$out") + $(tally_of b2 "$out")))" -eq "$1" ]
}

@test "workers and checker run as user slb, failover and master as root" {
	local pid
	[ "$(_user_of "$(slb_pid)")" = root ]
	[ "$(_nchildren slb-worker)" -eq 2 ]
	[ "$(_nchildren slb-checker)" -eq 1 ]
	[ "$(_nchildren slb-failover)" -eq 1 ]
	for pid in $(_children slb-worker) $(_children slb-checker); do
		[ "$(_user_of "$pid")" = slb ]
	done
	[ "$(_user_of "$(_children slb-failover)")" = root ]
	# Nothing else runs under the master.
	[ "$(pgrep -P "$(slb_pid)" | grep -c .)" -eq 4 ]
}

# _caps PID SET: the process's capability set (CapEff, CapPrm, CapBnd) in hex.
_caps() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

@test "capabilities: workers and checker have none, slb-failover only CAP_NET_ADMIN and CAP_NET_RAW" {
	local pid fo
	for pid in $(_children slb-worker) $(_children slb-checker); do
		[ "$(_caps "$pid" CapEff)" = 0000000000000000 ]
		[ "$(_caps "$pid" CapPrm)" = 0000000000000000 ]
	done
	fo=$(_children slb-failover)
	# Bits 12 (CAP_NET_ADMIN) and 13 (CAP_NET_RAW), in every set that matters.
	[ "$(_caps "$fo" CapEff)" = 0000000000003000 ]
	[ "$(_caps "$fo" CapPrm)" = 0000000000003000 ]
	[ "$(_caps "$fo" CapBnd)" = 0000000000003000 ]
}

@test "kill -9 of a worker: the master restarts it and the service goes on" {
	local before old new
	before=$(_children slb-worker)
	old=$(head -n1 <<<"$before")
	[ -n "$old" ]
	log_mark
	kill -KILL "$old"
	# From the moment it is gone: the other worker takes every connection.
	_service_ok 100
	log_wait "slb-master\[[0-9]+\]: warning: slb-worker [0-9]+ \(pid $old\) killed by signal 9; restarting in [0-9]+ ms" 5
	wait_until 5 eval '[ "$(_nchildren slb-worker)" -eq 2 ] && ! _children slb-worker | grep -qx "$old"'
	new=$(_children slb-worker | grep -vxF "$before" || true)
	echo "killed $old, new $new"
	[ -n "$new" ]
	[ "$(grep -c . <<<"$new")" -eq 1 ]
	[ "$(_user_of "$new")" = slb ]
	log_has "slb-master\[[0-9]+\]: debug: slb-worker [0-9]+ \(generation [0-9]+\) started, pid $new\$"
	log_wait "slb-worker\[$new\]: debug: worker [0-9]+ \(generation [0-9]+\) serving 1 listeners" 5
	_service_ok 50
}

@test "kill -9 of the checker: the master restarts it and the new one does the checks" {
	local old new
	old=$(_children slb-checker)
	[ -n "$old" ]
	log_mark
	kill -KILL "$old"
	log_wait "slb-master\[[0-9]+\]: warning: slb-checker 0 \(pid $old\) killed by signal 9; restarting in [0-9]+ ms" 5
	wait_until 5 eval '[ -n "$(_children slb-checker)" ] && [ "$(_children slb-checker)" != "$old" ]'
	new=$(_children slb-checker)
	echo "killed $old, new $new"
	[ "$(_user_of "$new")" = slb ]
	log_wait "slb-checker\[$new\]: debug: checker \(generation [0-9]+\) probing 2 servers" 5
	_service_ok 30
	# It really checks: b2 stopped goes DOWN, started again comes UP.
	backend_stop b2 9000
	health_wait web/b2 DOWN 5
	log_has "slb-checker\[$new\]: warning: server web/b2 "
	backend_start b2 9000
	health_wait web/b2 UP 5
	_service_ok 30
}

@test "kill -9 of slb-failover: the master restarts it and the VIP stays" {
	local old new
	old=$(_children slb-failover)
	[ -n "$old" ]
	log_mark
	kill -KILL "$old"
	log_wait "slb-master\[[0-9]+\]: warning: slb-failover 0 \(pid $old\) killed by signal 9; restarting in [0-9]+ ms" 5
	wait_until 5 eval '[ -n "$(_children slb-failover)" ] && [ "$(_children slb-failover)" != "$old" ]'
	new=$(_children slb-failover)
	[ "$(_user_of "$new")" = root ]
	log_wait "slb-failover\[$new\]: info: vip web: holding $TOPO_VIP/24" 5
	_vip_present
	_service_ok 30
}

@test "kill -9 of the master: no child keeps serving and the VIP is released" {
	local master kids p
	# Started by this test's shell, so that the shell's "Killed" notice goes
	# to the test's output rather than the file's.
	slb_stop
	slb_start "$TOPO_DIR/slb.ini"
	master=$(slb_pid)
	mapfile -t kids < <(pgrep -P "$master")
	[ "${#kids[@]}" -eq 4 ]
	kill -KILL "$master"
	# Every child sees its channel close and exits.
	wait_until 5 _all_gone "${kids[@]}" || { ps -o pid,user,stat,comm -p "$(IFS=,; echo "${kids[*]}")" >&2; false; }
	wait_until 3 eval '! _vip_present'
	# Nobody holds the listening socket any more.
	[ -z "$(topo_exec lb1 ss -Hltn 'sport = :8080')" ]
	# A new master starts over what the killed one left (pid file, segment).
	slb_start "$TOPO_DIR/slb.ini"
	_service_ok 30
}

# Last, though setup() would start slb again for any test after it.
@test "SIGTERM: children stop, VIP, shared memory and pid file are removed, exit status 0" {
	local pid kids rc=0 shm piddir
	# This shell must be the master's parent to see its exit status.
	slb_stop
	slb_start "$TOPO_DIR/slb.ini"
	pid=$(slb_pid)
	mapfile -t kids < <(pgrep -P "$pid")
	[ "${#kids[@]}" -eq 4 ]
	shm=/dev/shm/slb.${TOPO_ID}lb1
	piddir=$(slb_dir lb1)
	[ -e "$shm" ]
	[ -e "$piddir/slb.pid" ]
	_vip_present
	log_mark
	kill -TERM "$pid"
	wait_until 5 eval '[ ! -d /proc/$pid ] || grep -q "^State:.*Z" /proc/$pid/status'
	wait "$pid" || rc=$?
	echo "exit status $rc"
	[ "$rc" -eq 0 ]
	_all_gone "${kids[@]}"
	run _vip_present
	[ "$status" -eq 1 ]
	[ -z "$(topo_exec lb1 ss -Hltn 'sport = :8080')" ]
	[ ! -e "$shm" ]
	[ ! -e "$piddir/slb.pid" ]
	log_has "slb-master\[$pid\]: info: stopping \(signal 15\)"
	log_has "slb-master\[$pid\]: info: stopped"
	log_has 'slb-failover\[[0-9]+\]: info: vip web: released'
}

@test "systemd notify: READY=1 once serving, RELOADING=1 then READY=1 on a reload, STOPPING=1 at stop" {
	local sock=$TOPO_DIR/notify.sock out=$TOPO_DIR/notify.out
	slb_stop
	# A datagram socket like systemd's; each message is written as it comes.
	timeout 30 socat -u "UNIX-RECV:$sock" "OPEN:$out,creat,append" </dev/null 3>&- &
	_pid_record "$TOPO_DIR/pids/notify-sink" $!
	wait_until 3 test -S "$sock"
	NOTIFY_SOCKET=$sock slb_start "$TOPO_DIR/slb.ini"
	wait_until 3 grep -q 'READY=1' "$out"
	[ "$(cat "$out")" = "READY=1" ]
	slb_reload
	wait_until 5 eval '[ "$(cat "$out")" = "READY=1RELOADING=1READY=1" ]'
	slb_stop
	wait_until 3 eval '[ "$(cat "$out")" = "READY=1RELOADING=1READY=1STOPPING=1" ]'
	_pid_kill "$TOPO_DIR/pids/notify-sink" 1 || true
}
