#!/usr/bin/env bash
# Runs the test suites against broken ("mutant") copies of the reference, to see which tests
# catch each bug and at which seed. See tests/mutants/README.md.
#
#   bash tests/mutants/run.sh                     # every tests/mutants/*.patch
#   bash tests/mutants/run.sh tests/mutants/kv-reply-before-apply.patch
#
# Environment (all optional):
#   MUTANT_SEEDS=20        seeds per test (LAB_RUNS); each test stops at its first failing seed
#   MUTANT_FIRST_SEED=1    the first seed (LAB_SEED)
#   MUTANT_SUITES="..."    the test targets to run for every patch (default: by the patch's
#                          prefix, kv-* -> "rsm kv_3a kv_3b kv_3x", raft-* -> "raft_2a .. raft_2x",
#                          ext-* -> "raft_2e", mem-* -> "raft_2f", read-* -> "kv_3c",
#                          shard-* -> "shardctrler_4a shardkv_4b shardkv_4c shardkv_4x")
#   MUTANT_TARGET_DIR=dir  where to build and keep logs (default: target/mutants)
#   MUTANT_JOBS=n          tests run at once (default: the number of CPUs)
#   MUTANT_TIMEOUT=600     wall-clock seconds per test, a last resort (the simulation's own
#                          watchdog and virtual time limits should end a stuck test first)
#
# Prints a Markdown table: mutant | tests that catch it (first failing seed) | tests that
# don't. Exits non-zero if some mutant is caught by no test (or does not apply or build).

set -euo pipefail

repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
seeds=${MUTANT_SEEDS:-20}
first_seed=${MUTANT_FIRST_SEED:-1}
target_dir=${MUTANT_TARGET_DIR:-$repo/target/mutants}
jobs=${MUTANT_JOBS:-$(nproc)}
per_test_timeout=${MUTANT_TIMEOUT:-600}

