#!/usr/bin/env bash
# Every benchmark: criterion benches of the core and of each store, then the
# HTTP load runs against the peers. Writes BENCHMARKS.md and
# docs/bench-ratios.svg. Needs wrk and redis-server (installed with apt-get
# when missing and running as root). About 35 minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v taskset >/dev/null 2>&1 || missing+=(util-linux)
if ((${#missing[@]})); then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "error: install ${missing[*]} first (Debian: sudo apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
fi

# The report reads every result under target/criterion: start empty, so
# it holds this run's benchmarks only (not ones renamed or removed since).
rm -rf target/criterion
quick=(-- --warm-up-time 1 --measurement-time 3)
cargo bench -p session-core --bench cycle "${quick[@]}"
cargo bench -p session-store-memory --bench memory "${quick[@]}"
cargo bench -p session-store-cookie --bench seal "${quick[@]}"
cargo bench -p session-store-redis --bench redis "${quick[@]}"

cargo build --release -p example-axum -p example-actix -p example-rocket -p session-bench
./target/release/session-bench run "$@"
