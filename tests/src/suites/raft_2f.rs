//! 2F: single-server membership changes (beyond the course), as the Raft dissertation
//! (Ongaro, 2014, §4.1–4.3) specifies them: adding a server once it has caught up,
//! removing a follower or the leader, one change at a time, the latest configuration in
//! force whether committed or not, configurations that survive restarts and snapshots, and
//! removed servers that cannot disrupt. The handout is `docs/lab-extensions.md`.
//!
//! Every test runs with [`Options::ALL`] (Pre-Vote and CheckQuorum keep removed servers
//! from disrupting, §4.2.3; the no-op lets a new leader change the configuration at once).
//! Beside the invariant monitors of every test, the membership monitor checks that the
//! committed configurations change one server at a time. Each test's rustdoc says how it
//! fails when its rule is broken.

use std::time::Duration;

use raft::Options;
use rand::RngExt;

use crate::raft_harness::{Applier, Config, ELECTION_TIMEOUT, eventually};

/// A random command value.
fn random_command() -> u64 {
    labrpc::rng().random_range(0..1u64 << 63)
}

/// Asks the leader to remove `server` and waits until the change is committed: every
/// running, connected server of the new configuration uses it, and a command after it
/// commits on all of them. Returns the new configuration.
async fn remove(cfg: &Config, server: usize) -> Vec<usize> {
    let leader = cfg.check_one_leader().await;
    let before = cfg.members(leader);
    if !cfg.remove_server(leader, server) {
        panic!(
            "S{leader}.remove_server(S{server}) returned false: S{leader} leads term {}, S{server} \
             is a member of its configuration {before:?}, and no other change is under way",
            cfg.state(leader).0
        );
    }
    let after: Vec<usize> = before.iter().copied().filter(|&s| s != server).collect();
    settle(cfg, &after).await;
    after
}

/// Asks the leader to add `server` and waits until the change is committed (as
/// [`remove`]). Returns the new configuration.
async fn add(cfg: &Config, server: usize) -> Vec<usize> {
    let leader = cfg.check_one_leader().await;
    let before = cfg.members(leader);
    if !cfg.add_server(leader, server) {
        panic!(
            "S{leader}.add_server(S{server}) returned false: S{leader} leads term {}, S{server} \
             is not a member of its configuration {before:?}, and no other change is under way",
            cfg.state(leader).0
        );
    }
    let mut after = before.clone();
    after.push(server);
    after.sort_unstable();
    settle(cfg, &after).await;
    after
}

/// Waits until every running, connected member of `config` uses it (within 5 s: catching
/// a server up takes a few round trips, a snapshot at most one), then commits a command on
/// all of them.
async fn settle(cfg: &Config, config: &[usize]) {
    let reached: Vec<usize> = config
        .iter()
        .copied()
        .filter(|&i| cfg.is_up(i) && cfg.is_connected(i))
        .collect();
    let uses_it = |i: usize| cfg.members(i) == config;
    if !eventually(Duration::from_secs(5), || {
        reached.iter().all(|&i| uses_it(i))
    })
    .await
    {
        let seen: Vec<String> = reached
            .iter()
            .map(|&i| format!("S{i} uses {:?}", cfg.members(i)))
            .collect();
        panic!(
            "5 s after the change to {config:?} started, not every member uses it ({}): a server \
             uses the latest configuration in its log as soon as it has the entry (dissertation \
             §4.1), and a leader adds a new server once it has caught up (§4.2.1)",
            seen.join(", ")
        );
    }
    cfg.one_within(config, random_command(), reached.len(), true)
        .await;
}

