//! The 2B tests, one `#[test]` each: see `tests::suites::raft_2b`.

use tests::suites::raft_2b;

/// Three commands agreed on in order, none committed before it was started.
#[test]
fn basic_agree_2b() {
    tests::run(raft_2b::basic_agree);
}

/// Each command is sent to each peer just once, judging by the bytes on the wire.
#[test]
fn rpc_bytes_2b() {
    tests::run(raft_2b::rpc_bytes);
}

/// Followers fail one by one: agreement continues with a majority, and stops without.
#[test]
fn follower_failure_2b() {
    tests::run(raft_2b::follower_failure);
}

/// Leaders fail one by one: a new leader takes over, until no majority is left.
#[test]
fn leader_failure_2b() {
    tests::run(raft_2b::leader_failure);
}

/// Agreement goes on while one follower is disconnected; it catches up when it returns.
#[test]
fn fail_agree_2b() {
    tests::run(raft_2b::fail_agree);
}

/// With three of five followers gone, nothing commits; after repair, agreement resumes.
#[test]
fn fail_no_agree_2b() {
    tests::run(raft_2b::fail_no_agree);
}

/// Five Start()s issued concurrently in one term all commit.
#[test]
fn concurrent_starts_2b() {
    tests::run(raft_2b::concurrent_starts);
}

/// A partitioned leader's uncommitted entries are replaced when it rejoins.
#[test]
fn rejoin_2b() {
    tests::run(raft_2b::rejoin);
}

/// A leader backs up quickly over long runs of conflicting follower entries.
#[test]
fn backup_2b() {
    tests::run(raft_2b::backup);
}

/// Elections and agreement use few RPCs, and an idle leader sends few heartbeats.
#[test]
fn count_2b() {
    tests::run(raft_2b::count);
}
