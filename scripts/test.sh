#!/usr/bin/env bash
# The whole test suite: formatting, lints, every test (Redis tests on real
# redis-server processes the harness starts), docs, and the sans-IO guard.
# Installs redis-server (and redis-cli) with apt-get when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
if ((${#missing[@]})); then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "== installing redis-server with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "error: the tests need redis-server and redis-cli on PATH." >&2
    echo "       Debian/Ubuntu: sudo apt-get install -y redis-server" >&2
    exit 1
  fi
fi
command -v redis-server >/dev/null && command -v redis-cli >/dev/null || {
  echo "error: redis-server or redis-cli still missing after the install" >&2
  exit 1
}

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
cargo test --workspace --all-features

echo "== cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features

echo "== all checks passed"