/// **Adding a server: a fresh machine catches up (by snapshot: it is far behind) while it
/// neither votes nor counts, then joins (dissertation §4.2.1).**
///
/// Five servers with snapshots; S4 is a fresh machine (`Options::joining`, never
/// connected). S4 is removed from the initial configuration, 60 commands commit (the log
/// is compacted several times), and S4 is connected and added. Within 5 s every member
/// uses the configuration with S4, and a command commits on all five. Then the same with
/// S1, crashed while removed and restarted far behind with what it had stored; then a
/// server cut off during its addition: the change waits, and completes once it returns.
/// Last, a server cut off for good during its addition: within 10 s the leader gives the
/// addition up, and accepts the removal of another server.
///
/// With `add_server` refused (the skeleton's `false`), the test fails at once; with a new
/// server that counts before it has caught up, the cut-off server is in the configuration
/// 1 s after its addition; with a catch-up never given up, the last removal is refused.
pub(crate) async fn add_server_catches_up_then_counts_2f() {
    let servers = 5;
    let fresh = 4;
    let cfg = Config::with_spares(servers, false, Applier::Snapshot, Options::ALL, &[fresh]);
    cfg.begin("Test (2F): a new server catches up by snapshot, then counts");
    cfg.one(random_command(), servers - 1, true).await;
    for joiner in [fresh, 1] {
        remove(&cfg, joiner).await;
        if joiner != fresh {
            cfg.crash1(joiner);
        }
        for _ in 0..60 {
            cfg.one_within(
                &(0..servers).filter(|&i| i != joiner).collect::<Vec<_>>(),
                random_command(),
                servers - 1,
                true,
            )
            .await;
        }
        if joiner != fresh {
            cfg.start1(joiner);
        }
        cfg.connect(joiner);
        add(&cfg, joiner).await;
    }
    // A server that cannot be reached while it is added: the change waits for it.
    let leader = cfg.check_one_leader().await;
    let joiner = (leader + 1) % servers;
    remove(&cfg, joiner).await;
    cfg.disconnect(joiner);
    if !cfg.add_server(leader, joiner) {
        panic!("S{leader}.add_server(S{joiner}) returned false");
    }
    labrpc::sleep(Duration::from_secs(1)).await;
    if cfg.members(leader).contains(&joiner) {
        panic!(
            "S{leader} put S{joiner} in its configuration although S{joiner} was unreachable and \
             could not have caught up: a new server joins only once its log is up to date \
             (dissertation §4.2.1), or the cluster may stop until it is"
        );
    }
    cfg.connect(joiner);
    let all: Vec<usize> = (0..servers).collect();
    settle(&cfg, &all).await;
    // A server that never catches up is given up: another change is accepted.
    let leader = cfg.check_one_leader().await;
    let joiner = (leader + 1) % servers;
    remove(&cfg, joiner).await;
    cfg.disconnect(joiner);
    let leader = cfg.check_one_leader().await;
    if !cfg.add_server(leader, joiner) {
        panic!("S{leader}.add_server(S{joiner}) returned false");
    }
    let other = (joiner + 1..joiner + servers)
        .map(|i| i % servers)
        .find(|&i| i != leader)
        .expect("five servers");
    let given_up = eventually(GIVE_UP_WITHIN, || cfg.remove_server(leader, other)).await;
    if !given_up {
        panic!(
            "S{leader} was asked to add S{joiner}, which cannot be reached, and \
             {GIVE_UP_WITHIN:?} later it still refuses to remove S{other}: a leader gives up a \
             server that does not catch up (dissertation §4.2.1), or a dead new server holds \
             every later change up"
        );
    }
    let config: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&i| i != joiner && i != other)
        .collect();
    settle(&cfg, &config).await;
    cfg.end();
}

/// How long a leader may try to catch up a server it cannot reach before it gives the
/// addition up (and accepts another change).
const GIVE_UP_WITHIN: Duration = Duration::from_secs(10);

