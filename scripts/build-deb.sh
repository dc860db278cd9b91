#!/usr/bin/env bash
# build-deb.sh - build the slb .deb from a clean copy of the source tree, so
# that objects of an in-tree build (e.g. with sanitizers) do not get in.
#   scripts/build-deb.sh [OUTDIR]      default OUTDIR: build-deb
# The copy is the git working tree (tracked and untracked files, not the
# ignored ones) or, outside git, the `make dist` tarball. packaging/debian
# becomes its debian/. The last line printed is the path of the .deb.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$top/build-deb}" && cd "${1:-$top/build-deb}" && pwd)
for tool in dpkg-buildpackage dh; do
	command -v "$tool" >/dev/null || { echo "build-deb: $tool not found (apt-get install dpkg-dev debhelper)" >&2; exit 1; }
done
version=$(sed -n 's/^slb (\([^)]*\)).*/\1/p;q' "$top/packaging/debian/changelog")
src=$out/slb-$version
rm -rf "$src"
mkdir -p "$src"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | tar -xf - -C "$src"
else
	[[ -f $top/Makefile ]] || { echo "build-deb: not a git tree and not configured: run ./configure first" >&2; exit 1; }
	make -C "$top" -s distdir distdir="$src" >/dev/null
fi
cp -a "$src/packaging/debian" "$src/debian"
log=$out/build.log
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=$out/slb_${version}_${arch}.deb
rm -f "$deb"
if ! (cd "$src" && dpkg-buildpackage -b -us -uc -J"$(nproc)") >"$log" 2>&1; then
	tail -n 40 "$log" >&2
	echo "build-deb: dpkg-buildpackage failed, full log: $log" >&2
	exit 1
fi
[[ -f $deb ]] || { echo "build-deb: $deb was not produced (log: $log)" >&2; exit 1; }
echo "$deb"
