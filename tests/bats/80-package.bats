#!/usr/bin/env bats
# The Debian package (issue #6): built from a clean copy of the tree
# (scripts/build-deb.sh, what `make deb` runs), installed with dpkg on THIS
# machine, checked, then purged with nothing of it left behind. Meant for CI
# (root, throwaway machine): an slb package already installed here is purged
# first. SLB_DEB=/path/to/slb_*.deb uses a package built beforehand.
# Skipped without root, dpkg-buildpackage or debhelper.

load helpers/topology

setup_file() {
	[ "$(id -u)" -eq 0 ] || skip "installs a package: needs root"
	command -v dpkg-buildpackage >/dev/null || skip "dpkg-buildpackage not found (apt-get install dpkg-dev)"
	command -v dh >/dev/null || skip "debhelper not found (apt-get install debhelper)"
	if [ -z "${SLB_DEB:-}" ]; then
		SLB_DEB=$("$TOPO_REPO/scripts/build-deb.sh" "$BATS_FILE_TMPDIR/deb" | tail -n 1)
	fi
	export SLB_DEB
	# A previous run that stopped half-way may have left it installed.
	if dpkg-query -W -f='${db:Status-Status}' slb 2>/dev/null | grep -qv '^not-installed$'; then
		dpkg -P slb >&2
	fi
	dpkg -i "$SLB_DEB" >&2
}

teardown_file() {
	if dpkg-query -W -f='${db:Status-Status}' slb 2>/dev/null | grep -qv '^not-installed$'; then
		dpkg -P slb >/dev/null 2>&1 || true
	fi
}

@test "package: installed, binaries in /usr/sbin and /usr/libexec/slb" {
	run dpkg-query -W -f='${db:Status-Abbrev}' slb
	[ "$status" -eq 0 ]
	[ "${output% }" = ii ]
	for f in /usr/sbin/slb-master /usr/sbin/slbctl /usr/libexec/slb/slb-worker \
		/usr/libexec/slb/slb-checker /usr/libexec/slb/slb-failover; do
		[ -x "$f" ] || { echo "missing: $f" >&2; return 1; }
	done
}

@test "package: slb-master -t accepts the installed /etc/slb/slb.ini" {
	run /usr/sbin/slb-master -t -c /etc/slb/slb.ini
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "configuration OK" ]
}

@test "package: compiled-in paths /etc/slb/slb.ini and /usr/libexec/slb, no sanitizers" {
	# Without -c, the default file is $(sysconfdir)/slb/slb.ini.
	run env -u SLB_LIBEXECDIR /usr/sbin/slb-master -t
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "configuration OK" ]
	# The children are looked for in SLB_LIBEXECDIR ($(libexecdir)/slb).
	grep -qa '/usr/libexec/slb' /usr/sbin/slb-master
	! ldd /usr/sbin/slb-master | grep -E 'libasan|libubsan'
}

@test "package: /etc/slb/slb.ini is a conffile" {
	run dpkg-query -W -f='${Conffiles}' slb
	echo "$output"
	[[ $output == *" /etc/slb/slb.ini "* ]]
}

@test "package: systemd unit installed, its programs exist, neither enabled nor started" {
	unit=$(dpkg -L slb | grep -E '/systemd/system/slb\.service$')
	[ -f "$unit" ]
	grep -q '^ExecStart=/usr/sbin/slb-master -f -c /etc/slb/slb.ini$' "$unit"
	grep -q '^Type=notify$' "$unit"
	# Every Exec* line's program exists.
	while read -r prog; do
		[ -x "$prog" ] || { echo "$unit: $prog not found" >&2; return 1; }
	done < <(sed -n 's/^Exec[A-Za-z]*=[-@+!:]*\([^ ]*\).*/\1/p' "$unit")
	! ls /etc/systemd/system/*.wants/slb.service 2>/dev/null
	! pgrep -f '^/usr/sbin/slb-master' >/dev/null
}

@test "package: man pages and the slbctl completion installed" {
	local page
	for page in man5/slb.ini.5.gz man8/slb-master.8.gz man8/slbctl.8.gz; do
		dpkg -L slb | grep -qx "/usr/share/man/$page" || { echo "not in the package: $page" >&2; return 1; }
	done
	[ "$(man -w slbctl)" = /usr/share/man/man8/slbctl.8.gz ]
	[ "$(man -w 5 slb.ini)" = /usr/share/man/man5/slb.ini.5.gz ]
	[ "$(man -w slb-master)" = /usr/share/man/man8/slb-master.8.gz ]
	dpkg -L slb | grep -qx /usr/share/bash-completion/completions/slbctl
	run bash -c '. /usr/share/bash-completion/completions/slbctl && complete -p slbctl'
	[ "$output" = "complete -F _slbctl slbctl" ]
}

@test "package: the slb system user, /var/lib/slb 0750 root:slb" {
	getent passwd slb
	getent group slb
	[ "$(id -u slb)" -lt 1000 ]
	[ "$(stat -c '%a %U %G' /var/lib/slb)" = "750 root slb" ]
}

@test "package: reinstalling keeps an edited conffile and the user" {
	echo "; edited by 80-package.bats" >>/etc/slb/slb.ini
	dpkg -i --force-confold "$SLB_DEB" >&2
	tail -n 1 /etc/slb/slb.ini | grep -qx '; edited by 80-package.bats'
	getent passwd slb
	[ "$(stat -c '%a %U %G' /var/lib/slb)" = "750 root slb" ]
}

@test "package: dpkg -P leaves nothing behind (the slb user stays, by policy)" {
	echo "state" >/var/lib/slb/slb.state
	mapfile -t files < <(dpkg -L slb)
	[ "${#files[@]}" -gt 10 ]
	dpkg -P slb >&2
	run dpkg-query -W -f='${db:Status-Status}' slb
	[ "$status" -ne 0 ] || [ "$output" = not-installed ]
	for f in "${files[@]}"; do
		[ -d "$f" ] && continue   # /usr, /etc, ... are shared
		[ ! -e "$f" ] && [ ! -L "$f" ] || { echo "left behind: $f" >&2; return 1; }
	done
	for d in /etc/slb /usr/libexec/slb /var/lib/slb /usr/share/doc/slb; do
		[ ! -e "$d" ] || { echo "left behind: $d" >&2; return 1; }
	done
	! ls /var/lib/dpkg/info/slb.* 2>/dev/null
	getent passwd slb
}
