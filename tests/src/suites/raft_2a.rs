//! Lab 2A: leader election (Raft paper §5.2).
//!
//! Each test is registered, with a one-line description, in `suites/mod.rs`.

use std::time::Duration;

use crate::raft_harness::{Applier, Config, ELECTION_TIMEOUT};
use rand::RngExt;

pub(crate) async fn initial_election_2a() {
    let cfg = Config::new(3, false, Applier::Plain);
    cfg.begin("Test (2A): initial election");

    // Is a leader elected?
    cfg.check_one_leader().await;

    // Sleep a bit to avoid racing with followers learning of the election, then
    // check that all peers agree on the term.
    labrpc::sleep(Duration::from_millis(50)).await;
    let term1 = cfg.check_terms();
    assert!(term1 >= 1, "term is {term1}, but should be at least 1");

    // Does the leader and term stay the same if there is no network failure?
    labrpc::sleep(2 * ELECTION_TIMEOUT).await;
    let term2 = cfg.check_terms();
    if term1 != term2 {
        labrpc::tester::warn("term changed even though there were no failures");
    }

    // There should still be a leader.
    cfg.check_one_leader().await;
    cfg.end();
}

pub(crate) async fn re_election_2a() {
    let servers = 3;
    let cfg = Config::new(servers, false, Applier::Plain);
    cfg.begin("Test (2A): election after network failure");

    let leader1 = cfg.check_one_leader().await;

    // If the leader disconnects, a new one should be elected.
    cfg.disconnect(leader1);
    cfg.check_one_leader().await;

    // If the old leader rejoins, that shouldn't disturb the new leader.
    cfg.connect(leader1);
    let leader2 = cfg.check_one_leader().await;

    // If there's no quorum, no new leader should be elected.
    cfg.disconnect(leader2);
    cfg.disconnect((leader2 + 1) % servers);
    labrpc::sleep(2 * ELECTION_TIMEOUT).await;
    cfg.check_no_leader();

    // If a quorum arises, it should elect a leader.
    cfg.connect((leader2 + 1) % servers);
    cfg.check_one_leader().await;

    // Re-join of the last node shouldn't prevent a leader from existing.
    cfg.connect(leader2);
    cfg.check_one_leader().await;

    cfg.end();
}

pub(crate) async fn many_elections_2a() {
    let servers = 7;
    let cfg = Config::new(servers, false, Applier::Plain);
    cfg.begin("Test (2A): multiple elections");

    cfg.check_one_leader().await;

    for _ in 1..10 {
        // Disconnect three nodes (possibly the same one more than once).
        let picks: Vec<usize> = (0..3)
            .map(|_| labrpc::rng().random_range(0..servers))
            .collect();
        for &i in &picks {
            cfg.disconnect(i);
        }

        // Either the current leader should still be alive, or the remaining four
        // should elect a new one.
        cfg.check_one_leader().await;

        for &i in &picks {
            cfg.connect(i);
        }
    }

    cfg.check_one_leader().await;
    cfg.end();
}
