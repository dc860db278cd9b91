#!/usr/bin/env bats
# The open-file limit (lib/fd_limit.c): slb-master started from a shell
# whose soft limit is low (ulimit -Sn 512, hard 8192) raises its own soft
# limit to the hard one and says so once; its workers and checker have the
# raised limit; one worker then carries more connections than 512
# descriptors would allow (two per connection); and a hard limit below what
# max_connections needs is a warning.
#
# One worker, listener web on the VIP :8080 to group hold = b1:9100, a drain
# backend that keeps every connection open until the client closes it.

# shellcheck disable=SC2016  # eval and bash -c strings expand later, on purpose
load helpers/topology
load helpers/client

SOFT=512
HARD=8192
CONNS=300 # 600 descriptors in the worker: more than the inherited soft limit

setup_file() {
	topo_up
	backend_start b1 9100 drain
	slb_config_basic | sed -e 's/^workers = .*/workers = 1/' \
		-e 's/^group = web$/group = hold\nmax_connections = 5000/' >"$TOPO_DIR/slb.ini"
	cat >>"$TOPO_DIR/slb.ini" <<EOF

[group hold]
server.b1 = $(topo_ip b1):9100
check = none
EOF
	# Only the master's shell gets the low limits.
	(ulimit -Sn "$SOFT" && ulimit -Hn "$HARD" && slb_start "$TOPO_DIR/slb.ini")
}

teardown_file() {
	topo_down
}

setup() {
	slb_running_or_fail
}

# _soft PID / _hard PID: "Max open files" of PID.
_soft() { awk '/^Max open files/ { print $4 }' "/proc/$1/limits"; }
_hard() { awk '/^Max open files/ { print $5 }' "/proc/$1/limits"; }

# _children NAME: the pids of the master's children called NAME.
_children() {
	local pid
	for pid in $(pgrep -P "$(slb_pid)"); do
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ] && echo "$pid"
	done
	true
}

@test "the master raises its soft open-file limit to the hard one, once, and says so" {
	local pid
	pid=$(slb_pid)
	[ "$(_hard "$pid")" = "$HARD" ]
	[ "$(_soft "$pid")" = "$HARD" ]
	[ "$(log_count "slb-master\[$pid\]: info: raised the open-file limit from $SOFT to $HARD")" -eq 1 ]
	# The children inherited it: none has anything to raise.
	[ "$(log_count 'raised the open-file limit')" -eq 1 ]
}

@test "the worker and the checker run with the soft limit at the hard one" {
	local pid n=0
	for pid in $(_children slb-worker) $(_children slb-checker); do
		echo "$pid $(cat "/proc/$pid/comm"): $(_soft "$pid") / $(_hard "$pid")"
		[ "$(_soft "$pid")" = "$HARD" ]
		[ "$(_hard "$pid")" = "$HARD" ]
		n=$((n + 1))
	done
	[ "$n" -eq 2 ]
}

@test "a hard limit below what max_connections needs is one warning at start" {
	# 64 + 1024 (idle pipes) + 1 listener + 6 x 5000 (tcp) = 31089 > 8192.
	[ "$(log_count "slb-master\[[0-9]+\]: warning: the open-file limit $HARD is below the 31089 descriptors")" -eq 1 ]
	log_lacks 'slb-(worker|checker)\[[0-9]+\]: warning: the open-file limit'
}

@test "one worker carries $CONNS connections at once: more than a soft limit of $SOFT allows" {
	local holder
	# fd 3 closed: bats waits for every holder of fd 3 before it ends a test.
	ip netns exec "$(topo_ns client)" timeout 30 bash -c '
		for ((i = 0; i < $3; i++)); do exec {fd}<>"/dev/tcp/$1/$2" || exit 1; done
		sleep 25' hold "$TOPO_VIP" 8080 "$CONNS" </dev/null >/dev/null 2>&1 3>&- &
	holder=$!
	wait_until 10 eval '[ "$(established_count b1 9100)" -ge "$CONNS" ]' || true
	echo "established at b1: $(established_count b1 9100)"
	[ "$(established_count b1 9100)" -eq "$CONNS" ]
	log_lacks 'out of file descriptors'
	kill "$holder" 2>/dev/null || true
	wait "$holder" 2>/dev/null || true
	wait_until 10 eval '[ "$(established_count b1 9100)" -eq 0 ]'
}
