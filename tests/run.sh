#!/usr/bin/env bash
# Runs every test: installs the Node-based validators the tests drive
# (tests/node, pinned by its lock file), then the whole Rust test suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v node >/dev/null 2>&1; then
  echo "tests/run.sh: Node.js 20.19 or newer is needed (the OpenAPI validators run on it)" >&2
  exit 1
fi
npm ci --prefix tests/node --no-audit --no-fund --loglevel=error
cargo test --workspace --locked
