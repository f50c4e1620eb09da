//! 2E: elections that do not disrupt (beyond the course): the leader's no-op, Pre-Vote,
//! CheckQuorum with leader stickiness, and leadership transfer, as the Raft dissertation
//! (Ongaro, 2014) specifies them. The handout is `docs/lab-extensions.md`.
//!
//! Every test starts its servers with `Raft::with_options`, most with every switch on
//! ([`Options::ALL`], what a production Raft runs), and each fails on the reference with
//! its feature switched off: the rustdoc of each says how. The invariant monitors run here
//! as in every test (Election Safety, terms that never go back, committed entries that
//! never change). Bounds in virtual time are stated with the section of the dissertation
//! they come from.

use std::time::Duration;

use raft::Options;
use rand::RngExt;

use crate::raft_harness::{Applier, Config, ELECTION_TIMEOUT, eventually};

/// A random command value.
fn random_command() -> u64 {
    labrpc::rng().random_range(0..1u64 << 63)
}

/// The connected server that claims to lead the highest term right now, and that term.
fn leader_now(cfg: &Config) -> Option<(usize, u64)> {
    cfg.connected_servers()
        .into_iter()
        .filter(|&i| cfg.is_up(i))
        .filter_map(|i| match cfg.state(i) {
            (term, true) => Some((i, term)),
            _ => None,
        })
        .max_by_key(|&(_, term)| term)
}

/// The highest term any running server is in.
fn highest_term(cfg: &Config) -> u64 {
    (0..cfg.n())
        .filter(|&i| cfg.is_up(i))
        .map(|i| cfg.state(i).0)
        .max()
        .unwrap_or(0)
}

/// **The leader's no-op: an entry of an earlier term commits after an election without
/// any new command (dissertation §6.4; the paper's §5.4.2 and §8).**
///
/// Three servers, one of them disconnected. The leader commits a command X with the
/// second server's help and crashes at once, before its next AppendEntries tells that
/// server X is committed. The disconnected server returns; the server holding X wins the
/// election (the other's log is behind). A leader commits entries of earlier terms only
/// through one of its own term (Figure 2, Rules for Leaders), and no command comes: only
/// the no-op can commit X. The test wants X applied on both servers within a second of
/// seeing the new leader (`check_one_leader`, which looks 450–550 ms after the crash, then
/// every 450–550 ms: so within about 1.5 s of the election); the reference needs one
/// heartbeat round trip. Five rounds.
///
/// With `noop_on_election` off, X stays unapplied on both servers, and the test fails at
/// once in the first round.
pub(crate) async fn noop_commits_earlier_terms_2e() {
    let servers = 3;
    let cfg = Config::with_options(servers, false, Applier::Plain, Options::ALL);
    cfg.begin("Test (2E): the leader's no-op commits the entries of earlier terms");
    cfg.one(random_command(), servers, true).await;
    for _ in 0..5 {
        let leader = cfg.check_one_leader().await;
        let holder = (leader + 1) % servers;
        let behind = (leader + 2) % servers;
        cfg.disconnect(behind);
        let x = random_command();
        let Some((index, _)) = cfg.start(leader, x) else {
            panic!("S{leader}, the leader a moment ago, refused start() although nothing changed");
        };
        // The leader applies X once it knows it committed; crash it that instant, before
        // its next heartbeat carries the news.
        let committed = eventually(Duration::from_secs(2), || cfg.n_committed(index).0 >= 1).await;
        if !committed {
            panic!(
                "S{leader} did not commit command {x} (index {index}) within 2 s with S{holder} \
                 connected and nothing failing"
            );
        }
        cfg.crash1(leader);
        cfg.connect(behind);
        let new_leader = cfg.check_one_leader().await;
        let done = eventually(ELECTION_TIMEOUT, || cfg.n_committed(index).0 >= 2).await;
        if !done {
            panic!(
                "command {x} at index {index}, committed by S{leader} before it crashed, was \
                 applied by {} of the two servers left within {ELECTION_TIMEOUT:?} of S{new_leader}'s \
                 election, and no new command came. A new leader commits entries of earlier \
                 terms only through an entry of its own term (§5.4.2): with noop_on_election \
                 it must append a no-op at once (dissertation §6.4).",
                cfg.n_committed(index).0
            );
        }
        cfg.start1(leader);
        cfg.connect(leader);
        cfg.one(random_command(), servers, true).await;
    }
    cfg.end();
}

