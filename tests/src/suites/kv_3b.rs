//! Lab 3B: the key/value service with snapshots (`maxraftstate` = 1000 bytes).
//!
//! Each test is registered, with a one-line description, in the `catalogue` crate.

use crate::kv_harness::generic::{Generic, speed_test};
use crate::kv_harness::kv::KvConfig;
use crate::kv_harness::{ELECTION_TIMEOUT, MAXRAFTSTATE};

/// How big a snapshot may be in `snapshot_size_3b`: generous for one key and one client.
///
/// The course's 500 bytes of gob are about 9 times such a store's snapshot there (56 bytes:
/// the map of one key, and one client's entry in the duplicate table); the reference's is
/// 21 bytes here, so the same margin is 190 bytes (`docs/fault-model.md`, difference 25).
const MAX_SNAPSHOT_STATE: usize = 190;

/// `GenericTest` with the course's arguments for 3B (always with snapshots).
const fn generic(clients: usize, unreliable: bool, crash: bool, partitions: bool) -> Generic {
    Generic {
        clients,
        unreliable,
        crash,
        partitions,
        snapshots: true,
        ..Generic::new("3B")
    }
}

/// Fails unless every server's saved Raft state is at most 8 × `maxraftstate`.
fn check_log_trimmed(cfg: &KvConfig) {
    let size = cfg.cluster().log_size();
    if size > 8 * MAXRAFTSTATE {
        fail(format!("logs were not trimmed ({size} > 8*{MAXRAFTSTATE})"));
    }
}

/// Fails the test with `message`, logged first under the target `tester`.
fn fail(message: String) -> ! {
    crate::events::failed(message.as_str());
    panic!("{message}")
}

pub(crate) async fn snapshot_rpc_3b() {
    let cfg = KvConfig::new(3, false, Some(MAXRAFTSTATE));
    let all = cfg.cluster().all();
    let mut ck = cfg.make_client(&all, None);
    cfg.begin("Test: InstallSnapshot RPC (3B)");

    ck.put("a", "A").await;
    ck.check("a", "A").await;

    // A bunch of puts into the majority partition.
    cfg.cluster().partition(&[0, 1], &[2]);
    {
        let mut ck1 = cfg.make_client(&[0, 1], None);
        for i in 0..50 {
            ck1.put(&i.to_string(), &i.to_string()).await;
        }
        labrpc::sleep(ELECTION_TIMEOUT).await;
        ck1.put("b", "B").await;
    }

    // The majority must have thrown away most of its log.
    check_log_trimmed(&cfg);
    // ... into snapshots, so that the lagging server can only catch up from one (beyond
    // the course, which checks only the size).
    let with_snapshot = cfg.cluster().servers_with_snapshot();
    for i in [0, 1] {
        if !with_snapshot.contains(&i) {
            fail(format!(
                "S{i} has saved no snapshot after 51 Puts, with maxraftstate = {MAXRAFTSTATE}: \
                 the service must call Raft::snapshot once its persister's Raft state reaches \
                 maxraftstate bytes (the largest is {} bytes)",
                cfg.cluster().log_size()
            ));
        }
    }

    // A group that needs the lagging server, so that it has to catch up.
    cfg.cluster().partition(&[0, 2], &[1]);
    {
        let mut ck1 = cfg.make_client(&[0, 2], None);
        ck1.put("c", "C").await;
        ck1.put("d", "D").await;
        ck1.check("a", "A").await;
        ck1.check("b", "B").await;
        ck1.check("1", "1").await;
        ck1.check("49", "49").await;
    }
    // S2 caught up from S0's snapshot: it holds one now.
    if !cfg.cluster().servers_with_snapshot().contains(&2) {
        fail(
            "S2 answered for keys it missed while cut off, yet has saved no snapshot: the \
             leader had discarded those entries, so it must send its snapshot \
             (InstallSnapshot), and S2's Raft must save it"
                .to_owned(),
        );
    }

    // Now everybody.
    cfg.cluster().partition(&[0, 1, 2], &[]);

    ck.put("e", "E").await;
    ck.check("c", "C").await;
    ck.check("e", "E").await;
    ck.check("1", "1").await;

    cfg.end();
}

pub(crate) async fn snapshot_size_3b() {
    let cfg = KvConfig::new(3, false, Some(MAXRAFTSTATE));
    let all = cfg.cluster().all();
    let mut ck = cfg.make_client(&all, None);
    cfg.begin("Test: snapshot size is reasonable (3B)");

    for _ in 0..200 {
        ck.put("x", "0").await;
        ck.check("x", "0").await;
        ck.put("x", "1").await;
        ck.check("x", "1").await;
    }

    // The servers must have thrown away most of their logs.
    check_log_trimmed(&cfg);
    cfg.cluster().require_a_snapshot("800 operations");

    // And their snapshots must not be unreasonably large.
    let size = cfg.cluster().snapshot_size();
    if size > MAX_SNAPSHOT_STATE {
        fail(format!(
            "snapshot too large ({size} > {MAX_SNAPSHOT_STATE})"
        ));
    }

    cfg.end();
}

pub(crate) async fn speed_3b() {
    speed_test("3B", Some(MAXRAFTSTATE)).await;
}

pub(crate) async fn snapshot_recover_3b() {
    generic(1, false, true, false).run().await;
}

pub(crate) async fn snapshot_recover_many_clients_3b() {
    generic(20, false, true, false).run().await;
}

pub(crate) async fn snapshot_unreliable_3b() {
    generic(5, true, false, false).run().await;
}

pub(crate) async fn snapshot_unreliable_recover_3b() {
    generic(5, true, true, false).run().await;
}

pub(crate) async fn snapshot_unreliable_recover_concurrent_partition_3b() {
    generic(5, true, true, true).run().await;
}

pub(crate) async fn snapshot_unreliable_recover_concurrent_partition_linearizable_3b() {
    Generic {
        servers: 7,
        random_keys: true,
        ..generic(15, true, true, true)
    }
    .run()
    .await;
}
