//! Lab 2C: persistence (Raft paper §5.4, Figure 8), and agreement under crashes, restarts
//! and an unreliable network.
//!
//! Each test is registered, with a one-line description, in `suites/mod.rs`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::raft_harness::{Applier, Config, ELECTION_TIMEOUT};
use rand::RngExt;

/// A random command value, as the course's `rand.Int()`.
fn random_command() -> u64 {
    labrpc::rng().random_range(0..1u64 << 63)
}

/// Whether an event with probability `per_mille`/1000 happens (`rand.Int() % 1000 < p`).
/// The course's rate, except under `LAB_SWARM=1`, where each call site's rate is drawn
/// for the run (see `labrpc::tester::fault_rate`).
#[track_caller]
fn chance(per_mille: u64) -> bool {
    let rate = labrpc::tester::fault_rate(per_mille);
    labrpc::rng().random_range(0..1000) < rate
}

/// The pause between Figure 8 rounds: usually under 13 ms, but with probability 10% up to
/// half an election timeout.
async fn figure8_pause() {
    let ms = if chance(100) {
        labrpc::rng().random_range(0..ELECTION_TIMEOUT.as_millis() as u64 / 2)
    } else {
        labrpc::rng().random_range(0..13)
    };
    labrpc::sleep(Duration::from_millis(ms)).await;
}

pub(crate) async fn persist1_2c() {
    let servers = 3;
    let cfg = Config::new(servers, false, Applier::Plain);
    cfg.begin("Test (2C): basic persistence");

    cfg.one(11, servers, true).await;

    // Crash and restart all.
    for i in 0..servers {
        cfg.start1(i);
    }
    for i in 0..servers {
        cfg.disconnect(i);
        cfg.connect(i);
    }

    cfg.one(12, servers, true).await;

    let leader1 = cfg.check_one_leader().await;
    cfg.disconnect(leader1);
    cfg.start1(leader1);
    cfg.connect(leader1);

    cfg.one(13, servers, true).await;

    let leader2 = cfg.check_one_leader().await;
    cfg.disconnect(leader2);
    cfg.one(14, servers - 1, true).await;
    cfg.start1(leader2);
    cfg.connect(leader2);

    // Let leader2 catch up before cutting off another server.
    cfg.wait(4, servers, None).await;

    let i3 = (cfg.check_one_leader().await + 1) % servers;
    cfg.disconnect(i3);
    cfg.one(15, servers - 1, true).await;
    cfg.start1(i3);
    cfg.connect(i3);

    cfg.one(16, servers, true).await;

    cfg.end();
}

pub(crate) async fn persist2_2c() {
    let servers = 5;
    let cfg = Config::new(servers, false, Applier::Plain);
    cfg.begin("Test (2C): more persistence");

    let mut index = 1;
    for _ in 0..5 {
        cfg.one(10 + index, servers, true).await;
        index += 1;

        let leader1 = cfg.check_one_leader().await;

        cfg.disconnect((leader1 + 1) % servers);
        cfg.disconnect((leader1 + 2) % servers);

        cfg.one(10 + index, servers - 2, true).await;
        index += 1;

        cfg.disconnect(leader1 % servers);
        cfg.disconnect((leader1 + 3) % servers);
        cfg.disconnect((leader1 + 4) % servers);

        cfg.start1((leader1 + 1) % servers);
        cfg.start1((leader1 + 2) % servers);
        cfg.connect((leader1 + 1) % servers);
        cfg.connect((leader1 + 2) % servers);

        labrpc::sleep(ELECTION_TIMEOUT).await;

        cfg.start1((leader1 + 3) % servers);
        cfg.connect((leader1 + 3) % servers);

        cfg.one(10 + index, servers - 2, true).await;
        index += 1;

        cfg.connect((leader1 + 4) % servers);
        cfg.connect(leader1 % servers);
    }

    cfg.one(1000, servers, true).await;

    cfg.end();
}

/// A partitioned leader and one follower crash; the leader restarts and must not lose
/// what the majority committed.
pub(crate) async fn persist3_2c() {
    let servers = 3;
    let cfg = Config::new(servers, false, Applier::Plain);
    cfg.begin("Test (2C): partitioned leader and one follower crash, leader restarts");

    cfg.one(101, 3, true).await;

    let leader = cfg.check_one_leader().await;
    cfg.disconnect((leader + 2) % servers);

    cfg.one(102, 2, true).await;

    cfg.crash1(leader % servers);
    cfg.crash1((leader + 1) % servers);
    cfg.connect((leader + 2) % servers);
    cfg.start1(leader % servers);
    cfg.connect(leader % servers);

    cfg.one(103, 2, true).await;

    cfg.start1((leader + 1) % servers);
    cfg.connect((leader + 1) % servers);

    cfg.one(104, servers, true).await;

    cfg.end();
}

/// The scenarios of the Raft paper's Figure 8: leaders crash, usually soon after taking a
/// command, and new leaders must not commit entries of older terms by counting replicas.
pub(crate) async fn figure8_2c() {
    let servers = 5;
    let cfg = Config::new(servers, false, Applier::Plain);
    cfg.begin("Test (2C): Figure 8");

    cfg.one(random_command(), 1, true).await;

    let mut nup = servers;
    for _ in 0..1000 {
        let mut leader = None;
        for i in 0..servers {
            if cfg.is_up(i) && cfg.start(i, random_command()).is_some() {
                leader = Some(i);
            }
        }

        figure8_pause().await;

        if let Some(leader) = leader {
            cfg.crash1(leader);
            nup -= 1;
        }

        if nup < 3 {
            let s = labrpc::rng().random_range(0..servers);
            if !cfg.is_up(s) {
                cfg.start1(s);
                cfg.connect(s);
                nup += 1;
            }
        }
    }

    for i in 0..servers {
        if !cfg.is_up(i) {
            cfg.start1(i);
            cfg.connect(i);
        }
    }

    cfg.one(random_command(), servers, true).await;

    cfg.end();
}

