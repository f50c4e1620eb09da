//! Lab 4B: the sharded key/value service. The course's ten tests
//! (`shardkv/test_test.go`, 2022), with their steps and numbers; `maxraftstate` rescaled
//! to this encoding as in 3B (see `shard_harness::maxraftstate`).
//!
//! Each test is registered, with a one-line description, in the `catalogue` crate.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use futures::channel::mpsc;
use futures::future::join_all;
use rand::RngExt;

use crate::shard_harness::groups::ShardConfig;
use crate::shard_harness::{SERVERS, fail, maxraftstate, randstring};

/// The course's `ka[i] = strconv.Itoa(i)`: keys that fall in different shards.
pub(crate) fn keys(n: usize) -> Vec<String> {
    (0..n).map(|i| i.to_string()).collect()
}

pub(crate) fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// `make_config(t, 3, unreliable, maxraftstate)`, the course's -1 as `None`.
fn make_config(unreliable: bool, course_maxraftstate: Option<usize>) -> ShardConfig {
    ShardConfig::new(SERVERS, unreliable, course_maxraftstate.map(maxraftstate))
}

/// Puts `n` random values of `len` characters under the keys `0`..`n`, with `ck`.
pub(crate) async fn put_all(
    ck: &mut crate::shard_harness::clerk::TestClerk,
    n: usize,
    len: usize,
) -> Vec<String> {
    let ka = keys(n);
    let mut va = Vec::with_capacity(n);
    for key in &ka {
        let value = randstring(len);
        ck.put(key, &value).await;
        va.push(value);
    }
    va
}

pub(crate) async fn static_shards_4b() {
    let cfg = make_config(false, None);
    let mut ck = cfg.make_client(None);
    cfg.begin("Test: static shards");

    cfg.join(0).await;
    cfg.join(1).await;

    let n = 10;
    let ka = keys(n);
    let va = put_all(&mut ck, n, 20).await;
    for i in 0..n {
        ck.check(&ka[i], &va[i]).await;
    }

    // Make sure that the data really is sharded by shutting down one shard and checking
    // that some Get()s don't succeed.
    cfg.shutdown_group(1);
    cfg.checklogs(); // forbid snapshots

    let (tx, mut rx) = mpsc::unbounded::<Option<String>>();
    for xi in 0..n {
        let mut ck1 = cfg.make_client(None); // only one call allowed per client
        let (key, value, tx) = (ka[xi].clone(), va[xi].clone(), tx.clone());
        labrpc::spawn(async move {
            let v = ck1.get(&key).await;
            let error = (v != value)
                .then(|| format!("Get({key:?}): expected:\n{value:?}\nreceived:\n{v:?}"));
            let _ = tx.unbounded_send(error);
        });
    }

    // Wait a bit, only about half the Gets should succeed.
    let mut ndone = 0;
    while let Ok(Some(result)) = labrpc::timeout(ms(2000), rx.next()).await {
        if let Some(error) = result {
            fail!("{error}");
        }
        ndone += 1;
    }
    if ndone != 5 {
        fail!("expected 5 completions with one shard dead; got {ndone}");
    }

    // Bring the crashed shard/group back to life.
    cfg.start_group(1);
    for i in 0..n {
        ck.check(&ka[i], &va[i]).await;
    }
    cfg.end();
}

pub(crate) async fn join_leave_4b() {
    let cfg = make_config(false, None);
    let mut ck = cfg.make_client(None);
    cfg.begin("Test: join then leave");

    cfg.join(0).await;

    let n = 10;
    let ka = keys(n);
    let mut va = put_all(&mut ck, n, 5).await;
    for i in 0..n {
        ck.check(&ka[i], &va[i]).await;
    }

    cfg.join(1).await;
    check_and_append(&mut ck, &ka, &mut va, 5).await;

    cfg.leave(0).await;
    check_and_append(&mut ck, &ka, &mut va, 5).await;

    // Allow time for shards to transfer.
    labrpc::sleep(ms(1000)).await;

    cfg.checklogs();
    cfg.shutdown_group(0);

    for i in 0..n {
        ck.check(&ka[i], &va[i]).await;
    }
    cfg.end();
}

