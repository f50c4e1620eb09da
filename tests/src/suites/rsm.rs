//! The rsm layer's tests (the 2025 course's `kvraft1/rsm`): a counter replicated through
//! the student's `Rsm`, on the student's Raft (or the reference's).
//!
//! Each test is registered, with a one-line description, in the `catalogue` crate.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::future::join_all;

use crate::kv_harness::counter::{CounterOp, NSEC, NSRV, RsmTest};

/// How long submits pending on a killed server may take to return.
const PROMPTLY: Duration = Duration::from_secs(1);

pub(crate) async fn basic_rsm() {
    const NINC: i64 = 10;
    let ts = RsmTest::new(None);
    ts.begin("Test RSM basic");
    for i in 0..NINC {
        let n = ts.one_inc().await;
        if n != i + 1 {
            fail_with(format!("expected {} instead of {n}", i + 1));
        }
        ts.check_counter(n, NSRV).await;
    }
    ts.end();
}

pub(crate) async fn concurrent_rsm() {
    const NINC: i64 = 50;
    let ts = RsmTest::new(None);
    ts.begin("Test concurrent submit");
    let incs = (0..NINC).map(|_| {
        let ts = ts.clone();
        labrpc::spawn(async move { ts.one_inc().await })
    });
    for inc in join_all(incs).await {
        inc.expect("the increments finish");
    }
    ts.check_counter(NINC, NSRV).await;
    ts.end();
}

pub(crate) async fn leader_failure_rsm() {
    let ts = RsmTest::new(None);
    ts.begin("Test Leader Failure");
    let n = ts.one_inc().await;
    ts.check_counter(n, NSRV).await;

    let leader = ts.disconnect_leader();
    let n = ts.one_inc().await;
    ts.check_counter(n, NSRV - 1).await;

    ts.connect(leader);
    ts.check_counter(n, NSRV).await;
    ts.end();
}

pub(crate) async fn leader_partition_rsm() {
    const NSUBMIT: usize = 100;
    let ts = RsmTest::new(None);
    ts.begin("Test Leader Partition");

    let n = ts.one_inc().await;
    ts.check_counter(n, NSRV).await;

    // Cut the leader off alone.
    let leader = ts.cluster().leader().unwrap_or(0);
    let p1: Vec<usize> = (0..NSRV).filter(|&i| i != leader).collect();
    ts.partition(&p1, &[leader]);

    // Many Decs on the old leader: Raft takes them all, none may commit.
    let decs: Vec<_> = (0..NSUBMIT)
        .map(|i| {
            let ts = ts.clone();
            labrpc::spawn(async move {
                if let Some(Ok(value)) = ts.submit(leader, CounterOp::Dec).await {
                    fail_with(format!(
                        "Submit {i} in minority completed (counter {value}): S{leader} was cut \
                         off from the majority, so nothing it was given may commit"
                    ));
                }
            })
        })
        .collect();
    let mut decs = Box::pin(join_all(decs));

    // Give the old leader some time to submit.
    labrpc::sleep(Duration::from_millis(10)).await;

    let Some(n) = ts.one_partition(Some(&p1), CounterOp::Inc).await else {
        fail_with(format!(
            "the majority {p1:?} did not commit an Inc within {NSEC:?}"
        ));
    };

    if labrpc::timeout(Duration::from_secs(1), decs.as_mut())
        .await
        .is_ok()
    {
        fail_with(
            "Dec's in minority completed: every Submit on the cut-off leader returned within \
             1 s, while it still believed it led (it cannot know it lost its term)"
                .to_owned(),
        );
    }

    // Reconnect the leader: with three servers that heals every partition.
    ts.cluster().connect_all();

    if labrpc::timeout(Duration::from_secs(1), decs.as_mut())
        .await
        .is_err()
    {
        fail_with(format!(
            "Submit after healing didn't return: S{leader} is no longer the leader, but its \
             pending submits still wait after 1 s"
        ));
    }

    ts.check_counter(n, NSRV).await;
    ts.end();
}

pub(crate) async fn restart_replay_rsm() {
    let ts = RsmTest::new(None);
    ts.begin("Test Restart");
    let n = increments_then_restart(&ts).await;
    ts.check_counter(n, NSRV).await;
    ts.end();
}

pub(crate) async fn shutdown_rsm() {
    const NSUBMIT: usize = 100;
    let ts = RsmTest::new(None);
    ts.begin("Test Shutdown");
    submits_return_after_kill(&ts, NSUBMIT).await;
    ts.end();
}

pub(crate) async fn restart_submit_rsm() {
    const NSUBMIT: usize = 100;
    let ts = RsmTest::new(None);
    ts.begin("Test Restart and submit");
    increments_then_restart(&ts).await;

    submits_return_after_kill(&ts, NSUBMIT).await;

    ts.start_all();
    let n = ts.one_inc().await;
    ts.check_counter(n, NSRV).await;
    ts.end();
}

/// The `maxraftstate` of `snapshot_rsm`: the course's 1000 bytes of gob, rescaled to this
/// encoding so that a server snapshots after as many increments as in the course.
///
/// A course rsm log entry (an `Op` with the submitter, an id and the `Inc` request, in a
/// `LogEntry` with its term) takes about 44 bytes of gob, so 1000 bytes hold some 20 of
/// them; the reference's entry takes 3 bytes here, and 64 bytes hold about as many. With
/// 1000 bytes, 100 increments (307 bytes) would never make a snapshot, and the test would
/// pass an rsm that cannot take or restore one (`docs/fault-model.md`, difference 25).
const SNAPSHOT_RSM_MAXRAFTSTATE: usize = 64;

