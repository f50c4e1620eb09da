//! The 2C tests, one `#[test]` each: see `tests::suites::raft_2c`.

use tests::suites::raft_2c;

/// Agreement survives restarting every server, then the leader, then a follower.
#[test]
fn persist1_2c() {
    tests::run(raft_2c::persist1);
}

/// Five servers, five rounds of partitioning and restarting minorities and majorities.
#[test]
fn persist2_2c() {
    tests::run(raft_2c::persist2);
}

/// A partitioned leader and one follower crash; the leader restarts and must not lose
/// what the majority committed.
#[test]
fn persist3_2c() {
    tests::run(raft_2c::persist3);
}

/// The scenarios of the Raft paper's Figure 8: leaders crash, usually soon after taking a
/// command, and new leaders must not commit entries of older terms by counting replicas.
#[test]
fn figure8_2c() {
    tests::run(raft_2c::figure8);
}

/// Many concurrent agreements on an unreliable network, then all servers agree.
#[test]
fn unreliable_agree_2c() {
    tests::run(raft_2c::unreliable_agree);
}

/// Figure 8 on an unreliable network with long reordering: leaders are cut off rather
/// than crashed, and old messages arrive late.
#[test]
fn figure8_unreliable_2c() {
    tests::run(raft_2c::figure8_unreliable);
}

/// Churn on a reliable network.
#[test]
fn reliable_churn_2c() {
    tests::run(raft_2c::reliable_churn);
}

/// Churn on an unreliable network.
#[test]
fn unreliable_churn_2c() {
    tests::run(raft_2c::unreliable_churn);
}