pub(crate) async fn snapshot_4b() {
    let cfg = make_config(false, Some(1000));
    let mut ck = cfg.make_client(None);
    cfg.begin("Test: snapshots, join, and leave");

    cfg.join(0).await;

    let n = 30;
    let ka = keys(n);
    let mut va = put_all(&mut ck, n, 20).await;
    for i in 0..n {
        ck.check(&ka[i], &va[i]).await;
    }

    cfg.join(1).await;
    cfg.join(2).await;
    cfg.leave(0).await;

    check_and_append(&mut ck, &ka, &mut va, 20).await;

    cfg.leave(1).await;
    cfg.join(0).await;

    check_and_append(&mut ck, &ka, &mut va, 20).await;

    labrpc::sleep(ms(1000)).await;
    for i in 0..n {
        ck.check(&ka[i], &va[i]).await;
    }

    labrpc::sleep(ms(1000)).await;
    cfg.checklogs();

    cfg.shutdown_group(0);
    cfg.shutdown_group(1);
    cfg.shutdown_group(2);

    cfg.start_group(0);
    cfg.start_group(1);
    cfg.start_group(2);

    for i in 0..n {
        ck.check(&ka[i], &va[i]).await;
    }
    cfg.end();
}

/// Checks every key, then appends a fresh value to it (the course's loop, repeated in
/// several tests).
pub(crate) async fn check_and_append(
    ck: &mut crate::shard_harness::clerk::TestClerk,
    ka: &[String],
    va: &mut [String],
    len: usize,
) {
    for i in 0..ka.len() {
        ck.check(&ka[i], &va[i]).await;
        let x = randstring(len);
        ck.append(&ka[i], &x).await;
        va[i] += &x;
    }
}

pub(crate) async fn miss_change_4b() {
    let cfg = make_config(false, Some(1000));
    let mut ck = cfg.make_client(None);
    cfg.begin("Test: servers miss configuration changes");

    cfg.join(0).await;

    let n = 10;
    let ka = keys(n);
    let mut va = put_all(&mut ck, n, 20).await;
    for i in 0..n {
        ck.check(&ka[i], &va[i]).await;
    }

    cfg.join(1).await;

    cfg.shutdown_server(0, 0);
    cfg.shutdown_server(1, 0);
    cfg.shutdown_server(2, 0);

    cfg.join(2).await;
    cfg.leave(1).await;
    cfg.leave(0).await;

    check_and_append(&mut ck, &ka, &mut va, 20).await;

    cfg.join(1).await;

    check_and_append(&mut ck, &ka, &mut va, 20).await;

    cfg.start_server(0, 0);
    cfg.start_server(1, 0);
    cfg.start_server(2, 0);

    check_and_append(&mut ck, &ka, &mut va, 20).await;

    labrpc::sleep(ms(2000)).await;

    cfg.shutdown_server(0, 1);
    cfg.shutdown_server(1, 1);
    cfg.shutdown_server(2, 1);

    cfg.join(0).await;
    cfg.leave(2).await;

    check_and_append(&mut ck, &ka, &mut va, 20).await;

    cfg.start_server(0, 1);
    cfg.start_server(1, 1);
    cfg.start_server(2, 1);

    for i in 0..n {
        ck.check(&ka[i], &va[i]).await;
    }
    cfg.end();
}

/// The course's concurrent clients: one per key, each appending `len` random characters
/// to its key until `done`, pausing `pause` after each append; each returns what its key
/// should hold at the end.
pub(crate) fn spawn_appenders(
    cfg: &ShardConfig,
    ka: &[String],
    va: &[String],
    len: usize,
    pause: Option<Duration>,
    done: &Arc<AtomicBool>,
) -> Vec<labrpc::JoinHandle<String>> {
    (0..ka.len())
        .map(|i| {
            let mut ck1 = cfg.make_client(None);
            let (key, mut value, done) = (ka[i].clone(), va[i].clone(), done.clone());
            labrpc::spawn(async move {
                while !done.load(Ordering::SeqCst) {
                    let x = randstring(len);
                    ck1.append(&key, &x).await;
                    value += &x;
                    if let Some(pause) = pause {
                        labrpc::sleep(pause).await;
                    }
                }
                value
            })
        })
        .collect()
}

