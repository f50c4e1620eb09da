//! 3X: the key/value service beyond the course. Faults at the worst moments for a
//! replicated service, and a bound on how long a clerk waits behind a deposed leader.
//!
//! The course's Lab 3 tests never deliver a clerk's request twice, never crash a server
//! right after it replied, restart servers only between rounds, and give a clerk stuck on
//! a deposed leader as long as it likes. Each test here aims at one property those leave
//! unchecked; each one's rustdoc names it. Like 2X, these are added beside the parity
//! tests, never in them: a KV service that passes 3A and 3B can fail here, and such a
//! failure is a real bug.
//!
//! Each test is registered, with a one-line description, in the `catalogue` crate.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use labrpc::Instant;
use parking_lot::Mutex;
use rand::RngExt;

use crate::kv_harness::generic::{Generic, WorstMoments, check_client_appends, wrong_value};
use crate::kv_harness::kv::KvConfig;
use crate::kv_harness::{ELECTION_TIMEOUT, MAXRAFTSTATE};

/// `GenericTest`'s rounds with five clients on their own keys and snapshots on, and the
/// faults of `worst`.
fn generic(unreliable: bool, worst: WorstMoments) -> Generic {
    Generic {
        clients: 5,
        unreliable,
        snapshots: true,
        worst,
        ..Generic::new("3X")
    }
}

/// **A request takes effect at most once, however late a copy of it arrives
/// (at-most-once semantics; the duplicate table is monotone per client).**
///
/// Five clients append to and read their own keys on five servers with snapshots, while
/// three in ten clerk requests reach their server a second time, 10 ms to 2 s later: by
/// then the clerk has usually had its answer and sent later requests. A server must
/// recognise the copy as a request it has already carried out (or one older than the
/// last it carried out for that clerk), and not apply it again. A duplicate table that
/// only compares with the last request's number for equality, or that a snapshot or a
/// restart resets, applies the copy: an append shows up twice, or a client's own Get sees
/// a value it did not write last.
pub(crate) async fn stale_requests_take_effect_once_3x() {
    generic(
        false,
        WorstMoments {
            stale_requests: true,
            ..WorstMoments::default()
        },
    )
    .run()
    .await;
}

/// **A reply means the operation is done and durable (reply only after the operation is
/// committed and applied; a server restored from its persister keeps what it told clerks,
/// and its duplicate table).**
///
/// Five clients on an unreliable network, five servers with snapshots. Two in a hundred
/// replies to clerks crash their server the instant they leave (the reply still goes); the
/// tester restarts it from its persister within half a second. A server that answered
/// before its operation was committed loses it in the crash although the clerk was told
/// it succeeded; one that restores its state without the duplicate table, or from a
/// snapshot older than what it applied, applies a retried request twice.
pub(crate) async fn replies_survive_crash_after_reply_3x() {
    generic(
        true,
        WorstMoments {
            crash_after_reply: true,
            ..WorstMoments::default()
        },
    )
    .run()
    .await;
}

/// **A retried request is recognised across a snapshot and a restart (the duplicate
/// table is part of the replicated state: in the snapshot, restored with it).**
///
/// Five clients on an unreliable network (a tenth of the replies are lost, so clerks
/// retry requests the servers already carried out), five servers with snapshots, and all
/// servers shut down and restarted every 0.7–1 s while the clients run. A request whose
/// reply was lost just before a restart is retried at a server restored from a snapshot
/// that already holds its effect: the snapshot's duplicate table must say so, or the
/// request is applied twice.
pub(crate) async fn retries_straddle_snapshot_and_restart_3x() {
    generic(
        true,
        WorstMoments {
            restarts_in_rounds: true,
            ..WorstMoments::default()
        },
    )
    .run()
    .await;
}

/// How soon after a new leader is elected every clerk operation pending on the deposed
/// leader must have completed (virtual time).
///
/// Once the partition heals (at once, here), the deposed leader hears the new term
/// within a heartbeat interval (from the new leader, or in the replies to its own
/// heartbeats); its service must then fail the operations waiting on it (their entries
/// will never commit: Raft says the term changed, or applies another entry at their
/// index), and their clerks find the new leader within a round of the servers. That is a
/// few heartbeat intervals, some 300 ms with the usual 100 ms heartbeats; the bound is the
/// KV tests' election timeout, the time the course gives a whole election.
const PENDING_OPERATIONS_BOUND: Duration = ELECTION_TIMEOUT;