/// **Removing a follower: it no longer counts (dissertation §4.2).**
///
/// Five servers. A follower F is removed; the four others commit commands without it.
/// Then the leader, F and one other member are cut off from the two last members: the
/// leader's new command must not commit for 2 s (a majority of the four is three, and F
/// is not one of them). After healing, the four agree. Three rounds, a different follower
/// each time (added back in between, with its log as it was).
///
/// With a leader that counts every server it knows (Figure 2's majority of the whole
/// cluster) and still sends F the entries, the command commits with F's copy: the test
/// fails. (A leader that counts every server but sends nothing to removed ones commits
/// nothing here; the faults test catches that one, as a cluster that cannot commit.)
pub(crate) async fn removed_follower_does_not_count_2f() {
    let servers = 5;
    let cfg = Config::with_options(servers, false, Applier::Plain, Options::ALL);
    cfg.begin("Test (2F): a removed follower no longer counts toward a majority");
    cfg.one(random_command(), servers, true).await;
    for round in 1..=3 {
        let leader = cfg.check_one_leader().await;
        let removed = (leader + round) % servers;
        let config = remove(&cfg, removed).await;
        let others: Vec<usize> = config.iter().copied().filter(|&i| i != leader).collect();
        let with_leader = [leader, removed, others[0]];
        let away = [others[1], others[2]];
        cfg.partition(&[&with_leader, &away]);
        let x = random_command();
        let Some((index, _)) = cfg.start(leader, x) else {
            panic!("S{leader}, the leader a moment ago, refused start() although nothing changed");
        };
        labrpc::sleep(Duration::from_secs(2)).await;
        let (count, value) = cfg.n_committed(index);
        if count > 0 && value == Some(x) {
            panic!(
                "command {x} at index {index} committed ({count} servers applied it) with only \
                 S{leader}, S{} and the removed S{removed} holding it: in configuration {config:?} \
                 a majority is three of its members, and a removed server counts toward no \
                 majority (dissertation §4.1)",
                others[0]
            );
        }
        cfg.partition(&[&(0..servers).collect::<Vec<_>>()]);
        cfg.one_within(&config, random_command(), config.len(), true)
            .await;
        add(&cfg, removed).await;
    }
    cfg.end();
}

/// **Removing the leader: it leads until the new configuration commits, then steps down,
/// and never leads again (dissertation §4.2.2).**
///
/// Five servers. The leader removes itself. Within 1 s of the request it no longer leads,
/// and a member of the new configuration does; for 3 s after that it never leads again and
/// the new leader's term holds (the removed server, left running and connected, times out
/// again and again; Pre-Vote and leader stickiness keep it from disrupting, §4.2.3). Two
/// rounds.
///
/// With a removed leader that keeps leading, the test fails at the first check.
pub(crate) async fn removed_leader_steps_down_2f() {
    let servers = 5;
    let cfg = Config::with_options(servers, false, Applier::Plain, Options::ALL);
    cfg.begin("Test (2F): a leader that removes itself steps down once the change commits");
    cfg.one(random_command(), servers, true).await;
    let mut config: Vec<usize> = (0..servers).collect();
    for _ in 0..2 {
        let leader = cfg.check_one_leader().await;
        if !cfg.remove_server(leader, leader) {
            panic!("S{leader}.remove_server(S{leader}) (itself) returned false");
        }
        config.retain(|&s| s != leader);
        let handed_over = eventually(ELECTION_TIMEOUT, || {
            !cfg.state(leader).1 && config.iter().any(|&i| cfg.state(i).1)
        })
        .await;
        if !handed_over {
            panic!(
                "S{leader} removed itself, and {ELECTION_TIMEOUT:?} later it leads: {}, a member \
                 of {config:?} leads: {}. A leader that is not in the configuration steps down \
                 once that configuration is committed (dissertation §4.2.2)",
                cfg.state(leader).1,
                config.iter().any(|&i| cfg.state(i).1)
            );
        }
        let new_leader = *config.iter().find(|&&i| cfg.state(i).1).expect("checked");
        let (term, _) = cfg.state(new_leader);
        let disrupted = eventually(Duration::from_secs(3), || {
            cfg.state(leader).1 || cfg.state(new_leader) != (term, true)
        })
        .await;
        if disrupted {
            panic!(
                "within 3 s of S{new_leader} leading term {term}, the removed S{leader} led again \
                 ({}) or S{new_leader} lost its term (now {:?}): a removed server neither stands \
                 (it is not in its configuration) nor disrupts (§4.2.3)",
                cfg.state(leader).1,
                cfg.state(new_leader)
            );
        }
        cfg.one_within(&config, random_command(), config.len(), true)
            .await;
    }
    cfg.end();
}

