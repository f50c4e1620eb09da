//! Lab 3A: a fault-tolerant key/value service without snapshots.
//!
//! Each test is registered, with a one-line description, in the `catalogue` crate.

use std::time::Duration;

use futures::channel::oneshot;
use futures::future::join_all;

use crate::kv_harness::ELECTION_TIMEOUT;
use crate::kv_harness::generic::{Generic, check_concurrent_appends, speed_test};
use crate::kv_harness::kv::KvConfig;

/// `GenericTest` with the course's arguments for 3A.
const fn generic(clients: usize, unreliable: bool, crash: bool, partitions: bool) -> Generic {
    Generic {
        clients,
        unreliable,
        crash,
        partitions,
        ..Generic::new("3A")
    }
}

pub(crate) async fn basic_3a() {
    generic(1, false, false, false).run().await;
}

pub(crate) async fn speed_3a() {
    speed_test("3A", None).await;
}

pub(crate) async fn concurrent_3a() {
    generic(5, false, false, false).run().await;
}

pub(crate) async fn unreliable_3a() {
    generic(5, true, false, false).run().await;
}

pub(crate) async fn unreliable_one_key_3a() {
    const CLIENTS: usize = 5;
    const UPTO: usize = 10;
    let cfg = KvConfig::new(3, true, None);
    let all = cfg.cluster().all();
    let mut ck = cfg.make_client(&all, None);
    cfg.begin("Test: concurrent append to same key, unreliable (3A)");

    ck.put("k", "").await;

    let clients = (0..CLIENTS).map(|me| {
        let cfg = cfg.clone();
        let all = all.clone();
        labrpc::spawn(async move {
            let mut myck = cfg.make_client(&all, None);
            for n in 0..UPTO {
                myck.append("k", &format!("x {me} {n} y")).await;
            }
        })
    });
    for client in join_all(clients).await {
        client.expect("the clients finish");
    }

    let value = ck.get("k").await;
    check_concurrent_appends(&value, &[UPTO; CLIENTS]);
    cfg.end();
}

pub(crate) async fn one_partition_3a() {
    let cfg = KvConfig::new(5, false, None);
    let all = cfg.cluster().all();
    let mut ck = cfg.make_client(&all, None);

    ck.put("1", "13").await;

    cfg.begin("Test: progress in majority (3A)");

    let (p1, p2) = cfg.cluster().make_partition();
    cfg.cluster().partition(&p1, &p2);

    let mut ckp1 = cfg.make_client(&p1, None); // connected to p1 only
    let ckp2a = cfg.make_client(&p2, None); // connected to p2 only
    let ckp2b = cfg.make_client(&p2, None); // connected to p2 only

    ckp1.put("1", "14").await;
    ckp1.check("1", "14").await;

    cfg.end();

    cfg.begin("Test: no progress in minority (3A)");
    // Kept to reconnect the minority's clerks after the heal, once they are in their tasks.
    let minority_clerks = [ckp2a.ends().clone(), ckp2b.ends().clone()];
    let (done0_tx, mut done0) = oneshot::channel::<()>();
    let (done1_tx, mut done1) = oneshot::channel::<()>();
    let mut ckp2a = ckp2a;
    labrpc::spawn(async move {
        ckp2a.put("1", "15").await;
        let _ = done0_tx.send(());
    });
    let mut ckp2b = ckp2b;
    labrpc::spawn(async move {
        ckp2b.get("1").await; // a different clerk in p2
        let _ = done1_tx.send(());
    });

    labrpc::sleep(Duration::from_secs(1)).await;
    if matches!(done0.try_recv(), Ok(Some(()))) {
        panic!("Put in minority completed");
    }
    if matches!(done1.try_recv(), Ok(Some(()))) {
        panic!("Get in minority completed");
    }

    ckp1.check("1", "14").await;
    ckp1.put("1", "16").await;
    ckp1.check("1", "16").await;

    cfg.end();

    cfg.begin("Test: completion after heal (3A)");

    cfg.cluster().connect_all();
    for clerk in &minority_clerks {
        cfg.cluster().connect_client(clerk, &all);
    }

    labrpc::sleep(ELECTION_TIMEOUT).await;

    if labrpc::timeout(Duration::from_millis(30 * 100), &mut done0)
        .await
        .is_err()
    {
        panic!("Put did not complete");
    }
    // The course looks at the Get once here, without waiting for it.

    ck.check("1", "15").await;

    cfg.end();
}

pub(crate) async fn many_partitions_one_client_3a() {
    generic(1, false, false, true).run().await;
}

pub(crate) async fn many_partitions_many_clients_3a() {
    generic(5, false, false, true).run().await;
}

pub(crate) async fn persist_one_client_3a() {
    generic(1, false, true, false).run().await;
}

pub(crate) async fn persist_concurrent_3a() {
    generic(5, false, true, false).run().await;
}

pub(crate) async fn persist_concurrent_unreliable_3a() {
    generic(5, true, true, false).run().await;
}

pub(crate) async fn persist_partition_3a() {
    generic(5, false, true, true).run().await;
}

pub(crate) async fn persist_partition_unreliable_3a() {
    generic(5, true, true, true).run().await;
}

pub(crate) async fn persist_partition_unreliable_linearizable_3a() {
    Generic {
        servers: 7,
        random_keys: true,
        ..generic(15, true, true, true)
    }
    .run()
    .await;
}
