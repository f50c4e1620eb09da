//! 3C: the key/value service on the Raft of parts 2E and 2F (beyond the course): Gets
//! served by ReadIndex without writing the log (dissertation §6.4), and a cluster that adds,
//! removes and replaces servers while clients run (§4.1–4.3). The handout is
//! `docs/lab-extensions.md`.
//!
//! Every server runs `KvServer::with_options(.., Options::ALL)`: the leader's no-op, which
//! ReadIndex needs, Pre-Vote and CheckQuorum. Each test's rustdoc says how it fails when its
//! rule is broken. Each test is registered, with a one-line description, in the
//! `catalogue` crate.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use raft::{Options, Raft};
use rand::RngExt;

use crate::kv_harness::fail;
use crate::kv_harness::generic::Generic;
use crate::kv_harness::kv::KvConfig;
use crate::kv_harness::{ELECTION_TIMEOUT, MAXRAFTSTATE};

/// How much the largest saved Raft state may grow while the clients make
/// [`READS`] Gets and nothing else: far less than a byte a Get. A Get through the log
/// adds an entry of at least a few bytes (its key, its kind, its term) to every server's
/// saved log.
const READ_ONLY_GROWTH: usize = 100;

/// Gets in [`reads_do_not_grow_the_log_3c`]: five clients, a hundred each.
const READS: usize = 500;

/// **Reads by ReadIndex do not write the log (dissertation §6.4).**
///
/// Three servers, no snapshots. One client puts five keys; then five clients make 100
/// Gets each, every one checked against the value put. Over those 500 Gets, the largest
/// saved Raft state may grow by at most 100 bytes; the history must be linearizable.
///
/// With Gets through the log (the 3A way), the saved state grows by several bytes per Get,
/// thousands in all: the test fails.
pub(crate) async fn reads_do_not_grow_the_log_3c() {
    let cfg = KvConfig::with_spares(3, false, None, Options::ALL, &[]);
    cfg.begin("Test: Gets by ReadIndex do not grow the log (3C)");
    let all = cfg.cluster().all();
    let mut ck = cfg.make_client(&all, Some(0));
    let keys = 5;
    for k in 0..keys {
        ck.put(&k.to_string(), &format!("value {k}")).await;
    }
    // Let the followers store the last put and the commit index reach every server.
    labrpc::sleep(ELECTION_TIMEOUT).await;
    let before = cfg.cluster().log_size();
    let clients = 5;
    let mut readers = Vec::new();
    for cli in 1..=clients {
        let cfg = cfg.clone();
        let all = all.clone();
        readers.push(labrpc::spawn(async move {
            let mut ck = cfg.make_client(&all, Some(cli));
            for _ in 0..READS / clients {
                let k = labrpc::rng().random_range(0..keys);
                let got = ck.get(&k.to_string()).await;
                if got != format!("value {k}") {
                    fail!(
                        "Get({k}) returned {got:?}, but the only Put of key {k} wrote \"value {k}\""
                    );
                }
            }
        }));
    }
    for reader in readers {
        reader.await.expect("every reader finishes");
    }
    let after = cfg.cluster().log_size();
    if after > before + READ_ONLY_GROWTH {
        fail!(
            "{READS} Gets and no write made the largest saved Raft state grow from {before} to \
             {after} bytes (more than {READ_ONLY_GROWTH}): a Get served by ReadIndex appends \
             nothing to the log (dissertation §6.4); the leader only confirms with a round of \
             heartbeats that it still leads"
        );
    }
    cfg.history().check_linearizable();
    cfg.end();
}

