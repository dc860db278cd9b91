#!/usr/bin/env bats
# slb-master -t: "configuration OK" and status 0 for a good file; status 1
# and one "FILE:LINE: [section] key: message" line per error for a bad one.
# No namespaces: only files under a per-run directory.

# shellcheck disable=SC2154  # stderr_lines is set by run --separate-stderr
load helpers/topology

bats_require_minimum_version 1.5.0

setup_file() {
	# What slb_config_basic needs from topo_up, without the topology.
	export TOPO_OWNER=$$
	export TOPO_ID=slbt$TOPO_OWNER
	TOPO_DIR=$(mktemp -d "/tmp/$TOPO_ID.XXXXXX")
	export TOPO_DIR
	slb_ensure_user
}

teardown_file() {
	if [ -n "${TOPO_DIR:-}" ]; then rm -rf -- "$TOPO_DIR"; fi
}

setup() {
	MASTER=$(slb_bin slb-master)
	[ -x "$MASTER" ]
	CFG=$TOPO_DIR/t$BATS_TEST_NUMBER.ini
}

# _line PATTERN: line number of the first line of $CFG matching PATTERN (grep -E).
_line() { grep -nE -- "$1" "$CFG" | head -n1 | cut -d: -f1; }

# _check [FILE]: run slb-master -t on FILE (default $CFG), stdout and stderr apart.
_check() { run --separate-stderr "$MASTER" -t -c "${1:-$CFG}"; }

@test "slb_config_basic passes -t: 'configuration OK', status 0, nothing on stderr" {
	slb_config_basic >"$CFG"
	_check
	[ "$status" -eq 0 ]
	[ "$output" = "configuration OK" ]
	[ -z "$stderr" ]
}

@test "the repository's etc/slb.ini passes -t" {
	[ -f "$TOPO_REPO/etc/slb.ini" ]
	_check "$TOPO_REPO/etc/slb.ini"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "configuration OK" ]
}

@test "unknown key: file:line, section, key and a suggestion; status 1" {
	slb_config_basic | sed 's/^check_interval = /chek_interval = /' >"$CFG"
	local n
	n=$(_line '^chek_interval')
	[ -n "$n" ]
	_check
	echo "$stderr"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "$CFG:$n: [group web] chek_interval: unknown key (did you mean 'check_interval'?)" ]
}

@test "repeated key: the second line is named, and the first" {
	slb_config_basic | sed 's/^scheduler = wrr$/scheduler = wrr\nscheduler = rr/' >"$CFG"
	local first second
	first=$(_line '^scheduler = wrr$')
	second=$(_line '^scheduler = rr$')
	[ -n "$first" ]
	[ "$second" -eq $((first + 1)) ]
	_check
	echo "$stderr"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "$CFG:$second: [listener web] scheduler: repeated key (first at line $first)" ]
}

@test "repeated section: named with both lines" {
	{
		slb_config_basic
		printf '\n[group web]\ncheck = tcp\n'
	} >"$CFG"
	local first second
	first=$(_line '^\[group web\]$')
	second=$(grep -n '^\[group web\]$' "$CFG" | tail -n1 | cut -d: -f1)
	[ "$second" -gt "$first" ]
	_check
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ $stderr == "$CFG:$second: [group web]"*"repeated section"*"$first"* ]]
}

@test "bad duration: a number without a unit and a word are refused with the value" {
	local n
	slb_config_basic | sed 's/^check_interval = 200ms$/check_interval = 200/' >"$CFG"
	n=$(_line '^check_interval = 200$')
	_check
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ $stderr == "$CFG:$n: [group web] check_interval: '200' "* ]]
	[ "$(grep -c . <<<"$stderr")" -eq 1 ]

	slb_config_basic | sed 's/^check_timeout = 100ms$/check_timeout = fast/' >"$CFG"
	n=$(_line '^check_timeout = fast$')
	_check
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ $stderr == "$CFG:$n: [group web] check_timeout: 'fast' "* ]]
}

@test "unknown group reference: the listener's group line names the missing group" {
	slb_config_basic | sed 's/^group = web$/group = nosuch/' >"$CFG"
	local n
	n=$(_line '^group = nosuch$')
	_check
	echo "$stderr"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ $stderr == "$CFG:$n: [listener web] group: "*nosuch* ]]
	[ "$(grep -c . <<<"$stderr")" -eq 1 ]
}

@test "unknown section type: a suggestion" {
	slb_config_basic | sed 's/^\[listener web\]$/[listner web]/' >"$CFG"
	local n
	n=$(_line '^\[listner web\]$')
	_check
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ $stderr == *"$CFG:$n: [listner web]"*"'listner'"*"did you mean 'listener'"* ]]
}

@test "every error of the file in one run, in line order" {
	slb_config_basic | sed -e 's/^scheduler = wrr$/schedular = wrr/' \
		-e 's/^check_interval = 200ms$/check_interval = 2/' \
		-e 's/^workers = 2$/workers = lots/' >"$CFG"
	local a b c
	a=$(_line '^workers = lots$')
	b=$(_line '^schedular = ')
	c=$(_line '^check_interval = 2$')
	_check
	echo "$stderr"
	[ "$status" -eq 1 ]
	[ "${#stderr_lines[@]}" -eq 3 ]
	[[ ${stderr_lines[0]} == "$CFG:$a: [global] workers: "* ]]
	[[ ${stderr_lines[1]} == "$CFG:$b: [listener web] schedular: unknown key (did you mean 'scheduler'?)" ]]
	[[ ${stderr_lines[2]} == "$CFG:$c: [group web] check_interval: '2' "* ]]
}

@test "a file that does not exist: status 1 and the file named" {
	local missing=$TOPO_DIR/does-not-exist.ini
	_check "$missing"
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ $stderr == *"$missing:0: cannot open"* ]]
}
