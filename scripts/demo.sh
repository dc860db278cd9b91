#!/usr/bin/env bash
# demo.sh - from a fresh machine: install, build, then run the demo (two
# backends behind slb in network namespaces). Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec demo/run-demo.sh
