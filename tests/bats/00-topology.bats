#!/usr/bin/env bats
# The harness itself: namespaces, backends, client tally, slb process control
# (against a stub master, so this suite runs before the daemons exist), log
# helpers, debris cleaning and a teardown that leaves nothing behind.

load helpers/topology

setup_file() {
	topo_up
	backend_start b1 9000
	backend_start b2 9000
}

teardown_file() {
	topo_down
}

@test "every role has its namespace, lo up, its address and no default route" {
	local role
	for role in $TOPO_ROLES; do
		topo_exec "$role" ip -o link show lo | grep -q 'UP'
		topo_exec "$role" ip -o addr show dev "$(topo_if "$role")" | grep -q " $(topo_ip "$role")/24 "
		run topo_exec "$role" ip route show default
		[ -z "$output" ]
	done
	ip netns list | grep -q "^$(topo_ns sw)\b"
}

@test "nothing of the topology is visible in the root namespace" {
	run ip -o addr show
	[[ $output != *198.18.0.* ]]
	run ip -o link show
	[[ $output != *"t$TOPO_OWNER-"* ]]
	[[ $output != *"s$TOPO_OWNER-"* ]]
}

@test "client reaches b1 and b2 directly, each answering with its name" {
	run client_count 4 "$(topo_ip b1)" 9000
	[ "$status" -eq 0 ]
	[ "$output" = "b1 4" ]
	run client_count 4 "$(topo_ip b2)" 9000
	[ "$output" = "b2 4" ]
	[ "$(tally_of b2 "$output")" -eq 4 ]
	[ "$(tally_of b1 "$output")" -eq 0 ]
}

@test "http and udp backends answer with their name" {
	backend_start b1 9080 http
	backend_start b2 9053 udp
	run client_count 3 "$(topo_ip b1)" 9080 http
	[ "$output" = "b1 3" ]
	run client_count 3 "$(topo_ip b2)" 9053 udp
	[ "$output" = "b2 3" ]
	backend_stop b1 9080
	backend_stop b2 9053
}

@test "backend_stop stops only that backend; refused connections count as fail" {
	local pid2
	pid2=$(backend_pid b2 9000)
	[ -n "$pid2" ]
	backend_stop b2
	[ ! -d "/proc/$pid2" ] || grep -q '^State:.*Z' "/proc/$pid2/status"
	run client_count 3 "$(topo_ip b2)" 9000
	[ "$output" = "fail 3" ]
	run client_count 2 "$(topo_ip b1)" 9000
	[ "$output" = "b1 2" ]
	backend_start b2 9000
	run client_count 2 "$(topo_ip b2)" 9000
	[ "$output" = "b2 2" ]
}

@test "wait_until is bounded in time" {
	local t0
	t0=$(date +%s)
	run wait_until 1 false
	[ "$status" -eq 1 ]
	[ $(($(date +%s) - t0)) -le 3 ]
	wait_until 1 true
}

# A stand-in for slb-master with the contract the harness relies on: -f -c
# FILE, pid file, VIP on the [vip] interface, listener on the bind address,
# log lines, SIGHUP reload, SIGTERM removes VIP and pid file.  It forwards the
# listener to b1:9000 with socat.
_write_stub_master() {
	mkdir -p "$TOPO_DIR/stub"
	cat >"$TOPO_DIR/stub/slb-master" <<'EOF'
#!/bin/bash
[ "$1" = -f ] && [ "$2" = -c ] || { echo "usage: slb-master -f -c FILE" >&2; exit 2; }
get() { awk -F' *= *' -v k="$1" '$1 == k { print $2; exit }' "$3"; }
log=$(get log x "$3"); pidf=$(get pid_file x "$3")
vip=$(get address x "$3"); dev=$(get interface x "$3"); bind=$(get bind x "$3")
say() { echo "$(date +%T) stub: $*" >>"$log"; }
stop() {
	say stopping
	kill "$fwd"; ip addr del "$vip" dev "$dev"; rm -f "$pidf"; exit 0
}
trap 'say reload requested' HUP
trap stop TERM
ip addr add "$vip" dev "$dev"
socat TCP-LISTEN:"${bind##*:}",bind="${bind%:*}",fork,reuseaddr TCP:198.18.0.11:9000 3>&- &
fwd=$!
echo $$ >"$pidf"
say started
# Bounded: a stub left behind exits by itself after 10 minutes.
for ((i = 0; i < 600; i++)); do sleep 1 & wait $!; done
stop
EOF
	chmod 0755 "$TOPO_DIR/stub/slb-master"
}

@test "slb_start, slb_reload, slb_stop and the log helpers drive a master" {
	_write_stub_master
	export SLB_BUILDDIR=$TOPO_DIR/stub
	slb_config_basic >"$TOPO_DIR/slb.ini"
	slb_start "$TOPO_DIR/slb.ini"
	[ -n "$(slb_pid)" ]
	topo_exec lb1 ip -o addr show | grep -q " $TOPO_VIP/24 "

	run client_count 3 "$TOPO_VIP" 8080
	[ "$output" = "b1 3" ]

	log_has 'stub: started'
	log_mark
	log_lacks 'started'
	slb_reload
	log_wait 'reload requested' 3
	[ "$(log_count 'reload requested')" -eq 1 ]
	run log_wait 'never logged' 0.5
	[ "$status" -eq 1 ]

	slb_stop
	[ -z "$(slb_pid)" ]
	run topo_exec lb1 ip -o addr show
	[[ $output != *"$TOPO_VIP"* ]]
	run client_count 1 "$TOPO_VIP" 8080
	[ "$output" = "fail 1" ]
}

@test "debris of a dead owner is removed, a live owner's is kept" {
	local dead live_ns dead_ns sleeper
	sh -c 'exit 0' &
	dead=$!
	wait "$dead"
	[ ! -d "/proc/$dead" ]
	dead_ns=slbt$dead-sw
	live_ns=$TOPO_ID-extra
	ip netns add "$dead_ns"
	ip netns add "$live_ns"
	ip netns exec "$dead_ns" sleep 60 </dev/null >/dev/null 2>&1 3>&- &
	sleeper=$!
	mkdir "/tmp/slbt$dead.debris"
	touch "/dev/shm/slb.slbt${dead}lb1"

	topo_clean_debris

	run ip netns list
	[[ $output != *"$dead_ns"* ]]
	[[ $output == *"$live_ns"* ]]
	wait "$sleeper" || true
	[ ! -d "/proc/$sleeper" ]
	[ ! -e "/tmp/slbt$dead.debris" ]
	[ ! -e "/dev/shm/slb.slbt${dead}lb1" ]
	ip netns del "$live_ns"
}

# Keep last: it takes the topology down (teardown_file then has nothing to do).
@test "topo_down leaves no namespace, process, file or shm segment behind" {
	local pids dir=$TOPO_DIR
	pids="$(backend_pid b1 9000) $(backend_pid b2 9000)"
	[ "$pids" != " " ]
	topo_down
	run ip netns list
	[[ $output != *"$TOPO_ID-"* ]]
	local p
	for p in $pids; do
		[ ! -d "/proc/$p" ] || grep -q '^State:.*Z' "/proc/$p/status"
	done
	[ ! -e "$dir" ]
	run ls /dev/shm
	[[ $output != *"slb.$TOPO_ID"* ]]
}
