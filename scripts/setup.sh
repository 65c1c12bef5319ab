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
echo "setup: all packages present"