/// **A deposed leader never answers a read with stale data (dissertation §6.4: the
/// leader confirms it still leads after the read came).**
///
/// Five servers. Three rounds: the leader is cut off from the four others, which elect a
/// new leader and commit a Put of a new value; a clerk that reaches only the old leader
/// then asks it for the key. For 2 s that Get must not complete (the old leader cannot
/// confirm its leadership, and CheckQuorum makes it step down); then the partition heals
/// and a Get returns the new value.
///
/// With reads served from the leader's state without confirming leadership (or by a
/// leader that trusts a lease it does not have), the old leader answers with the old value
/// at once: the test fails.
pub(crate) async fn deposed_leader_serves_no_stale_read_3c() {
    let cfg = KvConfig::with_spares(5, false, None, Options::ALL, &[]);
    cfg.begin("Test: a deposed leader answers no Get with stale data (3C)");
    let all = cfg.cluster().all();
    let mut ck = cfg.make_client(&all, None);
    ck.put("k", "value 0").await;
    for round in 1..=3 {
        let leader = wait_for_leader(&cfg).await;
        let others: Vec<usize> = all.iter().copied().filter(|&i| i != leader).collect();
        cfg.cluster().partition(&[leader], &others);
        let new_value = format!("value {round}");
        let mut majority = cfg.make_client(&others, None);
        majority.put("k", &new_value).await;
        let mut cut_off = cfg.make_client(&[leader], None);
        if let Ok(got) = labrpc::timeout(Duration::from_secs(2), cut_off.get("k")).await {
            fail!(
                "S{leader}, cut off from the four other servers, answered Get(\"k\") with {got:?} \
                 after the majority had put {new_value:?}: a leader serves a read only once a \
                 majority has answered a heartbeat sent after the read came, which a deposed \
                 leader cannot get (dissertation §6.4)"
            );
        }
        cfg.cluster().connect_all();
        ck.check("k", &new_value).await;
    }
    cfg.end();
}

/// **Reads stay linearizable under partitions on an unreliable network.**
///
/// `GenericTest`'s three rounds on five servers, with Gets by ReadIndex: five clients on
/// random keys (Gets, Appends and Puts), an unreliable network, the servers split at
/// random every second. The history must be linearizable.
///
/// A leader that answers reads without confirming its leadership serves stale values from
/// the minority side, which the checker finds.
pub(crate) async fn reads_under_partitions_linearizable_3c() {
    Generic {
        clients: 5,
        unreliable: true,
        partitions: true,
        random_keys: true,
        options: Options::ALL,
        ..Generic::new("3C")
    }
    .run()
    .await;
}

/// **Reads stay linearizable across restarts and snapshots.**
///
/// As [`reads_under_partitions_linearizable_3c`], with snapshots on and every server
/// restarted after each round: a restarted leader knows its commit index only after its
/// no-op commits, and must not serve a read before.
///
/// A ReadIndex taken before an entry of the leader's term has committed can miss writes
/// an earlier leader committed, which the checker finds.
pub(crate) async fn reads_with_restarts_and_snapshots_linearizable_3c() {
    Generic {
        clients: 5,
        unreliable: true,
        partitions: true,
        crash: true,
        snapshots: true,
        random_keys: true,
        options: Options::ALL,
        ..Generic::new("3C")
    }
    .run()
    .await;
}