/// **One change at a time (dissertation §4.1).**
///
/// Five servers. The leader starts removing one server; at once (the change is not
/// committed yet) a second removal and an addition must be refused. Once the first is
/// committed, the second is accepted. Three rounds.
///
/// With a leader that accepts a change while another is uncommitted, the test fails at
/// the second request (and, if the two changes commit, so does the membership monitor).
pub(crate) async fn one_change_at_a_time_2f() {
    let servers = 5;
    let cfg = Config::with_options(servers, false, Applier::Plain, Options::ALL);
    cfg.begin("Test (2F): a change is refused while another is uncommitted");
    cfg.one(random_command(), servers, true).await;
    for _ in 0..3 {
        let leader = cfg.check_one_leader().await;
        let members = cfg.members(leader);
        let others: Vec<usize> = members.iter().copied().filter(|&i| i != leader).collect();
        let (first, second) = (others[0], others[1]);
        if !cfg.remove_server(leader, first) {
            panic!("S{leader}.remove_server(S{first}) returned false");
        }
        if cfg.remove_server(leader, second) || cfg.add_server(leader, first) {
            panic!(
                "S{leader} accepted a second configuration change while its removal of S{first} \
                 was uncommitted: one change at a time, or two configurations two servers apart \
                 may both hold majorities (dissertation §4.1)"
            );
        }
        let config: Vec<usize> = members.iter().copied().filter(|&i| i != first).collect();
        settle(&cfg, &config).await;
        remove(&cfg, second).await;
        for back in [first, second] {
            add(&cfg, back).await;
        }
    }
    cfg.end();
}

/// **A new leader changes nothing until an entry of its own term has committed (the
/// errata of the dissertation's §4.1).**
///
/// Five servers. Ten rounds: a command commits on all five (at index `M`); the leader is
/// cut off; the tester watches every millisecond for the new leader among the four others,
/// and cuts it off the moment it sees it, before its no-op (at `M + 1`) can have gone a
/// round trip. 100 ms later, if no server has applied index `M + 1` (the no-op is not
/// committed), the new leader must refuse to remove a server. A round in which the no-op
/// had already committed proves nothing and is skipped (every message takes 5 ms on the
/// wire here, and every round of seeds 1..=100 was checked). Then everyone is reconnected
/// and a command commits.
///
/// Without the errata's rule, a leader that inherits a configuration entry an earlier
/// leader never committed can start a change of its own before its no-op commits, and two
/// configurations two servers apart can elect two leaders in one term (handout, section
/// 14). A leader that accepts the change here fails the test.
pub(crate) async fn no_change_before_an_entry_of_the_leaders_term_commits_2f() {
    let servers = 5;
    let cfg = Config::with_options(servers, false, Applier::Plain, Options::ALL);
    // A round trip takes 10 ms: the tester sees the new leader before its no-op commits.
    cfg.set_latency(Duration::from_millis(5));
    cfg.begin("Test (2F): a new leader changes nothing before an entry of its term commits");

    for _ in 0..10 {
        let last = cfg.one(random_command(), servers, true).await;
        let old = cfg.check_one_leader().await;
        let (old_term, _) = cfg.state(old);
        cfg.disconnect(old);
        let others: Vec<usize> = (0..servers).filter(|&i| i != old).collect();
        let deadline = labrpc::now() + Duration::from_secs(5);
        let leader = loop {
            if let Some(&i) = others.iter().find(|&&i| {
                let (term, leads) = cfg.state(i);
                leads && term > old_term
            }) {
                break i;
            }
            if labrpc::now() >= deadline {
                panic!("no server led within 5 s of cutting off the leader S{old}");
            }
            labrpc::sleep(Duration::from_millis(1)).await;
        };
        cfg.disconnect(leader);
        labrpc::sleep(Duration::from_millis(100)).await;
        let (noop_applied, _) = cfg.n_committed(last + 1);
        if noop_applied == 0 && cfg.state(leader).1 {
            let target = *others.iter().find(|&&i| i != leader).expect("four others");
            if cfg.remove_server(leader, target) {
                panic!(
                    "S{leader}, leader for 100 ms and cut off before anything of its term could \
                     commit, accepted to remove S{target}: a leader starts no configuration \
                     change until an entry of its own term has committed (the dissertation's \
                     errata to §4.1; the leader's no-op makes that happen a round trip after \
                     the election)"
                );
            }
        }
        cfg.connect(old);
        cfg.connect(leader);
        cfg.one(random_command(), servers, true).await;
    }
    cfg.end();
}

