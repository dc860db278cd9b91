#!/usr/bin/env bats
# The docs keep up with the code, without a network or namespaces:
#   - every key the config schema accepts (lib/config_schema.c, listed by
#     tests/tools/slb-test-schema-keys) has an entry in its section of
#     doc/man/slb.ini.5 (a .TP/.TQ term) and a line, commented or not, in its
#     section of etc/slb.ini;
#   - every command `slbctl help` lists has an entry in the COMMANDS of
#     doc/man/slbctl.8 and is offered by the bash completion
#     (packaging/bash-completion/slbctl) word by word.

load helpers/topology

setup_file() {
	tool_bin slb-test-schema-keys >/dev/null
}

# _schema_keys: "SECTION KEY" per key ("SECTION PREFIX." for server.NAME and the like).
_schema_keys() { "$(tool_bin slb-test-schema-keys)"; }

# _man_terms: "SECTION WORD" for every word of the terms (the line after .TP
# or .TQ) under each section heading of slb.ini(5), `.SH "[listener NAME]"`.
_man_terms() {
	awk '
	/^\.SH/ { sec = ""; if (match($0, /\[[a-z]+/)) sec = substr($0, RSTART + 1, RLENGTH - 1); next }
	/^\.T[PQ]/ { term = 1; next }
	term && sec != "" && /^\.[BI]/ {
		line = $0
		sub(/^\.[A-Z]+ */, "", line)
		gsub(/\\f[BIRP]/, "", line)
		gsub(/["(),|]/, " ", line)
		n = split(line, w, /[ \t]+/)
		for (i = 1; i <= n; i++) if (w[i] != "") print sec, w[i]
	}
	{ term = 0 }' "$TOPO_REPO/doc/man/slb.ini.5"
}

# _ini_keys: "SECTION KEY" for every key line of etc/slb.ini, commented
# (";key = ...") or not, in the section above it (";[failover]" counts).
# A key named by the operator is written "PREFIX.".
_ini_keys() {
	awk '
	/^;?\[[a-z]+/ { sec = $0; sub(/^;?\[/, "", sec); sub(/[] ].*/, "", sec); next }
	sec != "" && /^;?[a-z_][a-z0-9_]*(\.[A-Za-z0-9_-]+)? *=/ {
		key = $0; sub(/^;/, "", key); sub(/ *=.*/, "", key)
		if (key ~ /\./) sub(/\..*/, ".", key)
		print sec, key
	}' "$TOPO_REPO/etc/slb.ini"
}

@test "docs: every key of the schema has an entry in its section of slb.ini(5)" {
	local terms missing
	terms=$(_man_terms | sort -u)
	[ "$(wc -l <<<"$terms")" -gt 50 ]
	missing=$(_schema_keys | sort -u | comm -23 - <(echo "$terms"))
	[ -z "$missing" ] || { echo "not in doc/man/slb.ini.5:"; echo "$missing"; return 1; }
}

@test "docs: every key of the schema has a line in its section of etc/slb.ini" {
	local keys missing
	keys=$(_ini_keys | sort -u)
	missing=$(_schema_keys | sort -u | comm -23 - <(echo "$keys"))
	[ -z "$missing" ] || { echo "not in etc/slb.ini:"; echo "$missing"; return 1; }
	# And etc/slb.ini names no key the schema would refuse.
	missing=$(comm -13 <(_schema_keys | sort -u) <(echo "$keys"))
	[ -z "$missing" ] || { echo "in etc/slb.ini, not in the schema:"; echo "$missing"; return 1; }
}

# _commands: the keywords of every command of `slbctl help` ("server set",
# "sessions", "help"): the leading lowercase words of its usage (which two
# spaces separate from its description), as the completion reads them.
_commands() {
	"$(slb_bin slbctl)" help | awk '/^  [a-z]/ {
		usage = substr($0, 3); sub(/  .*/, "", usage)
		n = split(usage, w, " "); kw = ""
		for (i = 1; i <= n && w[i] ~ /^[a-z]+$/; i++) kw = kw (kw == "" ? "" : " ") w[i]
		print kw }'
}

# _man_commands: the terms of the COMMANDS section of slbctl(8), fonts and
# quotes removed, spaces squeezed ("server add group name ip : port ...").
_man_commands() {
	awk '
	/^\.SH/ { in_cmds = $0 ~ /COMMANDS/; next }
	/^\.T[PQ]/ { term = 1; next }
	term && in_cmds && /^\.[BI]/ {
		line = $0
		sub(/^\.[A-Z]+ */, "", line)
		gsub(/\\f[BIRP]/, "", line)
		gsub(/"/, " ", line)
		gsub(/[ \t]+/, " ", line); sub(/^ /, "", line)
		print line
	}
	{ term = 0 }' "$TOPO_REPO/doc/man/slbctl.8"
}

@test "docs: every command of 'slbctl help' has an entry in slbctl(8)" {
	local terms cmd missing=''
	terms=$(_man_commands)
	[ "$(_commands | wc -l)" -gt 10 ]
	while read -r cmd; do
		grep -E "^$cmd( |\$)" <<<"$terms" >/dev/null || missing+="$cmd"$'\n'
	done < <(_commands)
	[ -z "$missing" ] || { echo "not in doc/man/slbctl.8:"; echo "$missing"; return 1; }
}

# _complete WORD...: what the completion offers for the last WORD after
# `slbctl -s NONE WORD...`, one per line (no master: names complete to nothing).
_complete() {
	COMP_WORDS=("$SLBCTL" -s "$BATS_TEST_TMPDIR/none.sock" "$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_slbctl "$SLBCTL" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}"
}

@test "docs: the bash completion offers every command of 'slbctl help', word by word" {
	local cmd w prefix missing=''
	SLBCTL=$(slb_bin slbctl)
	# shellcheck source=../../packaging/bash-completion/slbctl
	. "$TOPO_REPO/packaging/bash-completion/slbctl"
	while read -r cmd; do
		prefix=()
		for w in $cmd; do
			_complete "${prefix[@]}" '' | grep -Fx -- "$w" >/dev/null || { missing+="$cmd ($w)"$'\n'; break; }
			prefix+=("$w")
		done
	done < <(_commands)
	[ -z "$missing" ] || { echo "not completed:"; echo "$missing"; return 1; }
}
