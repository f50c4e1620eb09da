//! 2X: Raft beyond the course. Faults at the worst moments, each test aimed at one rule of
//! the paper that the course's randomized tests reach only by luck.
//!
//! The invariant monitors (see `raft_harness`) run in these tests as in every other: most
//! of these tests pass or fail through them, since what they provoke is a safety violation
//! that no later check might notice (two leaders in a term, a committed entry replaced).
//! Each test ends by checking that the cluster still makes progress once the faults stop.

use rand::RngExt;

use crate::raft_harness::{Applier, Config};

/// A random command value.
fn random_command() -> u64 {
    labrpc::rng().random_range(0..1u64 << 63)
}

/// **Figure 8, move by move: an old term's entry commits only through the current term's
/// (§5.4.2).**
///
/// Figure 2's rule for leaders: "If there exists an N such that N > commitIndex, a
/// majority of matchIndex[i] ≥ N, and log[N].term == currentTerm: set commitIndex = N".
/// The last condition is what this test is about. A leader must not count replicas of an
/// entry from an earlier term: such an entry, even stored on a majority, can still be
/// overwritten by a later leader (the paper's Figure 8). The course's Figure 8 tests reach
/// that situation by random crashes, rarely; this test plays it out, with five servers:
///
/// 1. leader A replicates entry X to B only, and crashes;
/// 2. C, D and E elect a leader (say E), which takes entry Y at X's index and crashes
///    before sending it anywhere;
/// 3. A restarts; A or B is elected (their logs are the most up to date) and copies X to
///    the two remaining servers: X is now on four servers, but from an old term. A
///    correct leader does not commit it; the test gives it two seconds, submitting
///    nothing;
/// 4. A and B crash; E restarts and, with the two others, is elected (Y's term is newer
///    than X's), and commits Y at X's index, through a new command.
///
/// A leader that committed X by counting replicas in step 3 has applied X where the others
/// now apply Y: the apply monitor fails the test ("committed entries never change").
pub(crate) async fn old_term_entries_commit_through_new_ones_2x() {
    let servers = 5;
    let cfg = Config::new(servers, false, Applier::Plain);
    cfg.begin("Test (2X): an old term's entry commits only through the current term's (Figure 8)");

    cfg.one(random_command(), servers, true).await;

    // 1. A replicates X to B alone, then crashes.
    let a = cfg.check_one_leader().await;
    let b = (a + 1) % servers;
    let rest: Vec<usize> = (0..servers).filter(|&i| i != a && i != b).collect();
    for &i in &rest {
        cfg.disconnect(i);
    }
    let x = random_command();
    if cfg.start(a, x).is_none() {
        panic!("S{a}, the leader a moment ago, refused start() although nothing changed");
    }
    // Less than a heartbeat interval: enough for A to send X, not for B to time out.
    labrpc::sleep(std::time::Duration::from_millis(50)).await;
    cfg.crash1(a);
    cfg.disconnect(b);

    // 2. The other three elect a leader E, which takes Y and crashes before sending it.
    for &i in &rest {
        cfg.connect(i);
    }
    let e = cfg.check_one_leader().await;
    if cfg.start(e, random_command()).is_none() {
        panic!("S{e}, the leader a moment ago, refused start() although nothing changed");
    }
    cfg.crash1(e);

    // 3. A comes back; A or B leads, and copies X to the others. No new command: X must
    //    stay uncommitted.
    cfg.start1(a);
    cfg.connect(a);
    cfg.connect(b);
    cfg.check_one_leader().await;
    labrpc::sleep(std::time::Duration::from_secs(2)).await;

    // 4. A and B crash; E and the other two elect a leader, which commits a new command
    //    (and with it whatever it has at X's index).
    cfg.crash1(a);
    cfg.crash1(b);
    cfg.start1(e);
    cfg.connect(e);
    cfg.one(random_command(), 3, true).await;

    // Everyone back: the five agree.
    for i in [a, b] {
        cfg.start1(i);
        cfg.connect(i);
    }
    cfg.one(random_command(), servers, true).await;
    cfg.end();
}
