#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for N seconds each, one after
# the other, on the committed corpus. New inputs libFuzzer finds go to a
# scratch corpus under fuzz/target/ (not committed); crashes to
# fuzz/artifacts/<target>/.
#
#   fuzz/run.sh            # all targets, 60 s each
#   fuzz/run.sh 300        # all targets, 300 s each
#   fuzz/run.sh 120 wire_request graphql_select
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz
# --locked`). Extra libFuzzer flags: FUZZ_ARGS="-jobs=2 -workers=2" fuzz/run.sh
set -euo pipefail

seconds="${1:-60}"
shift || true
cd "$(dirname "$0")/.."
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

# The runtime links the bundled SQLite; ASan reports an ODR violation for
# two same-named function-local statics in its amalgamation (`aiOff`) at
# start-up, before any input runs. It is not ours and not a memory error.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_odr_violation=0}"

# -a: debug assertions and overflow checks on, so arithmetic overflow is a
# finding too. Built once for all targets.
cargo +nightly fuzz build -a

for target in "${targets[@]}"; do
    scratch="fuzz/target/corpus/$target"
    mkdir -p "$scratch"
    echo "== $target: ${seconds}s"
    # The committed seeds are read; new inputs go to the scratch corpus
    # (the first corpus directory given), so fuzz/corpus/ stays small.
    # -timeout: an input slower than 10 s is a finding (hang).
    # shellcheck disable=SC2086
    cargo +nightly fuzz run -a "$target" "$scratch" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        ${FUZZ_ARGS:-}
done
