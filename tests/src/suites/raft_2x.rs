//! 2X: Raft beyond the course. Faults at the worst moments, each test aimed at one rule of
//! the paper that the course's randomized tests reach only by luck.
//!
//! The invariant monitors (see `raft_harness`) run in these tests as in every other: most
//! of these tests pass or fail through them, since what they provoke is a safety violation
//! that no later check might notice (two leaders in a term, a committed entry replaced).
//! Each test ends by checking that the cluster still makes progress once the faults stop.

use std::time::Duration;

use rand::RngExt;

use crate::raft_harness::{Applier, Config, SNAPSHOT_INTERVAL};

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
    labrpc::sleep(Duration::from_millis(50)).await;
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
    labrpc::sleep(Duration::from_secs(2)).await;

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
        for _ in 0..2 * SNAPSHOT_INTERVAL {
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

/// **Votes survive a crash right after the reply (§5.2, Figure 2: votedFor is persistent
/// state, "updated on stable storage before responding to RPCs").**
///
/// Five servers. Each round sets up an election that two candidates, A and B, contest in
/// the same term: the leader is cut off, A and B cannot reach each other (so neither
/// hears the other's RequestVote, and both time out from the same term), and the other
/// two, X and Y, reach both but cannot win themselves (they missed the last command, so
/// the election restriction, §5.4.1, makes A and B refuse them). X and Y each get asked
/// by both candidates, in the same term. Every RequestVote reply of X and Y crashes its
/// sender the instant it leaves, and the tester restarts it from its persister within
/// 10 ms. (Only theirs: if A and B crashed after refusing X, their election timers would
/// restart every time, and X, which cannot win, would always time out first.) A voter
/// that had not saved its vote before replying forgets it and can vote again in the same
/// term, for the other candidate: two leaders in one term, which the state monitor sees
/// at once.
pub(crate) async fn votes_survive_crash_after_reply_2x() {
    let servers = 5;
    let cfg = Config::new(servers, false, Applier::Plain);
    cfg.begin("Test (2X): votes survive a crash right after the reply");

    cfg.one(random_command(), servers, true).await;
    for _ in 0..10 {
        let leader = cfg.check_one_leader().await;
        let [a, b, x, y] = [1, 2, 3, 4].map(|k| (leader + k) % servers);
        // X and Y miss a command: they cannot win against A or B.
        cfg.disconnect(x);
        cfg.disconnect(y);
        cfg.one(random_command(), 3, true).await;
        // The leader goes; A and B cannot hear each other; X and Y hear both.
        cfg.disconnect(leader);
        cfg.connect(x);
        cfg.connect(y);
        cfg.set_link(a, b, false);
        cfg.crash_after_reply(&[x, y], &["Raft.RequestVote"], 1000, 0..10);
        cfg.check_one_leader().await;
        cfg.stop_crashing_after_reply();
        labrpc::sleep(Duration::from_millis(20)).await; // every crashed voter is back
        cfg.set_link(a, b, true);
        cfg.connect(leader);
        cfg.one(random_command(), servers, true).await;
    }
    cfg.end();
}

/// One round of the "carrier" scenario, for the tests of what a follower keeps: one
/// follower (the carrier) is all the leader has for a majority while the other (the
/// absent one) is cut off, and some commands commit on the leader and the carrier. Then,
/// `before_crash` later, the leader crashes and the absent follower returns: the carrier
/// must still have every entry it acknowledged, since the absent one has none of them,
/// and one of the two will lead. If the carrier lost some, the new leader fills their
/// indices with new commands, and the apply monitor sees a committed entry change.
///
/// `after_commands` runs once the commands committed (e.g. to turn a fault plan off).
async fn carrier_round(
    cfg: &Config,
    commands: usize,
    after_commands: impl FnOnce(&Config),
    before_crash: Duration,
) {
    let servers = cfg.n();
    let leader = cfg.check_one_leader().await;
    let absent = (leader + 2) % servers;
    cfg.disconnect(absent);
    for _ in 0..commands {
        cfg.one(random_command(), servers - 1, true).await;
    }
    after_commands(cfg);
    labrpc::sleep(before_crash).await;
    cfg.crash1(leader);
    cfg.connect(absent);
    cfg.one(random_command(), servers - 1, true).await;
    cfg.start1(leader);
    cfg.connect(leader);
    cfg.one(random_command(), servers, true).await;
}

/// **Acknowledged entries survive a crash right after the acknowledgement (§5.3, Figure
/// 2: log[] is persistent state, "updated on stable storage before responding to
/// RPCs").**
///
/// Three servers; while one follower is cut off, three in ten AppendEntries replies of
/// the other (the carrier) crash it the instant they leave, and the tester restarts it
/// from its persister within 5 ms. (Not all of them: a carrier that crashes after every
/// reply never gets to apply anything.) The leader counts the carrier's acknowledgement and commits.
/// Then the leader crashes and the cut-off follower returns. A carrier that replied
/// before saving the entries lost them in its crash; the new leader (either follower)
/// then lacks committed entries and overwrites them, which the apply monitor catches.
pub(crate) async fn acknowledged_entries_survive_crash_after_reply_2x() {
    let servers = 3;
    let cfg = Config::new(servers, false, Applier::Plain);
    cfg.begin("Test (2X): acknowledged entries survive a crash right after the reply");

    cfg.one(random_command(), servers, true).await;
    for _ in 0..10 {
        cfg.crash_after_reply(&[], &["Raft.AppendEntries"], 300, 0..5);
        let commands = labrpc::rng().random_range(1..6);
        // The crashes stop, and the carrier is back (20 ms), before the leader crashes.
        let stop = |cfg: &Config| cfg.stop_crashing_after_reply();
        carrier_round(&cfg, commands, stop, Duration::from_millis(20)).await;
    }
    cfg.end();
}

/// **A stale AppendEntries does not truncate a matching log (§5.3, Figure 2,
/// AppendEntries receiver rule 3: "If an existing entry conflicts with a new one (same
/// index but different terms), delete the existing entry and all that follow it").**
///
/// Three servers; half of all AppendEntries requests are delivered a second time, 10 to
/// 500 ms later, after newer ones. While one follower is cut off, commands commit on the
/// leader and the other follower (the carrier), one AppendEntries each, so that a stale
/// copy carries fewer entries than the carrier has by then. The leader crashes at a random
/// moment and the cut-off follower returns. A carrier that cut its log at the end of a
/// stale copy's entries (they all match: nothing conflicts) has lost entries it
/// acknowledged, until the leader's next message repairs it; if the leader is gone by
/// then, a new leader overwrites committed entries, which the apply monitor catches.
pub(crate) async fn stale_append_entries_do_not_truncate_2x() {
    let servers = 3;
    let cfg = Config::new(servers, false, Applier::Plain);
    cfg.begin("Test (2X): a stale AppendEntries does not truncate a matching log");

    cfg.one(random_command(), servers, true).await;
    cfg.stale_duplicates(&["Raft.AppendEntries"], 500, 10..500);
    for _ in 0..15 {
        let commands = labrpc::rng().random_range(3..8);
        let before_crash = Duration::from_millis(labrpc::rng().random_range(0..500));
        carrier_round(&cfg, commands, |_| {}, before_crash).await;
    }
    cfg.stale_duplicates(&[], 0, 0..0);
    cfg.one(random_command(), servers, true).await;
    cfg.end();
}

/// **A stale InstallSnapshot never takes a server back (§7, Figure 13: "If existing log
/// entry has same index and term as snapshot's last included entry, retain log entries
/// following it and reply"; a snapshot that brings nothing new is discarded, and the
/// service is never handed a state older than what it has applied).**
///
/// Three servers with snapshots; half of all InstallSnapshot and AppendEntries requests
/// are delivered a second time, 10 to 1000 ms later. Each round a follower is cut off
/// while the others commit enough to snapshot, then returns and catches up through
/// InstallSnapshot; more commands follow, so a stale copy of that InstallSnapshot reaches
/// a follower that is already past it. Installing it anyway hands the service an old
/// snapshot (the apply monitor: "the service never goes back"), or drops entries the
/// follower acknowledged.
pub(crate) async fn stale_snapshots_do_not_roll_back_2x() {
    let servers = 3;
    let cfg = Config::new(servers, false, Applier::Snapshot);
    cfg.begin("Test (2X): a stale InstallSnapshot never takes a server back");

    cfg.one(random_command(), servers, true).await;
    cfg.stale_duplicates(
        &["Raft.InstallSnapshot", "Raft.AppendEntries"],
        500,
        10..1000,
    );
    for _ in 0..10 {
        let leader = cfg.check_one_leader().await;
        let victim = (leader + 1) % servers;
        cfg.disconnect(victim);
        let commands = SNAPSHOT_INTERVAL + labrpc::rng().random_range(0..2 * SNAPSHOT_INTERVAL);
        for _ in 0..commands {
            cfg.one(random_command(), servers - 1, true).await;
        }
        cfg.connect(victim);
        for _ in 0..SNAPSHOT_INTERVAL / 2 {
            cfg.one(random_command(), servers, true).await;
        }
        let pause = labrpc::rng().random_range(0..1000);
        labrpc::sleep(Duration::from_millis(pause)).await;
    }
    cfg.stale_duplicates(&[], 0, 0..0);
    cfg.one(random_command(), servers, true).await;
    cfg.end();
}

/// **A deposed leader learns the new term from the replies it gets (§5.1, Figure 2,
/// Rules for All Servers: "If RPC request or response contains term T > currentTerm: set
/// currentTerm = T, convert to follower").**
///
/// Five servers. The leader is cut off while the others elect a new leader and move on;
/// then it comes back on a one-way link: its own calls go through and get their replies,
/// but nobody else's calls reach it, so the only news of the new term it can get is in
/// the replies to its heartbeats. Half a second later (five heartbeats), it must be in
/// the new term (or a later one) and no longer lead. A leader that ignores the term in
/// replies goes on leading its old term forever, accepting commands it can never commit.
pub(crate) async fn deposed_leader_learns_term_from_replies_2x() {
    let servers = 5;
    let cfg = Config::new(servers, false, Applier::Plain);
    cfg.begin("Test (2X): a deposed leader learns the new term from replies");

    cfg.one(random_command(), servers, true).await;
    for _ in 0..5 {
        let old = cfg.check_one_leader().await;
        let (old_term, _) = cfg.state(old);
        cfg.disconnect(old);
        let others: Vec<usize> = (0..servers).filter(|&i| i != old).collect();
        cfg.one_within(&others, random_command(), servers - 1, true)
            .await;
        let new = cfg.check_one_leader().await;
        let (new_term, _) = cfg.state(new);
        if new_term <= old_term {
            panic!(
                "S{new} leads term {new_term}, which is not after S{old}'s term {old_term}, \
                 though S{old} led term {old_term} before"
            );
        }
        // Back, one way: its calls reach the others, theirs do not reach it.
        cfg.connect(old);
        for &i in &others {
            cfg.set_one_way_link(i, old, false);
        }
        labrpc::sleep(Duration::from_millis(500)).await;
        let (term, leads) = cfg.state(old);
        if term < new_term || (leads && term == old_term) {
            panic!(
                "S{old}, deposed leader of term {old_term}, still {} in term {term} half a \
                 second after its heartbeats started getting replies from servers in term \
                 {new_term}: a reply with a newer term must make it adopt the term and step \
                 down (Figure 2, Rules for All Servers)",
                if leads { "leads" } else { "is" }
            );
        }
        cfg.connect(old);
        cfg.one(random_command(), servers, true).await;
    }
    cfg.end();
}

/// How long every 2X recovery bound below allows: the course's `RaftElectionTimeout`, the
/// time its tests give a cluster to elect a leader once one is possible. Each bound's
/// rustdoc says how much of it a correct Raft needs.
const RECOVERY_BOUND: Duration = Duration::from_secs(1);

/// Fails unless every server in `servers` is in term `term` (and not leading, but
/// `leader`), checking every 10 ms for `span`: nobody stood for election.
async fn term_holds(
    cfg: &Config,
    servers: &[usize],
    leader: usize,
    term: u64,
    span: Duration,
    why: &str,
) {
    let from = labrpc::now();
    while labrpc::now() - from < span {
        for &i in servers {
            let (t, leads) = cfg.state(i);
            if t != term || (leads && i != leader) {
                panic!(
                    "S{i} is in term {t}{} {:?} after S{leader} was elected leader of term \
                     {term} with every server of {servers:?} connected and no message lost: \
                     {why}",
                    if leads { " as leader" } else { "" },
                    labrpc::now() - from,
                );
            }
        }
        labrpc::sleep(Duration::from_millis(10)).await;
    }
}

/// **A new leader is heard before anyone's election timer runs out (§5.2; Figure 2, Rules
/// for Leaders: "Upon election: send initial empty AppendEntries RPCs (heartbeat) to each
/// server; repeat during idle periods to prevent election timeouts").**
///
/// Five servers on a reliable network. Ten times, the leader is cut off; once the other
/// four have elected a new one, nobody may leave its term for two seconds (two of the
/// course's election timeouts): no message is lost, so every follower hears the leader
/// long before its timer runs out. The course's `initial_election_2a` only warns when the
/// term moves; this fails a leader that waits before its first heartbeat, heartbeats
/// slower than the election timeout, or followers that do not reset their timers when
/// they hear from the leader. Then the old leader rejoins, and the cluster agrees.
pub(crate) async fn followers_hear_new_leader_at_once_2x() {
    let servers = 5;
    let cfg = Config::new(servers, false, Applier::Plain);
    cfg.begin("Test (2X): a new leader is heard before any election timer runs out");

    cfg.one(random_command(), servers, true).await;
    for _ in 0..10 {
        let old = cfg.check_one_leader().await;
        cfg.disconnect(old);
        let leader = cfg.check_one_leader().await;
        let (term, _) = cfg.state(leader);
        let others: Vec<usize> = (0..servers).filter(|&i| i != old).collect();
        term_holds(
            &cfg,
            &others,
            leader,
            term,
            2 * RECOVERY_BOUND,
            "a leader must send heartbeats at once when elected, and then often enough (at \
             most ten a second, well within the election timeout); a follower resets its \
             election timer whenever it hears from the current leader (Figure 2)",
        )
        .await;
        cfg.connect(old);
        cfg.one(random_command(), servers, true).await;
    }
    cfg.end();
}

/// **A leader that heals a partition brings the servers it left behind up to date within a
/// second, however far behind they are (§5.3: "the leader decrements nextIndex and
/// retries"; the optimization at the end of §5.3 that skips a whole conflicting term per
/// round trip).**
///
/// Five servers. The leader and one follower are cut off; the leader takes 50 commands it
/// can never commit; the other three elect a leader and commit 50 others, and then elect
/// another (their leader crashes and restarts), whose nextIndex for the two starts past its
/// log. Then everything heals, and a command offered at once must be applied by all five within
/// [`RECOVERY_BOUND`] of the heal: the two must throw away their 50 entries and copy the
/// majority's. With the course's optimization, and retrying a refused AppendEntries at
/// once, that takes a few round trips; a leader that backs up one entry per heartbeat
/// needs some fifty heartbeats (five seconds), and one that waits for the next heartbeat
/// after each refusal several. The course's `backup_2b` gives it 10 s per command.
pub(crate) async fn lagging_servers_catch_up_within_a_second_2x() {
    let servers = 5;
    let cfg = Config::new(servers, false, Applier::Plain);
    cfg.begin("Test (2X): servers left behind catch up within a second of the heal");

    cfg.one(random_command(), servers, true).await;
    for _ in 0..3 {
        let old = cfg.check_one_leader().await;
        let follower = (old + 1) % servers;
        let minority = [old, follower];
        let majority: Vec<usize> = (0..servers).filter(|i| !minority.contains(i)).collect();
        cfg.partition(&[&minority, &majority]);
        for _ in 0..50 {
            cfg.start(old, random_command());
        }
        for _ in 0..50 {
            cfg.one_within(&majority, random_command(), majority.len(), true)
                .await;
        }
        // A new election in the majority: its leader then starts from nextIndex just past
        // its log for everyone (Figure 2), so it must find the two servers' conflicts by
        // backing up, rather than going on from where its failed calls left them.
        let leader = cfg.check_one_leader().await;
        cfg.crash1(leader);
        cfg.start1(leader);
        cfg.partition(&[&minority, &majority]);
        cfg.one_within(&majority, random_command(), majority.len(), true)
            .await;
        cfg.partition(&[&(0..servers).collect::<Vec<_>>()]);
        let healed = labrpc::now();
        let command = random_command();
        // Offered to the majority only: the old leader, which does not know yet that it
        // lost its term, would take it and hold it for the 2 s `one` gives a leader.
        let index = cfg.one_within(&majority, command, servers, true).await;
        let took = labrpc::now() - healed;
        if took > RECOVERY_BOUND {
            panic!(
                "a command offered as the partition healed was applied by all {servers} \
                 servers (index {index}) only {took:?} later; S{old} and S{follower} each had \
                 50 entries to throw away and 50 to copy: a leader must back up over a whole \
                 conflicting term per refused AppendEntries (end of §5.3), and retry at once \
                 rather than at the next heartbeat"
            );
        }
    }
    cfg.end();
}

/// **A vote counts only in the election it was given for (§5.2; Figure 2, Rules for
/// Candidates: "If votes received from majority of servers: become leader" — votes of the
/// current term; a reply whose term is not the candidate's current term is stale).**
///
/// Five servers on a reliable network with the course's long reordering: two in three
/// replies arrive 200 ms to 2.2 s late, often after the election they answer is over and
/// the candidate has moved on to a later term. Twenty times the leader is cut off for one
/// to three seconds, so the four left hold contested elections (with replies this late,
/// often several in a row), then it rejoins. Four servers leave room for two majorities
/// of five when stale votes count: a candidate with its own vote and two late ones from an
/// earlier term, and a rival with its own and the same two voters' current ones. No check waits for a
/// leader while replies are this late: elections may well fail for seconds. A candidate that counts a late vote for an earlier
/// term towards its current election can win a term in which a majority voted for
/// someone else: two leaders in one term, which the state monitor sees at once.
pub(crate) async fn late_vote_replies_do_not_count_2x() {
    let servers = 5;
    let cfg = Config::new(servers, false, Applier::Plain);
    cfg.begin("Test (2X): a vote counts only in the election it was given for");

    cfg.one(random_command(), servers, true).await;
    cfg.set_long_reordering(true);
    for _ in 0..20 {
        // The leader if there is one (with replies this late, elections may take long: no
        // check waits for one), and one other server.
        let old = (0..servers)
            .find(|&i| cfg.state(i).1)
            .unwrap_or_else(|| labrpc::rng().random_range(0..servers));
        cfg.disconnect(old);
        let contested = labrpc::rng().random_range(1000..3000);
        labrpc::sleep(Duration::from_millis(contested)).await;
        cfg.connect(old);
        let pause = labrpc::rng().random_range(0..1000);
        labrpc::sleep(Duration::from_millis(pause)).await;
    }
    cfg.set_long_reordering(false);
    cfg.one(random_command(), servers, true).await;
    cfg.end();
}

/// **A snapshot never cuts the entries after it that a follower holds (§7, Figure 13:
/// "If existing log entry has same index and term as snapshot's last included entry,
/// retain log entries following it and reply"), also when the leader then crashes.**
///
/// Three servers with snapshots; every InstallSnapshot reaches its follower a second time,
/// 100 to 600 ms later. Each round a follower (the carrier) is cut off while the others
/// commit enough to snapshot; it returns and catches up through InstallSnapshot; then the
/// third server is cut off and a few commands commit on the leader and the carrier alone.
/// The stale copy of the snapshot reaches the carrier after it acknowledged those entries;
/// at a random moment the leader crashes and the third server returns. A carrier that
/// threw away the entries after the snapshot's index (instead of keeping the matching
/// suffix) has lost committed entries that the third server never had, and the new leader
/// overwrites them: the apply monitor sees a committed entry change.
pub(crate) async fn snapshot_keeps_matching_suffix_through_crash_2x() {
    let servers = 3;
    let cfg = Config::new(servers, false, Applier::Snapshot);
    cfg.begin("Test (2X): a snapshot keeps the matching entries after it, through a crash");

    cfg.one(random_command(), servers, true).await;
    cfg.stale_duplicates(&["Raft.InstallSnapshot"], 1000, 100..600);
    for _ in 0..10 {
        let leader = cfg.check_one_leader().await;
        let carrier = (leader + 1) % servers;
        let third = (leader + 2) % servers;
        cfg.disconnect(carrier);
        let commands = SNAPSHOT_INTERVAL + labrpc::rng().random_range(0..2 * SNAPSHOT_INTERVAL);
        for _ in 0..commands {
            cfg.one(random_command(), servers - 1, true).await;
        }
        cfg.connect(carrier);
        cfg.one(random_command(), servers, true).await;
        cfg.disconnect(third);
        for _ in 0..labrpc::rng().random_range(1..6) {
            cfg.one(random_command(), servers - 1, true).await;
        }
        let before_crash = labrpc::rng().random_range(0..600);
        labrpc::sleep(Duration::from_millis(before_crash)).await;
        cfg.crash1(leader);
        cfg.connect(third);
        cfg.one(random_command(), servers - 1, true).await;
        cfg.start1(leader);
        cfg.connect(leader);
        cfg.one(random_command(), servers, true).await;
    }
    cfg.stale_duplicates(&[], 0, 0..0);
    cfg.one(random_command(), servers, true).await;
    cfg.end();
}

/// **A candidate cut off from the others delays the next leader by less than a second once
/// it is back (§5.2, §5.4.1; Figure 2, Rules for Followers: the election timer restarts
/// only on "receiving AppendEntries RPC from current leader or granting vote to
/// candidate").**
///
/// Five servers on a reliable network. Five times a follower, F, is cut off for two
/// seconds while the others commit commands, so its log falls behind; alone, it stands
/// for election again and again, and its term runs ahead of the cluster's. When it is
/// back, its first message (a RequestVote, or its refusal of the leader's heartbeat)
/// carries that term, and the leader steps down (§5.1). Basic Raft cannot avoid this one
/// disruption (PreVote, §9.6 of Ongaro's dissertation, is what avoids it, and is not part
/// of this lab). But no server may vote for F, whose log is behind (§5.4.1), and refusing
/// it must not restart their election timers, so one of them stands for election within
/// one timeout and wins a term past F's, which F then follows. The test allows
/// [`RECOVERY_BOUND`] from the reconnection until a server other than F leads with F in
/// its term; a correct Raft with the course's timeouts needs a heartbeat (F hears of the
/// leader or deposes it), then one election timeout and one election. A Raft whose
/// servers restart their timers on every RequestVote (granted or not) lets F's repeated
/// candidacies hold the others' timers off while F can never win.
pub(crate) async fn rejoining_candidate_delays_next_leader_less_than_a_second_2x() {
    let servers = 5;
    let cfg = Config::new(servers, false, Applier::Plain);
    cfg.begin("Test (2X): a candidate back from a partition delays the next leader < 1 s");

    cfg.one(random_command(), servers, true).await;
    for _ in 0..5 {
        let leader = cfg.check_one_leader().await;
        let cut_off = (leader + 1 + labrpc::rng().random_range(0..servers - 1)) % servers;
        cfg.disconnect(cut_off);
        let others: Vec<usize> = (0..servers).filter(|&i| i != cut_off).collect();
        for _ in 0..3 {
            cfg.one_within(&others, random_command(), servers - 1, true)
                .await;
        }
        labrpc::sleep(2 * RECOVERY_BOUND).await;
        let (cut_off_term, _) = cfg.state(cut_off);
        cfg.connect(cut_off);
        let back = labrpc::now();
        loop {
            let (term, _) = cfg.state(cut_off);
            let followed = others
                .iter()
                .any(|&i| cfg.state(i) == (term, true) && term >= cut_off_term);
            if followed {
                break;
            }
            let waited = labrpc::now() - back;
            if waited > RECOVERY_BOUND {
                panic!(
                    "S{cut_off}, cut off for 2 s (its log behind, its term {cut_off_term} \
                     when it came back), still had no leader to follow {waited:?} after it \
                     was reconnected to a cluster of five on a reliable network: no server \
                     may vote for a candidate whose log is behind its own (§5.4.1), and \
                     refusing a vote must not restart the election timer (Figure 2, Rules \
                     for Followers: only the current leader's AppendEntries or granting a \
                     vote does), so that an up-to-date server stands for election within \
                     one timeout and wins a term past the rejoining candidate's"
                );
            }
            labrpc::sleep(Duration::from_millis(10)).await;
        }
        cfg.one(random_command(), servers, true).await;
    }
    cfg.end();
}
