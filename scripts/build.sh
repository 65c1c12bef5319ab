#!/usr/bin/env bash
# Configures and builds one configuration: scripts/build.sh <build-dir> [cmake options…]
set -euo pipefail
dir=${1:?usage: scripts/build.sh <build-dir> [cmake options…]}
shift
cd "$(dirname "$0")/.."
cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
ninja -C "$dir" -j"${PARLEY_JOBS:-2}"