/// Stops the appenders and waits for them; returns the values the keys should hold.
pub(crate) async fn stop_appenders(
    done: &AtomicBool,
    appenders: Vec<labrpc::JoinHandle<String>>,
) -> Vec<String> {
    done.store(true, Ordering::SeqCst);
    join_all(appenders)
        .await
        .into_iter()
        .map(|value| value.expect("the clients finish"))
        .collect()
}

pub(crate) async fn concurrent1_4b() {
    let cfg = make_config(false, Some(100));
    let mut ck = cfg.make_client(None);
    cfg.begin("Test: concurrent puts and configuration changes");

    cfg.join(0).await;

    let n = 10;
    let ka = keys(n);
    let va = put_all(&mut ck, n, 5).await;

    let done = Arc::new(AtomicBool::new(false));
    let appenders = spawn_appenders(&cfg, &ka, &va, 5, Some(ms(10)), &done);

    labrpc::sleep(ms(150)).await;
    cfg.join(1).await;
    labrpc::sleep(ms(500)).await;
    cfg.join(2).await;
    labrpc::sleep(ms(500)).await;
    cfg.leave(0).await;

    cfg.shutdown_group(0);
    labrpc::sleep(ms(100)).await;
    cfg.shutdown_group(1);
    labrpc::sleep(ms(100)).await;
    cfg.shutdown_group(2);

    cfg.leave(2).await;

    labrpc::sleep(ms(100)).await;
    cfg.start_group(0);
    cfg.start_group(1);
    cfg.start_group(2);

    labrpc::sleep(ms(100)).await;
    cfg.join(0).await;
    cfg.leave(1).await;
    labrpc::sleep(ms(500)).await;
    cfg.join(1).await;

    labrpc::sleep(ms(1000)).await;

    let va = stop_appenders(&done, appenders).await;
    for i in 0..n {
        ck.check(&ka[i], &va[i]).await;
    }
    cfg.end();
}

/// This tests the various sources from which a re-starting group might need to fetch
/// shard contents.
pub(crate) async fn concurrent2_4b() {
    let cfg = make_config(false, None);
    let mut ck = cfg.make_client(None);
    cfg.begin("Test: more concurrent puts and configuration changes");

    cfg.join(1).await;
    cfg.join(0).await;
    cfg.join(2).await;

    let n = 10;
    let ka = keys(n);
    let va = put_all(&mut ck, n, 1).await;

    let done = Arc::new(AtomicBool::new(false));
    let appenders = spawn_appenders(&cfg, &ka, &va, 1, Some(ms(50)), &done);

    cfg.leave(0).await;
    cfg.leave(2).await;
    labrpc::sleep(ms(3000)).await;
    cfg.join(0).await;
    cfg.join(2).await;
    cfg.leave(1).await;
    labrpc::sleep(ms(3000)).await;
    cfg.join(1).await;
    cfg.leave(0).await;
    cfg.leave(2).await;
    labrpc::sleep(ms(3000)).await;

    cfg.shutdown_group(1);
    cfg.shutdown_group(2);
    labrpc::sleep(ms(1000)).await;
    cfg.start_group(1);
    cfg.start_group(2);

    labrpc::sleep(ms(2000)).await;

    let va = stop_appenders(&done, appenders).await;
    for i in 0..n {
        ck.check(&ka[i], &va[i]).await;
    }
    cfg.end();
}

pub(crate) async fn concurrent3_4b() {
    let cfg = make_config(false, Some(300));
    let mut ck = cfg.make_client(None);
    cfg.begin("Test: concurrent configuration change and restart");

    cfg.join(0).await;

    let n = 10;
    let ka = keys(n);
    let va = put_all(&mut ck, n, 1).await;

    let done = Arc::new(AtomicBool::new(false));
    let appenders = spawn_appenders(&cfg, &ka, &va, 1, None, &done);

    let random_pause = || ms(labrpc::rng().random_range(0..900));
    let t0 = labrpc::now();
    while labrpc::now() - t0 < ms(12_000) {
        cfg.join(2).await;
        cfg.join(1).await;
        labrpc::sleep(random_pause()).await;
        cfg.shutdown_group(0);
        cfg.shutdown_group(1);
        cfg.shutdown_group(2);
        cfg.start_group(0);
        cfg.start_group(1);
        cfg.start_group(2);

        labrpc::sleep(random_pause()).await;
        cfg.leave(1).await;
        cfg.leave(2).await;
        labrpc::sleep(random_pause()).await;
    }

    labrpc::sleep(ms(2000)).await;

    let va = stop_appenders(&done, appenders).await;
    for i in 0..n {
        ck.check(&ka[i], &va[i]).await;
    }
    cfg.end();
}

