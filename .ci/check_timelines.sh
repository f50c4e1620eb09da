#!/usr/bin/env bash
# The timeline pages, checked in a real headless Chromium (installed by install_chromium.sh):
#
# 1. a known failing run: the reference with a planted bug (votes granted without the
#    up-to-date check, tests/mutants/raft-vote-without-log-check.patch), test persist2_2c,
#    seed 1, which crashes and restarts servers and then loses a committed entry;
# 2. a passing KV run drawn with LAB_VIS=always: 7 servers, restarts, partitions, 15 clients.
#
# Each page must load without a console error, with one lane per server, crash shading and
# marks (and, for the KV run, client rows with operations). The screenshots and pages are
# kept in target/ci-artifacts/timeline/. Needs the reference tests built (cargo test
# --workspace --features tests/reference) for a quick second part.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
out=$repo/target/ci-artifacts/timeline
rm -rf "$out"
mkdir -p "$out"
bash .ci/install_chromium.sh

echo "== a failing run's timeline: the reference with raft-vote-without-log-check, persist2_2c seed 1"
# A copy of the tree with the bug planted, outside the repository (inside, `git apply`
# would skip it), built in a target directory of its own: in a shared one, the planted
# bug's build would pass for the real tree's (cargo does not key them apart).
tree=${TMPDIR:-/tmp}/lab-ci-mutant-tree
rm -rf "$tree"
mkdir -p "$tree"
git ls-files -z --cached --others --exclude-standard | xargs -0 tar -cf - | tar -xf - -C "$tree"
(cd "$tree" && git apply tests/mutants/raft-vote-without-log-check.patch)
status=0
output=$(cd "$tree" && env -u LAB_RUNS -u LAB_VIS CARGO_TARGET_DIR="$repo/target/ci-mutant" LAB_SEED=1 LAB_VIS_DIR="$out" \
    cargo test -q -p tests --features reference --test raft_2c -- --exact persist2_2c 2>&1) || status=$?
page=$out/persist2_2c-seed1.html
if [ "$status" -eq 0 ]; then
    echo "$output" | tail -n 20
    echo "FAILED: the planted bug was not caught by persist2_2c seed 1"
    exit 1
fi
grep -q "timeline: $page" <<<"$output" || {
    echo "$output" | tail -n 20
    echo "FAILED: the failure message does not name the timeline $page"
    exit 1
}
python3 .ci/check_page.py "$page" --screenshot "$out/failing-mutant.png" \
    --expect 'g.lane==5' --expect 'g.lane rect.crash>=1' --expect 'g.lane rect.term>=5' \
    --expect 'g.lane .mark>=5' --expect 'g.tester>=1'
rm -rf "$tree"

echo "== a passing KV run's timeline (LAB_VIS=always): persist_partition_unreliable_linearizable_3a seed 1"
env -u LAB_RUNS LAB_SEED=1 LAB_VIS=always LAB_VIS_DIR="$out" \
    cargo test -q -p tests --features reference --test kv_3a -- --exact \
    persist_partition_unreliable_linearizable_3a >/dev/null
python3 .ci/check_page.py "$out/persist_partition_unreliable_linearizable_3a-seed1.html" \
    --screenshot "$out/passing-kv.png" \
    --expect 'g.lane==7' --expect 'g.lane rect.crash>=1' --expect 'g.client>=10' \
    --expect 'rect.op>=100' --expect 'g.lane .mark>=10'
echo "ok: pages and screenshots in $out"
