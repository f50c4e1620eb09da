//! 4X (beyond the course): the sharded service with faults at the worst moments of a
//! migration, a group that misses several configurations, the controller's leader lost
//! in the middle of a rebalancing, clients that retry across a shard move, and minimal
//! transfers checked for real.
//!
//! Each test is registered, with a one-line description, in the `catalogue` crate.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};

use labrpc::tester::{Network, say};
use rand::RngExt;
use shardkv::{Config, Gid, NSHARDS};

use super::shardkv_4b::{check_and_append, keys, ms, put_all, spawn_appenders, stop_appenders};
use crate::shard_harness::ctrlers::Ctrlers;
use crate::shard_harness::groups::ShardConfig;
use crate::shard_harness::{NETWORK_LATENCY, SERVERS, fail, maxraftstate};

/// Joins and leaves that move shards back and forth between the three groups, ending with
/// all three in.
async fn migrations(cfg: &ShardConfig) {
    cfg.join(1).await;
    labrpc::sleep(ms(500)).await;
    cfg.join(2).await;
    labrpc::sleep(ms(500)).await;
    cfg.leave(0).await;
    labrpc::sleep(ms(500)).await;
    cfg.join(0).await;
    cfg.leave(1).await;
    labrpc::sleep(ms(500)).await;
    cfg.join(1).await;
    cfg.leave(2).await;
    labrpc::sleep(ms(500)).await;
    cfg.join(2).await;
    labrpc::sleep(ms(2000)).await;
}

/// **A request delivered again later, after its sender moved on, changes nothing: a
/// clerk's write applied at one group is recognised at the next (the duplicate table moved
/// with the shard), and a late copy of a request between groups (a pull, a deletion) is
/// ignored.**
///
/// Ten clients append to their keys while shards move between the three groups; one in
/// ten requests (of any kind: clerks', groups', Raft's) that reach a server is delivered
/// to it again up to 2 s later.
pub(crate) async fn stale_requests_during_migrations_4x() {
    let cfg = ShardConfig::new(SERVERS, false, Some(maxraftstate(100)));
    let mut ck = cfg.make_client(None);
    cfg.begin("Test (4X): stale duplicate requests during migrations");

    cfg.join(0).await;
    let n = 10;
    let ka = keys(n);
    let va = put_all(&mut ck, n, 5).await;

    cfg.stale_duplicates(100, 0..2000);
    let done = Arc::new(AtomicBool::new(false));
    let appenders = spawn_appenders(&cfg, &ka, &va, 5, Some(ms(10)), &done);
    migrations(&cfg).await;
    let va = stop_appenders(&done, appenders).await;
    cfg.stale_duplicates(0, 0..1);
    // The last copies land.
    labrpc::sleep(ms(2000)).await;

    for i in 0..n {
        ck.check(&ka[i], &va[i]).await;
    }
    cfg.end();
}

/// **A reply means the step is done and durable: a group that answered a pull, a
/// deletion or a clerk, and crashed at that instant, restarts from its persister knowing
/// it.**
///
/// Ten clients append while shards move; one in two hundred replies (of any kind) crashes
/// its server the instant it leaves, and the server restarts from its persister within
/// half a second. The controller's servers crash the same way.
pub(crate) async fn replies_survive_crash_after_reply_4x() {
    let cfg = ShardConfig::new(SERVERS, false, Some(maxraftstate(300)));
    let mut ck = cfg.make_client(None);
    cfg.begin("Test (4X): servers crash right after replying, during migrations");

    cfg.join(0).await;
    let n = 10;
    let ka = keys(n);
    let va = put_all(&mut ck, n, 5).await;

    cfg.crash_after_reply(&[], 5, 0..500);
    let done = Arc::new(AtomicBool::new(false));
    let appenders = spawn_appenders(&cfg, &ka, &va, 5, Some(ms(10)), &done);
    migrations(&cfg).await;
    cfg.stop_crashing_after_reply();
    // The last crashed servers come back.
    labrpc::sleep(ms(1000)).await;
    let va = stop_appenders(&done, appenders).await;

    for i in 0..n {
        ck.check(&ka[i], &va[i]).await;
    }
    cfg.end();
}

