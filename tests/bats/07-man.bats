#!/usr/bin/env bats
# The man pages (doc/man): slb.ini(5), slb-master(8), slbctl(8) format with
# no warning from man/groff, and `make install` puts them, and the bash
# completion of slbctl, where man and bash-completion look. No namespaces:
# the install goes to a per-run DESTDIR.

load helpers/topology

PAGES="doc/man/slb.ini.5 doc/man/slb-master.8 doc/man/slbctl.8"

setup_file() {
	command -v man >/dev/null || skip "man not found (apt-get install man-db)"
	command -v groff >/dev/null || skip "groff not found (apt-get install groff-base)"
}

@test "man pages: no warning from man --warnings or groff -ww" {
	local page err
	for page in $PAGES; do
		err=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$TOPO_REPO/$page" 2>&1 >/dev/null)
		[ -z "$err" ] || { echo "$page: $err" >&2; return 1; }
		err=$(groff -ww -man -z "$TOPO_REPO/$page" 2>&1)
		[ -z "$err" ] || { echo "$page: $err" >&2; return 1; }
	done
}

@test "man pages: each names itself and the others" {
	run env LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$TOPO_REPO/doc/man/slbctl.8"
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "SLBCTL(8) "*" SLBCTL(8)" ]]
	[[ $output == *"slb-master(8), slb.ini(5)"* ]]
	run env LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$TOPO_REPO/doc/man/slb.ini.5"
	[[ ${lines[0]} == "SLB.INI(5) "*" SLB.INI(5)" ]]
	[[ $output == *"slb-master(8), slbctl(8)"* ]]
	run env LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$TOPO_REPO/doc/man/slb-master.8"
	[[ ${lines[0]} == "SLB-MASTER(8) "*" SLB-MASTER(8)" ]]
	[[ $output == *"slb.ini(5), slbctl(8)"* ]]
}

@test "make install: man pages and the slbctl completion installed" {
	local root=$BATS_FILE_TMPDIR/root prefix
	[ -f "$TOPO_REPO/Makefile" ] || skip "not configured"
	prefix=$(sed -n 's/^prefix = //p' "$TOPO_REPO/Makefile")
	make -s -C "$TOPO_REPO" install-data DESTDIR="$root" >&2
	cmp "$TOPO_REPO/doc/man/slb.ini.5" "$root$prefix/share/man/man5/slb.ini.5"
	cmp "$TOPO_REPO/doc/man/slb-master.8" "$root$prefix/share/man/man8/slb-master.8"
	cmp "$TOPO_REPO/doc/man/slbctl.8" "$root$prefix/share/man/man8/slbctl.8"
	cmp "$TOPO_REPO/packaging/bash-completion/slbctl" \
		"$root$prefix/share/bash-completion/completions/slbctl"
}
