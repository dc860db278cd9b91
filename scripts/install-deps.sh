#!/usr/bin/env bash
# install-deps.sh - what slb needs to build, test and run its demo on a fresh
# Debian 12 (as root), and the `slb` system user the workers run as.
set -euo pipefail

packages=(
	build-essential autoconf automake libtool pkg-config
	libnl-3-dev libnl-route-3-dev libmnl-dev libssl-dev libiniparser-dev zlib1g-dev
	libcmocka-dev bats
	dpkg-dev debhelper lintian rpm
	man-db groff-base
	iproute2 socat curl jq procps util-linux tcpdump strace wrk python3
	nghttp2-client linux-perf
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if ! getent passwd slb >/dev/null; then
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin slb
fi