/// **A group that was down during several configuration changes goes through each of
/// them, in order, when it returns: it hands over the shards the first one takes from it
/// and takes back those a later one gives it.**
///
/// Three groups share the shards; group 102 shuts down; four configurations are made
/// while it is down (it leaves, joins again, group 100 leaves and joins again); then it
/// restarts, and every key must have its value.
pub(crate) async fn group_misses_several_configurations_4x() {
    let cfg = ShardConfig::new(SERVERS, false, Some(maxraftstate(1000)));
    let mut ck = cfg.make_client(None);
    cfg.begin("Test (4X): a group misses four configurations in a row");

    cfg.join(0).await;
    cfg.join(1).await;
    cfg.join(2).await;
    let n = 10;
    let ka = keys(n);
    let mut va = put_all(&mut ck, n, 20).await;
    for i in 0..n {
        ck.check(&ka[i], &va[i]).await;
    }
    let before = cfg.query_latest().await.num;

    cfg.shutdown_group(2);
    cfg.leave(2).await;
    cfg.join(2).await;
    cfg.leave(0).await;
    cfg.join(0).await;
    let after = cfg.query_latest().await.num;
    if after != before + 4 {
        fail!(
            "expected 4 new configurations while group 102 was down, the controller has {}",
            after - before
        );
    }
    labrpc::sleep(ms(1000)).await;
    cfg.start_group(2);

    check_and_append(&mut ck, &ka, &mut va, 20).await;
    for i in 0..n {
        ck.check(&ka[i], &va[i]).await;
    }
    cfg.end();
}

/// **The controller's leader may be lost in the middle of a Join or Leave: the change
/// takes effect once (its clerk retries it at the new leader), and the groups follow the
/// configurations from the new leader.**
///
/// Ten clients append on an unreliable network; five times, a Join or Leave is sent and,
/// within 50 ms, the controller's leader is shut down (and restarted half a second later).
/// Then the controller must hold exactly one configuration per change, and every key its
/// value.
pub(crate) async fn controller_leader_change_mid_rebalance_4x() {
    let cfg = ShardConfig::new(SERVERS, true, Some(maxraftstate(100)));
    let mut ck = cfg.make_client(None);
    cfg.begin("Test (4X): the controller's leader changes in the middle of rebalancing");

    cfg.join(0).await;
    let n = 10;
    let ka = keys(n);
    let va = put_all(&mut ck, n, 5).await;

    let done = Arc::new(AtomicBool::new(false));
    let appenders = spawn_appenders(&cfg, &ka, &va, 5, Some(ms(10)), &done);
    let changes: [(bool, usize); 5] = [(true, 1), (true, 2), (false, 0), (true, 0), (false, 1)];
    for (join, gi) in changes {
        let change = {
            let cfg = cfg.clone();
            labrpc::spawn(async move {
                if join {
                    cfg.join(gi).await;
                } else {
                    cfg.leave(gi).await;
                }
            })
        };
        labrpc::sleep(ms(labrpc::rng().random_range(0..50))).await;
        let ctrlers = cfg.ctrlers();
        if let Some(leader) = ctrlers.leader() {
            ctrlers.shutdown_server(leader);
            labrpc::sleep(ms(500)).await;
            ctrlers.start_server(leader);
            ctrlers.connect_all();
        }
        change.await.expect("the change completes");
        labrpc::sleep(ms(300)).await;
    }
    labrpc::sleep(ms(2000)).await;
    cfg.set_reliable(true);
    let va = stop_appenders(&done, appenders).await;

    let latest = cfg.query_latest().await;
    let requested = 1 + changes.len() as u64;
    if latest.num != requested {
        fail!(
            "the controller holds {} configurations after {requested} Joins and Leaves: a change \
             retried at a new leader after the old one applied it took effect twice (or not \
             at all); the controller's duplicate detection must survive a leader change",
            latest.num
        );
    }
    for i in 0..n {
        ck.check(&ka[i], &va[i]).await;
    }
    cfg.end();
}