pub(crate) async fn unreliable_agree_2c() {
    let servers = 5;
    let cfg = Config::new(servers, true, Applier::Plain);
    cfg.begin("Test (2C): unreliable agreement");

    let mut clients = Vec::new();
    for iters in 1..50u64 {
        for j in 0..4u64 {
            let cfg = cfg.clone();
            clients.push(labrpc::spawn(async move {
                cfg.one(100 * iters + j, 1, true).await;
            }));
        }
        cfg.one(iters, 1, true).await;
    }

    cfg.set_reliable(true);

    for client in clients {
        client.await.expect("an agreement task was cancelled");
    }

    cfg.one(100, servers, true).await;

    cfg.end();
}

/// Figure 8 on an unreliable network with long reordering: leaders are cut off rather
/// than crashed, and old messages arrive late.
pub(crate) async fn figure8_unreliable_2c() {
    let servers = 5;
    let cfg = Config::new(servers, true, Applier::Plain);
    cfg.begin("Test (2C): Figure 8 (unreliable)");

    cfg.one(labrpc::rng().random_range(0..10_000), 1, true)
        .await;

    let mut nup = servers;
    for iters in 0..1000 {
        if iters == 200 {
            cfg.set_long_reordering(true);
        }
        let mut leader = None;
        for i in 0..servers {
            let accepted = cfg
                .start(i, labrpc::rng().random_range(0..10_000))
                .is_some();
            if accepted && cfg.is_connected(i) {
                leader = Some(i);
            }
        }

        figure8_pause().await;

        if let Some(leader) = leader
            && chance(ELECTION_TIMEOUT.as_millis() as u64 / 2)
        {
            cfg.disconnect(leader);
            nup -= 1;
        }

        if nup < 3 {
            let s = labrpc::rng().random_range(0..servers);
            if !cfg.is_connected(s) {
                cfg.connect(s);
                nup += 1;
            }
        }
    }

    for i in 0..servers {
        if !cfg.is_connected(i) {
            cfg.connect(i);
        }
    }

    cfg.one(labrpc::rng().random_range(0..10_000), servers, true)
        .await;

    cfg.end();
}

/// The churn tests: three clients keep starting commands while servers are disconnected,
/// crashed and restarted at random; every command a client saw committed must be in the
/// final log.
async fn internal_churn(unreliable: bool) {
    let servers = 5;
    let cfg = Config::new(servers, unreliable, Applier::Plain);
    if unreliable {
        cfg.begin("Test (2C): unreliable churn");
    } else {
        cfg.begin("Test (2C): churn");
    }

    let stop = Arc::new(AtomicBool::new(false));

    // A client: offers random values to every server, and keeps the ones it sees committed.
    let client = |me: u64| {
        let stop = stop.clone();
        let cfg = cfg.clone();
        async move {
            let mut values = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let x = random_command();
                let mut index = None;
                for i in 0..cfg.n() {
                    // Try them all: maybe one of them is a leader.
                    if let Some((index1, _)) = cfg.start(i, x) {
                        index = Some(index1);
                    }
                }
                if let Some(index) = index {
                    // Maybe the leader will commit our value, maybe not; don't wait forever.
                    for to in [10, 20, 50, 100, 200] {
                        let (nd, cmd) = cfg.n_committed(index);
                        if nd > 0 {
                            if cmd == Some(x) {
                                values.push(x);
                            }
                            break;
                        }
                        labrpc::sleep(Duration::from_millis(to)).await;
                    }
                } else {
                    labrpc::sleep(Duration::from_millis(79 + me * 17)).await;
                }
            }
            values
        }
    };

    let ncli = 3;
    let clients: Vec<_> = (0..ncli).map(|me| labrpc::spawn(client(me))).collect();

    for _ in 0..20 {
        if chance(200) {
            let i = labrpc::rng().random_range(0..servers);
            cfg.disconnect(i);
        }

        if chance(500) {
            let i = labrpc::rng().random_range(0..servers);
            if !cfg.is_up(i) {
                cfg.start1(i);
            }
            cfg.connect(i);
        }

        if chance(200) {
            let i = labrpc::rng().random_range(0..servers);
            if cfg.is_up(i) {
                cfg.crash1(i);
            }
        }

        // Change things often enough that the servers rarely settle, but less often than
        // an election timeout.
        labrpc::sleep(ELECTION_TIMEOUT * 7 / 10).await;
    }

    labrpc::sleep(ELECTION_TIMEOUT).await;
    cfg.set_reliable(true);
    for i in 0..servers {
        if !cfg.is_up(i) {
            cfg.start1(i);
        }
        cfg.connect(i);
    }

    stop.store(true, Ordering::SeqCst);

    let mut values = Vec::new();
    for client in clients {
        let Ok(vv) = client.await else {
            panic!("client failed");
        };
        values.extend(vv);
    }

    labrpc::sleep(ELECTION_TIMEOUT).await;

    let last_index = cfg.one(random_command(), servers, true).await;

    let mut really = Vec::new();
    for index in 1..=last_index {
        let Some(v) = cfg.wait(index, servers, None).await else {
            panic!("not an int");
        };
        really.push(v);
    }

    for v1 in values {
        if !really.contains(&v1) {
            panic!("didn't find a value");
        }
    }

    cfg.end();
}

pub(crate) async fn reliable_churn_2c() {
    internal_churn(false).await;
}

pub(crate) async fn unreliable_churn_2c() {
    internal_churn(true).await;
}
