#!/usr/bin/env bash
# Runs the fuzz targets (cargo-fuzz, libFuzzer) on the stable toolchain.
#
#   fuzz/run.sh smoke [SECONDS]    every target for SECONDS (default 20): what CI runs
#   fuzz/run.sh campaign [RUNS [TARGET...]]
#                                  every target (or those named) for RUNS executions (default
#                                  10000000), two at a time, without a sanitizer; then writes
#                                  fuzz/CAMPAIGN.md from the logs of every target's last run
#   fuzz/run.sh TARGET [ARGS...]   one target, libFuzzer ARGS as given (e.g. -runs=1000)
#
# Every build has debug assertions and overflow checks on (`-a`): in a crate that forbids
# `unsafe`, an arithmetic overflow is the likeliest bug a sanitizer would not see. The smoke
# run adds AddressSanitizer (for the dependencies' unsafe code); if that build fails (no
# sanitizer runtime), it runs without one and says so. The campaign runs without a sanitizer,
# two to three times faster. A panic, a timeout (-timeout, seconds per input) or an
# allocation over -malloc_limit_mb fails the run; libFuzzer writes the input to
# fuzz/artifacts/TARGET/, and `fuzz/run.sh TARGET fuzz/artifacts/TARGET/crash-...` replays it.
# SANITIZER=none|address overrides the choice.
#
# Inputs found along the way accumulate in fuzz/corpus/TARGET (not committed); the seeds in
# fuzz/seeds/ (committed) are read, never written.
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1

# Slowest first, so that two at a time finish together.
TARGETS=(server client challenge credentials authentication_info round_trip proxy_env)
LIMITS=(-timeout=10 -malloc_limit_mb=512 -rss_limit_mb=2048 -print_final_stats=1)

# The seed directories of a target.
seeds() {
    case $1 in
        round_trip) echo seeds/challenge seeds/credentials seeds/authentication_info ;;
        *) echo "seeds/$1" ;;
    esac
}

REQUESTED_SANITIZER=${SANITIZER:-}
SANITIZER=${SANITIZER:-address}
build() {
    if ! cargo fuzz build -O -a -s "$SANITIZER"; then
        echo "WARNING: the $SANITIZER sanitizer build failed; building without a sanitizer"
        SANITIZER=none
        cargo fuzz build -O -a -s none
    fi
    echo "sanitizer: $SANITIZER"
}

run() {
    local target=$1
    shift
    if [ -f "${1:-}" ]; then
        # Replay inputs (a crash artifact, a seed): nothing else.
        cargo fuzz run -O -a -s "$SANITIZER" "$target" "$@" -- "${LIMITS[@]}"
        return
    fi
    mkdir -p "corpus/$target"
    # shellcheck disable=SC2046
    cargo fuzz run -O -a -s "$SANITIZER" "$target" "corpus/$target" $(seeds "$target") -- \
        "${LIMITS[@]}" "$@"
}

# `stat::name: value` from a libFuzzer log.
fuzzer_stat() {
    sed -n "s/^stat::$2: *//p" "$1" | tail -n 1
}

# The last status line's coverage: "cov: N ft: M corp: K".
coverage() {
    grep -E '^#[0-9]+' "$1" | tail -n 1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' || true
}

smoke() {
    local seconds=${1:-20} failed=0
    build
    mkdir -p logs
    for target in "${TARGETS[@]}"; do
        echo "=== fuzz $target (${seconds}s, sanitizer $SANITIZER)"
        if run "$target" -max_total_time="$seconds" >"logs/$target.log" 2>&1; then
            echo "ok: $(fuzzer_stat "logs/$target.log" number_of_executed_units) executions," \
                "$(fuzzer_stat "logs/$target.log" average_exec_per_sec)/s, $(coverage "logs/$target.log")"
        else
            failed=1
            echo "FAILED: $target"
            tail -n 60 "logs/$target.log"
        fi
    done
    return "$failed"
}

campaign() {
    local runs=$1
    shift
    local targets=("$@")
    [ ${#targets[@]} -gt 0 ] || targets=("${TARGETS[@]}")
    SANITIZER=${REQUESTED_SANITIZER:-none}
    build
    export SANITIZER
    local commit
    commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ../digest-core || echo '+changes')"
    mkdir -p logs
    local failed=0
    printf '%s\n' "${targets[@]}" | xargs -P 2 -I{} bash -c '
        rm -f logs/campaign-{}.time
        echo "'"$commit"'" >logs/campaign-{}.commit
        t0=$SECONDS
        if "$0" {} -runs='"$runs"' >logs/campaign-{}.log 2>&1; then
            echo "$((SECONDS - t0))" >logs/campaign-{}.time
            echo "done: {}"
        else
            echo "FAILED: {} (see fuzz/logs/campaign-{}.log)"
            exit 1
        fi' "$0" || failed=1
    report "$runs"
    return "$failed"
}

# CAMPAIGN.md from the campaign logs of every target (fuzz/logs/campaign-TARGET.*).
report() {
    local runs=$1
    {
        echo "# Fuzzing campaign"
        echo
        echo "Written by \`fuzz/run.sh campaign $runs\` from its logs; do not edit by hand."
        echo
        echo "- date: $(date -u +%Y-%m-%d)"
        echo "- toolchain: $(rustc --version), cargo-fuzz $(cargo fuzz --version | awk '{print $2}')"
        echo "- build: \`cargo fuzz build -O -a -s ${REQUESTED_SANITIZER:-none}\` (optimized, debug assertions and overflow checks on)"
        echo "- machine: $(nproc) cores, two targets at a time"
        echo "- libFuzzer options: ${LIMITS[*]} -runs=$runs"
        echo
        echo "| target | commit | executions | time | executions/s | coverage at the end | peak RSS | result |"
        echo "|---|---|---:|---:|---:|---|---:|---|"
        local target log result
        for target in "${TARGETS[@]}"; do
            log=logs/campaign-$target.log
            [ -f "$log" ] || continue
            if [ -f "logs/campaign-$target.time" ]; then
                result="no crash"
            else
                result="FAILED: $(grep -m 1 -oE 'panicked at [^ ]+|ERROR: libFuzzer: [a-z -]+' "$log" || echo 'see log')"
            fi
            echo "| \`$target\` | $(cat "logs/campaign-$target.commit" 2>/dev/null || echo '?')" \
                "| $(fuzzer_stat "$log" number_of_executed_units) | $(cat "logs/campaign-$target.time" 2>/dev/null || echo '-')s" \
                "| $(fuzzer_stat "$log" average_exec_per_sec) | $(coverage "$log") | $(fuzzer_stat "$log" peak_rss_mb) MB | $result |"
        done
    } >CAMPAIGN.md
    cat CAMPAIGN.md
}

case ${1:-} in
    smoke) smoke "${2:-20}" ;;
    campaign)
        shift
        campaign "${1:-10000000}" "${@:2}"
        ;;
    report) report "${2:-10000000}" ;;
    "" | -h | --help) sed -n '2,21p' "$0" ;;
    *)
        target=$1
        shift
        run "$target" "$@"
        ;;
esac
