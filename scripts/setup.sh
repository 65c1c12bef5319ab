#!/usr/bin/env bash
# Installs every Debian package Parley's build, tests and benchmarks need.
# Idempotent; run as root on Debian 12.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates curl
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev sqlite3 libpq-dev libnats-dev
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  libmaxminddb-dev libmagic-dev libjemalloc-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 openssl wrk nginx-light linux-perf
  clang libclang-rt-14-dev
  chromium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Chromium runs the browser tests (driven by playwright-core from test/node).
# Node.js runs test tools (s3rver for the S3 blob store test, playwright-core). Debian's packages only when the
# commands are missing: a node from another source (nodesource, nvm) is kept as it is.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "setup: all packages present"

# The Node test tools, pinned by test/node/package-lock.json; reinstalled when the lock file is
# newer than the last install (npm writes node_modules/.package-lock.json on every install).
node_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/test/node"
if [[ ! -f "$node_dir/node_modules/.package-lock.json" ||
      "$node_dir/package-lock.json" -nt "$node_dir/node_modules/.package-lock.json" ]]; then
  npm ci --no-audit --no-fund --loglevel=error --prefix "$node_dir" >/dev/null
fi
echo "setup: node test tools present"
