//! Lab 4A: the shard controller. The course's two tests (`shardctrler/test_test.go`,
//! 2022), each a sequence of the course's sub-tests, with its steps and numbers.
//!
//! Each test is registered, with a one-line description, in the `catalogue` crate.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use futures::future::join_all;
use labrpc::tester::{Network, say};
use shardkv::{Config, Gid, NSHARDS};

use crate::shard_harness::clerk::TestCtrlerClerk;
use crate::shard_harness::ctrlers::Ctrlers;
use crate::shard_harness::{NETWORK_LATENCY, SERVERS, fail};

/// The course's `make_config(t, nservers, false)`: the controller's servers alone, on a
/// reliable network.
fn make_config() -> Ctrlers {
    let net = Network::new();
    let ctrlers = Ctrlers::start(&net, SERVERS, Arc::new(AtomicU64::new(0)));
    net.set_latency(NETWORK_LATENCY);
    ctrlers
}

/// Says a sub-test's title, as the course prints it.
fn title(text: &str) {
    say(format_args!("{text}"));
    crate::events::phase(text);
}

/// Says that a sub-test passed.
fn passed() {
    say(format_args!("  ... Passed"));
    crate::events::passed("sub-test passed");
}

/// `map[int][]string{gid: names}` for one group.
fn group(gid: Gid, names: &[&str]) -> BTreeMap<Gid, Vec<String>> {
    BTreeMap::from([(gid, names.iter().map(|s| (*s).to_owned()).collect())])
}

/// The course's `check(t, groups, ck)`: the latest configuration has exactly `groups`,
/// every shard on one of them (if any), and no group more than one shard above another.
async fn check(groups: &[Gid], ck: &mut TestCtrlerClerk) {
    let c = ck.query(None).await;
    if c.groups.len() != groups.len() {
        fail!(
            "wanted {} groups, got {} ({c})",
            groups.len(),
            c.groups.len()
        );
    }
    for g in groups {
        if !c.groups.contains_key(g) {
            fail!("missing group {g} ({c})");
        }
    }
    if !groups.is_empty() {
        for (s, g) in c.shards.iter().enumerate() {
            if !c.groups.contains_key(g) {
                fail!("shard {s} -> invalid group {g} ({c})");
            }
        }
    }
    let mut counts: BTreeMap<Gid, usize> = BTreeMap::new();
    for g in c.shards {
        *counts.entry(g).or_default() += 1;
    }
    let count = |g: &Gid| counts.get(g).copied().unwrap_or(0);
    let min = c.groups.keys().map(count).min().unwrap_or(257);
    let max = c.groups.keys().map(count).max().unwrap_or(0);
    if max > min + 1 {
        fail!("max {max} too much larger than min {min} ({c})");
    }
}

/// The course's `check_same_config`.
fn check_same_config(c1: &Config, c2: &Config) {
    if c1.num != c2.num {
        fail!("Num wrong: {} then {}", c1.num, c2.num);
    }
    if c1.shards != c2.shards {
        fail!("Shards wrong: {c1} then {c2}");
    }
    if c1.groups.len() != c2.groups.len() {
        fail!("number of Groups is wrong: {c1} then {c2}");
    }
    for (gid, sa) in &c1.groups {
        match c2.groups.get(gid) {
            Some(sa1) if sa1.len() == sa.len() => {
                if sa1 != sa {
                    fail!("Groups wrong: group {gid} has {sa:?} then {sa1:?}");
                }
            }
            _ => fail!("len(Groups) wrong: group {gid} in {c1} then {c2}"),
        }
    }
}

/// Fails unless the latest configuration gives group `gid` the servers `names`.
fn check_servers(c: &Config, gid: Gid, names: &[&str]) {
    let sa = c.groups.get(&gid).cloned().unwrap_or_default();
    if sa != names {
        fail!("wrong servers for gid {gid}: {sa:?}");
    }
}

