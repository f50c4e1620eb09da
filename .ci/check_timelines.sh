#!/usr/bin/env bash
# The timeline pages, checked in a real headless Chromium (installed by install_chromium.sh):
#
# 1. a passing KV run drawn with LAB_VIS=always: 7 servers, restarts, partitions, 15 clients;
#    and a passing Lab 4 run (join_leave_4b): twelve lanes, the groups' shard strips;
# 2. the linearizability checker's page for a failing KV history (an example of that crate),
#    which must open on the operation that cannot be placed;
# 3. a known failing run: the reference with a planted bug (votes granted without the
#    up-to-date check, tests/mutants/raft-vote-without-log-check.patch), test persist2_2c,
#    seed 1, which crashes and restarts servers and then loses a committed entry.
#
# Each page must load without a console error, with one lane per server, crash shading and
# marks (and, for the KV run, client rows with operations). The pages and screenshots are
# kept in target/ci-artifacts/timeline/.
#
# The bug is planted in this tree for the second check and taken out again on exit, however
# the script ends (a copy elsewhere would rebuild every dependency: cargo shares a target
# directory between two copies of a workspace only by mistake). So the script refuses to
# run if the file it patches has changes of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
out=$repo/target/ci-artifacts/timeline
rm -rf "$out"
mkdir -p "$out"
bash .ci/install_chromium.sh

# Every build here takes the README's test command's packages and features (`--workspace
# --features tests/reference`), so that cargo reuses what it built.
echo "== a passing KV run's timeline (LAB_VIS=always): persist_partition_unreliable_linearizable_3a seed 1"
env -u LAB_RUNS LAB_SEED=1 LAB_VIS=always LAB_VIS_DIR="$out" \
    cargo test -q --workspace --features tests/reference --test kv_3a -- --exact \
    persist_partition_unreliable_linearizable_3a >/dev/null
python3 .ci/check_page.py "$out/persist_partition_unreliable_linearizable_3a-seed1.html" \
    --screenshot "$out/passing-kv.png" \
    --expect 'g.lane==7' --expect 'g.lane rect.crash>=1' --expect 'g.client>=10' \
    --expect 'rect.op>=100' --expect 'g.lane .mark>=10'

echo "== a passing Lab 4 run's timeline (LAB_VIS=always): join_leave_4b seed 1"
# Twelve lanes (three controller servers, three groups of three); every group server's lane
# has its shard strip, some of it amber (shards waiting for their data).
env -u LAB_RUNS LAB_SEED=1 LAB_VIS=always LAB_VIS_DIR="$out" \
    cargo test -q --workspace --features tests/reference --test shardkv_4b -- --exact join_leave_4b >/dev/null
python3 .ci/check_page.py "$out/join_leave_4b-seed1.html" --screenshot "$out/passing-shardkv.png" \
    --expect 'g.lane==12' --expect 'rect.shards>=20' --expect 'rect.shards.waiting>=1' \
    --expect 'g.lane .mark>=10'

echo "== the linearizability checker's page for a failing KV history (15 clients, a lost append)"
# The example as the README's test command builds it (`cargo test --workspace` builds the
# examples, with the workspace's features; fresh here in CI): `cargo run -p linearizability`
# would compile its dependencies again with that package's features alone.
cargo test -q --workspace --features tests/reference --no-run 2>/dev/null
"${CARGO_TARGET_DIR:-$repo/target}/debug/examples/failing_kv_page" "$out/checker-failing-kv.html"
# The first view must show the red box (the page scrolls to it and says whether it is in
# view), the state it met and where its value departs from it (two highlighted windows).
python3 .ci/check_page.py "$out/checker-failing-kv.html" --screenshot "$out/checker-failing-kv.png" \
    --expect '.op.illegal==1' --expect 'body[data-blocked-in-view="1"]==1' \
    --expect '.lane==15' --expect '#explain code .off==2' --expect '.op.linearized>=10'

echo "== a failing run's timeline: the reference with raft-vote-without-log-check, persist2_2c seed 1"
patch=tests/mutants/raft-vote-without-log-check.patch
patched=raft/src/reference/election.rs
git diff --quiet -- "$patched" || {
    echo "FAILED: $patched has uncommitted changes; commit or stash them first"
    exit 1
}
git apply "$patch"
trap 'git apply -R "$patch" && echo "(the planted bug is taken out again)"' EXIT
status=0
output=$(env -u LAB_RUNS -u LAB_VIS LAB_SEED=1 LAB_VIS_DIR="$out" \
    cargo test -q --workspace --features tests/reference --test raft_2c -- --exact persist2_2c 2>&1) || status=$?
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
    --expect 'g.lane .mark>=5' --expect 'g.lane rect.mark.fail>=1' --expect 'g.tester>=1'
echo "ok: pages and screenshots in $out"
