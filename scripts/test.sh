#!/usr/bin/env bash
# test.sh - from a fresh machine: install, build with AddressSanitizer and
# UndefinedBehaviorSanitizer, run every unit test (cmocka) and every bats
# suite, and end with one line "N passed, N failed". Run as root (the bats
# suites build network namespaces). Exit status 0 only when nothing failed.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh || exit 1
scripts/build.sh --enable-sanitizers || exit 1
make -j"$(nproc)" check TESTS= >/dev/null || exit 1

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export CMOCKA_MESSAGE_OUTPUT=TAP
passed=0
failed=0
tap=$(mktemp)
trap 'rm -f "$tap"' EXIT

# Counts "ok" and "not ok" lines of the TAP stream in $tap.
count_tap() {
	local ok bad
	ok=$(grep -cE '^ok ' "$tap")
	bad=$(grep -cE '^not ok ' "$tap")
	passed=$((passed + ok))
	failed=$((failed + bad))
}

for t in tests/unit/test_*; do
	[[ -x $t && $t != *.* ]] || continue
	echo "# $t"
	if ! "$t" >"$tap" 2>&1; then
		# A crash before the plan is printed is one failure, not zero.
		grep -qE '^(ok|not ok) ' "$tap" || echo "not ok 1 - $t crashed" >>"$tap"
	fi
	cat "$tap"
	count_tap
done

echo "# bats tests/bats"
bats --tap tests/bats >"$tap" 2>&1
cat "$tap"
count_tap

echo "$passed passed, $failed failed"
((failed == 0))