pub(crate) async fn snapshot_rsm() {
    const N: i64 = 100;
    const MAXRAFTSTATE: usize = SNAPSHOT_RSM_MAXRAFTSTATE;
    let ts = RsmTest::new(Some(MAXRAFTSTATE));
    ts.begin("Test creating and restoring snapshot");
    for _ in 0..N {
        ts.one_inc().await;
    }
    ts.check_counter(N, NSRV).await;

    let size = ts.cluster().log_size();
    if size > 2 * MAXRAFTSTATE {
        fail_with(format!(
            "logs were not trimmed ({size} > 2 * {MAXRAFTSTATE})"
        ));
    }

    // The rsm must have made snapshots by now (beyond the course, which assumes it did):
    // every server applied all 100 increments, far past maxraftstate.
    let with_snapshot = ts.cluster().servers_with_snapshot();
    if let Some(i) = (0..NSRV).find(|i| !with_snapshot.contains(i)) {
        fail_with(format!(
            "S{i} has saved no snapshot after {N} increments, with maxraftstate = \
             {MAXRAFTSTATE}: the rsm must call Raft::snapshot(index, machine.snapshot()) once \
             the Raft state its persister holds reaches maxraftstate bytes"
        ));
    }

    // Restart every server from its snapshot.
    ts.shutdown_all();
    ts.start_all();
    ts.one_inc().await;
    // Beyond the course: each restarted rsm restored its counter from its snapshot (the
    // check below would fail too, as the log no longer holds the first increments, but
    // this says why).
    let not_restored = ts.servers_not_restored();
    if !not_restored.is_empty() {
        fail_with(format!(
            "servers {not_restored:?} restarted with a snapshot in their persister, but their \
             rsm never restored the state machine from it (StateMachine::restore): Rsm::new \
             must restore the latest snapshot (persister.read_snapshot()) before applying \
             anything"
        ));
    }
    ts.check_counter(N + 1, NSRV).await;
    ts.end();
}

/// The start of `TestRestartReplay4A` and `TestRestartSubmit4A`: 100 increments one by
/// one, each checked on every server; every server shut down and restarted a second
/// later; then one more increment, which must see all 100 replayed. Returns its count,
/// a second after it.
async fn increments_then_restart(ts: &RsmTest) -> i64 {
    const NINC: i64 = 100;
    for i in 0..NINC {
        let n = ts.one_inc().await;
        if n != i + 1 {
            fail_with(format!("expected {} instead of {n}", i + 1));
        }
        ts.check_counter(n, NSRV).await;
    }

    ts.shutdown_all();
    labrpc::sleep(Duration::from_secs(1)).await;
    ts.start_all();

    let n = ts.one_inc().await;
    if n != NINC + 1 {
        fail_with(format!(
            "expected {} got {n}: a restarted server must replay its log",
            NINC + 1
        ));
    }
    labrpc::sleep(Duration::from_secs(1)).await;
    n
}

/// Submits `count` Nulls at once to the leader, kills every server while they wait (keeping
/// the nodes, so a submit that ignores the kill is still there to be seen), and fails
/// unless they all return within [`PROMPTLY`]. Then shuts every server down.
///
/// The course's version waits for `oneNull`s that retry for [`NSEC`] and kills the servers
/// 20 ms after submitting, by which time the submits may all have returned (here they
/// would have: an operation commits in about 4 ms). So the leader is cut off from the
/// others first: its submits cannot commit, and are certainly pending when it is killed.
/// Only the kill may end them, so a submit that would wait forever is caught, even though
/// the simulation could simply drop it with its node.
async fn submits_return_after_kill(ts: &RsmTest, count: usize) {
    // A Null first, so that there is a leader to submit to (`oneNull` finds it).
    if ts.one_partition(None, CounterOp::Null).await.is_none() {
        fail_with(format!(
            "one: took too long: no server returned OK for a Null within {NSEC:?}"
        ));
    }
    let leader = ts.disconnect_leader();
    let succeeded = Arc::new(AtomicUsize::new(0));
    let nulls: Vec<_> = (0..count)
        .map(|_| {
            let ts = ts.clone();
            let succeeded = succeeded.clone();
            labrpc::spawn(async move {
                if let Some(Ok(_)) = ts.submit(leader, CounterOp::Null).await {
                    succeeded.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    // Give some time to submit.
    labrpc::sleep(Duration::from_millis(20)).await;
    let early = succeeded.load(Ordering::SeqCst);
    if early > 0 {
        fail_with(format!(
            "{early} submits on S{leader} returned OK although S{leader} was cut off from \
             the majority: nothing it was given can commit"
        ));
    }

    ts.kill_all_keeping_nodes();
    let finished = labrpc::timeout(PROMPTLY, join_all(nulls)).await;
    if finished.is_err() {
        fail_with(format!(
            "Submit didn't stop after shutdown: {count} submits were pending on S{leader} when \
             every server was killed, and some still wait {PROMPTLY:?} later (kill() must make \
             pending submits return SubmitError::Shutdown)"
        ));
    }
    ts.shutdown_all();
}

/// Fails the test, logging the message under the target `tester` first.
fn fail_with(message: String) -> ! {
    tracing::info!(target: "tester", "FAILED: {message}");
    panic!("{message}")
}
