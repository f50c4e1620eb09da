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

/// **A leader cut off in a minority, fed commands all along, rejoins a majority that has
/// moved terms ahead and compacted its log (§5.3, §5.4.1, §7, Figure 13).**
///
/// Five servers with snapshots. The leader and one follower are cut off together; the
/// leader keeps accepting commands (it cannot know it lost its majority), so the two build
/// a long suffix of entries that will never commit. Meanwhile the majority elects a new
/// leader, commits enough to snapshot several times, and has its leader crash and restart twice, each time holding an election in a new term. When
/// the partition heals, the old leader learns the new term from the first message it
/// hears (Figure 2: "If RPC request or response contains term T > currentTerm: set
/// currentTerm = T, convert to follower"), and both cut-off servers must throw away their
/// conflicting suffixes and catch up, by InstallSnapshot (Figure 13: a snapshot whose last
/// entry conflicts with the log discards the whole log) since the leader no longer has
/// the entries they lack. The monitors check that nothing committed changes on the way,
/// and the test that all five then agree.
pub(crate) async fn minority_leader_rejoins_compacted_majority_2x() {
    let servers = 5;
    let cfg = Config::new(servers, false, Applier::Snapshot);
    cfg.begin("Test (2X): a cut-off leader fed commands rejoins a compacted majority");

    cfg.one(random_command(), servers, true).await;
    let old_leader = cfg.check_one_leader().await;
    let follower = (old_leader + 1) % servers;
    let minority = [old_leader, follower];
    let majority: Vec<usize> = (0..servers).filter(|i| !minority.contains(i)).collect();
    cfg.partition(&[&minority, &majority]);

    let mut fed = 0;
    for round in 0..3 {
        // The old leader takes commands it can never commit.
        for _ in 0..25 {
            if cfg.start(old_leader, random_command()).is_some() {
                fed += 1;
            }
        }
        // The majority commits enough for a few snapshots ...
        for _ in 0..2 * crate::raft_harness::SNAPSHOT_INTERVAL {
            cfg.one_within(&majority, random_command(), majority.len(), true)
                .await;
        }
        // ... and, but in the last round, moves to a new term: its leader crashes and
        // restarts (the other two alone are no majority), so the three hold an election.
        if round < 2 {
            let leader = cfg.check_one_leader().await;
            cfg.crash1(leader);
            cfg.start1(leader);
            cfg.partition(&[&minority, &majority]);
            cfg.one_within(&majority, random_command(), majority.len(), true)
                .await;
        }
    }
    if fed == 0 {
        panic!(
            "S{old_leader}, cut off as leader, never accepted a command: start() must accept commands while the server believes it leads"
        );
    }

    cfg.partition(&[&(0..servers).collect::<Vec<_>>()]);
    cfg.one(random_command(), servers, true).await;
    cfg.end();
}