/// **A deposed leader's clerks move on promptly (a server fails the operations waiting on
/// it once it loses its term; clerks retry elsewhere).**
///
/// Five servers, five clients on their own keys. Ten times, the leader is cut off from the
/// other servers, but not from the clerks: they keep sending it requests, which it takes
/// (it cannot know it lost its majority) and cannot commit. As soon as the others have
/// elected a new leader, the partition heals; every clerk operation pending at that
/// moment must complete within [`PENDING_OPERATIONS_BOUND`]. An rsm that never wakes the
/// callers of a deposed leader (waiting only for their own index, or for a timeout longer
/// than the bound), a server that does not step down on a newer term, or a clerk that
/// gives up on a server only after a long pause, keeps them waiting.
pub(crate) async fn deposed_leader_releases_clerks_3x() {
    const CLIENTS: usize = 5;
    const ROUNDS: usize = 10;
    let cfg = KvConfig::new(5, false, Some(MAXRAFTSTATE));
    cfg.begin("Test: a deposed leader's clerks move on promptly (3X)");
    let all = cfg.cluster().all();

    let done = Arc::new(AtomicBool::new(false));
    let clients: Vec<Arc<Pending>> = (0..CLIENTS).map(|_| Arc::default()).collect();
    let tasks: Vec<_> = clients
        .iter()
        .enumerate()
        .map(|(cli, pending)| {
            labrpc::spawn(client(cfg.clone(), cli, pending.clone(), done.clone()))
        })
        .collect();
    // Let the clients find the leader.
    labrpc::sleep(Duration::from_secs(1)).await;

    for _ in 0..ROUNDS {
        let Some(old) = cfg.cluster().leader() else {
            fail(format!(
                "no server believes it leads, {:?} after the partition healed",
                ELECTION_TIMEOUT
            ));
        };
        let old_term = cfg
            .cluster()
            .on_server(old, |s| s.raft().state().0)
            .expect("the leader runs");
        let others: Vec<usize> = all.iter().copied().filter(|&i| i != old).collect();
        cfg.cluster().partition(&others, &[old]);
        let elected = new_leader_among(&cfg, &others, old_term).await;
        cfg.cluster().connect_all();
        let healed = labrpc::now();
        let waiting: Vec<(usize, u64, Instant)> = clients
            .iter()
            .enumerate()
            .filter_map(|(cli, p)| p.since().map(|(n, since)| (cli, n, since)))
            .collect();
        labrpc::sleep(PENDING_OPERATIONS_BOUND).await;
        for &(cli, n, since) in &waiting {
            if clients[cli].still(n) {
                fail(format!(
                    "client {cli}'s operation, sent at {since}, had not completed {:?} after \
                     S{elected} was elected in place of S{old} (cut off from the other \
                     servers, not from the clerks, then reconnected at once at {healed}): a \
                     server that loses its term must fail the operations waiting on it (Raft \
                     reports a newer term, or applies another entry at their index), so that \
                     their clerks retry at the new leader",
                    PENDING_OPERATIONS_BOUND
                ));
            }
        }
        let pause = labrpc::rng().random_range(0..500);
        labrpc::sleep(Duration::from_millis(pause)).await;
    }

    done.store(true, Ordering::SeqCst);
    let mut ck = cfg.make_client(&all, None);
    for (cli, task) in tasks.into_iter().enumerate() {
        let appended = task.await.expect("every client finishes");
        let value = ck.get(&cli.to_string()).await;
        check_client_appends(cli, &value, appended);
    }
    cfg.history().check_linearizable();
    cfg.end();
}

/// Waits until a server of `among` leads a term after `old_term`; returns it. Fails the
/// test after five seconds (the course's limit for a new leader).
async fn new_leader_among(cfg: &KvConfig, among: &[usize], old_term: u64) -> usize {
    let deadline = labrpc::now() + Duration::from_secs(5);
    while labrpc::now() < deadline {
        for &i in among {
            let state = cfg.cluster().on_server(i, |s| s.raft().state());
            if let Some((term, true)) = state
                && term > old_term
            {
                return i;
            }
        }
        labrpc::sleep(Duration::from_millis(10)).await;
    }
    fail(format!(
        "servers {among:?} elected no leader within 5 s of being cut off from the leader of \
         term {old_term}"
    ))
}

/// One client's operation in flight: how many it has completed, and since when the next
/// one waits.
#[derive(Default)]
struct Pending {
    completed: AtomicU64,
    since: Mutex<Option<Instant>>,
}

impl Pending {
    /// The operation in flight now, by its number, and when it was sent.
    fn since(&self) -> Option<(u64, Instant)> {
        let since = (*self.since.lock())?;
        Some((self.completed.load(Ordering::SeqCst), since))
    }

    /// Whether operation `n` is still in flight.
    fn still(&self, n: u64) -> bool {
        self.since.lock().is_some() && self.completed.load(Ordering::SeqCst) == n
    }
}

/// A client of `deposed_leader_releases_clerks_3x`: appends to and reads its own key until
/// told to stop, checking every Get; returns how many values it appended.
async fn client(cfg: KvConfig, cli: usize, pending: Arc<Pending>, done: Arc<AtomicBool>) -> usize {
    let all = cfg.cluster().all();
    let mut ck = cfg.make_client(&all, Some(cli));
    let key = cli.to_string();
    let mut last = String::new();
    let mut appended = 0;
    ck.put(&key, &last).await;
    while !done.load(Ordering::SeqCst) {
        *pending.since.lock() = Some(labrpc::now());
        if labrpc::rng().random_range(0..1000) < 500 {
            let value = format!("x {cli} {appended} y");
            ck.append(&key, &value).await;
            last.push_str(&value);
            appended += 1;
        } else {
            let got = ck.get(&key).await;
            if got != last {
                fail(wrong_value(&key, &last, &got));
            }
        }
        *pending.since.lock() = None;
        pending.completed.fetch_add(1, Ordering::SeqCst);
    }
    appended
}

/// Fails the test with `message`, logged first under the target `tester`.
fn fail(message: String) -> ! {
    crate::events::failed(message.as_str());
    panic!("{message}")
}