/// The course's "Minimal transfers" check: every shard the groups `1..=npara` hold in
/// `after` they held in `before`. (As in the course, those gids are not the ones the
/// test joined before, so the loop finds nothing to check unless the controller invents
/// groups; kept as the course has it. Part 4X checks minimal transfers for real.)
fn check_minimal(before: &Config, after: &Config, npara: Gid, what: &str) {
    for i in 1..=npara {
        for j in 0..NSHARDS {
            if after.shards[j] == i && before.shards[j] != i {
                fail!("non-minimal transfer after {what}");
            }
        }
    }
}

pub(crate) async fn basic_4a() {
    const NSERVERS: usize = SERVERS;
    let cfg = make_config();
    let mut ck = cfg.make_clerk();

    title("Test: Basic leave/join ...");
    let mut cfa = vec![Config::default(); 6];
    cfa[0] = ck.query(None).await;
    check(&[], &mut ck).await;

    let gid1 = 1;
    ck.join(group(gid1, &["x", "y", "z"])).await;
    check(&[gid1], &mut ck).await;
    cfa[1] = ck.query(None).await;

    let gid2 = 2;
    ck.join(group(gid2, &["a", "b", "c"])).await;
    check(&[gid1, gid2], &mut ck).await;
    cfa[2] = ck.query(None).await;

    let cfx = ck.query(None).await;
    check_servers(&cfx, gid1, &["x", "y", "z"]);
    check_servers(&cfx, gid2, &["a", "b", "c"]);

    ck.leave(&[gid1]).await;
    check(&[gid2], &mut ck).await;
    cfa[4] = ck.query(None).await;

    ck.leave(&[gid2]).await;
    cfa[5] = ck.query(None).await;
    passed();

    title("Test: Historical queries ...");
    for s in 0..NSERVERS {
        cfg.shutdown_server(s);
        for expected in &cfa {
            let c = ck.query(Some(expected.num)).await;
            check_same_config(&c, expected);
        }
        cfg.start_server(s);
        cfg.connect_all();
    }
    passed();

    title("Test: Move ...");
    {
        let gid3 = 503;
        ck.join(group(gid3, &["3a", "3b", "3c"])).await;
        let gid4 = 504;
        ck.join(group(gid4, &["4a", "4b", "4c"])).await;
        for i in 0..NSHARDS {
            let cf = ck.query(None).await;
            let to = if i < NSHARDS / 2 { gid3 } else { gid4 };
            ck.move_shard(i, to).await;
            if cf.shards[i] != to {
                let cf1 = ck.query(None).await;
                if cf1.num <= cf.num {
                    fail!("Move should increase Config.Num");
                }
            }
        }
        let cf2 = ck.query(None).await;
        for i in 0..NSHARDS {
            let expected = if i < NSHARDS / 2 { gid3 } else { gid4 };
            if cf2.shards[i] != expected {
                fail!(
                    "expected shard {i} on gid {expected} actually {}",
                    cf2.shards[i]
                );
            }
        }
        ck.leave(&[gid3]).await;
        ck.leave(&[gid4]).await;
    }
    passed();

    title("Test: Concurrent leave/join ...");
    const NPARA: u64 = 10;
    let gids: Vec<Gid> = (0..NPARA).map(|xi| xi * 10 + 100).collect();
    let tasks = gids.iter().map(|&gid| {
        let mut cka = cfg.make_clerk();
        labrpc::spawn(async move {
            let sid1 = format!("s{gid}a");
            let sid2 = format!("s{gid}b");
            cka.join(group(gid + 1000, &[&sid1])).await;
            cka.join(group(gid, &[&sid2])).await;
            cka.leave(&[gid + 1000]).await;
        })
    });
    for task in join_all(tasks).await {
        task.expect("the clerks finish");
    }
    check(&gids, &mut ck).await;
    passed();

    title("Test: Minimal transfers after joins ...");
    let c1 = ck.query(None).await;
    for i in 0..5 {
        let gid = NPARA + 1 + i;
        let (a, b) = (format!("{gid}a"), format!("{gid}b"));
        // The course's third name repeats the second ("%db" twice).
        ck.join(group(gid, &[&a, &b, &b])).await;
    }
    let c2 = ck.query(None).await;
    check_minimal(&c1, &c2, NPARA, "Join()s");
    passed();

    title("Test: Minimal transfers after leaves ...");
    for i in 0..5 {
        ck.leave(&[NPARA + 1 + i]).await;
    }
    let c3 = ck.query(None).await;
    check_minimal(&c2, &c3, NPARA, "Leave()s");
    passed();
    crate::events::test_passed();
}

