#!/usr/bin/env bash
# Installs everything, builds Parley and runs it on its embedded default
# (SQLite + local data directory ./parley-data, listening on 127.0.0.1:8080).
# Extra arguments go to `parley serve` (e.g. --listen 0.0.0.0:8080 --data-dir /var/lib/parley).
# It starts with the web chat demo (a demo tenant, /demo and /console); PARLEY_DEMO=0 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# RelWithDebInfo (-O2 -g): the configuration CI builds and tests.
bash scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPARLEY_BUILD_TESTS=OFF -DPARLEY_BUILD_BENCH=OFF
if [[ "${PARLEY_DEMO:-1}" == 0 ]]; then
  exec ./build/src/parley serve "$@"
fi
exec ./build/src/parley serve --demo "$@"
