//! The 2D tests, one `#[test]` each: see `tests::suites::raft_2d`.

use tests::suites::raft_2d;

/// Snapshots with no faults: the log stays small and every server keeps up.
#[test]
fn snapshot_basic_2d() {
    tests::run(raft_2d::snapshot_basic);
}

/// A disconnected server catches up through InstallSnapshot.
#[test]
fn snapshot_install_2d() {
    tests::run(raft_2d::snapshot_install);
}

/// A disconnected server catches up through InstallSnapshot on an unreliable network.
#[test]
fn snapshot_install_unreliable_2d() {
    tests::run(raft_2d::snapshot_install_unreliable);
}

/// A crashed server restarts from its snapshot and catches up.
#[test]
fn snapshot_install_crash_2d() {
    tests::run(raft_2d::snapshot_install_crash);
}

/// A crashed server restarts from its snapshot and catches up on an unreliable network.
#[test]
fn snapshot_install_uncrash_2d() {
    tests::run(raft_2d::snapshot_install_uncrash);
}

/// All servers crash and restart from their snapshots plus log tails; no index is lost.
#[test]
fn snapshot_all_crash_2d() {
    tests::run(raft_2d::snapshot_all_crash);
}

/// A server restarted from a snapshot keeps it: later persists must not drop the restored
/// snapshot, so a second crash and restart still works.
#[test]
fn snapshot_init_2d() {
    tests::run(raft_2d::snapshot_init);
}
