//! A finished run frees everything it made. In a test binary of its own, because the
//! counts it reads are the whole process's and other tests' failed runs keep their worlds
//! on purpose.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use labrpc::tester::{LiveObjects, Network, Node, Server, Sim, live_objects};
use labrpc::{ClientEnd, Service};
use parking_lot::Mutex;

mod common;
use common::{Ping, connected_end};

/// The cycle network → server → handler → end → network is freed when the run ends, and
/// so is every task, including detached ones still waiting.
#[test]
fn a_finished_run_leaves_nothing_alive() {
    for seed in 0..20 {
        Sim::new(seed).run(async {
            let net = Network::new();
            let end_for_handler: Arc<Mutex<Option<ClientEnd>>> = Arc::default();
            let held = end_for_handler.clone();
            let calls = Arc::new(AtomicUsize::new(0));
            let counted = calls.clone();
            let service = Service::new("Echo").method(move |Ping(x): Ping| {
                // The handler holds an end to its own server: a reference cycle.
                let _keep = held.lock().clone();
                counted.fetch_add(1, Ordering::Relaxed);
                async move { x }
            });
            net.add_server("S1", Server::on(Node::new("S1")).with_service(service));
            let end = connected_end(&net, "c->S1", "S1");
            *end_for_handler.lock() = Some(end.clone());
            net.set_reliable(false);
            for i in 0..20 {
                let _ = end.call(&Ping(i)).await;
            }
            // Tasks left waiting when the body returns.
            drop(labrpc::spawn(labrpc::sleep(Duration::from_secs(60))));
            drop(Node::new("S9").spawn(futures::future::pending::<()>()));
        });
    }
    let live = live_objects();
    assert_eq!(
        live,
        LiveObjects::default(),
        "objects of finished runs are still alive"
    );
}
