#!/usr/bin/env bash
# The whole test suite: formatting, lints, every test (Redis tests on real
# redis-server processes the harness starts), docs, and the sans-IO guard.
# Installs redis-server (and redis-cli) with apt-get when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Real services the tests need: redis-server/redis-cli (the Redis store and
# cluster suites) and Chromium with its WebDriver (the browser test).
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
if ((${#missing[@]})); then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "== installing ${missing[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "error: the tests need ${missing[*]}." >&2
    echo "       Debian/Ubuntu: sudo apt-get install -y redis-server chromium chromium-driver" >&2
    exit 1
  fi
fi
for tool in redis-server redis-cli chromium chromedriver; do
  command -v "$tool" >/dev/null || { echo "error: $tool still missing after the install" >&2; exit 1; }
done

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --all-features -- -D warnings

echo "== sans-IO guard: session-core depends on no runtime, framework or network crate"
banned='^(tokio|async-std|smol|mio|hyper|axum|actix-web|actix-rt|rocket|redis|reqwest|tower) '
if cargo tree -p session-core -e normal --prefix none | grep -E "$banned"; then
  echo "error: session-core must stay sans-IO" >&2
  exit 1
fi

echo "== cargo test"
cargo test --workspace --all-features --no-fail-fast

echo "== cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features

echo "== all checks passed"