/// **A clerk's write that was applied by a shard's old group, and whose reply was lost,
/// is retried at the new group and must not be applied twice: the duplicate table moves
/// with the shard.**
///
/// Three groups; ten clients append without pause on an unreliable network (one request
/// or reply in five lost) while the tester moves single shards between the groups with
/// Move, twenty times, every 0–300 ms.
pub(crate) async fn clients_retry_across_a_shard_move_4x() {
    let cfg = ShardConfig::new(SERVERS, true, Some(maxraftstate(100)));
    let mut ck = cfg.make_client(None);
    cfg.begin("Test (4X): clients retry across shard moves");

    cfg.joinm(&[0, 1, 2]).await;
    let n = 10;
    let ka = keys(n);
    let va = put_all(&mut ck, n, 5).await;

    let done = Arc::new(AtomicBool::new(false));
    let appenders = spawn_appenders(&cfg, &ka, &va, 5, None, &done);
    for _ in 0..20 {
        let (shard, gi, pause) = {
            let mut rng = labrpc::rng();
            (
                rng.random_range(0..NSHARDS),
                rng.random_range(0..3),
                rng.random_range(0..300),
            )
        };
        cfg.move_shard(shard, gi).await;
        labrpc::sleep(ms(pause)).await;
    }
    labrpc::sleep(ms(1000)).await;
    cfg.set_reliable(true);
    let va = stop_appenders(&done, appenders).await;

    for i in 0..n {
        ck.check(&ka[i], &va[i]).await;
    }
    cfg.end();
}

/// **Rebalancing moves as few shards as possible: after a Join, shards move only to the
/// joining groups; after a Leave, only the departing groups' shards move; and every group
/// holds `NSHARDS / groups` shards or one more (at most one, with more groups than
/// shards).** The course's "Minimal transfers" sub-tests check gids that are not in the
/// configuration (see docs/lab-shardkv.md, section 7); this one checks the groups there.
///
/// The controller alone, on a reliable network: a sequence of Joins and Leaves of one and
/// several groups, up to twelve groups.
pub(crate) async fn minimal_transfers_4x() {
    let net = Network::new();
    let ctrlers = Ctrlers::start(&net, SERVERS, Arc::new(AtomicU64::new(0)));
    net.set_latency(NETWORK_LATENCY);
    let mut ck = ctrlers.make_clerk();
    say(format_args!("Test (4X): minimal transfers ..."));
    crate::events::phase("Test (4X): minimal transfers");

    let names = |gid: Gid| vec![format!("{gid}a"), format!("{gid}b"), format!("{gid}c")];
    let steps: Vec<(bool, Vec<Gid>)> = vec![
        (true, vec![1]),
        (true, vec![2]),
        (true, vec![3]),
        (true, vec![4, 5]),
        (false, vec![2]),
        (false, vec![1, 4]),
        (true, (6..=14).collect()),
        (false, vec![3, 7, 9]),
        (true, vec![15]),
        (
            false,
            (5..=15).filter(|g| ![7, 9].contains(g)).take(6).collect(),
        ),
    ];
    let mut before = ck.query(None).await;
    for (join, gids) in steps {
        let what = format!("{}({gids:?})", if join { "Join" } else { "Leave" });
        if join {
            ck.join(gids.iter().map(|&g| (g, names(g))).collect()).await;
        } else {
            ck.leave(&gids).await;
        }
        let after = ck.query(None).await;
        check_balanced(&after, &what);
        let changed: Vec<usize> = (0..NSHARDS)
            .filter(|&s| before.shards[s] != after.shards[s])
            .collect();
        for s in changed {
            let (from, to) = (before.shards[s], after.shards[s]);
            let needed = if join {
                gids.contains(&to) || !before.groups.contains_key(&from)
            } else {
                gids.contains(&from) || from == 0
            };
            if !needed {
                fail!(
                    "non-minimal transfer after {what}: shard {s} moved from group {from} to \
                     group {to}, {}; before: {before}; after: {after}",
                    if join {
                        "which was not joining".to_owned()
                    } else {
                        format!("and group {from} did not leave")
                    }
                );
            }
        }
        before = after;
    }
    say(format_args!("  ... Passed"));
    crate::events::test_passed();
}

/// Fails unless every shard is on a group of `config` and the groups' shares differ by at
/// most one.
fn check_balanced(config: &Config, what: &str) {
    if config.groups.is_empty() {
        return;
    }
    let mut counts: BTreeMap<Gid, usize> = config.groups.keys().map(|&g| (g, 0)).collect();
    for (s, g) in config.shards.iter().enumerate() {
        match counts.get_mut(g) {
            Some(count) => *count += 1,
            None => fail!("after {what}: shard {s} -> invalid group {g} ({config})"),
        }
    }
    let shares: BTreeSet<usize> = counts.values().copied().collect();
    let (min, max) = (
        shares.first().copied().unwrap_or(0),
        shares.last().copied().unwrap_or(0),
    );
    if max > min + 1 {
        fail!("after {what}: max {max} too much larger than min {min} ({config})");
    }
}
