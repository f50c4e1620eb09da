//! The 2A tests, one `#[test]` each: see `tests::suites::raft_2a`.

use tests::suites::raft_2a;

/// A leader is elected with no failures, and stays leader while nothing fails.
#[test]
fn initial_election_2a() {
    tests::run(raft_2a::initial_election);
}

/// A new leader is elected when the old one is cut off; no leader without a majority.
#[test]
fn re_election_2a() {
    tests::run(raft_2a::re_election);
}

/// Seven servers; nine rounds of cutting off three at random: a leader each time.
#[test]
fn many_elections_2a() {
    tests::run(raft_2a::many_elections);
}