/// **Pre-Vote: a server cut off for a long time rejoins without raising anyone's term or
/// deposing a healthy leader (dissertation §9.6).**
///
/// Five servers. A follower is disconnected for 5 s: its election timer fires again and
/// again, but without a majority's pre-votes it never stands, so its term stays the
/// leader's. When it returns, the leader, its term, and everyone's term are as they were
/// (checked at once and for two seconds after). Three rounds, a different follower each.
///
/// With `pre_vote` off, the cut-off server raises its term at each timeout; on its
/// return, the leader learns that term from its reply and steps down: the test fails.
pub(crate) async fn prevote_rejoining_server_does_not_disrupt_2e() {
    let servers = 5;
    let cfg = Config::with_options(servers, false, Applier::Plain, Options::ALL);
    cfg.begin("Test (2E): Pre-Vote: a server cut off for 5 s rejoins without disrupting");
    cfg.one(random_command(), servers, true).await;
    let leader = cfg.check_one_leader().await;
    let (term, _) = cfg.state(leader);
    for round in 1..=3 {
        let away = (leader + round) % servers;
        cfg.disconnect(away);
        labrpc::sleep(Duration::from_secs(5)).await;
        let (away_term, _) = cfg.state(away);
        if away_term != term {
            panic!(
                "S{away}, disconnected for 5 s, moved from term {term} to term {away_term}: with \
                 Pre-Vote a server raises its term only once a majority granted its pre-vote \
                 (dissertation §9.6), which a cut-off server never gets"
            );
        }
        cfg.connect(away);
        cfg.one(random_command(), servers, true).await;
        let steady = !eventually(Duration::from_secs(2), || {
            leader_now(&cfg) != Some((leader, term)) || highest_term(&cfg) != term
        })
        .await;
        if !steady {
            panic!(
                "S{away} rejoined after 5 s away, and S{leader} no longer leads term {term} \
                 (now: {:?}, highest term {}): a rejoining server must not depose a healthy \
                 leader (Pre-Vote, dissertation §9.6)",
                leader_now(&cfg),
                highest_term(&cfg)
            );
        }
    }
    cfg.end();
}

/// **Pre-Vote: terms stay put under a flapping link (dissertation §9.6).**
///
/// Three servers. For 20 s one follower's link goes down for 0.3–1.2 s and up for
/// 50–300 ms, again and again: each time down, its election timer may fire; each time
/// up, it hears the leader. The leader and the other follower never lose touch, so no
/// election is ever needed: the leader and every server's term must stay what they were,
/// sampled every 10 ms.
///
/// With `pre_vote` off, the flapping server raises its term each time it times out, and
/// each time it comes back the leader steps down: the term climbs, and the test fails.
pub(crate) async fn prevote_terms_stay_put_under_flapping_link_2e() {
    let servers = 3;
    let cfg = Config::with_options(servers, false, Applier::Plain, Options::ALL);
    cfg.begin("Test (2E): Pre-Vote: terms stay put under a flapping link");
    cfg.one(random_command(), servers, true).await;
    let leader = cfg.check_one_leader().await;
    let (term, _) = cfg.state(leader);
    let flapping = (leader + 1 + labrpc::rng().random_range(0..2)) % servers;
    let end = labrpc::now() + Duration::from_secs(20);
    while labrpc::now() < end {
        cfg.disconnect(flapping);
        let down = Duration::from_millis(labrpc::rng().random_range(300..1200));
        let moved = eventually(down, || highest_term(&cfg) != term).await;
        cfg.connect(flapping);
        let up = Duration::from_millis(labrpc::rng().random_range(50..300));
        let moved = moved || eventually(up, || highest_term(&cfg) != term).await;
        if moved {
            panic!(
                "the highest term moved from {term} to {} while only S{flapping}'s link \
                 flapped (S{leader} and the other follower never lost touch): with Pre-Vote a \
                 server raises its term only once a majority granted its pre-vote \
                 (dissertation §9.6)",
                highest_term(&cfg)
            );
        }
    }
    cfg.one(random_command(), servers, true).await;
    if leader_now(&cfg) != Some((leader, term)) {
        panic!(
            "S{leader} no longer leads term {term} ({:?}) although it never lost touch with a \
             majority",
            leader_now(&cfg)
        );
    }
    cfg.end();
}