pub(crate) async fn multi_4a() {
    let cfg = make_config();
    let mut ck = cfg.make_clerk();

    title("Test: Multi-group join/leave ...");
    let mut cfa = vec![Config::default(); 6];
    cfa[0] = ck.query(None).await;
    check(&[], &mut ck).await;

    let (gid1, gid2) = (1, 2);
    let mut both = group(gid1, &["x", "y", "z"]);
    both.extend(group(gid2, &["a", "b", "c"]));
    ck.join(both).await;
    check(&[gid1, gid2], &mut ck).await;
    cfa[1] = ck.query(None).await;

    let gid3 = 3;
    ck.join(group(gid3, &["j", "k", "l"])).await;
    check(&[gid1, gid2, gid3], &mut ck).await;
    cfa[2] = ck.query(None).await;

    let cfx = ck.query(None).await;
    check_servers(&cfx, gid1, &["x", "y", "z"]);
    check_servers(&cfx, gid2, &["a", "b", "c"]);
    check_servers(&cfx, gid3, &["j", "k", "l"]);

    ck.leave(&[gid1, gid3]).await;
    check(&[gid2], &mut ck).await;
    cfa[3] = ck.query(None).await;

    let cfx = ck.query(None).await;
    check_servers(&cfx, gid2, &["a", "b", "c"]);

    ck.leave(&[gid2]).await;
    passed();

    title("Test: Concurrent multi leave/join ...");
    const NPARA: u64 = 10;
    let gids: Vec<Gid> = (0..NPARA).map(|xi| xi + 1000).collect();
    let tasks = gids.iter().map(|&gid| {
        let mut cka = cfg.make_clerk();
        labrpc::spawn(async move {
            let names = |g: Gid, suffixes: &[&str]| -> Vec<String> {
                suffixes.iter().map(|s| format!("{g}{s}")).collect()
            };
            let groups = BTreeMap::from([
                (gid, names(gid, &["a", "b", "c"])),
                (gid + 1000, names(gid + 1000, &["a"])),
                (gid + 2000, names(gid + 2000, &["a"])),
            ]);
            cka.join(groups).await;
            cka.leave(&[gid + 1000, gid + 2000]).await;
        })
    });
    for task in join_all(tasks).await {
        task.expect("the clerks finish");
    }
    check(&gids, &mut ck).await;
    passed();

    title("Test: Minimal transfers after multijoins ...");
    let c1 = ck.query(None).await;
    let joined: BTreeMap<Gid, Vec<String>> = (0..5)
        .map(|i| {
            let gid = NPARA + 1 + i;
            (gid, vec![format!("{gid}a"), format!("{gid}b")])
        })
        .collect();
    ck.join(joined).await;
    let c2 = ck.query(None).await;
    check_minimal(&c1, &c2, NPARA, "Join()s");
    passed();

    title("Test: Minimal transfers after multileaves ...");
    let left: Vec<Gid> = (0..5).map(|i| NPARA + 1 + i).collect();
    ck.leave(&left).await;
    let c3 = ck.query(None).await;
    check_minimal(&c2, &c3, NPARA, "Leave()s");
    passed();

    title("Test: Check Same config on servers ...");
    let Some(leader) = cfg.leader() else {
        fail!("Leader not found");
    };
    let c = ck.query(None).await; // the configuration the leader claims
    cfg.shutdown_server(leader);
    // The course then loops "while a leader is found", failing after three; its condition
    // is evaluated once, right after the shutdown, when no other server leads yet, so the
    // loop never runs. The Query below waits for the new leader.
    let c1 = ck.query(None).await;
    check_same_config(&c, &c1);
    passed();
    crate::events::test_passed();
}
