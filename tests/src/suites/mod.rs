//! The test suites, as plain async functions, and their registry.
//!
//! Each test is registered once, below; the registry (see [`crate::registry`](mod@crate::registry)) makes the
//! catalogue [`RAFT`] and the `#[test]` functions in `tests/tests/` from it.
//!
//! # Points
//!
//! Lab 2 is worth 100 points. Every test of a part is worth the same, in whole points, and
//! the parts come out about equal, since the course hands each part out as an assignment of
//! its own: 2A 3 × 6 = 18, 2B 10 × 3 = 30, 2C 8 × 3 = 24, 2D 7 × 4 = 28.

pub mod raft_2a;
pub mod raft_2b;
pub mod raft_2c;
pub mod raft_2d;

use crate::registry::TestCase;

crate::registry! {
    /// Every Raft test, in the course's order.
    pub const RAFT;

    /// 2A: leader election.
    part raft_2a "2A", 6 points each {
        initial_election_2a "TestInitialElection2A"
            "A leader is elected with no failures, and stays leader while nothing fails.";
        re_election_2a "TestReElection2A"
            "A new leader is elected when the old one is cut off; no leader without a majority.";
        many_elections_2a "TestManyElections2A"
            "Seven servers; nine rounds of cutting off three at random: a leader each time.";
    }

    /// 2B: log replication.
    part raft_2b "2B", 3 points each {
        basic_agree_2b "TestBasicAgree2B"
            "Three commands agreed on in order, none committed before it was started.";
        rpc_bytes_2b "TestRPCBytes2B"
            "Each command is sent to each peer just once, judging by the bytes on the wire.";
        follower_failure_2b "TestFollowerFailure2B"
            "Followers fail one by one: agreement continues with a majority, and stops without.";
        leader_failure_2b "TestLeaderFailure2B"
            "Leaders fail one by one: a new leader takes over, until no majority is left.";
        fail_agree_2b "TestFailAgree2B"
            "Agreement goes on while one follower is disconnected; it catches up when it returns.";
        fail_no_agree_2b "TestFailNoAgree2B"
            "With three of five followers gone, nothing commits; after repair, agreement resumes.";
        concurrent_starts_2b "TestConcurrentStarts2B"
            "Five Start()s issued concurrently in one term all commit.";
        rejoin_2b "TestRejoin2B"
            "A partitioned leader's uncommitted entries are replaced when it rejoins.";
        backup_2b "TestBackup2B"
            "A leader backs up quickly over long runs of conflicting follower entries.";
        count_2b "TestCount2B"
            "Elections and agreement use few RPCs, and an idle leader sends few heartbeats.";
    }

    /// 2C: persistence.
    part raft_2c "2C", 3 points each {
        persist1_2c "TestPersist12C"
            "Agreement survives restarting every server, then the leader, then a follower.";
        persist2_2c "TestPersist22C"
            "Five servers, five rounds of partitioning and restarting minorities and majorities.";
        persist3_2c "TestPersist32C"
            "A partitioned leader and a follower crash; the leader restarts and loses nothing committed.";
        figure8_2c "TestFigure82C"
            "Figure 8 of the paper: leaders crash soon after taking commands; no old-term entry commits by counting replicas.";
        unreliable_agree_2c "TestUnreliableAgree2C"
            "Many concurrent agreements on an unreliable network, then all servers agree.";
        figure8_unreliable_2c "TestFigure8Unreliable2C"
            "Figure 8 on an unreliable network with long reordering: leaders cut off, old messages arriving late.";
        reliable_churn_2c "TestReliableChurn2C"
            "Servers disconnect, crash and restart at random while clients start commands; every commit survives.";
        unreliable_churn_2c "TestUnreliableChurn2C"
            "Churn as in reliable_churn_2c, on an unreliable network.";
    }

    /// 2D: log compaction.
    part raft_2d "2D", 4 points each {
        snapshot_basic_2d "TestSnapshotBasic2D"
            "Snapshots with no faults: the log stays small and every server keeps up.";
        snapshot_install_2d "TestSnapshotInstall2D"
            "A disconnected server catches up through InstallSnapshot.";
        snapshot_install_unreliable_2d "TestSnapshotInstallUnreliable2D"
            "A disconnected server catches up through InstallSnapshot on an unreliable network.";
        snapshot_install_crash_2d "TestSnapshotInstallCrash2D"
            "A crashed server restarts from its snapshot and catches up.";
        snapshot_install_uncrash_2d "TestSnapshotInstallUnCrash2D"
            "A crashed server restarts from its snapshot and catches up on an unreliable network.";
        snapshot_all_crash_2d "TestSnapshotAllCrash2D"
            "All servers crash and restart from their snapshots plus log tails; no index is lost.";
        snapshot_init_2d "TestSnapshotInit2D"
            "A server restarted from a snapshot persists it again, so a second restart still finds it.";
    }
}

/// Every registered test of every suite.
pub fn all() -> impl Iterator<Item = &'static TestCase> {
    RAFT.iter()
}

/// The registered test named `name` (e.g. `"initial_election_2a"`).
///
/// # Panics
///
/// If no test has that name.
pub fn case(name: &str) -> &'static TestCase {
    all()
        .find(|case| case.name == name)
        .unwrap_or_else(|| panic!("no registered test is named {name:?}"))
}
