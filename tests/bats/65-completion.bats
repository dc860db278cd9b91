#!/usr/bin/env bats
# bash completion of slbctl (packaging/bash-completion/slbctl): sourced into
# the test's shell and called the way bash calls it (COMP_WORDS, COMP_CWORD),
# against the slbctl of the build tree. Commands and options come from
# `slbctl help`; names of groups, listeners and servers from a running
# master (slb_config_basic: listener web, group web = b1 and b2); with no
# master to ask, names complete to nothing and nothing is printed.

load helpers/topology
load helpers/client

setup_file() {
	slb_basic_up
}

teardown_file() {
	topo_down
}

setup() {
	slb_running_or_fail
	SOCK=$TOPO_DIR/lb1/slb.sock
	SLBCTL=$(slb_bin slbctl)
	# shellcheck source=../../packaging/bash-completion/slbctl
	. "$TOPO_REPO/packaging/bash-completion/slbctl"
}

# _complete WORD...: the completions of the last WORD (the one under the
# cursor, '' for a new word) after `slbctl WORD...`, sorted, on one line.
_complete() {
	COMP_WORDS=("$SLBCTL" "$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_slbctl "$SLBCTL" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sort | paste -sd' '
}

@test "completion: registered for slbctl" {
	run complete -p slbctl
	[ "$status" -eq 0 ]
	[ "$output" = "complete -F _slbctl slbctl" ]
}

@test "completion: commands are every first word of 'slbctl help'" {
	local want
	want=$("$SLBCTL" help | awk '/^  [a-z]/ { print $1 }' | sort -u | paste -sd' ')
	[ "$(_complete '')" = "$want" ]
	[ "$(_complete '')" = "describe failover group health help listener reload server sessions" ]
	[ "$(_complete se)" = "server sessions" ]
	[ "$(_complete fail)" = "failover" ]
}

@test "completion: subcommands" {
	[ "$(_complete server '')" = "add remove set" ]
	[ "$(_complete group '')" = "create delete list set" ]
	[ "$(_complete listener '')" = "start stop" ]
	[ "$(_complete failover '')" = "release status takeover" ]
	[ "$(_complete failover t)" = "takeover" ]
	# A command with nothing after it completes to nothing.
	[ "$(_complete describe '')" = "" ]
	[ "$(_complete failover status '')" = "" ]
}

@test "completion: options, -s takes a file, --json after a command" {
	[ "$(_complete -)" = "--help --json --socket -h -j -s" ]
	[ "$(_complete --j)" = "--json" ]
	[ "$(_complete describe -)" = "--json" ]
	[ "$(_complete -s "$TOPO_DIR/lb1/slb.so")" = "$SOCK" ]
	[ "$(_complete -s "$SOCK" --json ser)" = "server" ]
}

@test "completion: group, server and listener names from the running master" {
	[ "$(_complete -s "$SOCK" server set '')" = "web" ]
	[ "$(_complete -s "$SOCK" server set web '')" = "b1 b2" ]
	[ "$(_complete -s "$SOCK" server remove web b)" = "b1 b2" ]
	[ "$(_complete -s "$SOCK" server set web b2 '')" = "weight=" ]
	[ "$(_complete -s "$SOCK" server set web b2 weight = 0 '')" = "drain=" ]
	[ "$(_complete --socket "$SOCK" group delete '')" = "web" ]
	[ "$(_complete -s "$SOCK" listener stop '')" = "web" ]
	[ "$(_complete -s "$SOCK" listener start w)" = "web" ]
	# sessions takes a listener, or flush then a listener.
	[ "$(_complete -s "$SOCK" sessions '')" = "flush web" ]
	[ "$(_complete -s "$SOCK" sessions flush '')" = "web" ]
	# An argument that names a new thing, or an address, completes to nothing.
	[ "$(_complete -s "$SOCK" server add web '')" = "" ]
	[ "$(_complete -s "$SOCK" group create '')" = "" ]
}

@test "completion: key=value arguments across bash's word breaks" {
	[ "$(_complete group create g2 '')" = "type=normal type=primary_secondary" ]
	# bash splits "type=pr" into "type" "=" "pr" and replaces only "pr".
	[ "$(_complete group create g2 type = pr)" = "primary_secondary" ]
	[ "$(_complete group create g2 type =)" = "normal primary_secondary" ]
	[ "$(_complete -s "$SOCK" server add web b3 198.18.0.13 : 80 '')" = "weight=" ]
	# group set: the keys its description lists, in parentheses.
	[ "$(_complete -s "$SOCK" group set '')" = "web" ]
	[ "$(_complete -s "$SOCK" group set web check_i)" = "check_interval=" ]
	[ "$(_complete -s "$SOCK" group set web '' | wc -w)" -eq \
		"$("$SLBCTL" help | sed -n 's/^  group set .*(\(.*\))$/\1/p' | tr ',' '\n' | wc -l)" ]
}

@test "completion: server add's weight= and role= in any order, role= only in a primary_secondary group" {
	# web is normal: no role.
	[ "$(_complete -s "$SOCK" server add web b3 198.18.0.13 : 80 weight = 5 '')" = "" ]
	"$SLBCTL" -s "$SOCK" group create pair type=primary_secondary
	[ "$(_complete -s "$SOCK" server add pair p1 198.18.0.13 : 80 '')" = \
		"role=primary role=secondary weight=" ]
	[ "$(_complete -s "$SOCK" server add pair p1 198.18.0.13 : 80 role = s)" = "secondary" ]
	[ "$(_complete -s "$SOCK" server add pair p1 198.18.0.13 : 80 role = primary '')" = "weight=" ]
	[ "$(_complete -s "$SOCK" server add pair p1 198.18.0.13 : 80 weight = 5 '')" = \
		"role=primary role=secondary" ]
	"$SLBCTL" -s "$SOCK" group delete pair
	# No master to say what the group is: both.
	[ "$(_complete -s "$TOPO_DIR/no-such.sock" server add g p 198.18.0.13 : 80 '')" = \
		"role=primary role=secondary weight=" ]
}

@test "completion: no master to ask: names complete to nothing, quietly" {
	run _complete -s "$TOPO_DIR/no-such.sock" server set ''
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	run _complete -s "$TOPO_DIR/no-such.sock" sessions ''
	[ "$status" -eq 0 ]
	[ "$output" = "flush" ]
}