/// **The latest configuration is in force before it commits, and a server falls back when
/// it is cut off (dissertation §4.1).**
///
/// Five servers. The leader and one follower are cut off from the three others, and the
/// leader is asked to remove a server of the majority side: both cut-off servers hold the
/// new configuration at once (uncommitted, it cannot commit) and must use it
/// (`members()`). The majority elects a leader and commits commands; when the partition
/// heals, the two lose the uncommitted entry and must use the five-server configuration
/// again. Three rounds.
///
/// With a configuration applied only on commit, `members()` does not change at the first
/// check; with one that does not fall back when its entry is cut off, it does not change
/// back at the second.
pub(crate) async fn uncommitted_configuration_is_used_and_dropped_2f() {
    let servers = 5;
    let cfg = Config::with_options(servers, false, Applier::Plain, Options::ALL);
    cfg.begin("Test (2F): an uncommitted configuration is used, and dropped with its entry");
    cfg.one(random_command(), servers, true).await;
    let all: Vec<usize> = (0..servers).collect();
    for _ in 0..3 {
        let leader = cfg.check_one_leader().await;
        let follower = (leader + 1) % servers;
        let majority: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&i| i != leader && i != follower)
            .collect();
        let target = majority[labrpc::rng().random_range(0..majority.len())];
        cfg.partition(&[&[leader, follower], &majority]);
        if !cfg.remove_server(leader, target) {
            panic!("S{leader}.remove_server(S{target}) returned false");
        }
        let without: Vec<usize> = all.iter().copied().filter(|&i| i != target).collect();
        let used = eventually(Duration::from_millis(500), || {
            cfg.members(leader) == without && cfg.members(follower) == without
        })
        .await;
        if !used {
            panic!(
                "S{leader} (leader) appended configuration {without:?} and S{follower} received \
                 it, but they use {:?} and {:?}: a server uses the latest configuration in its \
                 log, committed or not (dissertation §4.1)",
                cfg.members(leader),
                cfg.members(follower)
            );
        }
        cfg.one_within(&majority, random_command(), majority.len(), true)
            .await;
        cfg.partition(&[&all]);
        let dropped = eventually(Duration::from_secs(2), || {
            cfg.members(leader) == all && cfg.members(follower) == all
        })
        .await;
        if !dropped {
            panic!(
                "S{leader} and S{follower} lost the uncommitted entry holding {without:?} to the \
                 new leader's log, but use {:?} and {:?}, not the configuration before it \
                 ({all:?}): when a configuration's entry is cut off, a server falls back to the \
                 latest one left in its log (dissertation §4.1)",
                cfg.members(leader),
                cfg.members(follower)
            );
        }
        cfg.one(random_command(), servers, true).await;
    }
    cfg.end();
}