if (($# > 0)); then
    patches=("$@")
else
    patches=("$repo"/tests/mutants/*.patch)
fi
# Absolute paths: the work below happens in other directories.
for i in "${!patches[@]}"; do
    patches[i]=$(realpath "${patches[i]}")
done

mkdir -p "$target_dir"
target_dir=$(realpath "$target_dir")
# The mutated tree is built in one fixed place, not in a fresh directory each time: cargo
# keys its artifacts by the package's path, so a new path per mutant would rebuild every
# crate of the workspace and pile up artifacts. Only the files that differ from the last
# build are rewritten (see sync_tree), so each mutant rebuilds just what its patch touches.
build_tree=$target_dir/tree
logs=$target_dir/logs
export CARGO_TARGET_DIR=$target_dir/cargo

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT

# The suites a patch is run against, by its name's prefix (or MUTANT_SUITES).
suites_for() {
    local name=$1
    if [[ -n ${MUTANT_SUITES:-} ]]; then
        echo "$MUTANT_SUITES"
        return
    fi
    case $name in
    kv-*) echo "rsm kv_3a kv_3b kv_3x" ;;
    raft-*) echo "raft_2a raft_2b raft_2c raft_2d raft_2x" ;;
    ext-*) echo "raft_2e" ;;
    mem-*) echo "raft_2f" ;;
    read-*) echo "kv_3c" ;;
    shard-*) echo "shardctrler_4a shardkv_4b shardkv_4c shardkv_4x" ;;
    *)
        echo "run.sh: no default suites for $name (name it kv-*, raft-*, ext-*, mem-*, read-* or shard-*, or set MUTANT_SUITES)" >&2
        return 1
        ;;
    esac
}

# Makes directory $2 hold exactly the files of $1, rewriting only the files whose content
# differs. Cargo decides what to rebuild by modification times: copying every file would
# rebuild everything, and restoring a file with an old time (as tar does) could leave a
# stale build of a file the previous mutant had patched.
sync_tree() {
    local from=$1 to=$2 f
    mkdir -p "$to"
    while IFS= read -r -d '' f; do
        if ! cmp -s "$from/$f" "$to/$f"; then
            mkdir -p "$(dirname "$to/$f")"
            cp "$from/$f" "$to/$f"
        fi
    done < <(cd "$from" && find . -type f -print0)
    while IFS= read -r -d '' f; do
        [[ -e $from/$f ]] || rm -f "$to/$f"
    done < <(cd "$to" && find . -type f -print0)
}

# Runs one test of one binary over the seeds; writes "<status> <detail>" to $out.result,
# where status is caught or missed, and for a caught mutant the failure's first line on
# the next line. Without LAB_KEEP_GOING the test stops at its first failing seed, and
# labrpc prints "labrpc: failed with seed N".
run_test() {
    local bin=$1 test=$2 out=$3 code=0
    # Whatever LAB_* variables the caller has set must not change the runs.
    env -u LAB_KEEP_GOING -u LAB_CHECK_DETERMINISM -u LAB_SWARM -u LAB_RESULTS -u LAB_LOG \
        LAB_RUNS="$seeds" LAB_SEED="$first_seed" \
        timeout "$per_test_timeout" "$bin" --exact "$test" --nocapture --test-threads 1 \
        >"$out.log" 2>&1 || code=$?
    local seed
    seed=$(sed -n 's/^labrpc: failed with seed \([0-9]*\)$/\1/p' "$out.log" | head -n 1)
    if ((code == 0)); then
        echo "missed" >"$out.result"
    elif ((code == 124)); then
        echo "caught timeout after ${per_test_timeout}s" >"$out.result"
    elif [[ -n $seed ]]; then
        echo "caught seed $seed" >"$out.result"
    else
        # A crash that took the whole process (abort, stack overflow): the log says more.
        echo "caught exit $code" >"$out.result"
    fi
    if ((code != 0)); then
        # The panic message's first line follows "thread '...' panicked at file:line:".
        grep -m 1 -A 1 ' panicked at ' "$out.log" | sed -n 2p | cut -c 1-100 >>"$out.result" || true
    fi
}

rows=()
reasons=()
uncaught=()
start=$SECONDS
for patch in "${patches[@]}"; do
    name=$(basename "$patch" .patch)
    suites=$(suites_for "$name")
    echo "== $name ($suites)" >&2

    # A fresh copy of the committed tree (never the working tree), with the patch applied.
    rm -rf "$staging/src"
    mkdir -p "$staging/src"
    git -C "$repo" archive HEAD | tar -x -C "$staging/src"
    # (git apply skips the patch's leading comment lines.)
    if ! git -C "$staging/src" apply "$patch" >&2; then
        rows+=("| $name | (the patch does not apply) | |")
        uncaught+=("$name")
        continue
    fi
    sync_tree "$staging/src" "$build_tree"

    # Build once; the test binaries' paths come from cargo's JSON messages.
    if ! json=$(cd "$build_tree" && cargo test --release -p tests --features reference \
        --no-run --message-format=json 2>"$staging/build.log"); then
        cat "$staging/build.log" >&2
        rows+=("| $name | (does not build) | |")
        uncaught+=("$name")
        continue
    fi
    executables=$(grep '"kind":\["test"\]' <<<"$json" |
        grep -o '"executable":"[^"]*"' | sed 's/^"executable":"\(.*\)"$/\1/')

    # Every test of every suite, run in a pool of $jobs at once.
    rm -rf "${logs:?}/$name"
    mkdir -p "$logs/$name"
    tests=()
    for suite in $suites; do
        bin=$(grep "/${suite}-[0-9a-f]*$" <<<"$executables" || true)
        if [[ -z $bin ]]; then
            echo "run.sh: no test target named $suite" >&2
            exit 2
        fi
        while IFS= read -r test; do
            tests+=("$test")
            while (($(jobs -rp | wc -l) >= jobs)); do
                wait -n || true
            done
            run_test "$bin" "$test" "$logs/$name/$test" &
        done < <("$bin" --list --format terse | sed -n 's/: test$//p')
    done
    wait

    caught=()
    missed=()
    for test in "${tests[@]}"; do
        {
            read -r status detail
            read -r reason || true
        } <"$logs/$name/$test.result"
        if [[ $status == caught ]]; then
            caught+=("$test ($detail)")
            reasons+=("- $name, $test ($detail): ${reason:-(no message)}")
        else
            missed+=("$test")
        fi
    done
    if ((${#caught[@]} == 0)); then
        uncaught+=("$name")
    fi
    caught_cell=$(IFS=,; echo "${caught[*]:-**none**}" | sed 's/,/, /g')
    missed_cell=$(IFS=,; echo "${missed[*]:-}" | sed 's/,/, /g')
    rows+=("| $name | $caught_cell | $missed_cell |")
    echo "   ${#caught[@]} of ${#tests[@]} tests catch it ($((SECONDS - start)) s so far)" >&2
done

echo
echo "Seeds $first_seed..=$((first_seed + seeds - 1)) of each test; logs in $logs."
echo
echo "| mutant | tests that catch it (first failing seed) | tests that don't |"
echo "| --- | --- | --- |"
printf '%s\n' "${rows[@]}"
echo
echo "First line of each catching test's failure:"
echo
printf '%s\n' "${reasons[@]}"
echo
echo "Total time: $((SECONDS - start)) s."

if ((${#uncaught[@]} > 0)); then
    echo "Caught by no test (or not applied or built): ${uncaught[*]}" >&2
    exit 1
fi
