#!/usr/bin/env bats
# The Debian package (issue #6): built from a clean copy of the tree
# (scripts/build-deb.sh, what `make deb` runs), installed with dpkg on THIS
# machine, checked, then purged with nothing of it left behind. Meant for CI
# (root, throwaway machine): an slb package already installed here is purged
# first. SLB_DEB=/path/to/slb_*.deb uses a package built beforehand.
# Skipped without root, dpkg-buildpackage or debhelper.
#
# The RPM (scripts/build-rpm.sh, what `make rpm` runs) is built from the
# `make dist` contents of the configured tree and inspected with rpm -qp;
# installing it on Debian would prove nothing, so it is not. SLB_RPM=PATH
# uses one built beforehand; its tests are skipped without rpmbuild.

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
	if [ -z "${SLB_RPM:-}" ] && command -v rpmbuild >/dev/null; then
		SLB_RPM=$(cd "$TOPO_REPO" && scripts/build-rpm.sh "$BATS_FILE_TMPDIR/rpm" | tail -n 1)
	fi
	export SLB_RPM
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
	! ldd /usr/sbin/slb-master | grep -E 'libasan|libubsan' || return 1
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
	! ls /etc/systemd/system/*.wants/slb.service 2>/dev/null || return 1
	! pgrep -f '^/usr/sbin/slb-master' >/dev/null || return 1
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

@test "package: lintian reports no error and no warning" {
	command -v lintian >/dev/null || skip "lintian not found (apt-get install lintian)"
	# Overrides, each with its reason: packaging/debian/slb.lintian-overrides.
	run lintian --fail-on error,warning "$SLB_DEB"
	echo "$output"
	[ "$status" -eq 0 ]
	! grep -E '^[EW]: ' <<<"$output" || return 1
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
	! ls /var/lib/dpkg/info/slb.* 2>/dev/null || return 1
	getent passwd slb
}

# --- the RPM ---------------------------------------------------------------

_rpm_or_skip() {
	[ -n "${SLB_RPM:-}" ] || skip "rpmbuild not found (apt-get install rpm)"
	[ -f "$SLB_RPM" ]
}

@test "rpm: one version in configure.ac, the spec and debian/changelog" {
	local ac spec deb
	ac=$(sed -n 's/^AC_INIT(\[slb\], \[\([^]]*\)\].*/\1/p' "$TOPO_REPO/configure.ac")
	spec=$(sed -n 's/^Version:[[:space:]]*//p' "$TOPO_REPO/packaging/rpm/slb.spec")
	deb=$(sed -n 's/^slb (\([^)]*\)).*/\1/p;q' "$TOPO_REPO/packaging/debian/changelog")
	echo "configure.ac $ac, spec $spec, changelog $deb"
	[ -n "$ac" ] && [ "$ac" = "$spec" ] && [ "$ac" = "$deb" ]
}

@test "rpm: built; binaries, unit, config, sysusers, man pages, completion" {
	_rpm_or_skip
	run rpm -qpl "$SLB_RPM"
	[ "$status" -eq 0 ]
	local f
	for f in /usr/sbin/slb-master /usr/sbin/slbctl /usr/libexec/slb/slb-worker \
		/usr/libexec/slb/slb-checker /usr/libexec/slb/slb-failover \
		/etc/slb/slb.ini /usr/lib/systemd/system/slb.service /usr/lib/sysusers.d/slb.conf \
		/usr/share/bash-completion/completions/slbctl /var/lib/slb; do
		grep -qx "$f" <<<"$output" || { echo "not in the rpm: $f" >&2; return 1; }
	done
	# brp-compress gzips them on Fedora; Debian's rpmbuild leaves them as they are.
	for f in man5/slb.ini.5 man8/slb-master.8 man8/slbctl.8; do
		grep -qE "^/usr/share/man/$f(\.gz)?$" <<<"$output" || { echo "not in the rpm: $f" >&2; return 1; }
	done
	# No sanitizer runtime: the package is built with --disable-sanitizers.
	! rpm -qpR "$SLB_RPM" | grep -E 'libasan|libubsan' || return 1
}

@test "rpm: the unit and the config are the tree's own files" {
	_rpm_or_skip
	local unit ini
	unit=$(sha256sum <"$TOPO_REPO/packaging/systemd/slb.service" | cut -d' ' -f1)
	ini=$(sha256sum <"$TOPO_REPO/etc/slb.ini" | cut -d' ' -f1)
	run rpm -qp --dump "$SLB_RPM"
	[ "$status" -eq 0 ]
	grep -qE "^/usr/lib/systemd/system/slb.service [0-9]+ [0-9]+ $unit " <<<"$output"
	grep -qE "^/etc/slb/slb.ini [0-9]+ [0-9]+ $ini " <<<"$output"
}

@test "rpm: /etc/slb/slb.ini is the one config file, noreplace; /var/lib/slb 0750 root:slb" {
	_rpm_or_skip
	run rpm -qpc "$SLB_RPM"
	[ "$status" -eq 0 ]
	[ "$output" = /etc/slb/slb.ini ]
	run rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILEMODES:perms} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILENAMES}\n]' "$SLB_RPM"
	grep -qx 'cn -rw-r--r-- root root /etc/slb/slb.ini' <<<"$output"
	grep -qx ' drwxr-x--- root slb /var/lib/slb' <<<"$output"
}

@test "rpm: scriptlets create the slb user before install, handle the unit, parse as sh" {
	_rpm_or_skip
	local pre
	pre=$(rpm -qp --qf '%{PREIN}' "$SLB_RPM")
	echo "$pre"
	grep -qE '^getent group slb >/dev/null \|\| groupadd -r slb$' <<<"$pre"
	grep -qE 'useradd -r -g slb .*-s /usr/sbin/nologin .* slb$' <<<"$pre"
	run rpm -qp --scripts "$SLB_RPM"
	echo "$output"
	[[ $output == *"preinstall scriptlet"*"useradd -r -g slb"* ]]
	# %systemd_post/preun/postun (or the spec's fallbacks): preset on first
	# install, disable and stop on removal, no restart on upgrade.
	[[ $(rpm -qp --qf '%{POSTIN}' "$SLB_RPM") == *"preset slb.service"* ]]
	[[ $(rpm -qp --qf '%{PREUN}' "$SLB_RPM") == *"slb.service"* ]]
	! rpm -qp --qf '%{POSTUN}' "$SLB_RPM" | grep -E 'try-restart|mark-restart' || return 1

	local tag
	for tag in PREIN POSTIN PREUN POSTUN; do
		rpm -qp --qf "%{$tag}" "$SLB_RPM" | sh -n || { echo "$tag does not parse" >&2; return 1; }
	done
}