/// **Configurations survive restarts and snapshots (dissertation §4.1, §5.1).**
///
/// Five servers with snapshots. Two servers are removed, one after the other; 40
/// commands commit (compacting both configuration entries away); then every server
/// crashes and restarts. Each member must use the three-server configuration again, and
/// the removed two (restarted too) must not count: with the three members' leader cut off
/// with the two removed servers, nothing commits for 2 s. Then all agree.
///
/// With a configuration kept only in memory, or lost when its entry is compacted, the
/// restarted servers use all five, and the test fails at the first check.
pub(crate) async fn configuration_survives_restart_and_snapshot_2f() {
    let servers = 5;
    let cfg = Config::with_options(servers, false, Applier::Snapshot, Options::ALL);
    cfg.begin("Test (2F): configurations survive restarts and snapshots");
    cfg.one(random_command(), servers, true).await;
    let leader = cfg.check_one_leader().await;
    let removed = [(leader + 1) % servers, (leader + 2) % servers];
    for &r in &removed {
        remove(&cfg, r).await;
    }
    let config: Vec<usize> = (0..servers).filter(|i| !removed.contains(i)).collect();
    for _ in 0..40 {
        cfg.one_within(&config, random_command(), config.len(), true)
            .await;
    }
    for i in 0..servers {
        cfg.crash1(i);
    }
    for i in 0..servers {
        cfg.start1(i);
        cfg.connect(i);
    }
    for &i in &config {
        let members = cfg.members(i);
        if members != config {
            panic!(
                "S{i} restarted using configuration {members:?}, but {config:?} was committed \
                 before the crash: a configuration is part of the log, saved with it, and kept \
                 with the snapshot when its entry is compacted"
            );
        }
    }
    let leader = cfg.check_one_leader().await;
    if !config.contains(&leader) {
        panic!("S{leader}, removed before the restart, leads after it");
    }
    let others: Vec<usize> = config.iter().copied().filter(|&i| i != leader).collect();
    cfg.partition(&[&[leader, removed[0], removed[1]], &others]);
    let x = random_command();
    if let Some((index, _)) = cfg.start(leader, x) {
        labrpc::sleep(Duration::from_secs(2)).await;
        if cfg.n_committed(index).1 == Some(x) {
            panic!(
                "command {x} committed at index {index} with S{leader} and the removed \
                 {removed:?} alone, after a restart: the removed servers counted again"
            );
        }
    }
    cfg.partition(&[&(0..servers).collect::<Vec<_>>()]);
    cfg.one_within(&config, random_command(), config.len(), true)
        .await;
    cfg.end();
}

/// **Removed servers that keep running cannot disrupt the cluster (dissertation §4.2.3).**
///
/// Five servers. Two followers are removed before they receive the new configurations
/// (cut off, then reconnected): they still believe they are members, time out again and
/// again, and ask for votes in the cluster they no longer belong to. For 5 s the leader of
/// the three members keeps its term, and the removed servers never lead. Then commands
/// commit on the three.
///
/// Without Pre-Vote and leader stickiness (Figure 2's elections), the removed servers'
/// RequestVotes raise the members' terms and depose the leader: the test fails.
pub(crate) async fn removed_servers_cannot_disrupt_2f() {
    let servers = 5;
    let cfg = Config::with_options(servers, false, Applier::Plain, Options::ALL);
    cfg.begin("Test (2F): removed servers left running cannot disrupt the cluster");
    cfg.one(random_command(), servers, true).await;
    let leader = cfg.check_one_leader().await;
    let removed = [(leader + 1) % servers, (leader + 2) % servers];
    for &r in &removed {
        cfg.disconnect(r);
    }
    let config: Vec<usize> = (0..servers).filter(|i| !removed.contains(i)).collect();
    for &r in &removed {
        remove(&cfg, r).await;
    }
    for _ in 0..5 {
        cfg.one_within(&config, random_command(), config.len(), true)
            .await;
    }
    for &r in &removed {
        cfg.connect(r);
    }
    let leader = cfg.check_one_leader().await;
    let (term, _) = cfg.state(leader);
    let disrupted = eventually(Duration::from_secs(5), || {
        cfg.state(leader) != (term, true)
            || config.iter().any(|&i| cfg.state(i).0 != term)
            || removed.iter().any(|&r| cfg.state(r).1)
    })
    .await;
    if disrupted {
        let states: Vec<String> = (0..servers)
            .map(|i| format!("S{i} {:?}", cfg.state(i)))
            .collect();
        panic!(
            "the removed {removed:?}, left running, disrupted the cluster within 5 s of S{leader} \
             leading term {term} ({}): with Pre-Vote and leader stickiness the members ignore \
             them while their leader is live (dissertation §4.2.3)",
            states.join(", ")
        );
    }
    cfg.one_within(&config, random_command(), config.len(), true)
        .await;
    cfg.end();
}