/// **A key/value cluster changes its members while clients run (dissertation §4.1–4.3).**
///
/// Seven servers with snapshots, two of them spares (fresh machines, removed from the
/// initial configuration first). Five clients on random keys run for the whole test while
/// the tester makes ten changes, one every 0.5–1 s: it removes a member (while more than
/// three remain), adds a server that is not one (a spare, or a removed server with what it
/// had stored), or replaces one with another (a removal, then an addition). Each change
/// is asked of the leader until accepted, and must be in force on every member within 5 s.
/// The history must be linearizable.
///
/// With changes refused (the skeleton), the first removal never happens and the test
/// fails; with the service's Raft counting the wrong servers, the checker or the monitors
/// catch the lost writes.
pub(crate) async fn membership_changes_while_clients_run_3c() {
    let servers = 7;
    let spares = [5, 6];
    let cfg = KvConfig::with_spares(servers, false, Some(MAXRAFTSTATE), Options::ALL, &spares);
    cfg.begin("Test: servers added, removed and replaced while clients run (3C)");
    let mut members: Vec<usize> = (0..servers).collect();
    let mut connected: Vec<usize> = (0..servers).filter(|i| !spares.contains(i)).collect();
    for spare in spares {
        members.retain(|&i| i != spare);
        change(&cfg, &members, &connected, |raft| raft.remove_server(spare)).await;
    }
    let done = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..5)
        .map(|cli| labrpc::spawn(random_client(cfg.clone(), cli, done.clone())))
        .collect();
    for _ in 0..10 {
        let ms = labrpc::rng().random_range(500..1000);
        labrpc::sleep(Duration::from_millis(ms)).await;
        let outsiders: Vec<usize> = (0..servers).filter(|i| !members.contains(i)).collect();
        let remove = members.len() > 3 && (outsiders.is_empty() || labrpc::rng().random_bool(0.4));
        let replace = !remove && members.len() > 3 && labrpc::rng().random_bool(0.5);
        if remove || replace {
            let out = members[labrpc::rng().random_range(0..members.len())];
            members.retain(|&i| i != out);
            change(&cfg, &members, &connected, |raft| raft.remove_server(out)).await;
        }
        if !remove {
            let outsiders: Vec<usize> = (0..servers).filter(|i| !members.contains(i)).collect();
            let new = outsiders[labrpc::rng().random_range(0..outsiders.len())];
            if !connected.contains(&new) {
                cfg.cluster().connect(new, &connected);
                connected.push(new);
            }
            members.push(new);
            members.sort_unstable();
            change(&cfg, &members, &connected, |raft| raft.add_server(new)).await;
        }
    }
    done.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.expect("every client finishes");
    }
    cfg.history().check_linearizable();
    cfg.end();
}

/// Waits (at most 10 s) until some server leads.
async fn wait_for_leader(cfg: &KvConfig) -> usize {
    let deadline = labrpc::now() + Duration::from_secs(10);
    loop {
        if let Some(leader) = cfg.cluster().leader() {
            return leader;
        }
        if labrpc::now() >= deadline {
            fail!("no server led for 10 s");
        }
        labrpc::sleep(Duration::from_millis(50)).await;
    }
}

/// Asks the leader for a configuration change (`ask`) until it accepts (within 10 s: a
/// previous change may still be committing, or leadership changing hands), then waits
/// until every member of `config` among the `connected` servers uses it (within 5 s).
async fn change(
    cfg: &KvConfig,
    config: &[usize],
    connected: &[usize],
    ask: impl Fn(&Raft) -> bool,
) {
    let deadline = labrpc::now() + Duration::from_secs(10);
    loop {
        let leader = wait_for_leader(cfg).await;
        if cfg.cluster().on_server(leader, |s| ask(s.raft())) == Some(true) {
            break;
        }
        if labrpc::now() >= deadline {
            fail!(
                "for 10 s the leader refused the change to {config:?}: a leader accepts a \
                 change once its previous one is committed and an entry of its term is \
                 (dissertation §4.1)"
            );
        }
        labrpc::sleep(Duration::from_millis(50)).await;
    }
    let deadline = labrpc::now() + Duration::from_secs(5);
    loop {
        let using: Vec<(usize, Vec<usize>)> = config
            .iter()
            .filter(|i| connected.contains(i))
            .filter_map(|&i| cfg.cluster().on_server(i, |s| (i, s.raft().members())))
            .collect();
        if using.iter().all(|(_, members)| members == config) {
            return;
        }
        if labrpc::now() >= deadline {
            fail!(
                "5 s after the leader accepted the change to {config:?}, not every member uses \
                 it: {using:?}"
            );
        }
        labrpc::sleep(Duration::from_millis(50)).await;
    }
}

/// A client on random keys: Gets, Appends and Puts until told to stop.
async fn random_client(cfg: KvConfig, cli: usize, done: Arc<AtomicBool>) {
    let all = cfg.cluster().all();
    let mut ck = cfg.make_client(&all, Some(cli));
    let mut written = 0;
    while !done.load(Ordering::SeqCst) {
        let key = labrpc::rng().random_range(0..5).to_string();
        let value = format!("x {cli} {written} y");
        match labrpc::rng().random_range(0..10) {
            0..4 => ck.append(&key, &value).await,
            4 => ck.put(&key, &value).await,
            _ => {
                ck.get(&key).await;
            }
        }
        written += 1;
    }
}
