#!/usr/bin/env bash
# build-rpm.sh - build the slb .rpm with rpmbuild from the `make dist`
# tarball of a configured tree (packaging/rpm/slb.spec).
#   scripts/build-rpm.sh [OUTDIR]      default OUTDIR: build-rpm
# OUTDIR becomes rpmbuild's _topdir (SOURCES, BUILD, RPMS, ...). Run it from
# the build tree (`make rpm` does). The last line printed is the path of
# the binary .rpm.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${SLB_BUILDDIR:-$PWD}
out=$(mkdir -p "${1:-$build/build-rpm}" && cd "${1:-$build/build-rpm}" && pwd)
command -v rpmbuild >/dev/null || { echo "build-rpm: rpmbuild not found (apt-get install rpm, or dnf install rpm-build)" >&2; exit 1; }
[[ -f $build/Makefile ]] || { echo "build-rpm: $build is not configured: run ./configure first" >&2; exit 1; }
spec=$top/packaging/rpm/slb.spec
version=$(sed -n 's/^Version:[[:space:]]*//p' "$spec")
dist_version=$(sed -n 's/^VERSION = //p' "$build/Makefile")
[[ $version == "$dist_version" ]] ||
	{ echo "build-rpm: $spec says $version, configure.ac says $dist_version" >&2; exit 1; }

rm -rf "$out/SOURCES" "$out/BUILD" "$out/BUILDROOT" "$out/RPMS" "$out/SRPMS"
mkdir -p "$out/SOURCES"
# What `make dist` would pack, without writing into the tree.
make -C "$build" -s distdir distdir="$out/SOURCES/slb-$version" >/dev/null
tar -C "$out/SOURCES" -czf "$out/SOURCES/slb-$version.tar.gz" "slb-$version"
rm -rf "$out/SOURCES/slb-$version"

# A Debian host's rpm database knows none of the installed packages, so the
# BuildRequires (Fedora's names) cannot be checked there.
nodeps=()
if command -v dpkg >/dev/null && ! rpm -q glibc >/dev/null 2>&1; then
	nodeps=(--nodeps)
fi
log=$out/build.log
if ! rpmbuild -bb "${nodeps[@]}" --define "_topdir $out" "$spec" >"$log" 2>&1; then
	tail -n 40 "$log" >&2
	echo "build-rpm: rpmbuild failed, full log: $log" >&2
	exit 1
fi
rpm=$(find "$out/RPMS" -name "slb-$version-*.rpm" ! -name '*debug*' | head -n 1)
[[ -n $rpm ]] || { echo "build-rpm: no .rpm was produced (log: $log)" >&2; exit 1; }
echo "$rpm"