/// **CheckQuorum: a leader that cannot reach a majority steps down within two election
/// timeouts (dissertation §6.2).**
///
/// Five servers. The leader is cut off, first alone, then with one follower (it still
/// hears that one, but two of five are no majority). Within 2 s (the dissertation: once
/// "an election timeout elapses without a successful round of heartbeats to a majority";
/// the check falls due at most one election timeout after the cut, and covers at most one
/// more: under 2 s for any timeout below 1 s, the tester's election timeout) it must no
/// longer claim to lead. The majority elects a leader meanwhile; after healing, all five
/// agree. Four rounds.
///
/// With `check_quorum` off, the cut-off leader keeps claiming leadership: the test fails in
/// the first round.
pub(crate) async fn check_quorum_cut_off_leader_steps_down_2e() {
    let servers = 5;
    let cfg = Config::with_options(servers, false, Applier::Plain, Options::ALL);
    cfg.begin("Test (2E): CheckQuorum: a leader cut off from a majority steps down");
    cfg.one(random_command(), servers, true).await;
    for round in 0..4 {
        let leader = cfg.check_one_leader().await;
        let mut minority = vec![leader];
        if round % 2 == 1 {
            minority.push((leader + 1) % servers);
        }
        let majority: Vec<usize> = (0..servers).filter(|i| !minority.contains(i)).collect();
        cfg.partition(&[&minority, &majority]);
        let stepped_down = eventually(2 * ELECTION_TIMEOUT, || !cfg.state(leader).1).await;
        if !stepped_down {
            panic!(
                "S{leader}, cut off with {minority:?} (no majority of {servers}), still claims to \
                 lead term {} {:?} later: with CheckQuorum a leader that has not heard from a \
                 majority for an election timeout steps down (dissertation §6.2)",
                cfg.state(leader).0,
                2 * ELECTION_TIMEOUT
            );
        }
        cfg.one_within(&majority, random_command(), majority.len(), true)
            .await;
        cfg.partition(&[&(0..servers).collect::<Vec<_>>()]);
        cfg.one(random_command(), servers, true).await;
    }
    cfg.end();
}

/// **Leader stickiness: servers that heard from a live leader recently grant no vote and
/// keep their term (dissertation §4.2.3, part of CheckQuorum).**
///
/// Five servers, Pre-Vote off (it would hide what this test looks at). The link between
/// the leader and one follower is cut, both ways; that follower reaches the three others.
/// It hears no heartbeat, times out, and asks the others for votes in ever higher terms.
/// They heard from the leader within a minimum election timeout, so they ignore it: for
/// 5 s the leader keeps leading its term, and the three keep that term. Then the link
/// heals and all five agree. Three rounds.
///
/// With `check_quorum` off, the three adopt the candidate's term and refuse the leader's
/// AppendEntries: the leader steps down within a second, and the test fails.
pub(crate) async fn stickiness_partially_cut_off_server_cannot_depose_leader_2e() {
    let servers = 5;
    let options = Options {
        pre_vote: false,
        ..Options::ALL
    };
    let cfg = Config::with_options(servers, false, Applier::Plain, options);
    cfg.begin(
        "Test (2E): leader stickiness: a server cut off from the leader alone cannot depose it",
    );
    cfg.one(random_command(), servers, true).await;
    for round in 1..=3 {
        let leader = cfg.check_one_leader().await;
        let (term, _) = cfg.state(leader);
        let cut = (leader + round) % servers;
        cfg.set_link(leader, cut, false);
        let others: Vec<usize> = (0..servers).filter(|&i| i != leader && i != cut).collect();
        let disrupted = eventually(Duration::from_secs(5), || {
            !cfg.state(leader).1
                || cfg.state(leader).0 != term
                || others.iter().any(|&i| cfg.state(i).0 != term)
        })
        .await;
        if disrupted {
            let terms: Vec<String> = (0..servers)
                .map(|i| format!("S{i} term {}", cfg.state(i).0))
                .collect();
            panic!(
                "S{cut}, cut off from leader S{leader} alone, disrupted term {term} ({}; S{leader} \
                 leads: {}): a server that heard from a live leader within a minimum election \
                 timeout neither grants a vote nor adopts the candidate's term (leader \
                 stickiness, dissertation §4.2.3)",
                terms.join(", "),
                cfg.state(leader).1
            );
        }
        cfg.set_link(leader, cut, true);
        cfg.one(random_command(), servers, true).await;
    }
    cfg.end();
}

