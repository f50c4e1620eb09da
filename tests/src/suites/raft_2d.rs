//! Lab 2D: log compaction (Raft paper §7): snapshots, InstallSnapshot, and restarting
//! from a snapshot plus the tail of the log.
//!
//! Each test is registered, with a one-line description, in `suites/mod.rs`.

use crate::raft_harness::{
    Applier, COURSE_MAX_LOG_ENTRIES, Config, MAX_LOG_SIZE, SNAPSHOT_INTERVAL,
};
use rand::RngExt;

/// A random command value, as the course's `rand.Int()`.
fn random_command() -> u64 {
    labrpc::rng().random_range(0..1u64 << 63)
}

/// The course's `snapcommon`: 30 rounds on three servers with the snapshot applier. Each
/// round a victim (a follower, or every third round the leader) is disconnected and/or
/// crashed, enough commands go through to cause snapshots, the log must stay small, and
/// then the victim comes back and must catch up (possibly through InstallSnapshot).
async fn snap_common(name: &str, disconnect: bool, reliable: bool, crash: bool) {
    let iters = 30;
    let servers = 3;
    let cfg = Config::new(servers, !reliable, Applier::Snapshot);
    cfg.begin(name);

    cfg.one(random_command(), servers, true).await;
    let mut leader1 = cfg.check_one_leader().await;

    for i in 0..iters {
        let (sender, victim) = if i % 3 == 1 {
            ((leader1 + 1) % servers, leader1)
        } else {
            (leader1, (leader1 + 1) % servers)
        };

        if disconnect {
            cfg.disconnect(victim);
            cfg.one(random_command(), servers - 1, true).await;
        }
        if crash {
            cfg.crash1(victim);
            cfg.one(random_command(), servers - 1, true).await;
        }

        // Perhaps enough commands to cause a snapshot.
        let nn = SNAPSHOT_INTERVAL / 2 + labrpc::rng().random_range(0..SNAPSHOT_INTERVAL);
        for _ in 0..nn {
            cfg.start(sender, random_command());
        }

        // Let the appliers catch up with the starts. Without faults, wait for all three,
        // so that snapshot_basic never needs InstallSnapshot.
        if !disconnect && !crash {
            cfg.one(random_command(), servers, true).await;
        } else {
            cfg.one(random_command(), servers - 1, true).await;
        }

        let log_size = cfg.max_log_size();
        if log_size >= MAX_LOG_SIZE {
            panic!(
                "Log size too large: a server saved {log_size} bytes of Raft state, over the \
                 bound of {MAX_LOG_SIZE} (about {COURSE_MAX_LOG_ENTRIES} entries). Does \
                 snapshot() trim the log, and persist the trimmed state?"
            );
        }
        if disconnect {
            // The victim may be far behind, and need a snapshot to catch up.
            cfg.connect(victim);
            cfg.one(random_command(), servers, true).await;
            leader1 = cfg.check_one_leader().await;
        }
        if crash {
            cfg.start1(victim);
            cfg.connect(victim);
            cfg.one(random_command(), servers, true).await;
            leader1 = cfg.check_one_leader().await;
        }
    }
    cfg.end();
}

pub(crate) async fn snapshot_basic_2d() {
    snap_common("Test (2D): snapshots basic", false, true, false).await;
}

pub(crate) async fn snapshot_install_2d() {
    snap_common(
        "Test (2D): install snapshots (disconnect)",
        true,
        true,
        false,
    )
    .await;
}

pub(crate) async fn snapshot_install_unreliable_2d() {
    snap_common(
        "Test (2D): install snapshots (disconnect+unreliable)",
        true,
        false,
        false,
    )
    .await;
}

pub(crate) async fn snapshot_install_crash_2d() {
    snap_common("Test (2D): install snapshots (crash)", false, true, true).await;
}

pub(crate) async fn snapshot_install_uncrash_2d() {
    snap_common(
        "Test (2D): install snapshots (unreliable+crash)",
        false,
        false,
        true,
    )
    .await;
}

pub(crate) async fn snapshot_all_crash_2d() {
    let servers = 3;
    let iters = 5;
    let cfg = Config::new(servers, false, Applier::Snapshot);
    cfg.begin("Test (2D): crash and restart all servers");

    cfg.one(random_command(), servers, true).await;

    for _ in 0..iters {
        // Perhaps enough to cause a snapshot.
        let nn = SNAPSHOT_INTERVAL / 2 + labrpc::rng().random_range(0..SNAPSHOT_INTERVAL);
        for _ in 0..nn {
            cfg.one(random_command(), servers, true).await;
        }

        let index1 = cfg.one(random_command(), servers, true).await;

        // Crash all, then revive all.
        for i in 0..servers {
            cfg.crash1(i);
        }
        for i in 0..servers {
            cfg.start1(i);
            cfg.connect(i);
        }

        let index2 = cfg.one(random_command(), servers, true).await;
        if index2 < index1 + 1 {
            panic!("index decreased from {index1} to {index2}");
        }
    }
    cfg.end();
}

/// A server restarted from a snapshot keeps it: later persists must not drop the restored
/// snapshot, so a second crash and restart still works.
pub(crate) async fn snapshot_init_2d() {
    let servers = 3;
    let cfg = Config::new(servers, false, Applier::Snapshot);
    cfg.begin("Test (2D): snapshot initialization after crash");

    cfg.one(random_command(), servers, true).await;

    // Enough commands to make a snapshot.
    for _ in 0..SNAPSHOT_INTERVAL + 1 {
        cfg.one(random_command(), servers, true).await;
    }

    // Crash all, then revive all.
    for i in 0..servers {
        cfg.crash1(i);
    }
    for i in 0..servers {
        cfg.start1(i);
        cfg.connect(i);
    }

    // One command, so that something is written back to persistent storage.
    cfg.one(random_command(), servers, true).await;

    // Crash all, then revive all again.
    for i in 0..servers {
        cfg.crash1(i);
    }
    for i in 0..servers {
        cfg.start1(i);
        cfg.connect(i);
    }

    // Another command, to trip over a snapshot lost by the first restart.
    cfg.one(random_command(), servers, true).await;

    cfg.end();
}
