#!/usr/bin/env bats
# log = syslog, the default: what the systemd unit gets. The unit runs
# `slb-master -f`, and -f turns syslog into stderr, except when stderr is
# the journal (systemd's JOURNAL_STREAM=DEVICE:INODE names it): then every
# daemon logs to syslog, which the journal reads with each line's level.
#
# A syslog of our own: the master runs in a private mount namespace whose
# /dev is a directory of this run holding a datagram socket `log` (read by
# socat into a file) and bind mounts of the devices slb uses. The config has
# no listener and no VIP, so nothing touches the network; lb1's namespace is
# only there so that topo_down kills whatever a failed test leaves.

# shellcheck disable=SC2016  # eval strings expand when evaluated
load helpers/topology

setup_file() {
	command -v socat >/dev/null || skip "socat not found"
	command -v unshare >/dev/null || skip "unshare not found (util-linux)"
	topo_up
	slb_ensure_user
}

teardown_file() {
	topo_down
}

setup() {
	RUN=$TOPO_DIR/t$BATS_TEST_NUMBER
	mkdir -p "$RUN/dev/shm"
	chmod 0755 "$RUN" "$RUN/dev"
	local d
	for d in null zero random urandom; do : >"$RUN/dev/$d"; done
	cat >"$RUN/slb.ini" <<EOF
[global]
instance = ${TOPO_ID}syslog$BATS_TEST_NUMBER
workers = 1
log_level = debug
metrics =
control_socket = $RUN/slb.sock
pid_file = $RUN/slb.pid
state_file = $RUN/slb.state
EOF
	socat -u "UNIX-RECV:$RUN/dev/log" "OPEN:$RUN/syslog,creat,append" 3>&- &
	_pid_record "$TOPO_DIR/pids/syslog" $!
	wait_until 3 test -S "$RUN/dev/log"
	# The workers write to it after dropping to user slb.
	chmod 0666 "$RUN/dev/log"
}

teardown() {
	_pid_kill "$TOPO_DIR/pids/slb-master.lb1" || true
	_pid_kill "$TOPO_DIR/pids/syslog" || true
}

# _start JOURNAL_STREAM: slb-master -f with its stderr in $RUN/stderr and
# JOURNAL_STREAM set as given ('' = the device and inode of that stderr).
_start() {
	local master js=$1
	master=$(slb_bin slb-master)
	: >"$RUN/stderr"
	[ -n "$js" ] || js=$(stat -c '%d:%i' "$RUN/stderr")
	[ "${master%/*}" = "${SLB_BUILDDIR:-$TOPO_REPO}" ] && export SLB_LIBEXECDIR=${master%/*}
	# shellcheck disable=SC2016  # expanded by the inner shell
	ip netns exec "$(topo_ns lb1)" unshare -m bash -c '
		set -e
		mount --make-rprivate /
		for d in null zero random urandom shm; do mount --bind "/dev/$d" "$1/dev/$d"; done
		mount --rbind "$1/dev" /dev
		JOURNAL_STREAM=$2 exec "$3" -f -c "$1/slb.ini"' _ "$RUN" "$js" "$master" \
		</dev/null 2>>"$RUN/stderr" >/dev/null 3>&- &
	_pid_record "$TOPO_DIR/pids/slb-master.lb1" $!
	wait_until 10 eval 'grep -a "started: " "$RUN/syslog" "$RUN/stderr" >/dev/null' || {
		cat "$RUN/stderr" >&2
		return 1
	}
}

# _syslog_lines: what the socket received, one message a line ("<PRI>...").
_syslog_lines() { sed 's/<[0-9]\{1,3\}>/\n&/g' "$RUN/syslog" | sed '/^$/d'; }

@test "syslog: run by systemd (stderr is the journal), every daemon logs to syslog" {
	_start ''
	# Facility daemon (3), each line's level: debug (7) is <31>, info (6) <30>.
	wait_until 5 eval '_syslog_lines | grep -E "^<31>.* slb-worker\[[0-9]+\]: worker 0 .* serving" >/dev/null'
	wait_until 5 eval '_syslog_lines | grep -E "^<31>.* slb-checker\[[0-9]+\]: checker .* probing" >/dev/null'
	_syslog_lines | grep -E "^<30>.* slb-master\[$(_pid_of "$TOPO_DIR/pids/slb-master.lb1")\]: started: 1 workers, 0 listeners"
	# Nothing of it on stderr.
	! grep -aE 'slb-(master|worker|checker|failover)\[[0-9]+\]' "$RUN/stderr" || return 1
	_pid_kill "$TOPO_DIR/pids/slb-master.lb1"
	_syslog_lines | grep -E '^<30>.* slb-master\[[0-9]+\]: stopped$'
}

@test "syslog: -f with any other stderr logs to stderr, not syslog" {
	_start 1:1
	wait_until 5 eval 'grep -aE "slb-worker\[[0-9]+\]: debug: worker 0 .* serving" "$RUN/stderr" >/dev/null'
	grep -aE 'slb-master\[[0-9]+\]: info: started: 1 workers, 0 listeners' "$RUN/stderr"
	[ ! -s "$RUN/syslog" ]
}