/// **Leadership transfer to an up-to-date follower completes within an election timeout,
/// and the leader accepts no command meanwhile (dissertation §3.10).**
///
/// Five servers. Six times, the leader is asked to hand leadership to a random other
/// server: `transfer_leadership` must return true, `start` on the old leader must return
/// `None` at once, and the target must lead within 1 s (the tester's election timeout;
/// the reference needs one round trip and an election: a few milliseconds). Then all five
/// agree on a command.
///
/// With transfer unimplemented (`transfer_leadership` returning false, as the skeleton's),
/// the test fails in the first round; with a leader that keeps accepting commands, at the
/// `start` check.
pub(crate) async fn transfer_to_up_to_date_follower_2e() {
    let servers = 5;
    let cfg = Config::with_options(servers, false, Applier::Plain, Options::ALL);
    cfg.begin("Test (2E): leadership transfer to an up-to-date follower");
    cfg.one(random_command(), servers, true).await;
    for _ in 0..6 {
        let leader = cfg.check_one_leader().await;
        let target = (leader + labrpc::rng().random_range(1..servers)) % servers;
        transfer(&cfg, leader, target).await;
        cfg.one(random_command(), servers, true).await;
    }
    cfg.end();
}

/// Asks `leader` to hand leadership to `target`, checks that it accepts no command at
/// once, and that `target` leads within [`ELECTION_TIMEOUT`].
async fn transfer(cfg: &Config, leader: usize, target: usize) {
    if !cfg.transfer_leadership(leader, target) {
        panic!(
            "S{leader}.transfer_leadership(S{target}) returned false, but S{leader} leads \
             (term {}) and S{target} is another server: the transfer should have started",
            cfg.state(leader).0
        );
    }
    if let Some((index, _)) = cfg.start(leader, random_command()) {
        panic!(
            "S{leader} accepted a command (at index {index}) right after starting to hand \
             leadership to S{target}: a leader accepts no command during a transfer \
             (dissertation §3.10), or the command would likely be lost"
        );
    }
    let done = eventually(ELECTION_TIMEOUT, || cfg.state(target).1).await;
    if !done {
        panic!(
            "S{target} did not lead within {ELECTION_TIMEOUT:?} of S{leader}.transfer_leadership\
             (S{target}) (now S{target} is in term {}, {:?} leads): once the target's log \
             matches, the leader sends it TimeoutNow and the target stands at once, with a \
             RequestVote the others grant despite leader stickiness (dissertation §3.10)",
            cfg.state(target).0,
            leader_now(cfg)
        );
    }
}

/// **Leadership transfer to a lagging follower catches it up first (dissertation §3.10).**
///
/// Five servers. A follower is disconnected while 30 commands commit, reconnected, and at
/// that instant the leader is asked to hand leadership to it. The leader must first bring
/// its log up to date (its election could not succeed otherwise, §5.4.1), then send
/// TimeoutNow: the target leads within 1 s, holding every committed command. Three rounds.
///
/// With a TimeoutNow sent at once, the target stands with a stale log, the others refuse
/// it, and another server wins: the test fails.
pub(crate) async fn transfer_catches_up_lagging_target_2e() {
    let servers = 5;
    let cfg = Config::with_options(servers, false, Applier::Plain, Options::ALL);
    cfg.begin("Test (2E): leadership transfer to a lagging follower catches it up first");
    cfg.one(random_command(), servers, true).await;
    for _ in 0..3 {
        let leader = cfg.check_one_leader().await;
        let target = (leader + labrpc::rng().random_range(1..servers)) % servers;
        cfg.disconnect(target);
        let mut last = 0;
        for _ in 0..30 {
            last = cfg.one(random_command(), servers - 1, true).await;
        }
        cfg.connect(target);
        transfer(&cfg, leader, target).await;
        let index = cfg.one(random_command(), servers, true).await;
        if cfg.n_committed(last).0 < servers || index <= last {
            panic!("S{target} leads but lacks committed entries up to index {last}");
        }
    }
    cfg.end();
}

