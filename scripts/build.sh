#!/usr/bin/env bash
# build.sh - configure and build slb in the source tree.
#   scripts/build.sh [configure options...]   e.g. --enable-sanitizers
set -euo pipefail
cd "$(dirname "$0")/.."
autoreconf -fi >/dev/null
./configure -q "$@"
make -j"$(nproc)" >/dev/null
