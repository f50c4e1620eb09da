//! Lab 4's challenges (the course's optional tests, `shardkv/test_test.go`, 2022): shard
//! deletion, and serving shards during a migration. Graded apart from 4B, as the course
//! grades them.
//!
//! Each test is registered, with a one-line description, in the `catalogue` crate.

use std::collections::BTreeMap;
use std::time::Duration;

use shardkv::key2shard;

use crate::shard_harness::groups::ShardConfig;
use crate::shard_harness::{SERVERS, fail, maxraftstate, randstring};

fn keys(n: usize) -> Vec<String> {
    (0..n).map(|i| i.to_string()).collect()
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Optional test to see whether servers are deleting shards for which they are no longer
/// responsible.
pub(crate) async fn challenge1_delete_4c() {
    // "1" means force snapshot after every log entry.
    let cfg = ShardConfig::new(SERVERS, false, Some(maxraftstate(1)));
    let mut ck = cfg.make_client(None);
    cfg.begin("Test: shard deletion (challenge 1)");

    cfg.join(0).await;

    // 30,000 bytes of total values.
    let n = 30;
    let ka = keys(n);
    let mut va = Vec::new();
    for key in &ka {
        let value = randstring(1000);
        ck.put(key, &value).await;
        va.push(value);
    }
    for i in 0..3 {
        ck.check(&ka[i], &va[i]).await;
    }

    for _ in 0..2 {
        cfg.join(1).await;
        cfg.leave(0).await;
        cfg.join(2).await;
        labrpc::sleep(secs(3)).await;
        for i in 0..3 {
            ck.check(&ka[i], &va[i]).await;
        }
        cfg.leave(1).await;
        cfg.join(0).await;
        cfg.leave(2).await;
        labrpc::sleep(secs(3)).await;
        for i in 0..3 {
            ck.check(&ka[i], &va[i]).await;
        }
    }

    cfg.join(1).await;
    cfg.join(2).await;
    for _ in 0..3 {
        labrpc::sleep(secs(1)).await;
        for i in 0..3 {
            ck.check(&ka[i], &va[i]).await;
        }
    }

    let total = cfg.total_saved_bytes();
    // 27 keys should be stored once.
    // 3 keys should also be stored in client dup tables.
    // everything on 3 replicas.
    // plus slop.
    let expected = 3 * (((n - 3) * 1000) + 2 * 3 * 1000 + 6000);
    if total > expected {
        fail!(
            "snapshot + persisted Raft state are too big: {total} > {expected} (a group must \
             delete the shards it no longer owns once their new owner has them)"
        );
    }

    for i in 0..n {
        ck.check(&ka[i], &va[i]).await;
    }
    cfg.end();
}

/// Optional test to see whether servers can handle shards that are not affected by a
/// config change while the config change is underway.
pub(crate) async fn challenge2_unaffected_4c() {
    let cfg = ShardConfig::new(SERVERS, true, Some(maxraftstate(100)));
    let mut ck = cfg.make_client(None);
    cfg.begin("Test: unaffected shard access (challenge 2)");

    // JOIN 100
    cfg.join(0).await;

    // Do a bunch of puts to keys in all shards.
    let n = 10;
    let ka = keys(n);
    let mut va = vec![String::from("100"); n];
    for i in 0..n {
        ck.put(&ka[i], &va[i]).await;
    }

    // JOIN 101
    cfg.join(1).await;

    // QUERY to find shards now owned by 101.
    let c = cfg.query_latest().await;
    let gid101 = cfg.gid(1);
    let owned: BTreeMap<usize, bool> = c
        .shards
        .iter()
        .enumerate()
        .map(|(s, &gid)| (s, gid == gid101))
        .collect();

    // Wait for migration to new config to complete, and for clients to start using this
    // updated config. Gets to any key k such that owned[shard(k)] == true should now be
    // served by group 101.
    labrpc::sleep(secs(1)).await;
    for i in 0..n {
        // As in the course: the key's index, not its shard, picks the keys rewritten here;
        // `va` keeps track, and the checks below read the shards.
        if owned[&i] {
            va[i] = "101".into();
            ck.put(&ka[i], &va[i]).await;
        }
    }

    // KILL 100
    cfg.shutdown_group(0);

    // LEAVE 100: 101 doesn't get a chance to migrate things previously owned by 100.
    cfg.leave(0).await;

    // Wait to make sure clients see the new config.
    labrpc::sleep(secs(1)).await;

    // And finally: check that gets/puts for 101-owned keys still complete.
    for i in 0..n {
        let shard = usize::from(ka[i].as_bytes()[0]) % 10;
        if owned[&shard] {
            ck.check(&ka[i], &va[i]).await;
            ck.put(&ka[i], &format!("{}-1", va[i])).await;
            ck.check(&ka[i], &format!("{}-1", va[i])).await;
        }
    }
    cfg.end();
}

/// Optional test to see whether servers can handle operations on shards that have been
/// received as a part of a config migration when the entire migration has not yet
/// completed.
pub(crate) async fn challenge2_partial_4c() {
    let cfg = ShardConfig::new(SERVERS, true, Some(maxraftstate(100)));
    let mut ck = cfg.make_client(None);
    cfg.begin("Test: partial migration shard access (challenge 2)");

    // JOIN 100 + 101 + 102
    cfg.joinm(&[0, 1, 2]).await;

    // Give the implementation some time to reconfigure.
    labrpc::sleep(secs(1)).await;

    // Do a bunch of puts to keys in all shards.
    let n = 10;
    let ka = keys(n);
    let va = vec![String::from("100"); n];
    for i in 0..n {
        ck.put(&ka[i], &va[i]).await;
    }

    // QUERY to find shards owned by 102.
    let c = cfg.query_latest().await;
    let gid102 = cfg.gid(2);
    let owned: Vec<bool> = c.shards.iter().map(|&gid| gid == gid102).collect();

    // KILL 100
    cfg.shutdown_group(0);

    // LEAVE 100 + 102: 101 can get old shards from 102, but not from 100. 101 should
    // start serving shards that used to belong to 102 as soon as possible.
    cfg.leavem(&[0, 2]).await;

    // Give the implementation some time to start reconfiguration, and to migrate
    // 102 -> 101.
    labrpc::sleep(secs(1)).await;

    // And finally: check that gets/puts for 101-owned keys now complete.
    for i in 0..n {
        if owned[key2shard(&ka[i])] {
            ck.check(&ka[i], &va[i]).await;
            ck.put(&ka[i], &format!("{}-2", va[i])).await;
            ck.check(&ka[i], &format!("{}-2", va[i])).await;
        }
    }
    cfg.end();
}
