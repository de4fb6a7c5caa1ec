#!/usr/bin/env bash
# Runs every test: installs the Node-based tools the tests drive (pinned by
# their lock files: tests/node for the validators, the MCP SDK and
# reference servers, playwright-core; tests/conformance for the MCP
# conformance suite and the Node 24 it needs), Debian's Chromium and
# PostgreSQL when they are missing (set CHROMIUM or PG_BIN to use others),
# schemathesis from PyPI (pinned by
# tests/python/requirements.txt), then the whole Rust test suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash tests/dev-null.sh

if ! command -v node >/dev/null 2>&1; then
  echo "tests/run.sh: Node.js 20.19 or newer is needed (the OpenAPI validators run on it)" >&2
  exit 1
fi
apt_get() { if [ "$(id -u)" = 0 ]; then apt-get "$@"; else sudo apt-get "$@"; fi; }
# The web UI tests drive Debian's Chromium (through playwright-core).
if [ -z "${CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then
  echo "tests/run.sh: installing Debian's chromium for the web UI tests"
  apt_get update -qq && apt_get install -y -qq chromium
fi
# The store and replica tests start throwaway PostgreSQL clusters (initdb,
# postgres) from Debian's postgresql (set PG_BIN to use other binaries) and
# put Debian's nginx in front of replicas.
if [ -z "${PG_BIN:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "tests/run.sh: installing Debian's postgresql for the PostgreSQL store tests"
  apt_get update -qq && apt_get install -y -qq postgresql
fi
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  echo "tests/run.sh: installing Debian's nginx for the replica tests"
  apt_get update -qq && apt_get install -y -qq nginx
fi
npm ci --prefix tests/node --no-audit --no-fund --loglevel=error
npm ci --prefix tests/conformance --no-audit --no-fund --loglevel=error
# schemathesis (PyPI), pinned, in a virtual environment of its own.
if [ ! -x target/schemathesis/bin/schemathesis ] || ! cmp -s tests/python/requirements.txt target/schemathesis/requirements.txt; then
  python3 -m venv target/schemathesis
  target/schemathesis/bin/pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt
  cp tests/python/requirements.txt target/schemathesis/requirements.txt
fi
cargo test --workspace --locked
# The behaviour tests once more with every service on PostgreSQL (a
# throwaway cluster per test process; tests/support/postgres.rs).
EXECUTOR_TEST_STORE=postgres cargo test --locked -p executor-runtime \
  --test service --test policies --test connections --test clients --test oauth \
  --test code_mode --test mcp --test security --test web
# Nothing in the suite may replace the null device (see tests/dev-null.sh).
if [ ! -c /dev/null ]; then
  echo "tests/run.sh: /dev/null is no longer the null device after the tests" >&2
  exit 1
fi