/// **A leadership transfer to an unreachable server is abandoned after an election
/// timeout, and the leader accepts commands again (dissertation §3.10).**
///
/// Three servers. The leader is asked to hand leadership to a follower that is
/// disconnected. It accepts no command at once; within 1 s (the tester's election timeout;
/// the dissertation: "if the transfer does not complete within an election timeout, the
/// leader aborts the transfer and resumes accepting client requests") it must accept one,
/// and commit it with the other follower. Three rounds.
///
/// With a transfer never abandoned, the leader refuses commands for good: the test fails.
pub(crate) async fn transfer_to_unreachable_target_is_abandoned_2e() {
    let servers = 3;
    let cfg = Config::with_options(servers, false, Applier::Plain, Options::ALL);
    cfg.begin("Test (2E): a transfer to an unreachable server is abandoned");
    cfg.one(random_command(), servers, true).await;
    for _ in 0..3 {
        let leader = cfg.check_one_leader().await;
        let target = (leader + 1 + labrpc::rng().random_range(0..2)) % servers;
        cfg.disconnect(target);
        if !cfg.transfer_leadership(leader, target) {
            panic!(
                "S{leader}.transfer_leadership(S{target}) returned false, but S{leader} leads: \
                 the transfer should have started (and be abandoned later)"
            );
        }
        if cfg.start(leader, random_command()).is_some() {
            panic!(
                "S{leader} accepted a command right after starting to hand leadership to \
                 S{target}: a leader accepts no command during a transfer (dissertation §3.10)"
            );
        }
        let x = random_command();
        let mut accepted = None;
        let resumed = eventually(ELECTION_TIMEOUT, || {
            accepted = cfg.start(leader, x);
            accepted.is_some()
        })
        .await;
        let Some((index, _)) = accepted.filter(|_| resumed) else {
            panic!(
                "S{leader} still refused commands {ELECTION_TIMEOUT:?} after starting a transfer \
                 to S{target}, which is unreachable (S{leader} leads: {}): a transfer that has \
                 not completed within an election timeout is abandoned, and the leader accepts \
                 commands again (dissertation §3.10)",
                cfg.state(leader).1
            );
        };
        if cfg.wait(index, servers - 1, None).await != Some(x) {
            panic!("S{leader} accepted command {x} at index {index}, but another committed there");
        }
        cfg.connect(target);
        cfg.one(random_command(), servers, true).await;
    }
    cfg.end();
}

/// **Leadership transfers under faults: an unreliable network, crashes, and a transfer
/// every few hundred milliseconds; nothing committed is lost (dissertation §3.10).**
///
/// Five servers on an unreliable network. Twenty rounds: a follower may crash or restart;
/// the leader is asked to hand over to a random running server; then a command must
/// commit on every running, connected server. A transfer may fail here (a TimeoutNow lost,
/// an election split): then the leader takes commands again after an election timeout,
/// or another server leads. The monitors check that no term has two leaders and no
/// committed entry changes; at the end, every server agrees.
///
/// With transfer unimplemented, `transfer_leadership` returns false from a server that
/// leads: the test fails in the first round.
pub(crate) async fn transfers_under_faults_unreliable_2e() {
    let servers = 5;
    let cfg = Config::with_options(servers, true, Applier::Plain, Options::ALL);
    cfg.begin("Test (2E): leadership transfers under crashes and an unreliable network");
    cfg.one(random_command(), servers, true).await;
    let mut crashed: Option<usize> = None;
    let mut transfers_started = 0;
    for _ in 0..20 {
        let leader = cfg.check_one_leader().await;
        match crashed {
            Some(i) if labrpc::rng().random_bool(0.5) => {
                cfg.start1(i);
                cfg.connect(i);
                crashed = None;
            }
            None if labrpc::rng().random_bool(0.3) => {
                let i = (leader + labrpc::rng().random_range(1..servers)) % servers;
                cfg.crash1(i);
                crashed = Some(i);
            }
            _ => {}
        }
        let others: Vec<usize> = (0..servers)
            .filter(|&i| i != leader && Some(i) != crashed)
            .collect();
        let target = others[labrpc::rng().random_range(0..others.len())];
        if cfg.transfer_leadership(leader, target) {
            transfers_started += 1;
        } else if cfg.state(leader).1 {
            panic!(
                "S{leader}.transfer_leadership(S{target}) returned false, but S{leader} leads \
                 term {}: the transfer should have started",
                cfg.state(leader).0
            );
        }
        let running = servers - usize::from(crashed.is_some());
        cfg.one(random_command(), running, true).await;
    }
    if transfers_started == 0 {
        panic!("no transfer started in twenty rounds: every leader refused");
    }
    if let Some(i) = crashed {
        cfg.start1(i);
        cfg.connect(i);
    }
    cfg.one(random_command(), servers, true).await;
    cfg.end();
}