/// **Membership changes under faults: crashes, partitions and an unreliable network
/// (dissertation §4.1–4.3).**
///
/// Five servers with snapshots, on an unreliable network. Thirty rounds: a random
/// follower may crash or come back; a server is removed (while there are more than
/// three) or a removed one is added back (with its log as it was); each change the leader accepts must
/// be in force on every running, connected member within 10 s, or have been dropped by a
/// new leader, and a command must then commit. The monitors check Election Safety, that
/// committed entries never change, and that committed configurations change one server at
/// a time; at the end every member agrees.
///
/// With changes refused (the skeleton), nothing changes and the test fails at the check
/// that the cluster changed at all.
pub(crate) async fn membership_changes_under_faults_unreliable_2f() {
    let servers = 5;
    let cfg = Config::with_options(servers, true, Applier::Snapshot, Options::ALL);
    cfg.begin("Test (2F): membership changes under crashes and an unreliable network");
    cfg.one(random_command(), servers, true).await;
    let mut crashed: Option<usize> = None;
    let mut changes = 0;
    for _ in 0..30 {
        let leader = cfg.check_one_leader().await;
        let members = cfg.members(leader);
        match crashed {
            Some(i) if labrpc::rng().random_bool(0.5) => {
                cfg.start1(i);
                cfg.connect(i);
                crashed = None;
            }
            None if labrpc::rng().random_bool(0.3) => {
                let followers: Vec<usize> =
                    members.iter().copied().filter(|&i| i != leader).collect();
                let i = followers[labrpc::rng().random_range(0..followers.len())];
                cfg.crash1(i);
                crashed = Some(i);
            }
            _ => {}
        }
        let outsiders: Vec<usize> = (0..servers).filter(|i| !members.contains(i)).collect();
        let accepted =
            if members.len() > 3 && (outsiders.is_empty() || labrpc::rng().random_bool(0.5)) {
                let candidates: Vec<usize> = members
                    .iter()
                    .copied()
                    .filter(|&i| i != leader && Some(i) != crashed)
                    .collect();
                let target = candidates[labrpc::rng().random_range(0..candidates.len())];
                cfg.remove_server(leader, target)
            } else if let Some(&target) = outsiders.iter().find(|&&i| Some(i) != crashed) {
                cfg.add_server(leader, target)
            } else {
                false
            };
        if accepted {
            changes += 1;
        }
        let leader = cfg.check_one_leader().await;
        let members = cfg.members(leader);
        let running = members.iter().filter(|&&i| cfg.is_up(i)).count();
        cfg.one_within(&members, random_command(), running, true)
            .await;
    }
    if changes == 0 {
        panic!("no configuration change was accepted in thirty rounds");
    }
    if let Some(i) = crashed {
        cfg.start1(i);
        cfg.connect(i);
    }
    let leader = cfg.check_one_leader().await;
    let members = cfg.members(leader);
    settle(&cfg, &members).await;
    cfg.end();
}