pub(crate) async fn unreliable1_4b() {
    let cfg = make_config(true, Some(100));
    let mut ck = cfg.make_client(None);
    cfg.begin("Test: unreliable 1");

    cfg.join(0).await;

    let n = 10;
    let ka = keys(n);
    let mut va = put_all(&mut ck, n, 5).await;

    cfg.join(1).await;
    cfg.join(2).await;
    cfg.leave(0).await;

    for ii in 0..n * 2 {
        let i = ii % n;
        ck.check(&ka[i], &va[i]).await;
        let x = randstring(5);
        ck.append(&ka[i], &x).await;
        va[i] += &x;
    }

    cfg.join(0).await;
    cfg.leave(1).await;

    for ii in 0..n * 2 {
        let i = ii % n;
        ck.check(&ka[i], &va[i]).await;
    }
    cfg.end();
}

/// The configuration changes of `TestUnreliable2` and `TestUnreliable3`, while clients
/// run.
async fn unreliable_changes(cfg: &ShardConfig) {
    labrpc::sleep(ms(150)).await;
    cfg.join(1).await;
    labrpc::sleep(ms(500)).await;
    cfg.join(2).await;
    labrpc::sleep(ms(500)).await;
    cfg.leave(0).await;
    labrpc::sleep(ms(500)).await;
    cfg.leave(1).await;
    labrpc::sleep(ms(500)).await;
    cfg.join(1).await;
    cfg.join(0).await;

    labrpc::sleep(ms(2000)).await;
}

pub(crate) async fn unreliable2_4b() {
    let cfg = make_config(true, Some(100));
    let mut ck = cfg.make_client(None);
    cfg.begin("Test: unreliable 2");

    cfg.join(0).await;

    let n = 10;
    let ka = keys(n);
    let va = put_all(&mut ck, n, 5).await;

    let done = Arc::new(AtomicBool::new(false));
    let appenders = spawn_appenders(&cfg, &ka, &va, 5, None, &done);

    unreliable_changes(&cfg).await;

    cfg.set_reliable(true);
    let va = stop_appenders(&done, appenders).await;
    for i in 0..n {
        ck.check(&ka[i], &va[i]).await;
    }
    cfg.end();
}

pub(crate) async fn unreliable3_4b() {
    let cfg = make_config(true, Some(100));
    // The course records the first clerk's Puts as client 0, and the i-th concurrent
    // clerk's calls as client i (so client 0 has two clerks, one after the other).
    let mut ck = cfg.make_client(Some(0));
    cfg.begin("Test: unreliable 3");

    cfg.join(0).await;

    let n = 10;
    let ka = keys(n);
    put_all(&mut ck, n, 5).await;

    let done = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..n)
        .map(|i| {
            let mut ck1 = cfg.make_client(Some(i));
            let (ka, done) = (ka.clone(), done.clone());
            labrpc::spawn(async move {
                while !done.load(Ordering::SeqCst) {
                    let (ki, put_or_append, get_or_put) = {
                        let mut rng = labrpc::rng();
                        (
                            rng.random_range(0..n),
                            rng.random_range(0..1000),
                            rng.random_range(0..1000),
                        )
                    };
                    let nv = randstring(5);
                    if put_or_append < 500 {
                        ck1.append(&ka[ki], &nv).await;
                    } else if get_or_put < 100 {
                        ck1.put(&ka[ki], &nv).await;
                    } else {
                        ck1.get(&ka[ki]).await;
                    }
                }
            })
        })
        .collect();

    unreliable_changes(&cfg).await;

    done.store(true, Ordering::SeqCst);
    cfg.set_reliable(true);
    for client in join_all(clients).await {
        client.expect("the clients finish");
    }

    cfg.history().check_linearizable();
    cfg.end();
}
